"""Refunds by card: what finance can refund for a credit note, the refund asked of Stripe, and
the one idempotent function that records a refund Stripe tells us of (made here or in Stripe's
dashboard), keyed on Stripe's refund id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import stripe
from sqlalchemy import func, select

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
    User,
)
from traded_app.services.card_payments.keys import (
    CardPaymentError,
    UnexpectedShape,
    amount_of,
    client,
    id_of,
    object_of,
    plain,
    whole_number,
)
from traded_app.services.card_payments.recording import Outcome, hold
from traded_app.services.finance import balances, payments
from traded_app.services.platform.card_links import card_payments_enabled

log = logging.getLogger(__name__)

# Stripe's refund states that mean the money is (or is about to be) on its way back.
REFUND_GOING = frozenset({"succeeded", "pending", "requires_action"})
REFUND_STOPPED = frozenset({"failed", "canceled"})
MAX_STATUS_LENGTH = 32  # card_refund.status


@dataclass(frozen=True)
class RefundPlan:
    """What finance can refund by card for a credit note: how much, from which card payment."""

    credit_note: Document
    invoice: Document
    payment: Payment  # the card payment as it stands (what is kept of it)
    payment_intent: str
    amount_pence: int
    refunded_pence: int  # already refunded for this credit note


def refunded_for(credit_note: Document) -> int:
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(CardRefund.amount_pence), 0)).where(
                CardRefund.credit_note_id == credit_note.id,
                CardRefund.status.not_in(REFUND_STOPPED),
            )
        ).scalar_one()
    )


def refunds_of(document: Document) -> list[CardRefund]:
    """Card refunds made for a credit note, or from an invoice's card payments."""
    column = CardRefund.credit_note_id if document.is_credit_note else CardRefund.invoice_id
    return list(
        db.session.execute(
            select(CardRefund).where(column == document.id).order_by(CardRefund.id)
        ).scalars()
    )


def recent_refunds(limit: int = 50) -> list[CardRefund]:
    return list(
        db.session.execute(select(CardRefund).order_by(CardRefund.id.desc()).limit(limit)).scalars()
    )


def live_card_payments(invoice: Document) -> list[Payment]:
    """The invoice's card payments as they stand: not reversed, biggest first."""
    reversed_ids = select(Payment.reverses_payment_id).where(
        Payment.reverses_payment_id.is_not(None)
    )
    return list(
        db.session.execute(
            select(Payment)
            .where(
                Payment.document_id == invoice.id,
                Payment.kind == PaymentKind.CARD,
                Payment.amount_pence > 0,
                Payment.id.not_in(reversed_ids),
            )
            .order_by(Payment.amount_pence.desc(), Payment.id)
        ).scalars()
    )


def refund_plan(credit_note: Document) -> RefundPlan:
    """How much of `credit_note` can go back by card, or CardPaymentError saying why none."""
    if not credit_note.is_credit_note or credit_note.credits is None:
        raise CardPaymentError("Only a credit note is refunded")
    invoice = credit_note.credits
    if invoice.document_type != DocumentType.INVOICE:
        raise CardPaymentError(
            f"{invoice.number} is an internal recharge: its credit is settled by journal"
        )
    if not card_payments_enabled():
        raise CardPaymentError("Card payments are not set up")
    balance = balances.figures_of(invoice).balance_pence or 0
    refunded = refunded_for(credit_note)
    left_to_refund = credit_note.gross_pence - refunded
    if left_to_refund <= 0:
        raise CardPaymentError(f"{credit_note.number} has been refunded in full")
    if balance >= 0:
        raise CardPaymentError(
            f"Nothing is due back on {invoice.number}: it has been paid no more than it now owes"
        )
    live = [p for p in live_card_payments(invoice) if _intent_of(p)]
    if not live:
        paid_by_card = card_paid_pence(invoice)
        if paid_by_card:
            raise CardPaymentError(
                f"The card payment of {pounds(paid_by_card)} on {invoice.number} has been "
                f"refunded in full: {pounds(-balance)} is due back another way, for example by "
                "bank transfer"
            )
        raise CardPaymentError(f"{invoice.number} was not paid by card")
    payment = live[0]
    amount = min(-balance, left_to_refund, payment.amount_pence)
    return RefundPlan(credit_note, invoice, payment, _intent_of(payment), amount, refunded)


