"""Multi-academy trusts: the service manager's trust pages (/council/trusts: details, the
council's invoice setting, member academies), council finance's (/finance/trusts: every trust's
balance; /council/trusts/<id>/statement: a trust's statement of account, page, PDF and CSV), and
the trust finance staff's own pages (/trust: every member academy's balance, documents, orders,
days and statement, read-only, paying any member's invoice by card through the card payment
pages, and telling the council what the trust has paid: /trust/remittances)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.trusts import InvoiceTo
from traded_app.domain.types import Role
from traded_app.forms.auth import EmptyForm
from traded_app.forms.trusts import AcademyForm, TrustForm, TrustStaffForm
from traded_app.services.council import trusts, users
from traded_app.services.council.schools import AdminError
from traded_app.services.documents import reading
from traded_app.services.documents import trust_statement_pdf as statement_files
from traded_app.services.finance import remittances, trust_statements
from traded_app.services.ordering import by_trust, lists, partnership_orders
from traded_app.services.platform.errors import NotFound
from traded_app.views.account_pages import download, remittance_form, statement_period

bp = Blueprint("trusts", __name__)

ADMIN = Role.LA_ADMIN
TRUST = Role.TRUST_FINANCE
FINANCE_READERS = frozenset({Role.LA_FINANCE, Role.LA_ADMIN})


# --- The service manager's pages ---------------------------------------------------------------


def _details(form: TrustForm) -> trusts.TrustDetails:
    return trusts.TrustDetails(
        name=form.name.data or "",
        companies_house_number=form.companies_house_number.data or "",
        billing_address=form.billing_address.data or "",
        finance_email=form.finance_email.data or "",
        invoice_to=InvoiceTo(form.invoice_to.data or InvoiceTo.ACADEMY.value),
        staff_may_order=form.staff_may_order.data == "yes",
    )


def _field_error(form: Any, error: AdminError) -> None:
    field = getattr(form, error.field or "", None) or form.name
    field.errors = [*list(field.errors), str(error)]


@bp.route("/council/trusts", methods=["GET", "POST"])
@roles_required(ADMIN)
def trust_list() -> str | BaseResponse:
    form = TrustForm()
    if form.validate_on_submit():
        try:
            trust = trusts.save_trust(None, _details(form))
        except AdminError as error:
            _field_error(form, error)
        else:
            flash(f"{trust.name} added. Add its academies below.", "success")
            return redirect(url_for("trusts.trust_detail", trust_id=trust.id))
    return render_template("trusts/list.html", form=form, rows=trusts.all_trusts())


def _trust(trust_id: int) -> trusts.Trust:
    try:
        return trusts.trust_by_id(trust_id)
    except NotFound:
        abort(404)


def _trust_page(
    trust: trusts.Trust,
    form: TrustForm,
    academy_form: AcademyForm,
    staff_form: TrustStaffForm | None = None,
) -> str:
    return render_template(
        "trusts/detail.html",
        trust=trust,
        form=form,
        academy_form=academy_form,
        staff_form=staff_form or TrustStaffForm(formdata=None),
        members=trusts.members(trust),
        staff=trusts.staff(trust),
        status_label=users.status_label,
    )


def _filled(trust: trusts.Trust) -> TrustForm:
    return TrustForm(
        formdata=None,
        data={
            "name": trust.name,
            "companies_house_number": trust.companies_house_number or "",
            "billing_address": trust.billing_address,
            "finance_email": trust.finance_email,
            "invoice_to": trust.invoice_to.value,
            "staff_may_order": "yes" if trust.staff_may_order else "no",
        },
    )


@bp.route("/council/trusts/<int:trust_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def trust_detail(trust_id: int) -> str | BaseResponse:
    trust = _trust(trust_id)
    form = TrustForm() if EmptyForm().is_submitted() else _filled(trust)
    if form.validate_on_submit():
        try:
            trusts.save_trust(trust, _details(form))
        except AdminError as error:
            _field_error(form, error)
        else:
            flash(f"{trust.name} saved.", "success")
            return redirect(url_for("trusts.trust_detail", trust_id=trust.id))
    return _trust_page(trust, form, AcademyForm(formdata=None))


@bp.route("/council/trusts/<int:trust_id>/academies", methods=["POST"])
@roles_required(ADMIN)
def add_academy(trust_id: int) -> str | BaseResponse:
    trust = _trust(trust_id)
    academy_form = AcademyForm()
    if academy_form.validate_on_submit():
        urn = whole_number((academy_form.urn.data or "").strip())
        if urn is None:
            academy_form.urn.errors = ["URN must be a number, like 137123"]
        else:
            try:
                school = trusts.add_member(trust, urn)
            except AdminError as error:
                academy_form.urn.errors = [str(error)]
            else:
                flash(f"{school.name} added to {trust.name}.", "success")
                return redirect(url_for("trusts.trust_detail", trust_id=trust.id))
    return _trust_page(trust, _filled(trust), academy_form)


@bp.route("/council/trusts/<int:trust_id>/academies/<int:urn>/remove", methods=["POST"])
@roles_required(ADMIN)
def remove_academy(trust_id: int, urn: int) -> BaseResponse:
    trust = _trust(trust_id)
    if EmptyForm().validate_on_submit():
        school = next((s for s in trusts.members(trust) if s.urn == urn), None)
        if school is None:
            flash("That academy is not in this trust.", "info")
        else:
            trusts.remove_member(trust, school)
            flash(f"{school.name} removed from {trust.name}.", "success")
    return redirect(url_for("trusts.trust_detail", trust_id=trust.id))


@bp.route("/council/trusts/<int:trust_id>/staff", methods=["POST"])
@roles_required(ADMIN)
def invite_staff(trust_id: int) -> str | BaseResponse:
    trust = _trust(trust_id)
    staff_form = TrustStaffForm()
    if staff_form.validate_on_submit():
        details = users.UserDetails(
            name=staff_form.staff_name.data or "",
            email=staff_form.staff_email.data or "",
            role=TRUST,
            school_urn=None,
            trust_id=trust.id,
        )
        try:
            person = users.invite(details, current_user)
        except users.UserAdminError as error:
            staff_form.staff_email.errors = [str(error)]
        else:
            flash(f"{person.name} invited: they will get an email to set a password.", "success")
            return redirect(url_for("trusts.trust_detail", trust_id=trust.id))
    return _trust_page(trust, _filled(trust), AcademyForm(formdata=None), staff_form)


# --- The trust's finance staff -----------------------------------------------------------------


@bp.route("/trust")
@roles_required(TRUST)
def trust_home() -> str:
    trust = trusts.trust_of(current_user)
    schools = trusts.member_schools(trust)
    return render_template(
        "trusts/home.html",
        trust=trust,
        rows=[(school, reading.outstanding(school)) for school in schools],
    )


@bp.route("/trust/academies/<int:urn>")
@roles_required(TRUST)
def trust_academy(urn: int) -> str:
    try:
        school = trusts.member_visible_to(current_user, urn)
    except NotFound:
        abort(404)
    return render_template(
        "trusts/academy.html",
        trust=trusts.trust_of(current_user),
        school=school,
        documents=reading.documents_of_school(school),
        orders=lists.orders_of_school(school),
        partnership_orders=partnership_orders.orders_of_school(school.id),
        may_order=by_trust.refusal(current_user, school) is None,
        form=EmptyForm(),
    )


# --- The trust's statement of account ----------------------------------------------------------


def _own_trust() -> trusts.Trust:
    return trusts.trust_of(current_user)


def _statement_page(trust: trusts.Trust, council: bool) -> str:
    start, end, errors = statement_period()
    period: dict[str, Any] = {"from": start.isoformat(), "to": end.isoformat()}
    ids: dict[str, Any] = {"trust_id": trust.id} if council else {}
    prefix = "trusts.council_trust_statement" if council else "trusts.trust_statement"
    return render_template(
        "trusts/statement.html",
        statement=trust_statements.statement_for(trust, trusts.member_schools(trust), start, end),
        errors=errors,
        council_view=council,
        pdf_url=url_for(f"{prefix}_pdf", **ids, **period),
        csv_url=url_for(f"{prefix}_csv", **ids, **period),
    )


@bp.route("/trust/statement")
@roles_required(TRUST)
def trust_statement() -> str:
    return _statement_page(_own_trust(), council=False)


def _file_statement(trust: trusts.Trust) -> trust_statements.TrustStatement:
    start, end, errors = statement_period()
    if errors:
        abort(404)
    return trust_statements.statement_for(trust, trusts.member_schools(trust), start, end)


def _pdf(statement: trust_statements.TrustStatement) -> Response:
    stem = trust_statements.file_stem(statement)
    return download(statement_files.render(statement), "application/pdf", f"{stem}.pdf")


def _csv(statement: trust_statements.TrustStatement) -> Response:
    stem = trust_statements.file_stem(statement)
    return download(trust_statements.as_csv(statement), "text/csv", f"{stem}.csv")


@bp.route("/trust/statement/pdf")
@roles_required(TRUST)
def trust_statement_pdf() -> Response:
    return _pdf(_file_statement(_own_trust()))


@bp.route("/trust/statement/csv")
@roles_required(TRUST)
def trust_statement_csv() -> Response:
    return _csv(_file_statement(_own_trust()))


# --- Council finance's trust pages ------------------------------------------------------------


@bp.route("/finance/trusts")
@roles_required(FINANCE_READERS)
def finance_trusts() -> str:
    return render_template("trusts/finance_list.html", rows=trust_statements.trust_balances())


@bp.route("/council/trusts/<int:trust_id>/statement")
@roles_required(FINANCE_READERS)
def council_trust_statement(trust_id: int) -> str:
    return _statement_page(_trust(trust_id), council=True)


@bp.route("/council/trusts/<int:trust_id>/statement/pdf")
@roles_required(FINANCE_READERS)
def council_trust_statement_pdf(trust_id: int) -> Response:
    return _pdf(_file_statement(_trust(trust_id)))


@bp.route("/council/trusts/<int:trust_id>/statement/csv")
@roles_required(FINANCE_READERS)
def council_trust_statement_csv(trust_id: int) -> Response:
    return _csv(_file_statement(_trust(trust_id)))


# --- The trust's remittances ------------------------------------------------------------------


@bp.route("/trust/remittances", methods=["GET", "POST"])
@roles_required(TRUST)
def trust_remittances() -> str | BaseResponse:
    """The trust's remittances and its academies', and the form to tell the council about a
    payment the trust made for invoices of any of its academies (as schools do)."""
    trust = _own_trust()
    payable = remittances.payable_for_trust(trust)
    handled = remittance_form(
        trust, payable, "your academies' invoices", "trusts.trust_remittances"
    )
    if isinstance(handled, BaseResponse):
        return handled
    form, chosen = handled
    return render_template(
        "trusts/remittances.html",
        trust=trust,
        payable=payable,
        form=form,
        chosen=chosen,
        listed=remittances.of_trust(trust),
        max_mb=remittances.MAX_FILE_BYTES // (1024 * 1024),
    )
