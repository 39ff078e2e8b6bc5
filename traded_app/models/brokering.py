"""School-to-school support (seed 001, the Essex Learning Partnership): schools offer expertise,
other schools ask the council for support, the council's broker shortlists providers (schools'
offers beside the council's own catalogue services), the buying school chooses, the providing
school accepts, and the engagement's days are delivered in half-days and confirmed by the buyer.

Days are half-day units and money integer pence, as everywhere in the app.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.catalogue import Service
from traded_app.models.schools import School
from traded_app.models.types import enum_column
from traded_app.models.users import User


class SupportArea(Base):
    """An area of expertise from the council's list (leadership, governance, SEND, …)."""

    __tablename__ = "support_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    position: Mapped[int] = mapped_column(default=0, server_default="0")


class SupportPhase(StrEnum):
    """The phase an offer serves or a request is for."""

    ANY = "any"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    SPECIAL = "special"

    @property
    def label(self) -> str:
        return {"any": "Any phase", "special": "Special schools and PRUs"}.get(
            self.value, self.value.title()
        )


class OfferStatus(StrEnum):
    AWAITING_CHECK = "awaiting_check"  # new or changed: the service manager checks it
    LISTED = "listed"
    PAUSED = "paused"  # by the school: not offered for now
    DECLINED = "declined"  # by the service manager, with the reason

    @property
    def label(self) -> str:
        return {
            "awaiting_check": "Awaiting the council's check",
            "listed": "Listed",
            "paused": "Paused",
            "declined": "Not listed",
        }[self.value]


