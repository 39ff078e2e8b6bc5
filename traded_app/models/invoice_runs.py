"""Invoice runs: finance issues every confirmed order waiting to be charged in one action.

A run's progress lives here, in the database, so whichever web worker answers the progress page
can show it (the run itself works in one process, batch by batch). Each order the run dealt with
has an item: the document issued, or why it could not be.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.invoices import Document
from traded_app.models.orders import Order
from traded_app.models.types import enum_column
from traded_app.models.users import User


class InvoiceRunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"  # stopped by an error; its committed batches stand, a new run finishes
    INTERRUPTED = "interrupted"  # its process stopped (no heartbeat); a new run finishes

    @property
    def label(self) -> str:
        return {
            "running": "Running",
            "finished": "Finished",
            "failed": "Stopped by an error",
            "interrupted": "Interrupted",
        }[self.value]

    @property
    def tag_class(self) -> str:
        return {
            "running": "govuk-tag--blue",
            "finished": "govuk-tag--green",
            "failed": "govuk-tag--red",
            "interrupted": "govuk-tag--orange",
        }[self.value]


class InvoiceRun(Base):
    __tablename__ = "invoice_run"
    __table_args__ = (
        # One run at a time, whichever worker or command started it.
        Index(
            "uq_invoice_run_one_running",
            "status",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
        CheckConstraint(
            "orders_total >= 0 AND issued >= 0 AND failed >= 0", name="counts_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[InvoiceRunStatus] = mapped_column(
        enum_column(InvoiceRunStatus, "invoice_run_status"), default=InvoiceRunStatus.RUNNING
    )
    source: Mapped[str] = mapped_column(String(8), default="web")  # "web" or "cli"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Written with each committed batch; a running run whose heartbeat is old was interrupted.
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issue_date: Mapped[date] = mapped_column(Date)
    workers: Mapped[int] = mapped_column(Integer, default=1)
    orders_total: Mapped[int] = mapped_column(Integer, default=0)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")

    started_by: Mapped[User | None] = relationship()
    items: Mapped[list[InvoiceRunItem]] = relationship(
        back_populates="run", order_by="InvoiceRunItem.id"
    )

    @property
    def done(self) -> int:
        return self.issued + self.failed

    @property
    def percent(self) -> int:
        if self.orders_total == 0:
            return 100 if self.status != InvoiceRunStatus.RUNNING else 0
        return min(100, self.done * 100 // self.orders_total)


class InvoiceRunItem(Base):
    """One order a run dealt with: the document it issued, or why it could not."""

    __tablename__ = "invoice_run_item"
    __table_args__ = (
        CheckConstraint("(document_id IS NOT NULL) = succeeded", name="a_document_when_succeeded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("invoice_run.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("school_order.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    succeeded: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    run: Mapped[InvoiceRun] = relationship(back_populates="items")
    order: Mapped[Order] = relationship()
    document: Mapped[Document | None] = relationship()
