"""Courses and events: places for school staff on a session, booked, attended and charged.

A course (a training course, a briefing or a conference) has prices per place for each type of
customer, with their VAT treatment, an income code and cancellation terms; its sessions have a
date, a venue or an online link, a number of places, a booking deadline and a trainer. A school
books places for named delegates (a `CourseBooking` of `CoursePlace` rows). Places are the rows
that change (confirmed, waiting, offered, cancelled, attended, no-show); the documents that
charge and credit them are the numbered documents, which never change.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.domain.courses import CancellationTerms
from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.schools import School
from traded_app.models.types import CustomerType, VatTreatment, enum_column
from traded_app.models.users import User


class Audience(StrEnum):
    STAFF = "staff"
    HEADTEACHERS = "headteachers"
    GOVERNORS = "governors"
    BUSINESS_MANAGERS = "business_managers"

    @property
    def label(self) -> str:
        return {
            "staff": "School staff",
            "headteachers": "Headteachers",
            "governors": "Governors",
            "business_managers": "School business managers",
        }[self.value]


class CourseKind(StrEnum):
    COURSE = "course"
    BRIEFING = "briefing"
    CONFERENCE = "conference"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class PlaceStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # over the school's limit, with the headteacher
    CONFIRMED = "confirmed"
    WAITING = "waiting"  # on the waiting list, in order of `waiting_since`
    OFFERED = "offered"  # a freed place offered, to accept by `offer_expires_at`
    CANCELLED = "cancelled"  # by the school (or an offer that lapsed or was turned down)
    REJECTED = "rejected"  # the headteacher turned the booking down
    SESSION_CANCELLED = "session_cancelled"  # the council cancelled the session
    ATTENDED = "attended"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return {
            "awaiting_approval": "Awaiting approval",
            "confirmed": "Confirmed",
            "waiting": "Waiting list",
            "offered": "Place offered",
            "cancelled": "Cancelled",
            "rejected": "Not approved",
            "session_cancelled": "Session cancelled",
            "attended": "Attended",
            "no_show": "Did not attend",
        }[self.value]

    @property
    def tag_class(self) -> str:
        return {
            "confirmed": "govuk-tag--green",
            "attended": "govuk-tag--green",
            "waiting": "govuk-tag--yellow",
            "offered": "govuk-tag--light-blue",
            "awaiting_approval": "govuk-tag--blue",
            "no_show": "govuk-tag--red",
        }.get(self.value, "govuk-tag--grey")


# Places that take one of the session's places.
HOLDING_STATUSES = frozenset(
    {PlaceStatus.CONFIRMED, PlaceStatus.OFFERED, PlaceStatus.ATTENDED, PlaceStatus.NO_SHOW}
)


class Course(Base):
    __tablename__ = "course"
    __table_args__ = (
        CheckConstraint("free_until_days >= 0", name="free_days_not_negative"),
        CheckConstraint("late_percent BETWEEN 0 AND 100", name="late_percent_range"),
        CheckConstraint("no_show_percent BETWEEN 0 AND 100", name="no_show_percent_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(160))
    kind: Mapped[CourseKind] = mapped_column(enum_column(CourseKind, "course_kind"))
    audience: Mapped[Audience] = mapped_column(enum_column(Audience, "course_audience"))
    description: Mapped[str] = mapped_column(Text, default="")
    income_code: Mapped[str] = mapped_column(String(32))
    free_until_days: Mapped[int] = mapped_column(Integer, default=14)
    late_percent: Mapped[int] = mapped_column(Integer, default=50)
    no_show_percent: Mapped[int] = mapped_column(Integer, default=100)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    prices: Mapped[list[CoursePrice]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="CoursePrice.id"
    )
    sessions: Mapped[list[CourseSession]] = relationship(
        back_populates="course", order_by="CourseSession.session_date"
    )

    @property
    def terms(self) -> CancellationTerms:
        return CancellationTerms(self.free_until_days, self.late_percent, self.no_show_percent)

    def price_for(self, customer_type: CustomerType) -> CoursePrice | None:
        return next((p for p in self.prices if p.customer_type == customer_type), None)


class CoursePrice(Base):
    """The price of a place for one type of customer, with its VAT (rate in basis points)."""

    __tablename__ = "course_price"
    __table_args__ = (
        UniqueConstraint("course_id", "customer_type"),
        CheckConstraint("price_per_place_pence >= 0", name="price_not_negative"),
        CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name="rate_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    customer_type: Mapped[CustomerType] = mapped_column(enum_column(CustomerType, "customer_type"))
    price_per_place_pence: Mapped[int] = mapped_column(Integer)
    vat_treatment: Mapped[VatTreatment] = mapped_column(enum_column(VatTreatment, "vat_treatment"))
    vat_rate_bp: Mapped[int] = mapped_column(Integer)

    course: Mapped[Course] = relationship(back_populates="prices")


class CourseSession(Base):
    __tablename__ = "course_session"
    __table_args__ = (
        CheckConstraint("places > 0", name="places_positive"),
        CheckConstraint("booking_deadline <= session_date", name="deadline_before_session"),
        CheckConstraint(
            "(cancelled_at IS NULL) = (cancel_reason IS NULL)", name="cancelled_with_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    session_date: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[str] = mapped_column(String(5))  # "09:30", Europe/London
    end_time: Mapped[str] = mapped_column(String(5))
    venue: Mapped[str] = mapped_column(Text, default="")
    online_link: Mapped[str] = mapped_column(String(500), default="")
    places: Mapped[int] = mapped_column(Integer)
    booking_deadline: Mapped[date] = mapped_column(Date)
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # When the register was taken (no-shows charged, certificates available).
    register_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When delegates' access and dietary needs were erased, after the session.
    needs_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Locked by every booking, so the count of places taken is read by one booking at a time.
    version: Mapped[int] = mapped_column(Integer, default=1)

    course: Mapped[Course] = relationship(back_populates="sessions")
    trainer: Mapped[User | None] = relationship()

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class CourseBooking(Base):
    """A school's booking of places on one session, made by one person at one time."""

    __tablename__ = "course_booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("course_session.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    booked_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    po_number: Mapped[str] = mapped_column(String(40), default="")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    session: Mapped[CourseSession] = relationship()
    school: Mapped[School] = relationship()
    booked_by: Mapped[User] = relationship(foreign_keys=[booked_by_id])
    places: Mapped[list[CoursePlace]] = relationship(
        back_populates="booking", order_by="CoursePlace.id"
    )

    @property
    def reference(self) -> str:
        return f"BKG-{self.id:06d}"


