"""Consolidated trust invoices: the trust's finance staff list, read, download and pay by card
their trust's (/trust/invoices); council finance sees every trust's (/council/trust-invoices).
Issued by invoice runs (services.documents.consolidated); paid through Stripe Checkout as one
payment that is recorded against each academy invoice on it (card_payments.trust_checkout)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.types import Role
from traded_app.forms.auth import EmptyForm
from traded_app.services.card_payments import checkout, recording, trust_checkout
from traded_app.services.card_payments.keys import CardPaymentError
from traded_app.services.documents import consolidated
from traded_app.services.finance import balances
from traded_app.services.platform import card_links
from traded_app.services.platform.document_store import MissingPdfError
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.transactions import commit_now

bp = Blueprint("trust_invoices", __name__)

TRUST = Role.TRUST_FINANCE
FINANCE = frozenset({Role.LA_FINANCE, Role.LA_ADMIN})


def _invoice(invoice_id: int) -> consolidated.ConsolidatedInvoice:
    try:
        return consolidated.visible_to(current_user, invoice_id)
    except NotFound:
        abort(404)


def _page(invoice: consolidated.ConsolidatedInvoice, **extra: Any) -> str:
    documents = [part.document for part in invoice.parts]
    figures = balances.figures_for(documents)
    left = sum(figures[d.id].balance_pence or 0 for d in documents)
    payable = current_user.role == TRUST and left > 0 and card_links.card_payments_enabled()
    return render_template(
        "trust_invoices/detail.html",
        invoice=invoice,
        rows=[(part, figures[part.document_id]) for part in invoice.parts],
        left_pence=left,
        payable=payable,
        form=EmptyForm(formdata=None),
        pdf_url=url_for(
            "trust_invoices.trust_pdf"
            if current_user.role == TRUST
            else "trust_invoices.council_pdf",
            invoice_id=invoice.id,
        ),
        **extra,
    )


def _pdf(invoice: consolidated.ConsolidatedInvoice) -> Response:
    try:
        body = consolidated.pdf_of(invoice)
    except MissingPdfError:
        abort(404)
    response = Response(body, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment", filename=f"{invoice.number}.pdf")
    response.headers["Cache-Control"] = "no-store"
    return response


# --- The trust's finance staff ----------------------------------------------------------------


@bp.route("/trust/invoices")
@roles_required(TRUST)
def trust_list() -> str:
    return render_template(
        "trust_invoices/list.html",
        invoices=consolidated.of_trust(current_user.trust_id or 0),
        for_council=False,
    )


@bp.route("/trust/invoices/<int:invoice_id>")
@roles_required(TRUST)
def trust_detail(invoice_id: int) -> str:
    return _page(_invoice(invoice_id))


@bp.route("/trust/invoices/<int:invoice_id>/pdf")
@roles_required(TRUST)
def trust_pdf(invoice_id: int) -> Response:
    return _pdf(_invoice(invoice_id))


@bp.route("/trust/invoices/<int:invoice_id>/pay", methods=["POST"])
@roles_required(TRUST)
def pay(invoice_id: int) -> BaseResponse:
    """One Stripe Checkout for everything left to pay on the invoice's parts."""
    invoice = _invoice(invoice_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    done = url_for("trust_invoices.pay_done", invoice_id=invoice.id, _external=True)
    back = url_for("trust_invoices.trust_detail", invoice_id=invoice.id, _external=True)
    try:
        url = trust_checkout.start_checkout(
            invoice, done + "?session_id={CHECKOUT_SESSION_ID}", back
        )
    except CardPaymentError as error:
        flash(str(error), "error")
        return redirect(url_for("trust_invoices.trust_detail", invoice_id=invoice.id))
    return redirect(url, code=303)


@bp.route("/trust/invoices/<int:invoice_id>/pay/done")
@roles_required(TRUST)
def pay_done(invoice_id: int) -> str:
    """Where Checkout sends the trust back: ask Stripe how the session stands and record it with
    the same idempotent function as the webhook (in a transaction of its own)."""
    invoice = _invoice(invoice_id)
    outcome: recording.Outcome | None = None
    problem = ""
    try:
        session = checkout.retrieve_session(request.args.get("session_id", ""))
    except CardPaymentError as error:
        problem = str(error)
    else:
        metadata = session.get("metadata") or {}
        if str(metadata.get("consolidated_invoice_id")) != str(invoice.id):
            abort(404)
        outcome = commit_now(lambda: trust_checkout.settle(dict(session)))
    return _page(invoice, outcome=outcome, problem=problem)


# --- Council finance -----------------------------------------------------------------------------


@bp.route("/council/trust-invoices")
@roles_required(FINANCE)
def council_list() -> str:
    return render_template(
        "trust_invoices/list.html", invoices=consolidated.every_invoice(), for_council=True
    )


@bp.route("/council/trust-invoices/<int:invoice_id>")
@roles_required(FINANCE)
def council_detail(invoice_id: int) -> str:
    return _page(_invoice(invoice_id))


@bp.route("/council/trust-invoices/<int:invoice_id>/pdf")
@roles_required(FINANCE)
def council_pdf(invoice_id: int) -> Response:
    return _pdf(_invoice(invoice_id))
