"""Card payments through Stripe: refunds made against credit notes, and what Stripe told us that
could not be applied as it stood (held for finance to review).

A card payment itself is a `Payment` of kind CARD keyed on Stripe's PaymentIntent id
(`payment.stripe_payment_intent`, unique), so however many times Stripe says it was paid it is
recorded once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.invoices import Document
from traded_app.models.payments import Payment
from traded_app.models.types import enum_column
from traded_app.models.users import User


class ReviewKind(StrEnum):
    PAYMENT = "payment"  # money Stripe took that we did not apply to an invoice
    REFUND = "refund"  # a refund we did not make, or one that failed after we recorded it

    @property
    def label(self) -> str:
        return {"payment": "Card payment", "refund": "Card refund"}[self.value]


class ReviewStatus(StrEnum):
    OPEN = "open"
    APPLIED = "applied"  # finance applied the payment to an invoice
    RESOLVED = "resolved"  # finance dealt with it outside the app (e.g. refunded in Stripe)

    @property
    def label(self) -> str:
        return {"open": "To review", "applied": "Applied", "resolved": "Resolved"}[self.value]


class CardPaymentReview(Base):
    """Something Stripe reported that did not match our records: held, not applied.

    One row per Stripe object (PaymentIntent or Refund id), so the same event delivered many
    times holds it once."""

    __tablename__ = "card_payment_review"
    __table_args__ = (
        CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
        CheckConstraint("(status = 'open') = (resolved_at IS NULL)", name="resolved_when_not_open"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReviewKind] = mapped_column(enum_column(ReviewKind, "card_review_kind"))
    stripe_object_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_payment_intent: Mapped[str] = mapped_column(String(255), default="")
    checkout_session_id: Mapped[str] = mapped_column(String(255), default="")
    event_type: Mapped[str] = mapped_column(String(80), default="")
    # The invoice Stripe's object names (None when it names none of ours).
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    invoice_reference: Mapped[str] = mapped_column(String(255), default="")
    amount_pence: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    problem: Mapped[str] = mapped_column(Text)
    status: Mapped[ReviewStatus] = mapped_column(
        enum_column(ReviewStatus, "card_review_status"), default=ReviewStatus.OPEN, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), nullable=True)

    document: Mapped[Document | None] = relationship()
    resolved_by: Mapped[User | None] = relationship()
    payment: Mapped[Payment | None] = relationship()

    def __repr__(self) -> str:
        return f"<CardPaymentReview {self.id} {self.kind.value} {self.stripe_object_id}>"


class CardRefund(Base):
    """Money returned by card through Stripe for a credit note on a card-paid invoice.

    On the invoice's payments it shows as the card payment reversed and what was kept recorded
    again (`reversal_id`, `kept_payment_id`), so the invoice's balance counts the refund."""

    __tablename__ = "card_refund"
    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_refund_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_payment_intent: Mapped[str] = mapped_column(String(255), index=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(Integer)
    # Stripe's status: pending, requires_action, succeeded, failed or canceled.
    status: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reversal_id: Mapped[int] = mapped_column(ForeignKey("payment.id"))
    kept_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), nullable=True)

    credit_note: Mapped[Document] = relationship(foreign_keys=[credit_note_id])
    invoice: Mapped[Document] = relationship(foreign_keys=[invoice_id])
    requested_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<CardRefund {self.stripe_refund_id} {self.amount_pence}p {self.status}>"