class CoursePlace(Base):
    """One delegate's place (or place on the waiting list) and what it has been charged."""

    __tablename__ = "course_place"
    __table_args__ = (
        CheckConstraint("price_pence >= 0", name="price_not_negative"),
        CheckConstraint(
            "(status = 'offered') = (offer_expires_at IS NOT NULL)", name="offer_has_deadline"
        ),
        Index("ix_course_place_session_status", "session_id", "status"),
        Index(
            "ix_course_place_waiting",
            "session_id",
            "waiting_since",
            sqlite_where=text("status = 'waiting'"),
            postgresql_where=text("status = 'waiting'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("course_booking.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("course_session.id"))
    status: Mapped[PlaceStatus] = mapped_column(enum_column(PlaceStatus, "place_status"))
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254))
    # Access or dietary needs: kept only until the session is over, then erased.
    needs: Mapped[str] = mapped_column(Text, default="")
    # The price and VAT of the place for the school's customer type, frozen when booked.
    price_pence: Mapped[int] = mapped_column(Integer)
    vat_treatment: Mapped[VatTreatment] = mapped_column(enum_column(VatTreatment, "vat_treatment"))
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the place owes as it stands (full price, a cancellation or no-show part, or 0), and
    # the net charged and credited for it so far through documents.
    owed_pence: Mapped[int] = mapped_column(Integer, default=0)
    charged_pence: Mapped[int] = mapped_column(Integer, default=0)
    credited_pence: Mapped[int] = mapped_column(Integer, default=0)
    # The latest invoice or recharge that charged the place: credits for it go against this.
    charge_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))

    booking: Mapped[CourseBooking] = relationship(back_populates="places")
    session: Mapped[CourseSession] = relationship()

    @property
    def holds_a_place(self) -> bool:
        return self.status in HOLDING_STATUSES
