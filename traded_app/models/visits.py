"""Visits, council closure days and the history of core allocation changes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.domain.types import CancelledBy
from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.council import AcademicYear
from traded_app.models.orders import OrderLine
from traded_app.models.schools import School
from traded_app.models.types import AllocationReason, enum_column
from traded_app.models.users import User

if TYPE_CHECKING:
    from traded_app.models.plans import SharedVisit


class VisitStatus(StrEnum):
    SCHEDULED = "scheduled"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def tag_class(self) -> str:
        return {
            "scheduled": "govuk-tag--light-blue",
            "delivered": "govuk-tag--green",
            "cancelled": "govuk-tag--grey",
        }[self.value]


class Visit(Base):
    """An adviser's booked time at a school: a half (1) or whole (2) day, against an order line
    of a confirmed order or, when `order_line_id` is NULL, the school's core allocation."""

    __tablename__ = "visit"
    __table_args__ = (
        # A school's share of a shared visit may be 0 (a half-day shared by two schools).
        CheckConstraint(
            "half_days IN (1, 2) OR (half_days = 0 AND shared_visit_id IS NOT NULL)",
            name="half_or_whole_day",
        ),
        CheckConstraint(
            "(status = 'delivered') = (delivered_at IS NOT NULL)", name="delivered_when"
        ),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_when"
        ),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_by_party IS NOT NULL)", name="cancelled_by_whom"
        ),
        CheckConstraint("status = 'cancelled' OR NOT chargeable", name="only_cancelled_charged"),
        Index("ix_visit_adviser_date", "adviser_id", "visit_date"),
        Index("ix_visit_school_year", "school_id", "academic_year_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    adviser_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"), index=True)
    # One school's part of a partnership's shared visit (models/plans.py): booked, delivered and
    # cancelled with the others; `half_days` is this school's share of the visit's days.
    shared_visit_id: Mapped[int | None] = mapped_column(ForeignKey("shared_visit.id"), index=True)
    visit_date: Mapped[date] = mapped_column(Date)
    half_days: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(500))
    status: Mapped[VisitStatus] = mapped_column(
        enum_column(VisitStatus, "visit_status"), default=VisitStatus.SCHEDULED, index=True
    )
    scheduled_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivery_note: Mapped[str] = mapped_column(Text, default="")
    # Why the service manager booked it on a day the calendar refuses (outside term, a bank
    # holiday, an INSET day); and why it was recorded after the day instead of booked before.
    date_override_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    recorded_after_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # When the school's headteachers were asked to rate the delivered visit (once).
    feedback_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_by_party: Mapped[CancelledBy | None] = mapped_column(
        enum_column(CancelledBy, "cancelled_by_party")
    )
    cancellation_reason: Mapped[str] = mapped_column(Text, default="")
    # A school's cancellation with less notice than the council's policy: the days are used.
    chargeable: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once

    school: Mapped[School] = relationship()
    academic_year: Mapped[AcademicYear] = relationship()
    adviser: Mapped[User] = relationship(foreign_keys=[adviser_id])
    order_line: Mapped[OrderLine | None] = relationship()
    scheduled_by: Mapped[User] = relationship(foreign_keys=[scheduled_by_id])
    delivered_by: Mapped[User | None] = relationship(foreign_keys=[delivered_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    shared_visit: Mapped[SharedVisit | None] = relationship(viewonly=True)

    @property
    def reference(self) -> str:
        return f"VIS-{self.id:06d}"

    @property
    def for_partnership_order(self) -> bool:
        """One school's part of a visit against a partnership order's line: its row carries 0
        half-days, the visit's length being drawn once from the line."""
        shared = self.shared_visit
        return shared is not None and shared.partnership_order_line_id is not None

    @property
    def length_half_days(self) -> int:
        """How long the visit is: its half-days, or a partnership order visit's length."""
        shared = self.shared_visit
        if shared is not None and shared.partnership_order_line_id is not None:
            return shared.half_days
        return self.half_days

    @property
    def uses_days(self) -> bool:
        """Delivered, or cancelled late by the school: the days are spent either way."""
        return self.status == VisitStatus.DELIVERED or self.chargeable


class ClosureDay(Base):
    """A date the council's team does not visit schools (bank holidays, training days)."""

    __tablename__ = "closure_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    closed_on: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class AllocationSource(StrEnum):
    RULES = "rules"  # generated from the council's rules
    ADJUSTED = "adjusted"  # set by the service manager, with a reason

    @property
    def label(self) -> str:
        return {"rules": "Generated from the rules", "adjusted": "Adjusted"}[self.value]


class AllocationChange(Base):
    """One change to a school's core allocation for a reason: never edited, never deleted."""

    __tablename__ = "allocation_change"
    __table_args__ = (
        CheckConstraint("from_half_days >= 0 AND to_half_days >= 0", name="days_not_negative"),
        Index("ix_allocation_change_school_year", "school_id", "academic_year_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    reason: Mapped[AllocationReason] = mapped_column(enum_column(AllocationReason, "reason"))
    from_half_days: Mapped[int] = mapped_column(Integer)
    to_half_days: Mapped[int] = mapped_column(Integer)
    source: Mapped[AllocationSource] = mapped_column(
        enum_column(AllocationSource, "allocation_source")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship()
    academic_year: Mapped[AcademicYear] = relationship()
    user: Mapped[User | None] = relationship()
