"""Core (free) days a school is entitled to in an academic year, each with its reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.council import AcademicYear
from traded_app.models.schools import School
from traded_app.models.types import AllocationReason, enum_column


class CoreAllocation(Base):
    __tablename__ = "core_allocation"
    __table_args__ = (
        UniqueConstraint("school_id", "academic_year_id", "reason"),
        CheckConstraint("half_days >= 0", name="half_days_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    reason: Mapped[AllocationReason] = mapped_column(enum_column(AllocationReason, "reason"))
    half_days: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    school: Mapped[School] = relationship()
    academic_year: Mapped[AcademicYear] = relationship()
