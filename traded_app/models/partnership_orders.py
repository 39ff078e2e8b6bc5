"""Partnership orders: days a partnership of schools buys together, each member paying a share.

`PartnershipBuying` is the partnership's own setting: its lead school, and who may order for it
(the lead school's headteacher, or any member's business manager too). A `PartnershipOrder` has
lines (a service, days, the price per day frozen when ordered) and one `PartnershipShare` per
member school, which names the member's part of each line (`PartnershipShareLine`, frozen with
the member's VAT treatment), whether its headteacher must approve it and its purchase order
number. Once the council confirms the order, each share is charged by a document of its own
(`Document.partnership_share_id`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.domain.partnership_split import SplitRule
from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.catalogue import Service
from traded_app.models.council import AcademicYear, Partnership
from traded_app.models.schools import School
from traded_app.models.types import VatTreatment, enum_column
from traded_app.models.users import User


class WhoOrders(StrEnum):
    LEAD_HEADTEACHER = "lead_headteacher"
    BUSINESS_MANAGERS = "business_managers"

    @property
    def label(self) -> str:
        return {
            "lead_headteacher": "The lead school's headteacher",
            "business_managers": (
                "The lead school's headteacher or any member school's business manager"
            ),
        }[self.value]


class PartnershipOrderStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # a member's headteacher must approve its share
    SUBMITTED = "submitted"  # every share approved (or within its limit): with the council
    CONFIRMED = "confirmed"  # each member charged by its own document
    DECLINED = "declined"  # by the council
    REJECTED = "rejected"  # by a member's headteacher
    WITHDRAWN = "withdrawn"  # by the school that placed it, before confirmation
    CANCELLED = "cancelled"  # by the council after confirmation: undelivered days credited

    @property
    def label(self) -> str:
        return {
            "awaiting_approval": "Waiting for members' approval",
            "submitted": "With the council",
        }.get(self.value, self.value.capitalize())

    @property
    def tag_colour(self) -> str:
        return {
            "awaiting_approval": "yellow",
            "submitted": "blue",
            "confirmed": "green",
        }.get(self.value, "grey")


OPEN_PARTNERSHIP_STATUSES = frozenset(
    {PartnershipOrderStatus.AWAITING_APPROVAL, PartnershipOrderStatus.SUBMITTED}
)


class ShareApproval(StrEnum):
    NOT_NEEDED = "not_needed"  # within the member's approval limit
    WAITING = "waiting"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {
            "not_needed": "Within the school's approval limit",
            "waiting": "Waiting for the headteacher",
        }.get(self.value, self.value.capitalize())


class PartnershipBuying(Base):
    """How a partnership buys together: its lead school and who may order for it."""

    __tablename__ = "partnership_buying"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), unique=True)
    lead_school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    who_orders: Mapped[WhoOrders] = mapped_column(
        enum_column(WhoOrders, "who_orders"), default=WhoOrders.LEAD_HEADTEACHER
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    partnership: Mapped[Partnership] = relationship()
    lead_school: Mapped[School | None] = relationship()


class PartnershipOrder(Base):
    __tablename__ = "partnership_order"
    __table_args__ = (
        CheckConstraint("half_days > 0", name="days_positive"),
        CheckConstraint("net_pence >= 0", name="net_not_negative"),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_when"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    # The partnership's quadrant when ordered: its team's capacity is what the order uses.
    quadrant_id: Mapped[int] = mapped_column(ForeignKey("quadrant.id"), index=True)
    status: Mapped[PartnershipOrderStatus] = mapped_column(
        enum_column(PartnershipOrderStatus, "partnership_order_status"), index=True
    )
    split_rule: Mapped[SplitRule] = mapped_column(enum_column(SplitRule, "split_rule"))
    half_days: Mapped[int] = mapped_column(Integer)
    net_pence: Mapped[int] = mapped_column(Integer)
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    placed_for_school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Why declined, rejected, withdrawn or cancelled.
    reason: Mapped[str] = mapped_column(Text, default="")
    # Cancelled by the council's service manager after confirmation (ordering.partnership_credits).
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    partnership: Mapped[Partnership] = relationship()
    academic_year: Mapped[AcademicYear] = relationship()
    placed_by: Mapped[User] = relationship(foreign_keys=[placed_by_id])
    placed_for_school: Mapped[School] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    lines: Mapped[list[PartnershipOrderLine]] = relationship(
        back_populates="order", order_by="PartnershipOrderLine.position"
    )
    shares: Mapped[list[PartnershipShare]] = relationship(
        back_populates="order", order_by="PartnershipShare.position"
    )

    @property
    def reference(self) -> str:
        return f"PTN-{self.id:06d}"


class PartnershipOrderLine(Base):
    __tablename__ = "partnership_order_line"
    __table_args__ = (
        UniqueConstraint("order_id", "service_id"),
        CheckConstraint("half_days > 0", name="half_days_positive"),
        CheckConstraint("price_per_day_pence >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("partnership_order.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    half_days: Mapped[int] = mapped_column(Integer)
    price_per_day_pence: Mapped[int] = mapped_column(Integer)
    net_pence: Mapped[int] = mapped_column(Integer)

    order: Mapped[PartnershipOrder] = relationship(back_populates="lines")
    service: Mapped[Service] = relationship()


class PartnershipShare(Base):
    __tablename__ = "partnership_share"
    __table_args__ = (
        UniqueConstraint("order_id", "school_id"),
        CheckConstraint("net_pence >= 0", name="net_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("partnership_order.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    is_lead: Mapped[bool] = mapped_column(default=False)
    pupils: Mapped[int | None] = mapped_column(Integer)  # as GIAS gave them when ordered
    net_pence: Mapped[int] = mapped_column(Integer)
    approval: Mapped[ShareApproval] = mapped_column(enum_column(ShareApproval, "share_approval"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    po_number: Mapped[str] = mapped_column(String(40), default="")

    order: Mapped[PartnershipOrder] = relationship(back_populates="shares")
    school: Mapped[School] = relationship()
    approved_by: Mapped[User | None] = relationship()
    lines: Mapped[list[PartnershipShareLine]] = relationship(
        back_populates="share", order_by="PartnershipShareLine.id"
    )


class PartnershipShareLine(Base):
    """A member's part of one order line, with the VAT treatment of the member's customer type
    when ordered (an internal recharge is outside the scope of VAT whatever it says)."""

    __tablename__ = "partnership_share_line"
    __table_args__ = (
        UniqueConstraint("share_id", "order_line_id"),
        CheckConstraint("net_pence >= 0", name="net_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("partnership_share.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("partnership_order_line.id"))
    net_pence: Mapped[int] = mapped_column(Integer)
    vat_treatment: Mapped[VatTreatment] = mapped_column(enum_column(VatTreatment, "vat_treatment"))
    vat_rate_bp: Mapped[int] = mapped_column(Integer, default=0)

    share: Mapped[PartnershipShare] = relationship(back_populates="lines")
    order_line: Mapped[PartnershipOrderLine] = relationship()
