"""A school's request for a service the catalogue does not list, and the council's answer: a
bespoke line (a service of its own, made for the request, priced by the answer) or a refusal."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.catalogue import Service
from traded_app.models.council import AcademicYear
from traded_app.models.schools import School
from traded_app.models.types import VatTreatment, enum_column
from traded_app.models.users import User


class ServiceRequestStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {"open": "Waiting for the council"}.get(self.value, self.value.capitalize())

    @property
    def tag_class(self) -> str:
        return {
            "open": "govuk-tag--yellow",
            "answered": "govuk-tag--green",
            "declined": "govuk-tag--grey",
        }[self.value]


class ServiceRequest(Base):
    __tablename__ = "service_request"
    __table_args__ = (
        CheckConstraint("rough_half_days IS NULL OR rough_half_days > 0", name="rough_positive"),
        CheckConstraint(
            "(status = 'answered') = (service_id IS NOT NULL)", name="answered_with_a_line"
        ),
        CheckConstraint(
            "(status = 'declined') = (decline_reason <> '')", name="declined_with_a_reason"
        ),
        CheckConstraint("half_days IS NULL OR half_days > 0", name="days_positive"),
        CheckConstraint(
            "price_per_day_pence IS NULL OR price_per_day_pence >= 0", name="price_not_negative"
        ),
        Index("ix_service_request_school_year", "school_id", "academic_year_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    what: Mapped[str] = mapped_column(Text)
    when_wanted: Mapped[str] = mapped_column(String(200), default="")
    rough_half_days: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[ServiceRequestStatus] = mapped_column(
        enum_column(ServiceRequestStatus, "request_status"),
        default=ServiceRequestStatus.OPEN,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The council's answer: a bespoke service made for the request, its days and price.
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), unique=True)
    half_days: Mapped[int | None] = mapped_column(Integer)
    price_per_day_pence: Mapped[int | None] = mapped_column(Integer)
    vat_treatment: Mapped[VatTreatment | None] = mapped_column(
        enum_column(VatTreatment, "vat_treatment")
    )
    vat_rate_bp: Mapped[int | None] = mapped_column(Integer)
    answer_note: Mapped[str] = mapped_column(Text, default="")
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    school: Mapped[School] = relationship()
    academic_year: Mapped[AcademicYear] = relationship()
    asked_by: Mapped[User] = relationship(foreign_keys=[asked_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    service: Mapped[Service | None] = relationship()

    @property
    def reference(self) -> str:
        return f"REQ-{self.id:06d}"
