"""Recording what Stripe says was paid: one idempotent function, and holding for finance what
does not match.

Trust: Stripe's word reaches us two ways, a signed webhook and the school's return from
Checkout (where we ask Stripe ourselves). Both end in `settle_checkout_session`, keyed on the
PaymentIntent: the payment is recorded once (the unique `payment.stripe_payment_intent`, checked
again after the invoice's row is locked), whatever the order or number of deliveries. Anything
that does not match our records (amount, currency, invoice, an invoice already paid) is held as
a `CardPaymentReview` for finance, never applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from traded_app.extensions import db
from traded_app.formatting import pounds
from traded_app.models import (
    CardPaymentReview,
    CardRefund,
    Document,
    DocumentType,
    Payment,
    PaymentKind,
    ReviewKind,
)
from traded_app.services.card_payments.keys import amount_of, id_of, object_of, whole_number
from traded_app.services.finance import balances, payments
from traded_app.services.platform.settings import today

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What became of something Stripe told us.

    status: recorded, already_recorded, held, not_paid, failed or ignored."""

    status: str
    payment: Payment | None = None
    review: CardPaymentReview | None = None
    refund: CardRefund | None = None
    message: str = ""


@dataclass(frozen=True)
class PaidFacts:
    """A payment as Stripe describes it (from a Checkout Session)."""

    payment_intent: str
    amount_pence: int
    currency: str
    document_id: str
    invoice_number: str
    asked_pence: str  # the balance we asked for when the session was created
    session_id: str = ""
    event_type: str = ""


def settle_checkout_session(session: dict[str, Any], event_type: str = "") -> Outcome:
    """Record a Checkout Session's payment if Stripe says it is paid (webhook and return page
    alike). Safe to call any number of times, at once, in any order."""
    if session.get("mode") != "payment":
        return Outcome("ignored", message="Not a payment")
    status = session.get("payment_status")
    if status != "paid":
        if session.get("status") == "expired":
            return Outcome("failed", message="The Checkout expired without a payment")
        return Outcome("not_paid", message="Stripe has not yet confirmed the payment")
    metadata = object_of(session.get("metadata"), "The Checkout Session's metadata")
    facts = PaidFacts(
        payment_intent=id_of(session.get("payment_intent")),
        amount_pence=amount_of(session.get("amount_total"), "The Checkout Session's amount"),
        currency=str(session.get("currency") or ""),
        document_id=str(metadata.get("document_id") or ""),
        invoice_number=str(session.get("client_reference_id") or metadata.get("invoice_number")),
        asked_pence=str(metadata.get("amount_pence") or ""),
        session_id=str(session.get("id") or ""),
        event_type=event_type,
    )
    if not facts.payment_intent:
        return Outcome("not_paid", message="Stripe has not said which payment this is")
    return record_card_payment(facts)


def record_card_payment(facts: PaidFacts) -> Outcome:
    """The one function that records a card payment, keyed on its PaymentIntent.

    Already recorded (or held): the same answer again. Otherwise the invoice's row is locked,
    the check repeated (a delivery running alongside may have recorded it while we waited), and
    the payment recorded only if amount, currency and invoice all match ours and the invoice
    still owes at least that much; anything else is held for finance."""
    known = _known_payment(facts.payment_intent)
    if known is not None:
        return known
    document = _document_named(facts)
    if document is None:
        return _hold_payment(facts, None, "It names no invoice of ours")
    payments.lock_document(document.id)
    known = _known_payment(facts.payment_intent)
    if known is not None:
        return known
    problem = _payment_mismatch(document, facts)
    if problem:
        return _hold_payment(facts, document, problem)
    try:
        payment = payments.record_payment(
            document,
            PaymentKind.CARD,
            facts.amount_pence,
            today(),
            facts.payment_intent,
            None,
            note=f"Paid by card through Stripe (Checkout {facts.session_id})"[:500],
            stripe_payment_intent=facts.payment_intent,
        )
    except payments.PaymentError as error:
        return _hold_payment(facts, document, str(error))
    log.info(
        "Card payment %s of %s recorded against %s",
        facts.payment_intent,
        pounds(facts.amount_pence),
        document.number,
    )
    return Outcome("recorded", payment=payment)


def _known_payment(payment_intent: str) -> Outcome | None:
    payment = db.session.execute(
        select(Payment).where(Payment.stripe_payment_intent == payment_intent)
    ).scalar_one_or_none()
    if payment is not None:
        return Outcome("already_recorded", payment=payment)
    review = _review_of(payment_intent)
    if review is not None:
        if review.payment_id is not None:
            return Outcome("already_recorded", payment=review.payment, review=review)
        return Outcome("held", review=review, message=review.problem)
    return None


def _review_of(stripe_object_id: str) -> CardPaymentReview | None:
    return db.session.execute(
        select(CardPaymentReview).where(CardPaymentReview.stripe_object_id == stripe_object_id)
    ).scalar_one_or_none()


def _document_named(facts: PaidFacts) -> Document | None:
    """Our invoice the payment names: its id and number must agree."""
    document_id = whole_number(facts.document_id, 9)
    if document_id is None:
        return None
    document = db.session.get(Document, document_id)
    if document is None or document.number != facts.invoice_number:
        return None
    return document


def _payment_mismatch(document: Document, facts: PaidFacts) -> str:
    if document.document_type != DocumentType.INVOICE:
        return f"{document.number} is not a VAT invoice, so it is not paid by card"
    if facts.currency.lower() != document.currency.lower():
        return (
            f"It was paid in {facts.currency.upper() or 'an unknown currency'}, but "
            f"{document.number} is in {document.currency}"
        )
    if str(facts.amount_pence) != facts.asked_pence:
        asked_pence = whole_number(facts.asked_pence, 18)
        asked = pounds(asked_pence) if asked_pence is not None else "nothing"
        return f"Stripe took {pounds(facts.amount_pence)}, but we asked for {asked}"
    balance = balances.figures_of(document).balance_pence or 0
    if balance <= 0:
        return f"{document.number} was already paid when this card payment arrived"
    if facts.amount_pence > balance:
        return (
            f"{pounds(facts.amount_pence)} is more than the {pounds(balance)} left to pay on "
            f"{document.number} when it arrived"
        )
    return ""


def hold(review: CardPaymentReview) -> CardPaymentReview:
    """Insert the review once: a duplicate arriving at the same moment meets the unique index
    and reads the row that won."""
    try:
        with db.session.begin_nested():
            db.session.add(review)
    except IntegrityError:
        existing = _review_of(review.stripe_object_id)
        assert existing is not None
        return existing
    log.warning(
        "Card %s %s held for review: %s", review.kind.value, review.stripe_object_id, review.problem
    )
    return review


def _hold_payment(facts: PaidFacts, document: Document | None, problem: str) -> Outcome:
    review = hold(
        CardPaymentReview(
            kind=ReviewKind.PAYMENT,
            stripe_object_id=facts.payment_intent,
            stripe_payment_intent=facts.payment_intent,
            checkout_session_id=facts.session_id[:255],
            event_type=facts.event_type[:80],
            document_id=document.id if document else None,
            invoice_reference=(facts.invoice_number or "")[:255],
            amount_pence=max(0, facts.amount_pence),
            currency=(facts.currency or "???")[:3].upper(),
            problem=problem,
        )
    )
    return Outcome("held", review=review, message=review.problem)
