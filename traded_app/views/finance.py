"""Finance: the register of documents, payments and reversals, journals settling recharges, aged
debt with reminders (and their pauses, for one invoice or one school), and exports for the ledger.

Service managers may read the register and aged debt; only finance officers move money, send or
pause reminders, or export.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import DocumentType, ExportKind, Role
from traded_app.formatting import long_date, pounds, sentence
from traded_app.forms.auth import EmptyForm
from traded_app.forms.finance import (
    ExportForm,
    JournalForm,
    PauseRemindersForm,
    PaymentForm,
    ReminderForm,
    ReverseForm,
    parse_register_filters,
)
from traded_app.services.documents import reading as documents
from traded_app.services.finance import (
    aged_debt,
    balances,
    export_builds,
    export_files,
    exports,
    payments,
    register,
    reminder_pauses,
    reminders,
)
from traded_app.services.finance.balances import DocumentStatus
from traded_app.views import finance_tables
from traded_app.web import is_htmx

bp = Blueprint("finance", __name__, url_prefix="/finance")

READERS = frozenset({Role.LA_FINANCE, Role.LA_ADMIN})
FINANCE_ONLY = frozenset({Role.LA_FINANCE})


def init_app(app: Flask) -> None:
    """Register the blueprint and the once-per-process hooks finance needs."""
    app.register_blueprint(bp)


# --- The register ----------------------------------------------------------------------------


@bp.route("/invoices")
@roles_required(READERS)
def register_page() -> str:
    filters, errors = parse_register_filters(request.args)
    result = None if errors else register.register(filters)
    school = register.school_by_urn(filters.school_urn) if filters.school_urn else None
    fragment = is_htmx()
    return render_template(
        "finance/_register_results.html" if fragment else "finance/register.html",
        fragment=fragment,
        filters=filters,
        errors=errors,
        result=result,
        school=school,
        quadrants=[] if fragment else register.quadrants(),
        types=list(DocumentType),
        statuses=list(DocumentStatus),
        sorts=register.SORTS,
        register_rows=finance_tables.register_rows,
    )


# --- Payments --------------------------------------------------------------------------------


def _document(document_id: int) -> documents.Document:
    try:
        return documents.document_visible_to(current_user, document_id)
    except documents.DocumentNotFound:
        abort(404)


@bp.route("/documents/<int:document_id>/payments/new", methods=["GET", "POST"])
@roles_required(FINANCE_ONLY)
def record_payment(document_id: int) -> str | Response:
    document = _document(document_id)
    figures = balances.figures_of(document)
    form = PaymentForm()
    problem = payments.route_problem(document, payments.PaymentKind.BANK_TRANSFER)
    if form.validate_on_submit() and not problem:
        assert form.amount.pence is not None and form.received_on.data is not None
        try:
            payment = payments.record_bank_transfer(
                document,
                form.amount.pence,
                form.received_on.data,
                form.reference.data or "",
                current_user,
                note=form.note.data or "",
            )
        except payments.PaymentError as error:
            field = getattr(form, error.field, None) if error.field else None
            (field.errors if field is not None else form.form_errors).append(str(error))  # type: ignore[union-attr]
        else:
            left = balances.figures_of(document).balance_pence or 0
            flash(
                f"{pounds(payment.amount_pence)} received on {long_date(payment.received_on)} "
                f"recorded against {document.number}. "
                + (f"{pounds(left)} is left to pay." if left else "It is now paid in full."),
                "success",
            )
            return redirect(url_for("documents.document_detail", document_id=document.id))
    return render_template(
        "finance/payment.html", document=document, figures=figures, form=form, problem=problem
    )


@bp.route("/payments/<int:payment_id>/reverse", methods=["GET", "POST"])
@roles_required(FINANCE_ONLY)
def reverse_payment(payment_id: int) -> str | Response:
    payment = payments.get_payment(payment_id)
    if payment is None:
        abort(404)
    already = payments.reversal_of(payment)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            reversal = payments.reverse_payment(payment, form.reason.data or "", current_user)
        except payments.PaymentError as error:
            field = getattr(form, error.field, None) if error.field else None
            (field.errors if field is not None else form.form_errors).append(str(error))  # type: ignore[union-attr]
        else:
            flash(
                f"The {payment.kind.label.lower()} of {pounds(payment.amount_pence)} "
                f"({payment.reference}) is reversed: {pounds(-reversal.amount_pence)} taken off "
                f"what {payment.document.number} has been paid.",
                "success",
            )
            return redirect(url_for("documents.document_detail", document_id=payment.document_id))
    return render_template("finance/reverse.html", payment=payment, already=already, form=form)


@bp.route("/journals", methods=["GET", "POST"])
@roles_required(FINANCE_ONLY)
def settle_recharges() -> str | Response:
    """Settle internal recharges by a journal: choose several, give the journal's reference and
    date."""
    unsettled = payments.unsettled_recharges()
    form = JournalForm()
    form.documents.choices = [(d.id, d.number) for d, _f in unsettled]
    if form.validate_on_submit():
        assert form.journal_date.data is not None
        try:
            settlement = payments.settle_recharges(
                form.documents.data or [],
                form.reference.data or "",
                form.journal_date.data,
                current_user,
            )
        except payments.PaymentError as error:
            field = getattr(form, error.field, None) if error.field else None
            (field.errors if field is not None else form.form_errors).append(str(error))  # type: ignore[union-attr]
        else:
            count = len(settlement.payments)
            flash(
                f"{count} {'recharge' if count == 1 else 'recharges'} settled by journal "
                f"{settlement.payments[0].reference}: {pounds(settlement.total_pence)} in all.",
                "success",
            )
            return redirect(url_for("finance.settle_recharges"))
    chosen = set(form.documents.data or []) if request.method == "POST" else set()
    return render_template("finance/journals.html", unsettled=unsettled, form=form, chosen=chosen)


# --- Aged debt and reminders -----------------------------------------------------------------


@bp.route("/aged-debt")
@roles_required(READERS)
def aged_debt_page() -> str:
    quadrant_id = whole_number(request.args.get("quadrant"))
    sort = request.args.get("sort", "oldest")
    sort = sort if sort in aged_debt.SORTS else "oldest"
    page = whole_number(request.args.get("page")) or 1
    return _aged_debt_page(
        aged_debt.aged_debt(quadrant_id=quadrant_id, sort=sort),
        page,
        ReminderForm(formdata=None),
        quadrant_id=quadrant_id,
        sort=sort,
        can_remind=current_user.role == Role.LA_FINANCE,
    )


def _aged_debt_page(
    debt: aged_debt.AgedDebt,
    page: int,
    form: ReminderForm,
    quadrant_id: int | None = None,
    sort: str = "oldest",
    can_remind: bool = True,
) -> str:
    """Aged debt with a page of the overdue invoices, and the reminder form (as sent, with its
    errors, when a reminder was refused)."""
    interval = reminders.interval_days()
    overdue = aged_debt.overdue_page(interval, page, debt.overdue_invoices)
    chosen = set(form.documents.data or []) if form.is_submitted() else set()
    return render_template(
        "finance/aged_debt.html",
        debt=debt,
        debt_rows=finance_tables.debt_rows(debt.schools),
        overdue=overdue,
        overdue_rows=finance_tables.overdue_rows(overdue.items, can_remind, chosen),
        interval=interval,
        quadrants=register.quadrants(),
        quadrant_id=quadrant_id,
        sort=sort,
        sorts=aged_debt.SORTS,
        form=form,
        can_remind=can_remind,
    )


@bp.route("/reminders", methods=["POST"])
@roles_required(FINANCE_ONLY)
def send_reminders() -> str | Response:
    form = ReminderForm()
    form.documents.choices = aged_debt.overdue_choices(form.documents.data or [])
    if form.validate_on_submit():
        try:
            outcome = reminders.send_reminders(form.documents.data or [], current_user)
        except reminders.ReminderError as error:
            form.documents.errors = [str(error)]  # type: ignore[assignment]
        else:
            if outcome.queued:
                numbers = ", ".join(r.document.number for r in outcome.queued)
                flash(f"Reminders are being sent for {numbers}.", "success")
            for number, why in outcome.skipped:
                flash(f"No reminder for {number}: {why}.", "info")
            return redirect(url_for("finance.aged_debt_page"))
    return _aged_debt_page(aged_debt.aged_debt(), 1, form)


# --- Pausing reminders, for one invoice or one school ----------------------------------------


def _school(urn: int) -> register.School:
    school = register.school_by_urn(urn)
    if school is None:
        abort(404)
    return school


def _school_page(school: register.School) -> str:
    return url_for("finance.register_page", school=school.urn)


@bp.route("/documents/<int:document_id>/pause-reminders", methods=["GET", "POST"])
@roles_required(FINANCE_ONLY)
def pause_document_reminders(document_id: int) -> str | Response:
    document = _document(document_id)
    back = url_for("documents.document_detail", document_id=document.id)
    if document.document_type != DocumentType.INVOICE:
        flash(f"{document.number} is not a VAT invoice: only VAT invoices are reminded.", "info")
        return redirect(back)
    form = PauseRemindersForm()
    if form.validate_on_submit():
        try:
            reminder_pauses.pause_document(document, form.reason.data or "", current_user)
        except reminder_pauses.PauseError as error:
            form.reason.errors = [str(error)]  # type: ignore[assignment]
        else:
            flash(f"Reminders for {document.number} are paused.", "success")
            return redirect(back)
    return render_template(
        "finance/pause_reminders.html",
        form=form,
        what=document.number,
        caption=f"{document.number} · {document.buyer_name}",
        action=url_for("finance.pause_document_reminders", document_id=document.id),
        back=back,
        already=reminder_pauses.pause_of_document(document),
    )


@bp.route("/documents/<int:document_id>/resume-reminders", methods=["POST"])
@roles_required(FINANCE_ONLY)
def resume_document_reminders(document_id: int) -> Response:
    document = _document(document_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        reminder_pauses.resume_document(document, current_user)
    except reminder_pauses.PauseError as error:
        flash(f"{error}.", "info")
    else:
        flash(f"Reminders for {document.number} are resumed.", "success")
    return redirect(url_for("documents.document_detail", document_id=document.id))


@bp.route("/schools/<int:urn>/pause-reminders", methods=["GET", "POST"])
@roles_required(FINANCE_ONLY)
def pause_school_reminders(urn: int) -> str | Response:
    school = _school(urn)
    form = PauseRemindersForm()
    if form.validate_on_submit():
        try:
            reminder_pauses.pause_school(school, form.reason.data or "", current_user)
        except reminder_pauses.PauseError as error:
            form.reason.errors = [str(error)]  # type: ignore[assignment]
        else:
            flash(f"Reminders for all of {school.name}'s invoices are paused.", "success")
            return redirect(_school_page(school))
    return render_template(
        "finance/pause_reminders.html",
        form=form,
        what=f"all of {school.name}'s invoices",
        caption=f"{school.name} · URN {school.urn}",
        action=url_for("finance.pause_school_reminders", urn=school.urn),
        back=_school_page(school),
        already=reminder_pauses.pause_of_school(school),
    )


@bp.route("/schools/<int:urn>/resume-reminders", methods=["POST"])
@roles_required(FINANCE_ONLY)
def resume_school_reminders(urn: int) -> Response:
    school = _school(urn)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        reminder_pauses.resume_school(school, current_user)
    except reminder_pauses.PauseError as error:
        flash(f"{error}.", "info")
    else:
        flash(f"Reminders for {school.name}'s invoices are resumed.", "success")
    return redirect(_school_page(school))


# --- Exports ---------------------------------------------------------------------------------


@bp.route("/exports", methods=["GET", "POST"])
@roles_required(FINANCE_ONLY)
def exports_page() -> str | Response:
    form = ExportForm()
    summary = None
    if request.method == "GET":
        start, end = exports.default_range()
        form.date_from.data, form.date_to.data = start, end
        form.kind.data = ExportKind.SALES_CSV.value
    elif form.validate_on_submit():
        kind = ExportKind(form.kind.data)
        try:
            date_from, date_to = exports.check_range(form.date_from.data, form.date_to.data)
            summary = exports.summarise_range(kind, date_from, date_to)
            if summary.already_exported and not form.already_exported.data:
                pass  # not an error: the page asks what to do with them (the summary says why)
            else:
                export = exports.create_export(
                    kind,
                    date_from,
                    date_to,
                    current_user,
                    exclude_already_exported=form.already_exported.data == "exclude",
                    reference=form.reference.data or "",
                )
                if export.kind in export_builds.BUILT_KINDS:
                    export_builds.queue_build(export)
                    return redirect(url_for("finance.export_detail", export_id=export.id))
                return _download(export)
        except exports.ExportError as error:
            field = getattr(form, error.field, None) if error.field else None
            (field.errors if field is not None else form.form_errors).append(str(error))  # type: ignore[union-attr]
    return render_template(
        "finance/exports.html", form=form, summary=summary, recent=exports.latest_exports()
    )


@bp.route("/exports/<int:export_id>")
@roles_required(FINANCE_ONLY)
def export_detail(export_id: int) -> str:
    """A long export's file being built by the queue (polled while it builds), then offered."""
    export = exports.get_export(export_id)
    if export is None or export.kind not in export_builds.BUILT_KINDS:
        abort(404)
    state = export_builds.state_of(export_id)  # None: made from the command line
    template = "finance/_export_build.html" if is_htmx() else "finance/export_build.html"
    return render_template(
        template, export=export, state=state, filename=exports.filename_of(export), form=EmptyForm()
    )


