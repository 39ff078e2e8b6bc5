"""Schools: the council's customers, identified by their GIAS URN."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.council import Partnership, Quadrant
from traded_app.models.trusts import Trust
from traded_app.models.types import (
    BillingRoute,
    CustomerType,
    EstablishmentType,
    Phase,
    SchoolStatus,
    enum_column,
)


class School(Base):
    __tablename__ = "school"
    __table_args__ = (
        CheckConstraint("urn > 0", name="urn_positive"),
        CheckConstraint(
            "approval_limit_pence IS NULL OR approval_limit_pence >= 0",
            name="approval_limit_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    phase: Mapped[Phase] = mapped_column(enum_column(Phase, "phase"))
    establishment_type: Mapped[EstablishmentType] = mapped_column(
        enum_column(EstablishmentType, "establishment_type")
    )
    customer_type: Mapped[CustomerType] = mapped_column(enum_column(CustomerType, "customer_type"))
    billing_route: Mapped[BillingRoute] = mapped_column(enum_column(BillingRoute, "billing_route"))
    status: Mapped[SchoolStatus] = mapped_column(
        enum_column(SchoolStatus, "school_status"), default=SchoolStatus.OPEN
    )
    quadrant_id: Mapped[int | None] = mapped_column(ForeignKey("quadrant.id"), index=True)
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnership.id"), index=True)
    # The multi-academy trust that runs the academy (from GIAS, or set by the service manager).
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trust.id"), index=True)
    district: Mapped[str | None] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(Text, default="")
    postcode: Mapped[str] = mapped_column(String(16), default="")
    causing_concern: Mapped[bool] = mapped_column(default=False)
    enhanced_provision: Mapped[bool] = mapped_column(default=False)
    recruiting_headteacher: Mapped[bool] = mapped_column(default=False)
    billing_contact_name: Mapped[str] = mapped_column(String(120), default="")
    billing_contact_email: Mapped[str] = mapped_column(String(254), default="")
    cost_centre: Mapped[str | None] = mapped_column(String(32))
    # The chair of governors, copied into visit reports when the adviser ticks it.
    chair_of_governors_name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    chair_of_governors_email: Mapped[str] = mapped_column(
        String(254), default="", server_default=""
    )
    # Where invoices go when not to the school's own (GIAS) address; kept by the school.
    billing_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The academic year (its start year) in which the business manager last checked the billing
    # details, when, and who (a name: the audit trail has the account).
    details_checked_year: Mapped[int | None] = mapped_column(Integer)
    details_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details_checked_by: Mapped[str] = mapped_column(String(120), default="", server_default="")
    approval_limit_pence: Mapped[int | None] = mapped_column(Integer)
    # Pupils on roll as GIAS last gave them (NumberOfPupils); None when never given.
    pupils: Mapped[int | None] = mapped_column(Integer)
    po_required: Mapped[bool] = mapped_column(default=False)
    # An academy conversion closes the old record and opens a new URN that points back here.
    predecessor_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    opened_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    quadrant: Mapped[Quadrant | None] = relationship()
    partnership: Mapped[Partnership | None] = relationship()
    trust: Mapped[Trust | None] = relationship()
    predecessor: Mapped[School | None] = relationship(remote_side=[id])

    @property
    def invoice_address(self) -> str:
        """The address a document is sent to: the billing address, else the school's own."""
        if self.billing_address.strip():
            return self.billing_address.strip()
        return "\n".join(part for part in (self.address.strip(), self.postcode.strip()) if part)

    @property
    def is_open(self) -> bool:
        return self.status == SchoolStatus.OPEN

    def __repr__(self) -> str:
        return f"<School {self.urn} {self.name}>"
