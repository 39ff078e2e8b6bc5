"""Partnership plans: how a partnership's core days are used in an academic year, agreed with its
headteachers; and shared visits, one adviser's visit that serves several of its schools at once.

A shared visit is one booking on the adviser's calendar and one draw on the partnership's core
days: each school involved has its own `Visit` row (so its days ledger, Days page, feedback and
report see the visit), carrying that school's share of the visit's half-days. The shares add up to
the visit's length; a half-day shared by two schools gives one of them a share of 0.
"""

from __future__ import annotations

from datetime import date, datetime

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
from traded_app.models.council import AcademicYear, Partnership
from traded_app.models.partnership_orders import PartnershipOrderLine
from traded_app.models.schools import School
from traded_app.models.users import User
from traded_app.models.visits import Visit

plan_item_school = Table(
    "plan_item_school",
    Base.metadata,
    Column("plan_item_id", ForeignKey("plan_item.id"), primary_key=True),
    Column("school_id", ForeignKey("school.id"), primary_key=True),
)


class PartnershipPlan(Base):
    """One partnership's plan for one academic year. The service manager starts it and names the
    partnership's adviser; either of them writes it."""

    __tablename__ = "partnership_plan"
    __table_args__ = (UniqueConstraint("partnership_id", "academic_year_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # How and when the headteachers agreed it (a meeting's date, say).
    agreed_note: Mapped[str] = mapped_column(Text, default="")
    # When it was recorded as agreed: only once every non-negotiable activity is in it.
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    partnership: Mapped[Partnership] = relationship()
    academic_year: Mapped[AcademicYear] = relationship()
    adviser: Mapped[User | None] = relationship(foreign_keys=[adviser_id])
    items: Mapped[list[PlanItem]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanItem.id"
    )


class PlanItem(Base):
    """One activity of a plan: the schools involved, when, and the half-days planned; or, for a
    non-negotiable activity left out, why (then nothing is planned)."""

    __tablename__ = "plan_item"
    __table_args__ = (
        UniqueConstraint("plan_id", "activity_id"),
        CheckConstraint("planned_half_days >= 0", name="planned_not_negative"),
        CheckConstraint(
            "omitted_reason = '' OR planned_half_days = 0", name="omitted_plans_nothing"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("partnership_plan.id"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("delivery_activity.id"))
    planned_half_days: Mapped[int] = mapped_column(Integer, default=0)
    planned_when: Mapped[str] = mapped_column(String(200), default="")
    omitted_reason: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[PartnershipPlan] = relationship(back_populates="items")
    activity: Mapped[DeliveryActivity] = relationship()
    schools: Mapped[list[School]] = relationship(secondary=plan_item_school, order_by=School.name)


class SharedVisit(Base):
    """An adviser's visit for one or more of a partnership's schools, drawing its core days once,
    or, with `partnership_order_line_id`, drawing the days of a line of a confirmed partnership
    order once (each school's `Visit` row then carries 0 half-days: those days are the
    partnership's, not in any school's own totals). Its status is its schools' visits' status:
    they are booked, delivered and cancelled together.
    """

    __tablename__ = "shared_visit"
    __table_args__ = (CheckConstraint("half_days IN (1, 2)", name="half_or_whole_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    plan_item_id: Mapped[int | None] = mapped_column(ForeignKey("plan_item.id"), index=True)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    visit_date: Mapped[date] = mapped_column(Date)
    half_days: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    partnership_order_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnership_order_line.id"), index=True
    )

    partnership: Mapped[Partnership] = relationship()
    academic_year: Mapped[AcademicYear] = relationship()
    plan_item: Mapped[PlanItem | None] = relationship()
    partnership_order_line: Mapped[PartnershipOrderLine | None] = relationship()
    adviser: Mapped[User] = relationship(foreign_keys=[adviser_id])
    visits: Mapped[list[Visit]] = relationship(order_by=Visit.id)

    @property
    def reference(self) -> str:
        return f"PV-{self.id:06d}"
