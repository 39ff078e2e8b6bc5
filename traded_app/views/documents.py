"""Issued documents: the school's Invoices page, a document's page and its PDF, sending again,
and finance's invoice runs with their progress."""

from __future__ import annotations

import logging
from typing import Protocol

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import ALL_ROLES, SCHOOL, TRUST, roles_required
from traded_app.domain.types import Role, VatTreatment
from traded_app.formatting import sentence
from traded_app.forms.auth import EmptyForm
from traded_app.services.documents import issuing as invoicing
from traded_app.services.documents import reading as documents
from traded_app.services.documents import runs as invoice_runs
from traded_app.services.documents import sending as document_sending
from traded_app.services.documents.document_data import instalment_text
from traded_app.services.ordering import quotes, terms
from traded_app.services.platform import document_store
from traded_app.services.platform.settings import council_settings
from traded_app.web import is_htmx

log = logging.getLogger(__name__)

bp = Blueprint("documents", __name__)

FINANCE = frozenset({Role.LA_FINANCE, Role.LA_ADMIN})


@bp.app_template_global()
def order_documents(order: documents.Order) -> list[documents.DocumentRow]:
    """The order's invoice or recharge and credit notes, for the order's page."""
    return documents.documents_of_order(order)


@bp.app_template_global()
def outstanding_documents(school: documents.School) -> documents.Outstanding:
    """What the school has left to settle, for its dashboard."""
    return documents.outstanding(school)


class VatRated(Protocol):
    """A document's line or VAT band: what its VAT column shows."""

    @property
    def vat_treatment(self) -> VatTreatment: ...

    @property
    def vat_rate_bp(self) -> int: ...


@bp.app_template_filter()
def vat_rate_text(line: VatRated) -> str:
    """A line's VAT column: '20%', '17.5%', or why it carries none ('Exempt')."""
    if line.vat_treatment not in RATED:
        return line.vat_treatment.label
    whole, part = divmod(line.vat_rate_bp, 100)
    return f"{whole}%" if part == 0 else f"{whole}.{part:02d}".rstrip("0") + "%"


RATED = frozenset({VatTreatment.STANDARD, VatTreatment.REDUCED, VatTreatment.ZERO})


def _visible_document(document_id: int) -> documents.Document:
    try:
        return documents.document_visible_to(current_user, document_id)
    except documents.DocumentNotFound:
        abort(404)


@bp.route("/invoices")
@roles_required(SCHOOL)
def school_documents() -> str:
    school = current_user.school
    return render_template(
        "documents/school_list.html",
        rows=documents.documents_of_school(school),
        quotes=quotes.of_school(school),
        accepted_terms=terms.accepted_by(school),
    )


@bp.route("/documents/<int:document_id>")
@roles_required(ALL_ROLES)
def document_detail(document_id: int) -> str:
    document = _visible_document(document_id)
    charged = documents.charged_for(document)
    return render_template(
        "documents/detail.html",
        document=document,
        instalment=instalment_text(document),
        charged=charged,
        charged_url=_charged_url(charged),
        row=documents.row_for(document),
        credit_notes=documents.rows_for(documents.credit_notes_against(document)),
        sends=document_sending.sends_of(document),
        can_send=current_user.role in FINANCE,
        form=EmptyForm(),
    )


def _charged_url(charged: documents.ChargedFor | None) -> str | None:
    """The page of what the document charges for, when this person may open it."""
    if charged is None:
        return None
    kind, role = charged.kind, current_user.role
    if kind == documents.ChargedKind.ORDER:
        return url_for("orders.order_detail", order_id=charged.record_id)
    readers = {*SCHOOL, *FINANCE}
    if kind == documents.ChargedKind.PARTNERSHIP_ORDER and role in {*readers, *TRUST}:
        return url_for("partnership_orders.order_detail", partnership_order_id=charged.record_id)
    if kind == documents.ChargedKind.COURSE_BOOKING and role in readers:
        return url_for("courses.booking_detail", booking_id=charged.record_id)
    return None


@bp.route("/documents/<int:document_id>/pdf")
@roles_required(ALL_ROLES)
def document_pdf(document_id: int) -> Response:
    """The PDF exactly as issued; if the stored file is missing or altered, say so (never make a
    new one: it would not be the document the school was sent)."""
    document = _visible_document(document_id)
    if document.brought_forward:
        html = render_template("documents/pdf_unavailable.html", document=document)
        return Response(html, status=404, mimetype="text/html")
    try:
        content = document_store.read_pdf(document)
    except document_store.MissingPdfError as error:
        log.error("Download refused: %s", error)
        html = render_template("documents/pdf_unavailable.html", document=document)
        return Response(html, status=404, mimetype="text/html")
    response = Response(content, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment", filename=f"{document.number}.pdf")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/documents/<int:document_id>/send", methods=["POST"])
@roles_required(FINANCE)
def send_again(document_id: int) -> Response:
    document = _visible_document(document_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        email = document_sending.send_again(document, current_user)
    except invoicing.InvoicingError as error:
        flash(sentence(str(error)), "info")
        return redirect(url_for("documents.document_detail", document_id=document.id))
    if email is None:
        flash(f"{document.number} was not sent. {sentence(document_sending.NO_CONTACT)}", "info")
    else:
        flash(
            f"{document.number} is being sent to {email.recipients}. "
            "Each try is listed under E-mails below.",
            "success",
        )
    return redirect(url_for("documents.document_detail", document_id=document.id))


# --- Finance: documents and invoice runs ------------------------------------------------------


@bp.route("/council/invoices")
@roles_required(FINANCE)
def council_invoices() -> str:
    settings = council_settings()
    running = invoice_runs.running_run()
    return render_template(
        "documents/council.html",
        pending=invoice_runs.pending_orders(),
        in_runs=settings is not None and settings.invoice_timing == "invoice_run",
        running=running,
        running_is_stale=running is not None and invoice_runs.is_stale(running),
        runs=invoice_runs.latest_runs(),
        unsent=documents.unsent_documents(),
        recent=documents.recent_documents(),
        form=EmptyForm(),
    )


@bp.route("/council/invoice-runs", methods=["POST"])
@roles_required(FINANCE)
def start_run() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        run = invoice_runs.start(current_user, source="web")
    except (invoice_runs.InvoiceRunError, invoicing.InvoicingError) as error:
        flash(sentence(str(error)), "info")
        return redirect(url_for("documents.council_invoices"))
    invoice_runs.start_after_commit(run)  # a queue worker runs it once this commits
    return redirect(url_for("documents.run_progress", run_id=run.id))


@bp.route("/council/invoice-runs/<int:run_id>")
@roles_required(FINANCE)
def run_progress(run_id: int) -> str:
    """The run's progress: the whole page, or for htmx's polling just the progress fragment
    (which stops asking once the run has ended)."""
    run = invoice_runs.get_run(run_id)
    if run is None:
        abort(404)
    return render_template(
        "documents/_run_progress.html" if is_htmx() else "documents/run.html",
        run=run,
        stale=invoice_runs.is_stale(run),
        items=invoice_runs.items_of(run),
    )
