"""Finance deals with what was held: the open and closed reviews, a held card payment applied
to the invoice finance names, or marked as dealt with outside the app.
"""

from __future__ import annotations

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import (
    CardPaymentReview,
    Payment,
    PaymentKind,
    ReviewKind,
    ReviewStatus,
    User,
)
from traded_app.models.base import utcnow
from traded_app.services.card_payments.checkout import invoice_by_number
from traded_app.services.card_payments.keys import CardPaymentError
from traded_app.services.finance import payments
from traded_app.services.platform.settings import today
from traded_app.services.platform.statements import run


def open_reviews() -> list[CardPaymentReview]:
    return list(
        db.session.execute(
            select(CardPaymentReview)
            .where(CardPaymentReview.status == ReviewStatus.OPEN)
            .order_by(CardPaymentReview.created_at, CardPaymentReview.id)
        ).scalars()
    )


# Built once: the count is shown beside a link on every page of the finance register.
_OPEN_REVIEWS = select(func.count()).where(CardPaymentReview.status == ReviewStatus.OPEN)


def count_open_reviews() -> int:
    return int(run(_OPEN_REVIEWS).scalar_one())


def closed_reviews(limit: int = 50) -> list[CardPaymentReview]:
    return list(
        db.session.execute(
            select(CardPaymentReview)
            .where(CardPaymentReview.status != ReviewStatus.OPEN)
            .order_by(CardPaymentReview.resolved_at.desc(), CardPaymentReview.id.desc())
            .limit(limit)
        ).scalars()
    )


def get_review(review_id: int) -> CardPaymentReview | None:
    return db.session.get(CardPaymentReview, review_id)


def _close(review: CardPaymentReview, status: ReviewStatus, note: str, user: User) -> None:
    review.status = status
    review.resolved_at = utcnow()
    review.resolved_by_id = user.id
    review.resolution_note = note


def _clean_note(note: str) -> str:
    note = " ".join((note or "").split())
    if not note:
        raise CardPaymentError("Enter what was done about it", "note")
    if len(note) > payments.MAX_NOTE_LENGTH:
        raise CardPaymentError(
            f"The note must be {payments.MAX_NOTE_LENGTH} characters or fewer", "note"
        )
    return note


def apply_review(review: CardPaymentReview, invoice_number: str, note: str, user: User) -> Payment:
    """Apply a held card payment to a VAT invoice finance names (for example the right invoice,
    or once the amount is understood): recorded like any card payment, keyed on its
    PaymentIntent, so it can never be recorded twice."""
    note = _clean_note(note)
    if review.status != ReviewStatus.OPEN:
        raise CardPaymentError("This has already been dealt with")
    if review.kind != ReviewKind.PAYMENT:
        raise CardPaymentError("Only a held card payment can be applied to an invoice")
    if review.currency != "GBP":
        raise CardPaymentError(
            f"A payment in {review.currency} cannot be applied: refund it in Stripe", "invoice"
        )
    document = invoice_by_number(" ".join((invoice_number or "").split()).upper())
    if document is None:
        raise CardPaymentError("Enter the number of a VAT invoice, like INV-2026-000123", "invoice")
    try:
        payment = payments.record_payment(
            document,
            PaymentKind.CARD,
            review.amount_pence,
            today(),
            review.stripe_payment_intent,
            user,
            note=f"Card payment held for review, applied by {user.name}: {note}"[:500],
            stripe_payment_intent=review.stripe_payment_intent,
        )
    except payments.PaymentError as error:
        raise CardPaymentError(str(error), "invoice") from None
    review.payment_id = payment.id
    _close(review, ReviewStatus.APPLIED, note, user)
    db.session.flush()
    return payment


def resolve_review(review: CardPaymentReview, note: str, user: User) -> None:
    """Close a held item dealt with outside the app (refunded in Stripe, a credit note raised)."""
    note = _clean_note(note)
    if review.status != ReviewStatus.OPEN:
        raise CardPaymentError("This has already been dealt with")
    _close(review, ReviewStatus.RESOLVED, note, user)
    db.session.flush()
