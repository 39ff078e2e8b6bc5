"""Payments against issued documents: bank transfers, journals for recharges, card payments.

A payment is inserted once and never changed or deleted: the ORM refuses
(traded_app.services.finance.payments installs the guard) and so does the database (triggers in
migration 0008). A mistaken payment is undone by a reversal: a new row with the opposite amount
that points at the payment it reverses. So the sum of a document's payment rows is always what
it has been paid, and the history of every mistake stays visible.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.invoices import Document
from traded_app.models.types import enum_column
from traded_app.models.users import User


class PaymentKind(StrEnum):
    BANK_TRANSFER = "bank_transfer"  # BACS, recorded by finance against a VAT invoice
    JOURNAL = "journal"  # a ledger journal settling an internal recharge
    CARD = "card"  # through the payment provider, for a VAT invoice (never a recharge)

    @property
    def label(self) -> str:
        return {
            "bank_transfer": "Bank transfer",
            "journal": "Journal",
            "card": "Card",
        }[self.value]


class Payment(Base):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount_pence <> 0", name="amount_not_zero"),
        # A payment is positive; only a reversal is negative, and it names what it reverses.
        CheckConstraint(
            "(reverses_payment_id IS NULL) = (amount_pence > 0)",
            name="only_reversals_are_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    kind: Mapped[PaymentKind] = mapped_column(enum_column(PaymentKind, "payment_kind"))
    amount_pence: Mapped[int] = mapped_column(Integer)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text, default="")
    # Each payment can be reversed once (the unique index), by a row pointing at it.
    reverses_payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment.id"), unique=True, nullable=True
    )
    # The card provider's id for the payment (Stripe's PaymentIntent), so a webhook delivered
    # twice records it once.
    stripe_payment_intent: Mapped[str | None] = mapped_column(
        String(255), unique=True, nullable=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    document: Mapped[Document] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    reverses: Mapped[Payment | None] = relationship(remote_side=[id])

    @property
    def is_reversal(self) -> bool:
        return self.reverses_payment_id is not None

    def __repr__(self) -> str:
        return f"<Payment {self.id} {self.kind.value} {self.amount_pence}p>"


# Kept for good: the ORM guard (services.payments) and triggers (migration 0008) refuse edits.
IMMUTABLE_PAYMENT_TABLES = ("payment", "document_export")
UNDELETABLE_TABLES = ("finance_export",)
