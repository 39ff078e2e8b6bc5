"""Statements of account and remittances.

A school's staff see their school's statement (page, PDF, CSV) for a period and tell the council
what they have paid (a remittance), and an academy's staff see their part of what its trust
remitted for their invoices; finance and the service manager see any school's statement,
finance e-mails statements (to one school, or every school with a balance) and matches
remittances, which records the payments.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import SCHOOL, TRUST, roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import Role
from traded_app.formatting import pounds, sentence
from traded_app.forms.auth import EmptyForm
from traded_app.services.council import schools as school_service
from traded_app.services.council import trusts
from traded_app.services.documents import statements as statement_files
from traded_app.services.finance import remittances, statements
from traded_app.services.finance.statements import Statement
from traded_app.views import finance_tables
from traded_app.views.account_pages import download, remittance_form, statement_period

bp = Blueprint("statements", __name__)

READERS = frozenset({Role.LA_FINANCE, Role.LA_ADMIN})
FINANCE_ONLY = frozenset({Role.LA_FINANCE})


@bp.app_template_global()
def remittances_waiting() -> int:
    """How many remittances wait to be matched (beside the link to them)."""
    return remittances.waiting_count()


def _period_args(start: date, end: date) -> dict[str, Any]:
    return {"from": start.isoformat(), "to": end.isoformat()}


def _statement_page(school: statements.School, council: bool) -> str:
    start, end, errors = statement_period()
    statement = statements.statement_for(school, start, end)
    shown = statements.entries_page(statement, whole_number(request.args.get("page")) or 1)
    return render_template(
        "statements/statement.html",
        statement=statement,
        shown=shown,
        entry_rows=finance_tables.statement_rows(shown.entries.items),
        page_endpoint="statements.council_statement" if council else "statements.school_statement",
        page_args={"urn": school.urn} if council else {},
        errors=errors,
        council_view=council,
        sends=statement_files.sends(school, limit=10) if council else [],
        can_send=current_user.role in FINANCE_ONLY,
        form=EmptyForm(),
        pdf_url=_file_url(school, council, "pdf", start, end),
        csv_url=_file_url(school, council, "csv", start, end),
        send_url=url_for("statements.send_statement", urn=school.urn, **_period_args(start, end)),
    )


def _file_url(school: statements.School, council: bool, kind: str, start: date, end: date) -> str:
    if council:
        return url_for(
            f"statements.council_statement_{kind}", urn=school.urn, **_period_args(start, end)
        )
    return url_for(f"statements.school_statement_{kind}", **_period_args(start, end))


def _pdf(statement: Statement) -> Response:
    stem = statements.file_stem(statement)
    return download(statement_files.render(statement), "application/pdf", f"{stem}.pdf")


def _csv(statement: Statement) -> Response:
    stem = statements.file_stem(statement)
    return download(statements.as_csv(statement), "text/csv", f"{stem}.csv")


def _file_statement(school: statements.School) -> Statement:
    start, end, errors = statement_period()
    if errors:
        abort(404)
    return statements.statement_for(school, start, end)


# --- The school's own -------------------------------------------------------------------------


@bp.route("/statement")
@roles_required(SCHOOL)
def school_statement() -> str:
    return _statement_page(current_user.school, council=False)


@bp.route("/statement/pdf")
@roles_required(SCHOOL)
def school_statement_pdf() -> Response:
    return _pdf(_file_statement(current_user.school))


@bp.route("/statement/csv")
@roles_required(SCHOOL)
def school_statement_csv() -> Response:
    return _csv(_file_statement(current_user.school))


# --- Finance's, for any school ----------------------------------------------------------------


def _school(urn: int) -> statements.School:
    try:
        return school_service.school_visible_to(current_user, urn)
    except school_service.NotFound:
        abort(404)


@bp.route("/finance/schools/<int:urn>/statement")
@roles_required(READERS)
def council_statement(urn: int) -> str:
    return _statement_page(_school(urn), council=True)


@bp.route("/finance/schools/<int:urn>/statement/pdf")
@roles_required(READERS)
def council_statement_pdf(urn: int) -> Response:
    return _pdf(_file_statement(_school(urn)))


@bp.route("/finance/schools/<int:urn>/statement/csv")
@roles_required(READERS)
def council_statement_csv(urn: int) -> Response:
    return _csv(_file_statement(_school(urn)))


@bp.route("/finance/schools/<int:urn>/statement/send", methods=["POST"])
@roles_required(FINANCE_ONLY)
def send_statement(urn: int) -> Response:
    school = _school(urn)
    if not EmptyForm().validate_on_submit():
        abort(400)
    start, end, errors = statement_period()
    if errors:
        flash(sentence(errors[0][1]), "info")
        return redirect(url_for("statements.council_statement", urn=urn))
    row = statement_files.send(school, start, end, current_user)
    if row.recipient:
        flash(f"The statement is being sent to {row.recipient}. It is listed below.", "success")
    else:
        flash(f"The statement was not sent. {sentence(row.error)}", "info")
    return redirect(url_for("statements.council_statement", urn=urn, **_period_args(start, end)))


@bp.route("/finance/statements")
@roles_required(READERS)
def statements_page() -> str:
    start, end, errors = statement_period()
    return render_template(
        "statements/council.html",
        schools=statements.schools_with_balance_page(whole_number(request.args.get("page")) or 1),
        sends=statement_files.sends(),
        errors=errors,
        start=start,
        end=end,
        can_send=current_user.role in FINANCE_ONLY,
        form=EmptyForm(),
    )


@bp.route("/finance/statements/send-all", methods=["POST"])
@roles_required(FINANCE_ONLY)
def send_to_all() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    start, end, errors = statement_period()
    if errors:
        flash(sentence(errors[0][1]), "info")
        return redirect(url_for("statements.statements_page"))
    count = len(statements.schools_with_balance())
    statement_files.send_to_all_after_commit(start, end, current_user)
    flash(
        f"Statements for the {count} schools with a balance are being queued. Each e-mail is "
        "listed below as it is queued and sent.",
        "success",
    )
    return redirect(url_for("statements.statements_page", **_period_args(start, end)))


# --- Remittances ------------------------------------------------------------------------------


@bp.route("/remittances", methods=["GET", "POST"])
@roles_required(SCHOOL)
def school_remittances() -> str | Response:
    """The school's remittances, and the form to tell the council about a payment."""
    school = current_user.school
    payable = remittances.payable_documents(school)
    handled = remittance_form(school, payable, "your invoices", "statements.school_remittances")
    if isinstance(handled, Response):
        return handled
    form, chosen = handled
    return render_template(
        "statements/school_remittances.html",
        school=school,
        payable=payable,
        form=form,
        chosen=chosen,
        listed=remittances.of_school(school),
        from_trust=remittances.from_trust_for_school(school),
        max_mb=remittances.MAX_FILE_BYTES // (1024 * 1024),
    )


