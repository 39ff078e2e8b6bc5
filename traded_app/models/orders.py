"""Orders: a school's purchase of traded days, its lines and its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.domain.pricing import line_net_pence
from traded_app.domain.types import OrderStatus
from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.catalogue import Service
from traded_app.models.council import AcademicYear, Quadrant
from traded_app.models.quotes import Quote, TermsVersion
from traded_app.models.schools import School
from traded_app.models.types import VatTreatment, enum_column
from traded_app.models.users import User

# Orders whose days the council has sold: they use a quadrant team's traded capacity and count
# as purchased days for the school.
SOLD_STATUSES = frozenset(
    {
        OrderStatus.CONFIRMED,
        OrderStatus.CANCELLATION_REQUESTED,
        OrderStatus.IN_PROGRESS,
        OrderStatus.COMPLETED,
    }
)
# Submitted orders not yet decided: with the headteacher or with the council.
PENDING_STATUSES = frozenset({OrderStatus.AWAITING_APPROVAL, OrderStatus.SUBMITTED})


class Order(Base):
    __tablename__ = "school_order"
    __table_args__ = (
        # One draft per school and academic year: every user and tab of the school works on
        # the same basket for a year (two while next year's buy-back window is open).
        Index(
            "uq_school_order_one_draft",
            "school_id",
            "academic_year_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
        CheckConstraint(
            "(net_pence IS NULL) = (status = 'draft')", name="totals_frozen_at_submission"
        ),
        CheckConstraint(
            "(half_days IS NULL) = (status = 'draft')", name="days_frozen_at_submission"
        ),
        CheckConstraint("half_days IS NULL OR half_days > 0", name="days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus, "order_status"), default=OrderStatus.DRAFT, index=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    po_number: Mapped[str] = mapped_column(String(40), default="")
    preferred_term: Mapped[str] = mapped_column(String(16), default="")
    preferred_dates: Mapped[str] = mapped_column(String(500), default="")
    adviser_note: Mapped[str] = mapped_column(Text, default="")
    # Frozen when the order is submitted; NULL while it is a draft.
    half_days: Mapped[int | None] = mapped_column(Integer)
    net_pence: Mapped[int | None] = mapped_column(Integer)
    vat_pence: Mapped[int | None] = mapped_column(Integer)
    gross_pence: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The quadrant team whose traded capacity the order uses, fixed when it is confirmed.
    quadrant_id: Mapped[int | None] = mapped_column(ForeignKey("quadrant.id"), index=True)
    # The quote whose prices the draft takes while the quote is valid (kept on the order when
    # it was priced by it at submission).
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quote.id"))
    # The year's terms and conditions the person submitting accepted, and when.
    terms_version_id: Mapped[int | None] = mapped_column(ForeignKey("terms_version.id"))
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: two tabs or a double-submitted form cannot both change the order.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once

    school: Mapped[School] = relationship()
    academic_year: Mapped[AcademicYear] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    quadrant: Mapped[Quadrant | None] = relationship()
    quote: Mapped[Quote | None] = relationship()
    terms_version: Mapped[TermsVersion | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )

    @property
    def reference(self) -> str:
        return f"ORD-{self.id:06d}"


class OrderLine(Base):
    """Days of one service. Price and VAT are NULL in a draft (the catalogue's apply) and are
    frozen when the order is submitted."""

    __tablename__ = "order_line"
    __table_args__ = (
        UniqueConstraint("order_id", "service_id"),
        CheckConstraint("half_days > 0", name="half_days_positive"),
        CheckConstraint(
            "price_per_day_pence IS NULL OR price_per_day_pence >= 0", name="price_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("school_order.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    half_days: Mapped[int] = mapped_column(Integer)
    price_per_day_pence: Mapped[int | None] = mapped_column(Integer)
    vat_treatment: Mapped[VatTreatment | None] = mapped_column(
        enum_column(VatTreatment, "vat_treatment")
    )
    vat_rate_bp: Mapped[int | None] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="lines")
    service: Mapped[Service] = relationship()

    @property
    def net_pence(self) -> int | None:
        """The frozen line's cost before VAT (None while it is a draft line)."""
        if self.price_per_day_pence is None:
            return None
        return line_net_pence(self.half_days, self.price_per_day_pence)


class OrderEvent(Base):
    """Who did what to an order, and when: the history the school and the council see."""

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("school_order.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")

    order: Mapped[Order] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()


@dataclass(frozen=True)
class ChargeLine:
    """One line's figures as they go into an invoice, recharge or credit note: the service, the
    days charged (or credited) and the price per day and VAT frozen when the order was made."""

    service: Service
    half_days: int
    price_per_day_pence: int
    vat_treatment: VatTreatment
    vat_rate_bp: int