@bp.route("/exports/<int:export_id>/file")
@roles_required(FINANCE_ONLY)
def export_file(export_id: int) -> Response:
    export = exports.get_export(export_id)
    if export is None:
        abort(404)
    try:
        path = export_builds.file_of(export_id)
    except exports.ExportError as error:
        flash(sentence(str(error)), "info")
        return redirect(url_for("finance.export_detail", export_id=export_id))
    response = send_file(path, as_attachment=True, download_name=exports.filename_of(export))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Export-Id"] = str(export.id)
    return response


@bp.route("/exports/<int:export_id>/build", methods=["POST"])
@roles_required(FINANCE_ONLY)
def rebuild_export(export_id: int) -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        export_builds.rebuild(export_id)
    except exports.ExportError as error:
        flash(sentence(str(error)), "info")
    return redirect(url_for("finance.export_detail", export_id=export_id))


def _download(export: exports.FinanceExport) -> Response:
    filename = exports.filename_of(export)
    if export.kind in (ExportKind.SALES_CSV, ExportKind.JOURNAL_CSV):
        # The export is committed when this view returns; the file streams after, in its own
        # connection and read-only transaction (export_files.csv_download), not the request's
        # context (stream_with_context would keep the request, its session and its write-lock
        # setting alive for the whole download).
        response = Response(export_files.csv_download(export.id), mimetype="text/csv")
    else:
        handle = export_files.write_to_temporary(export)
        mimetype = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            if export.kind == ExportKind.SALES_XLSX
            else "application/zip"
        )
        response = Response(_file_chunks(handle), mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Export-Id"] = str(export.id)
    return response


def _file_chunks(file: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := file.read(65_536):
            yield chunk
    finally:
        file.close()


# --- For the document page (templates/finance/_document_finance.html) -------------------------


@bp.app_template_global()
def document_payments(document: documents.Document) -> list[payments.PaymentRow]:
    return payments.payments_of(document)


@bp.app_template_global()
def document_reminders(document: documents.Document) -> list[reminders.Reminder]:
    return reminders.reminders_of(document)


@bp.app_template_global()
def reminder_pause_of(document: documents.Document) -> reminder_pauses.ReminderPause | None:
    """The open pause stopping the invoice's reminders: its own, or its school's."""
    return reminder_pauses.pause_affecting(document)


@bp.app_template_global()
def school_reminder_pause(school: register.School) -> reminder_pauses.ReminderPause | None:
    return reminder_pauses.pause_of_school(school)


@bp.app_template_global()
def document_exports(document: documents.Document) -> list[exports.FinanceExport]:
    return exports.exports_of(document)