@bp.route("/finance/remittances")
@roles_required(READERS)
def council_remittances() -> str:
    return render_template(
        "statements/council_remittances.html",
        waiting=remittances.waiting(),
        matched=remittances.recently_matched(),
        can_match=current_user.role in FINANCE_ONLY,
        form=EmptyForm(),
    )


@bp.route("/finance/remittances/<int:remittance_id>/match", methods=["POST"])
@roles_required(FINANCE_ONLY)
def match_remittance(remittance_id: int) -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    if remittances.get(remittance_id) is None:
        abort(404)
    try:
        remittance = remittances.match(remittance_id, current_user)
    except remittances.RemittanceError as error:
        flash(sentence(str(error)), "info")
    else:
        count = len(remittance.documents)
        flash(
            f"Remittance {remittance.reference} from {remittance.payer_name} matched: "
            f"{count} {'payment' if count == 1 else 'payments'} recorded, "
            f"{pounds(remittance.amount_pence)} in all.",
            "success",
        )
    return redirect(url_for("statements.council_remittances"))


@bp.route("/remittances/<int:remittance_id>/file")
@roles_required(SCHOOL, READERS, TRUST)
def remittance_file(remittance_id: int) -> Response:
    """The payer's remittance file, downloaded as it was uploaded: never shown in the browser
    (attachment, the type it was checked to be; every answer's headers forbid sniffing and
    any script). A school sees its own; a trust its own and its academies'."""
    school = current_user.school if current_user.is_school_user else None
    trust = trusts.trust_of(current_user) if current_user.is_trust_user else None
    found = remittances.file_for(remittance_id, school, trust)
    if found is None:
        abort(404)
    name, content_type, content = found
    response = Response(content, content_type=content_type)
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["Cache-Control"] = "no-store"
    return response
