"""The traded catalogue: services sold by the day, their prices per academic year and VAT."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.council import AcademicYear
from traded_app.models.types import CustomerType, ServiceGroup, VatTreatment, enum_column


class Service(Base):
    """A traded service. Day counts are in half-day units (1 = half a day)."""

    __tablename__ = "service"
    __table_args__ = (
        CheckConstraint("min_half_days >= 1", name="min_at_least_half_day"),
        CheckConstraint("max_half_days >= min_half_days", name="max_not_below_min"),
        CheckConstraint(
            "typical_half_days BETWEEN min_half_days AND max_half_days", name="typical_in_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[ServiceGroup] = mapped_column(enum_column(ServiceGroup, "service_group"))
    typical_half_days: Mapped[int] = mapped_column(Integer)
    min_half_days: Mapped[int] = mapped_column(Integer)
    max_half_days: Mapped[int] = mapped_column(Integer)
    income_code: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    prices: Mapped[list[ServicePrice]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )
    vat_rules: Mapped[list[ServiceVat]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Service {self.code}>"


class ServicePrice(Base):
    """The price per day of a service for one academic year, set ahead of time."""

    __tablename__ = "service_price"
    __table_args__ = (
        UniqueConstraint("service_id", "academic_year_id"),
        CheckConstraint("price_per_day_pence >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    price_per_day_pence: Mapped[int] = mapped_column(Integer)

    service: Mapped[Service] = relationship(back_populates="prices")
    academic_year: Mapped[AcademicYear] = relationship()


class ServiceVat(Base):
    """How a service is treated for VAT when sold to a type of customer (the VAT officer's call).

    The rate is in basis points: 2000 means 20%.
    """

    __tablename__ = "service_vat"
    __table_args__ = (
        UniqueConstraint("service_id", "customer_type"),
        CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name="rate_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    customer_type: Mapped[CustomerType] = mapped_column(enum_column(CustomerType, "customer_type"))
    treatment: Mapped[VatTreatment] = mapped_column(enum_column(VatTreatment, "vat_treatment"))
    vat_rate_bp: Mapped[int] = mapped_column(Integer)

    service: Mapped[Service] = relationship(back_populates="vat_rules")


class CatalogueStamp(Base):
    """One row whose stamp changes, by trigger, in every transaction that changes a service, a
    price, a VAT rule or an academic year (migration 0018), however it was changed: the app's
    per-process caches of the priced catalogue and the years compare it on each use
    (platform/stamped_cache.py). A fresh random value each time, so a change rolled back can
    never be mistaken for a later one. No row: nothing cached yet (a wiped database)."""

    __tablename__ = "catalogue_stamp"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stamp: Mapped[str] = mapped_column(String(64))
