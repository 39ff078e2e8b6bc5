"""What the job queue leaves in the database: e-mails on their way out, and scheduled runs.

`OutgoingEmail` is written in the same transaction as the change it is about (the transactional
outbox): a rolled-back order never e-mails anybody, and a committed one always has its e-mail,
which a queue job sends, retries with backoff, and marks sent or, after its last try, failed,
for finance or the service manager to send again.

`ScheduledRun` records each run of a schedule (reminders, backups, PDF checks) for one period;
its unique key makes a schedule run once a period however many workers fire it. A PDF check's
run keeps what it found wrong as `PdfCheckFinding` rows (one per document whose stored PDF is
missing or not the one issued), listed for finance.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.invoices import Document
from traded_app.models.types import enum_column


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class OutgoingEmail(Base):
    __tablename__ = "outgoing_email"
    __table_args__ = (Index("ix_outgoing_email_status_queued", "status", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the e-mail is about, for the failed list ("Invoice INV-2026-0001", "Order 12 approved").
    purpose: Mapped[str] = mapped_column(String(200))
    # Who is told how it went: a kind registered with the outbox and the id of its own record
    # (a document's send log, a reminder), or "" for e-mails nobody records.
    kind: Mapped[str] = mapped_column(String(32), default="")
    ref_id: Mapped[int | None] = mapped_column(Integer)
    recipients: Mapped[str] = mapped_column(Text)  # comma-separated addresses
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # The attached PDF, read from the document store when the e-mail is sent.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[EmailStatus] = mapped_column(
        enum_column(EmailStatus, "email_status"), default=EmailStatus.QUEUED
    )
    # When it was last put on the queue or last tried (created, tried, sent again, or found lost
    # and put back): a queued e-mail with nothing happening for an hour has lost its job.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def recipient_list(self) -> list[str]:
        return [a.strip() for a in self.recipients.split(",") if a.strip()]


class ScheduledRun(Base):
    __tablename__ = "scheduled_run"
    __table_args__ = (UniqueConstraint("schedule", "period", name="uq_scheduled_run_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))  # e.g. 2026-11-30 for a daily schedule
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16), default="running")  # running, ok, failed
    detail: Mapped[str] = mapped_column(Text, default="")


class PdfProblem(StrEnum):
    MISSING = "missing"  # no file where the document's PDF was stored
    ALTERED = "altered"  # a file, but its SHA-256 is not the one recorded when it was issued
    UNREADABLE = "unreadable"  # a file the app cannot read (permissions, a folder, a disk fault)

    @property
    def label(self) -> str:
        return {
            "missing": "Missing",
            "altered": "Not the PDF issued",
            "unreadable": "Cannot be read",
        }[self.value]


class PdfCheckFinding(Base):
    """A stored PDF a check of the store found missing, altered or unreadable: an issued
    document's, a consolidated trust invoice's or a sent visit report's (exactly one). Kept for
    the latest check only: a check that finishes replaces the previous one's findings (each
    run's counts stay in its `detail`)."""

    __tablename__ = "pdf_check_finding"
    __table_args__ = (
        CheckConstraint(
            " + ".join(
                f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)"
                for column in ("document_id", "consolidated_invoice_id", "visit_report_id")
            )
            + " = 1",
            name="one_thing_checked",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scheduled_run.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    consolidated_invoice_id: Mapped[int | None] = mapped_column(
        # named short: the convention's name is longer than PostgreSQL's 63 characters
        ForeignKey("consolidated_invoice.id", name="fk_pdf_check_finding_consolidated_invoice_id")
    )
    visit_report_id: Mapped[int | None] = mapped_column(ForeignKey("visit_report.id"))
    problem: Mapped[PdfProblem] = mapped_column(enum_column(PdfProblem, "pdf_problem"))
    detail: Mapped[str] = mapped_column(Text, default="")

    document: Mapped[Document | None] = relationship()
