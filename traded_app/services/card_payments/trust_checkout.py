"""A trust pays a consolidated invoice by card: one Stripe Checkout for what is left to pay on
every academy invoice it lists, recorded as one card payment against each of them.

The money stays each academy's: the consolidated invoice is the trust's paper, and each part's
own invoice carries the debt. So the Checkout Session names, in its metadata, each part's
invoice and the amount asked for it (its balance when the trust pressed "Pay"); when Stripe says
it is paid (the webhook or the trust's return, both idempotent on the PaymentIntent, as for one
invoice) every part's payment is recorded in one transaction, the first payment carrying the
PaymentIntent (so a second delivery finds it), the others its id as their reference. Anything
that does not match (amounts, an invoice paid meanwhile, an invoice not on the consolidated
invoice) is held for finance as a review, and nothing is applied.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from sqlalchemy import select

from traded_app.extensions import db
from traded_app.formatting import pounds
from traded_app.models import (
    CardPaymentReview,
    ConsolidatedInvoice,
    Document,
    Payment,
    PaymentKind,
    ReviewKind,
)
from traded_app.services.card_payments.keys import (
    CardPaymentError,
    amount_of,
    client,
    id_of,
    object_of,
    plain,
    whole_number,
)
from traded_app.services.card_payments.recording import Outcome, PaidFacts, hold
from traded_app.services.finance import balances, payments
from traded_app.services.platform.card_links import card_payments_enabled
from traded_app.services.platform.settings import today

log = logging.getLogger(__name__)

# Stripe keeps at most 500 characters in a metadata value: "123456:99999999," a part.
MAX_PARTS_TEXT = 500


def open_parts(invoice: ConsolidatedInvoice) -> list[tuple[Document, int]]:
    """The invoices on the consolidated invoice with something left to pay, and how much."""
    documents = [part.document for part in invoice.parts]
    figures = balances.figures_for(documents)
    return [
        (document, figures[document.id].balance_pence or 0)
        for document in documents
        if (figures[document.id].balance_pence or 0) > 0
    ]


def card_payment_problem(invoice: ConsolidatedInvoice) -> str:
    """Why the consolidated invoice cannot be paid by card now ("" when it can)."""
    if not card_payments_enabled():
        return "Card payments are not set up"
    if not open_parts(invoice):
        return f"{invoice.number} has nothing left to pay"
    return ""


def _parts_text(parts: list[tuple[Document, int]]) -> str:
    return ",".join(f"{document.id}:{pence}" for document, pence in parts)


def start_checkout(invoice: ConsolidatedInvoice, success_url: str, cancel_url: str) -> str:
    """A Stripe Checkout Session for everything left to pay on the consolidated invoice's
    parts; the URL to send the trust to. The idempotency key is the invoice and what is asked
    of each part, so asking again for the same gets the same session."""
    problem = card_payment_problem(invoice)
    if problem:
        raise CardPaymentError(problem)
    parts = open_parts(invoice)
    total = sum(pence for _document, pence in parts)
    parts_text = _parts_text(parts)
    if len(parts_text) > MAX_PARTS_TEXT:
        raise CardPaymentError(
            f"{invoice.number} lists too many invoices to pay in one card payment: pay it by "
            "bank transfer, or pay each academy's invoice by card"
        )
    reference = {
        "consolidated_invoice_id": str(invoice.id),
        "invoice_number": invoice.number,
        "amount_pence": str(total),
        "parts": parts_text,
    }
    params: dict[str, Any] = {
        "mode": "payment",
        "payment_method_types": ["card"],
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": invoice.currency.lower(),
                    "unit_amount": total,
                    "product_data": {
                        "name": f"Consolidated invoice {invoice.number}",
                        "description": f"{invoice.buyer_name}: {len(parts)} academy invoices",
                    },
                },
            }
        ],
        "client_reference_id": invoice.number,
        "metadata": reference,
        "payment_intent_data": {"description": invoice.number, "metadata": reference},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if invoice.buyer_email:
        params["customer_email"] = invoice.buyer_email
    try:
        session = client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": f"consolidated-{invoice.id}-{parts_text}"[:255]},
        )
    except stripe.StripeError as error:
        log.error("Checkout for %s refused by Stripe: %s", invoice.number, error)
        raise CardPaymentError(
            "Card payments are not available just now. Try again later, or pay by bank transfer"
        ) from None
    url = plain(session).get("url") or ""
    if not url:
        raise CardPaymentError("Card payments are not available just now. Try again later")
    return str(url)


def is_consolidated(session: dict[str, Any]) -> bool:
    """Whether a Checkout Session is a consolidated invoice's (its metadata says so)."""
    metadata = session.get("metadata")
    return isinstance(metadata, dict) and bool(metadata.get("consolidated_invoice_id"))


