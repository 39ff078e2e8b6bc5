"""Statements of account e-mailed to schools, and schools' remittances waiting to be matched.

A statement is never stored: it is worked out from the documents and payments whenever it is
shown (services/finance/statements.py). What is kept is each e-mail of one (`StatementSend`: to
whom, for which period, the closing balance it showed, and how it went), so finance can list
them. A `Remittance` is a school's (or a trust's, for its academies) notice that it has paid: the amount, date, reference, the
documents it covers (`RemittanceDocument`) and optionally the school's own remittance file
(PDF or CSV, kept in the database, never rendered). Matching records the payments
(services/finance/payments.py) and marks the remittance matched, once.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.invoices import Document
from traded_app.models.schools import School
from traded_app.models.trusts import Trust
from traded_app.models.types import enum_column
from traded_app.models.users import User


class SendStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    NOT_SENT = "not_sent"

    @property
    def label(self) -> str:
        return {"queued": "Waiting to send", "sent": "Sent", "not_sent": "Not sent"}[self.value]


class StatementSend(Base):
    """One e-mail of a school's statement (the PDF is made when the e-mail goes)."""

    __tablename__ = "statement_send"
    __table_args__ = (CheckConstraint("period_start <= period_end", name="period_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    closing_balance_pence: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(254))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[SendStatus] = mapped_column(
        enum_column(SendStatus, "statement_send_status"), default=SendStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")

    school: Mapped[School] = relationship()
    sent_by: Mapped[User | None] = relationship()


class RemittanceStatus(StrEnum):
    WAITING = "waiting"  # for finance to match
    MATCHED = "matched"  # payments recorded

    @property
    def label(self) -> str:
        return {"waiting": "Waiting to be matched", "matched": "Matched"}[self.value]


class Remittance(Base):
    __tablename__ = "remittance"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        # The form's one-time key: submitting the same form twice makes one remittance.
        UniqueConstraint("school_id", "form_key", name="uq_remittance_form_key"),
        UniqueConstraint("trust_id", "form_key", name="uq_remittance_trust_form_key"),
        # The payer: a school, or a trust paying for its academies; never both, never neither.
        CheckConstraint("(school_id IS NULL) <> (trust_id IS NULL)", name="one_payer"),
        CheckConstraint(
            "(file_content IS NULL) = (file_name = '')", name="file_named_when_present"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trust.id"), index=True)
    form_key: Mapped[str] = mapped_column(String(64))
    amount_pence: Mapped[int] = mapped_column(Integer)
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[RemittanceStatus] = mapped_column(
        enum_column(RemittanceStatus, "remittance_status"),
        default=RemittanceStatus.WAITING,
        index=True,
    )
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    matched_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The school's own remittance advice, as uploaded (never rendered: downloaded only).
    file_name: Mapped[str] = mapped_column(String(120), default="")
    file_type: Mapped[str] = mapped_column(String(8), default="")  # "pdf" or "csv"
    file_content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    file_bytes: Mapped[int] = mapped_column(Integer, default=0)

    school: Mapped[School | None] = relationship()
    trust: Mapped[Trust | None] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    matched_by: Mapped[User | None] = relationship(foreign_keys=[matched_by_id])
    documents: Mapped[list[RemittanceDocument]] = relationship(
        back_populates="remittance", order_by="RemittanceDocument.id"
    )

    @property
    def payer_name(self) -> str:
        """Who sent it: the school's name, or the trust's."""
        if self.trust is not None:
            return self.trust.name
        return self.school.name if self.school is not None else ""


class RemittanceDocument(Base):
    """A document the remittance says it pays, and the payment matching recorded on it."""

    __tablename__ = "remittance_document"
    __table_args__ = (UniqueConstraint("remittance_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittance.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))

    remittance: Mapped[Remittance] = relationship(back_populates="documents")
    document: Mapped[Document] = relationship()
