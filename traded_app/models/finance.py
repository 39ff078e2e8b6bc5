"""Finance's records about documents: reminders sent (and paused), and exports to the ledger.

Documents never change, so what happens to them later is kept beside them: a Reminder row for
each reminder e-mail, a ReminderPause for each time finance paused an invoice's or a school's
reminders, and a DocumentExport row linking each document to each export that carried it (so
finance sees what has been posted and nothing goes to the ledger twice by accident).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.domain.types import ExportKind
from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.invoices import Document
from traded_app.models.schools import School
from traded_app.models.types import enum_column
from traded_app.models.users import User


class ReminderKind(StrEnum):
    FRIENDLY = "friendly"  # before the due date
    REMINDER = "reminder"  # after it, at the council's interval
    FINAL = "final"  # after the council's number of reminders: the last one

    @property
    def label(self) -> str:
        return {"friendly": "Friendly note", "reminder": "Reminder", "final": "Final notice"}[
            self.value
        ]


class Reminder(Base):
    """One reminder e-mail about an invoice (a friendly note before its due date, a reminder or
    the final notice after it): queued in the transaction that decided to send it, then sent
    after commit (succeeded stays None until the mail service answers)."""

    __tablename__ = "reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    kind: Mapped[ReminderKind] = mapped_column(
        enum_column(ReminderKind, "reminder_kind"),
        default=ReminderKind.REMINDER,
        server_default=ReminderKind.REMINDER.value,
    )
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recipient: Mapped[str] = mapped_column(String(254))
    balance_pence: Mapped[int] = mapped_column(Integer)  # what the reminder asked for
    days_overdue: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[bool | None] = mapped_column(nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")

    document: Mapped[Document] = relationship()
    sent_by: Mapped[User | None] = relationship()


class ReminderPause(Base):
    """Finance paused the reminders of one invoice, or of all one school's invoices, with a
    reason; open until resumed. Kept after resuming, as the record of who paused and resumed
    when. At most one open pause per invoice and per school (partial unique indexes)."""

    __tablename__ = "reminder_pause"
    __table_args__ = (
        CheckConstraint("(document_id IS NULL) <> (school_id IS NULL)", name="one_subject"),
        Index(
            "uq_reminder_pause_open_document",
            "document_id",
            unique=True,
            sqlite_where=text("resumed_at IS NULL"),
            postgresql_where=text("resumed_at IS NULL"),
        ),
        Index(
            "uq_reminder_pause_open_school",
            "school_id",
            unique=True,
            sqlite_where=text("resumed_at IS NULL"),
            postgresql_where=text("resumed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    reason: Mapped[str] = mapped_column(Text)
    paused_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paused_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resumed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    document: Mapped[Document | None] = relationship()
    school: Mapped[School | None] = relationship()
    paused_by: Mapped[User | None] = relationship(foreign_keys=[paused_by_id])
    resumed_by: Mapped[User | None] = relationship(foreign_keys=[resumed_by_id])


class FinanceExport(Base):
    """One export for the ledger: who made it, when, of what, for which dates, how many rows."""

    __tablename__ = "finance_export"
    __table_args__ = (
        CheckConstraint("date_to >= date_from", name="dates_in_order"),
        CheckConstraint("row_count >= 0 AND document_count >= 0", name="counts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ExportKind] = mapped_column(enum_column(ExportKind, "export_kind"))
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    source: Mapped[str] = mapped_column(String(8), default="web")  # "web" or "cli"
    reference: Mapped[str] = mapped_column(String(80), default="")  # a journal's reference
    excluded_already_exported: Mapped[bool] = mapped_column(default=False)
    document_count: Mapped[int] = mapped_column(Integer, default=0)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    net_pence: Mapped[int] = mapped_column(Integer, default=0)  # credit notes counted negative
    vat_pence: Mapped[int] = mapped_column(Integer, default=0)
    gross_pence: Mapped[int] = mapped_column(Integer, default=0)

    created_by: Mapped[User | None] = relationship()


class DocumentExport(Base):
    """A document carried by an export."""

    __tablename__ = "document_export"

    export_id: Mapped[int] = mapped_column(ForeignKey("finance_export.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id"), primary_key=True, index=True
    )

    export: Mapped[FinanceExport] = relationship()
    document: Mapped[Document] = relationship()


class ExportBuildStatus(StrEnum):
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


class ExportBuild(Base):
    """The file of a long export (XLSX, ZIP of PDFs), built by a queue job and kept for
    download; CSVs stream straight away and have none."""

    __tablename__ = "export_build"

    export_id: Mapped[int] = mapped_column(ForeignKey("finance_export.id"), primary_key=True)
    status: Mapped[ExportBuildStatus] = mapped_column(
        enum_column(ExportBuildStatus, "export_build_status"), default=ExportBuildStatus.BUILDING
    )
    total: Mapped[int] = mapped_column(Integer, default=0)  # lines (XLSX) or documents (ZIP)
    file_name: Mapped[str] = mapped_column(String(200), default="")  # within EXPORT_DIR
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    export: Mapped[FinanceExport] = relationship()