def settle(session: dict[str, Any], event_type: str = "") -> Outcome:
    """Record a consolidated invoice's Checkout Session if Stripe says it is paid (webhook and
    return page alike); safe to call any number of times, in any order."""
    if session.get("mode") != "payment":
        return Outcome("ignored", message="Not a payment")
    if session.get("payment_status") != "paid":
        if session.get("status") == "expired":
            return Outcome("failed", message="The Checkout expired without a payment")
        return Outcome("not_paid", message="Stripe has not yet confirmed the payment")
    metadata = object_of(session.get("metadata"), "The Checkout Session's metadata")
    facts = PaidFacts(
        payment_intent=id_of(session.get("payment_intent")),
        amount_pence=amount_of(session.get("amount_total"), "The Checkout Session's amount"),
        currency=str(session.get("currency") or ""),
        document_id="",
        invoice_number=str(session.get("client_reference_id") or ""),
        asked_pence=str(metadata.get("amount_pence") or ""),
        session_id=str(session.get("id") or ""),
        event_type=event_type,
    )
    if not facts.payment_intent:
        return Outcome("not_paid", message="Stripe has not said which payment this is")
    invoice_id = whole_number(str(metadata.get("consolidated_invoice_id") or ""), 9)
    invoice = db.session.get(ConsolidatedInvoice, invoice_id) if invoice_id else None
    return record(facts, invoice, str(metadata.get("parts") or ""))


def _known(payment_intent: str) -> Outcome | None:
    payment = db.session.execute(
        select(Payment).where(Payment.stripe_payment_intent == payment_intent)
    ).scalar_one_or_none()
    if payment is not None:
        return Outcome("already_recorded", payment=payment)
    review = db.session.execute(
        select(CardPaymentReview).where(CardPaymentReview.stripe_object_id == payment_intent)
    ).scalar_one_or_none()
    if review is not None:
        return Outcome("held", review=review, message=review.problem)
    return None


def _asked(invoice: ConsolidatedInvoice, parts_text: str) -> list[tuple[int, int]] | None:
    """The (document id, pence) the session asked for, if every one is a part of `invoice`."""
    on_invoice = {part.document_id for part in invoice.parts}
    asked: list[tuple[int, int]] = []
    for item in parts_text.split(","):
        document_id, _, pence = item.partition(":")
        ids, amount = whole_number(document_id, 9), whole_number(pence, 12)
        if ids is None or amount is None or amount <= 0 or ids not in on_invoice:
            return None
        asked.append((ids, amount))
    return asked or None


def record(facts: PaidFacts, invoice: ConsolidatedInvoice | None, parts_text: str) -> Outcome:
    """Record the card payment against each part, or hold it for finance (see the module)."""
    known = _known(facts.payment_intent)
    if known is not None:
        return known
    if invoice is None or invoice.number != facts.invoice_number:
        return _hold(facts, "It names no consolidated invoice of ours")
    asked = _asked(invoice, parts_text)
    if asked is None:
        return _hold(facts, f"It does not say which invoices on {invoice.number} it pays")
    documents = [payments.lock_document(document_id) for document_id, _ in sorted(asked)]
    known = _known(facts.payment_intent)  # recorded while we waited for the locks
    if known is not None:
        return known
    problem = _mismatch(invoice, facts, asked)
    if problem:
        return _hold(facts, problem)
    by_id = {document.id: document for document in documents}
    first: Payment | None = None
    try:
        with db.session.begin_nested():  # every part's payment, or none
            for document_id, pence in asked:
                payment = payments.record_payment(
                    by_id[document_id],
                    PaymentKind.CARD,
                    pence,
                    today(),
                    facts.payment_intent,
                    None,
                    note=f"Paid by card with consolidated invoice {invoice.number} through "
                    f"Stripe (Checkout {facts.session_id})"[:500],
                    stripe_payment_intent=facts.payment_intent if first is None else None,
                )
                first = first or payment
    except payments.PaymentError as error:
        return _hold(facts, str(error))
    log.info(
        "Card payment %s of %s recorded against the %s invoices of %s",
        facts.payment_intent,
        pounds(facts.amount_pence),
        len(asked),
        invoice.number,
    )
    return Outcome("recorded", payment=first)


def _mismatch(invoice: ConsolidatedInvoice, facts: PaidFacts, asked: list[tuple[int, int]]) -> str:
    if facts.currency.lower() != invoice.currency.lower():
        return f"It was paid in {facts.currency.upper() or 'an unknown currency'}"
    total = sum(pence for _document, pence in asked)
    if str(facts.amount_pence) != facts.asked_pence or facts.amount_pence != total:
        return f"Stripe took {pounds(facts.amount_pence)}, but we asked for {pounds(total)}"
    documents = [db.session.get(Document, document_id) for document_id, _ in asked]
    figures = balances.figures_for([d for d in documents if d is not None])
    for document_id, pence in asked:
        balance = figures[document_id].balance_pence or 0
        if pence > balance:
            number = figures_number(documents, document_id)
            return (
                f"{pounds(pence)} is more than the {pounds(balance)} left to pay on {number} "
                "when the card payment arrived"
            )
    return ""


def figures_number(documents: list[Document | None], document_id: int) -> str:
    return next((d.number for d in documents if d is not None and d.id == document_id), "")


def _hold(facts: PaidFacts, problem: str) -> Outcome:
    review = hold(
        CardPaymentReview(
            kind=ReviewKind.PAYMENT,
            stripe_object_id=facts.payment_intent,
            stripe_payment_intent=facts.payment_intent,
            checkout_session_id=facts.session_id[:255],
            event_type=facts.event_type[:80],
            document_id=None,
            invoice_reference=(facts.invoice_number or "")[:255],
            amount_pence=max(0, facts.amount_pence),
            currency=(facts.currency or "???")[:3].upper(),
            problem=problem,
        )
    )
    return Outcome("held", review=review, message=review.problem)