def card_paid_pence(invoice: Document) -> int:
    """What the invoice's card payments took, before any refund: neither a reversal nor what a
    refund kept (recorded again) is a payment of its own."""
    kept = select(CardRefund.kept_payment_id).where(CardRefund.kept_payment_id.is_not(None))
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(Payment.amount_pence), 0)).where(
                Payment.document_id == invoice.id,
                Payment.kind == PaymentKind.CARD,
                Payment.reverses_payment_id.is_(None),
                Payment.id.not_in(kept),
            )
        ).scalar_one()
    )


def _intent_of(payment: Payment) -> str:
    """The PaymentIntent a card payment row belongs to (after a refund, what is kept of it is
    recorded again with the same reference)."""
    if payment.stripe_payment_intent:
        return payment.stripe_payment_intent
    return payment.reference if payment.reference.startswith("pi_") else ""


def refund_credit_note(credit_note: Document, user: User) -> CardRefund:
    """Refund by card what `credit_note` credits on its card-paid invoice (as much as is due
    back), through Stripe, and record it against the credit note."""
    invoice = credit_note.credits
    if invoice is None:
        raise CardPaymentError("Only a credit note is refunded")
    payments.lock_document(invoice.id)
    plan = refund_plan(credit_note)
    metadata = {
        "credit_note_id": str(credit_note.id),
        "credit_note_number": credit_note.number,
        "document_id": str(invoice.id),
        "invoice_number": invoice.number,
    }
    try:
        refund = plain(
            client().v1.refunds.create(
                params={
                    "payment_intent": plan.payment_intent,
                    "amount": plan.amount_pence,
                    "reason": "requested_by_customer",
                    "metadata": metadata,
                },
                options={
                    "idempotency_key": (
                        f"refund-{credit_note.id}-{plan.refunded_pence}-{plan.amount_pence}"
                    )
                },
            )
        )
    except stripe.StripeError as error:
        log.error("Refund for %s refused by Stripe: %s", credit_note.number, error)
        message = getattr(error, "user_message", None) or "Stripe did not make the refund"
        raise CardPaymentError(f"{message}. Nothing has been refunded") from None
    if refund.get("status") in REFUND_STOPPED:
        raise CardPaymentError(
            f"Stripe says the refund {refund.get('status')}: nothing has been refunded"
        )
    outcome = record_refund(refund, "refund.created", user)
    if outcome.refund is None:
        raise CardPaymentError(outcome.message or "The refund could not be recorded")
    return outcome.refund


