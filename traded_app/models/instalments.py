"""Invoice schedules: when the council charges an order, per billing route, and each order's
scheduled charges.

A `ChargePlan` is the council's setting for one billing route: charge at confirmation (as
before, and what a route with no plan does), at the start of the academic year, or in named
instalments (`ChargePlanPart`: a share in twelfths and a date relative to the academic year).
When an order is confirmed on a route that does not charge at once, its `ScheduledCharge` rows
are written (one per instalment: what, when, how much), and each is raised on its date as its
own numbered document (documents.instalments); cancelling the order cancels those not raised.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.invoices import Document
from traded_app.models.orders import Order
from traded_app.models.types import BillingRoute, enum_column

# A plan's shares are twelfths of the order (halves, thirds, quarters and months all fit).
WHOLE = 12


class ChargeTiming(StrEnum):
    ON_CONFIRMATION = "on_confirmation"
    YEAR_START = "year_start"
    INSTALMENTS = "instalments"

    @property
    def label(self) -> str:
        return {
            "on_confirmation": "When the council confirms the order",
            "year_start": "At the start of the academic year",
            "instalments": "In instalments",
        }[self.value]


class ScheduledChargeStatus(StrEnum):
    SCHEDULED = "scheduled"
    RAISED = "raised"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"scheduled": "To come", "raised": "Charged", "cancelled": "Cancelled"}[self.value]


class ChargePlan(Base):
    __tablename__ = "charge_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    billing_route: Mapped[BillingRoute] = mapped_column(
        enum_column(BillingRoute, "billing_route"), unique=True
    )
    timing: Mapped[ChargeTiming] = mapped_column(
        enum_column(ChargeTiming, "charge_timing"), default=ChargeTiming.ON_CONFIRMATION
    )
    name: Mapped[str] = mapped_column(String(80), default="")  # "April and September"
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    parts: Mapped[list[ChargePlanPart]] = relationship(
        back_populates="plan", order_by="ChargePlanPart.position", cascade="all, delete-orphan"
    )


class ChargePlanPart(Base):
    __tablename__ = "charge_plan_part"
    __table_args__ = (
        UniqueConstraint("plan_id", "position"),
        CheckConstraint("share > 0 AND share <= 12", name="share_in_range"),
        CheckConstraint("month BETWEEN 1 AND 12 AND day BETWEEN 1 AND 31", name="day_and_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("charge_plan.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    share: Mapped[int] = mapped_column(Integer)  # twelfths
    day: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    # The calendar year the academic year ends in (else the one it starts in).
    in_end_year: Mapped[bool] = mapped_column(default=False)

    plan: Mapped[ChargePlan] = relationship(back_populates="parts")


class ScheduledCharge(Base):
    """One instalment of one order: raised once, on or after its date, as `document`."""

    __tablename__ = "scheduled_charge"
    __table_args__ = (
        UniqueConstraint("order_id", "number"),
        CheckConstraint("number BETWEEN 1 AND count", name="number_in_count"),
        CheckConstraint("share > 0 AND share <= whole", name="share_in_range"),
        CheckConstraint(
            "(status = 'raised') = (document_id IS NOT NULL)", name="raised_has_document"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("school_order.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    share: Mapped[int] = mapped_column(Integer)
    whole: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    # What it will charge, worked out when the schedule was made (the document says what it did).
    gross_pence: Mapped[int] = mapped_column(Integer)
    status: Mapped[ScheduledChargeStatus] = mapped_column(
        enum_column(ScheduledChargeStatus, "scheduled_charge_status"),
        default=ScheduledChargeStatus.SCHEDULED,
    )
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # raised or cancelled
    # Raised as an invoice to an academy whose trust was on consolidated invoicing then: the
    # trust it is to be listed for (documents.consolidated lists it once, on the next one).
    consolidate_trust_id: Mapped[int | None] = mapped_column(ForeignKey("trust.id"))

    order: Mapped[Order] = relationship()
    document: Mapped[Document | None] = relationship()