class SupportOffer(Base):
    """What a school can offer other schools: an area, a named practitioner, days per term at
    the providing school's daily rate, until an end date."""

    __tablename__ = "support_offer"
    __table_args__ = (
        CheckConstraint("half_days_per_term > 0", name="days_offered"),
        CheckConstraint("daily_rate_pence > 0", name="rate_positive"),
        CheckConstraint(
            "(status = 'declined') = (decline_reason <> '')", name="declined_with_reason"
        ),
        Index("ix_support_offer_status_area", "status", "area_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("support_area.id"))
    phase: Mapped[SupportPhase] = mapped_column(enum_column(SupportPhase, "support_phase"))
    practitioner_name: Mapped[str] = mapped_column(String(120))
    practitioner_role: Mapped[str] = mapped_column(String(120))
    half_days_per_term: Mapped[int] = mapped_column(Integer)
    daily_rate_pence: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[OfferStatus] = mapped_column(
        enum_column(OfferStatus, "offer_status"), default=OfferStatus.AWAITING_CHECK
    )
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    school: Mapped[School] = relationship()
    area: Mapped[SupportArea] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    checked_by: Mapped[User | None] = relationship(foreign_keys=[checked_by_id])

    @property
    def reference(self) -> str:
        return f"OFR-{self.id:05d}"


class RequestStatus(StrEnum):
    OPEN = "open"  # with the council's broker
    SHORTLIST_SENT = "shortlist_sent"  # the school is comparing providers
    CHOSEN = "chosen"  # a provider chosen: a school's acceptance or the council's service
    CLOSED = "closed"  # withdrawn by the school, or closed by the broker with a reason

    @property
    def label(self) -> str:
        return {
            "open": "With the council",
            "shortlist_sent": "Providers to compare",
            "chosen": "Provider chosen",
            "closed": "Closed",
        }[self.value]


class SupportRequest(Base):
    """A school's private request to the council for support: what it needs and roughly when,
    how many days and its budget."""

    __tablename__ = "support_request"
    __table_args__ = (
        CheckConstraint("half_days > 0", name="days_wanted"),
        CheckConstraint("budget_pence IS NULL OR budget_pence > 0", name="budget_positive"),
        Index("ix_support_request_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("support_area.id"))
    phase: Mapped[SupportPhase] = mapped_column(enum_column(SupportPhase, "support_phase"))
    outcome: Mapped[str] = mapped_column(Text)
    wanted_when: Mapped[str] = mapped_column(String(200))
    half_days: Mapped[int] = mapped_column(Integer)
    budget_pence: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus, "request_status"), default=RequestStatus.OPEN
    )
    broker_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    shortlist_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chosen_service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    closed_reason: Mapped[str] = mapped_column(Text, default="")

    school: Mapped[School] = relationship()
    area: Mapped[SupportArea] = relationship()
    broker: Mapped[User | None] = relationship(foreign_keys=[broker_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    chosen_service: Mapped[Service | None] = relationship()
    entries: Mapped[list[ShortlistEntry]] = relationship(
        back_populates="request", order_by="ShortlistEntry.id", cascade="all, delete-orphan"
    )

    @property
    def reference(self) -> str:
        return f"REQ-{self.id:05d}"


class ShortlistEntry(Base):
    """One provider on a request's shortlist: a school's listed offer, or a council service."""

    __tablename__ = "shortlist_entry"
    __table_args__ = (
        CheckConstraint("(offer_id IS NULL) <> (service_id IS NULL)", name="an_offer_or_a_service"),
        Index("uq_shortlist_offer", "request_id", "offer_id", unique=True),
        Index("uq_shortlist_service", "request_id", "service_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_request.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("support_offer.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[SupportRequest] = relationship(back_populates="entries")
    offer: Mapped[SupportOffer | None] = relationship()
    service: Mapped[Service | None] = relationship()


class EngagementStatus(StrEnum):
    PROPOSED = "proposed"  # chosen by the buyer: the providing school accepts or declines
    ACCEPTED = "accepted"  # agreed: being delivered
    DECLINED = "declined"  # by the provider, with the reason
    COMPLETED = "completed"  # every agreed day delivered and confirmed, or closed by the buyer

    @property
    def label(self) -> str:
        return {
            "proposed": "Waiting for the provider",
            "accepted": "Agreed",
            "declined": "Declined by the provider",
            "completed": "Completed",
        }[self.value]


class Engagement(Base):
    """The support agreed between a buying and a providing school: days, dates, the price per
    day frozen from the offer, and the outcome wanted."""

    __tablename__ = "engagement"
    __table_args__ = (
        CheckConstraint("half_days > 0", name="days_agreed"),
        CheckConstraint("daily_rate_pence > 0", name="rate_positive"),
        CheckConstraint("starts_on <= ends_on", name="dates_in_order"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_one_to_five"),
        CheckConstraint("buyer_school_id <> provider_school_id", name="two_schools"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_request.id"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("support_offer.id"), index=True)
    buyer_school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    provider_school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    half_days: Mapped[int] = mapped_column(Integer)
    daily_rate_pence: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(Text)
    status: Mapped[EngagementStatus] = mapped_column(
        enum_column(EngagementStatus, "engagement_status"), default=EngagementStatus.PROPOSED
    )
    chosen_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once

    request: Mapped[SupportRequest] = relationship()
    offer: Mapped[SupportOffer] = relationship()
    buyer: Mapped[School] = relationship(foreign_keys=[buyer_school_id])
    provider: Mapped[School] = relationship(foreign_keys=[provider_school_id])
    deliveries: Mapped[list[EngagementDelivery]] = relationship(
        back_populates="engagement", order_by="EngagementDelivery.delivered_on"
    )

    @property
    def reference(self) -> str:
        return f"ENG-{self.id:05d}"


class EngagementDelivery(Base):
    """Half-days the provider says it delivered on a date; they count as used once the buying
    school confirms them. A buyer who disagrees says why; the provider may then withdraw it."""

    __tablename__ = "engagement_delivery"
    __table_args__ = (
        CheckConstraint("half_days IN (1, 2)", name="half_or_whole_day"),
        CheckConstraint("confirmed_at IS NULL OR queried_reason = ''", name="confirmed_or_queried"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagement.id"), index=True)
    delivered_on: Mapped[date] = mapped_column(Date)
    half_days: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queried_reason: Mapped[str] = mapped_column(Text, default="")

    engagement: Mapped[Engagement] = relationship(back_populates="deliveries")