def record_refund(
    refund: dict[str, Any], event_type: str = "", user: User | None = None
) -> Outcome:
    """The one function that records a card refund, keyed on Stripe's refund id.

    A refund made here (its metadata names our credit note) is recorded against that credit
    note: on the invoice, the card payment is reversed and what is kept recorded again. A later
    failure is held for finance (the money did not go back). A refund made in Stripe's dashboard
    names no credit note: it is held for finance to raise one. UnexpectedShape for a refund
    not in Stripe's shape."""
    refund_id = id_of(refund.get("id"))
    status = str(refund.get("status") or "")
    if not refund_id.startswith("re_"):
        return Outcome("ignored", message="Not a refund")
    metadata = object_of(refund.get("metadata"), "The refund's metadata")
    amount = amount_of(refund.get("amount"), "The refund's amount")
    payment_intent = id_of(refund.get("payment_intent"))
    if len(status) > MAX_STATUS_LENGTH:
        raise UnexpectedShape("The refund's status is not one Stripe sends")
    existing = _refund_by_id(refund_id)
    if existing is not None:
        return _refund_status_changed(existing, refund, status, event_type)
    credit_note_id = whole_number(str(metadata.get("credit_note_id") or ""), 9)
    credit_note = db.session.get(Document, credit_note_id) if credit_note_id is not None else None
    if credit_note is None or credit_note.credits is None:
        if status in REFUND_STOPPED:
            return Outcome("ignored", message="A refund that did not happen")
        return _hold_refund(
            refund, event_type, None, "A refund made in Stripe, not for a credit note raised here"
        )
    invoice = credit_note.credits
    payments.lock_document(invoice.id)
    existing = _refund_by_id(refund_id)  # recorded while we waited for the lock
    if existing is not None:
        return _refund_status_changed(existing, refund, status, event_type)
    if status in REFUND_STOPPED:
        return Outcome("ignored", message="A refund that did not happen")
    live = [p for p in live_card_payments(invoice) if _intent_of(p) == payment_intent]
    problem = ""
    if str(refund.get("currency") or "").lower() != invoice.currency.lower():
        problem = f"It was refunded in {str(refund.get('currency')).upper()}"
    elif not live:
        problem = f"{invoice.number} has no card payment {payment_intent} left to refund"
    elif amount > live[0].amount_pence:
        problem = f"{pounds(amount)} is more than the card payment it refunds"
    elif refunded_for(credit_note) + amount > credit_note.gross_pence:
        problem = f"{pounds(amount)} is more than is left of {credit_note.number} to refund"
    if problem:
        return _hold_refund(refund, event_type, invoice, problem)
    reversal, kept = payments.record_card_refund(
        live[0],
        amount,
        f"Refunded {pounds(amount)} by card for {credit_note.number} ({refund_id})",
        user,
    )
    row = CardRefund(
        stripe_refund_id=refund_id,
        stripe_payment_intent=payment_intent,
        credit_note_id=credit_note.id,
        invoice_id=invoice.id,
        amount_pence=amount,
        status=status,
        requested_by_id=user.id if user else None,
        reversal_id=reversal.id,
        kept_payment_id=kept.id if kept else None,
    )
    db.session.add(row)
    db.session.flush()
    log.info("Card refund %s of %s recorded for %s", refund_id, pounds(amount), credit_note.number)
    return Outcome("recorded", refund=row)


def _refund_by_id(refund_id: str) -> CardRefund | None:
    return db.session.execute(
        select(CardRefund).where(CardRefund.stripe_refund_id == refund_id)
    ).scalar_one_or_none()


def _refund_status_changed(
    row: CardRefund, refund: dict[str, Any], status: str, event_type: str
) -> Outcome:
    if not status or status == row.status or row.status in REFUND_STOPPED:
        return Outcome("already_recorded", refund=row)
    row.status = status
    db.session.flush()
    if status in REFUND_STOPPED:
        review = _hold_refund(
            refund,
            event_type,
            row.invoice,
            f"Stripe says this refund {status} after it was recorded: the money did not go back, "
            f"so {row.invoice.number}'s payments show it refunded when it was not",
        ).review
        return Outcome("held", refund=row, review=review)
    return Outcome("already_recorded", refund=row)


def _hold_refund(
    refund: dict[str, Any], event_type: str, invoice: Document | None, problem: str
) -> Outcome:
    metadata = object_of(refund.get("metadata"), "The refund's metadata")
    review = hold(
        CardPaymentReview(
            kind=ReviewKind.REFUND,
            stripe_object_id=str(refund.get("id")),
            stripe_payment_intent=id_of(refund.get("payment_intent")),
            event_type=event_type[:80],
            document_id=invoice.id if invoice else None,
            invoice_reference=str(metadata.get("invoice_number") or "")[:255],
            amount_pence=amount_of(refund.get("amount"), "The refund's amount"),
            currency=str(refund.get("currency") or "???")[:3].upper(),
            problem=problem,
        )
    )
    return Outcome("held", review=review, message=review.problem)
