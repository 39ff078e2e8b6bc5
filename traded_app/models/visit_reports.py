"""Visit reports: what a delivered visit covered, what was done, the actions agreed and the next
visit, sent to the school's headteachers as a PDF.

A report is written as a draft, then sent; once sent it never changes. A correction is a new
version (its reason kept) of the same visit's report, sent again; the version it corrects is
kept and marked replaced. The PDF sent is stored with its SHA-256, like an issued document's.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.activities import DeliveryActivity
from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.types import enum_column
from traded_app.models.users import User
from traded_app.models.visits import Visit


class ReportStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    REPLACED = "replaced"  # sent, then corrected by a later version

    @property
    def label(self) -> str:
        return {"draft": "Draft", "sent": "Sent", "replaced": "Replaced"}[self.value]

    @property
    def tag_class(self) -> str:
        return {
            "draft": "govuk-tag--yellow",
            "sent": "govuk-tag--green",
            "replaced": "govuk-tag--grey",
        }[self.value]


visit_report_activity = Table(
    "visit_report_activity",
    Base.metadata,
    Column("report_id", ForeignKey("visit_report.id"), primary_key=True),
    Column("activity_id", ForeignKey("delivery_activity.id"), primary_key=True),
)


class VisitReport(Base):
    """One version of a visit's report. Version 1 is the first; each correction adds one."""

    __tablename__ = "visit_report"
    __table_args__ = (
        UniqueConstraint("visit_id", "version", name="uq_visit_report_version"),
        CheckConstraint("version >= 1", name="version_from_one"),
        CheckConstraint("(status = 'draft') = (sent_at IS NULL)", name="sent_when"),
        CheckConstraint("version = 1 OR correction_reason <> ''", name="correction_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, "visit_report_status"), default=ReportStatus.DRAFT, index=True
    )
    what_was_done: Mapped[str] = mapped_column(Text, default="")
    # The next visit: a date, or None while it is to be arranged.
    next_visit_on: Mapped[date | None] = mapped_column(Date)
    copy_to_chair: Mapped[bool] = mapped_column(default=False)
    correction_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The deadline as it stood when the report was sent (the council's working days after the
    # visit), kept so that "sent late" does not move when the setting changes.
    due_on: Mapped[date | None] = mapped_column(Date)
    recipients: Mapped[str] = mapped_column(Text, default="", server_default="")
    pdf_path: Mapped[str] = mapped_column(String(255), default="", server_default="")
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    visit: Mapped[Visit] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])
    activities: Mapped[list[DeliveryActivity]] = relationship(
        secondary=visit_report_activity,
        order_by=(
            DeliveryActivity.non_negotiable.desc(),
            DeliveryActivity.position,
            DeliveryActivity.name,
        ),
    )
    actions: Mapped[list[VisitReportAction]] = relationship(
        back_populates="report",
        order_by="VisitReportAction.position",
        cascade="all, delete-orphan",
    )

    @property
    def reference(self) -> str:
        return f"VR-{self.visit_id:06d}-{self.version}"

    @property
    def sent_late(self) -> bool:
        return (
            self.sent_at is not None
            and self.due_on is not None
            and self.sent_at.astimezone(ZoneInfo("Europe/London")).date() > self.due_on
        )


class VisitReportAction(Base):
    """An action agreed at the visit: what, who owns it, by when."""

    __tablename__ = "visit_report_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("visit_report.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    action: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(120))
    due_on: Mapped[date] = mapped_column(Date)

    report: Mapped[VisitReport] = relationship(back_populates="actions")
