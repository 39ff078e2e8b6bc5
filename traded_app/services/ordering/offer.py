"""The catalogue as a customer sees it: active services with this year's price and VAT."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select

from traded_app.extensions import db
from traded_app.models import AcademicYear, Service, ServicePrice, ServiceVat
from traded_app.models.types import CustomerType, ServiceGroup, VatTreatment
from traded_app.services.platform.stamped_cache import StampedCache


@dataclass(frozen=True)
class OfferedService:
    """What the catalogue shows and checks of a service: plain values, kept between requests."""

    id: int
    code: str
    name: str
    description: str
    group: ServiceGroup
    typical_half_days: int
    min_half_days: int
    max_half_days: int


@dataclass(frozen=True)
class CatalogueEntry:
    service: OfferedService
    price_per_day_pence: int
    vat_treatment: VatTreatment
    vat_rate_bp: int

    @property
    def vat_note(self) -> str:
        if self.vat_treatment in (VatTreatment.STANDARD, VatTreatment.REDUCED):
            whole, frac = divmod(self.vat_rate_bp, 100)
            rate = f"{whole}" if frac == 0 else f"{whole}.{frac:02d}".rstrip("0")
            return f"Plus VAT at {rate}%"
        return self.vat_treatment.label


_CATALOGUES: StampedCache[tuple[CustomerType, int], tuple[CatalogueEntry, ...]] = StampedCache()
_CATALOGUE = (
    select(
        Service.id,
        Service.code,
        Service.name,
        Service.description,
        Service.group,
        Service.typical_half_days,
        Service.min_half_days,
        Service.max_half_days,
        ServicePrice.price_per_day_pence,
        ServiceVat.treatment,
        ServiceVat.vat_rate_bp,
    )
    .join(
        ServicePrice,
        (ServicePrice.service_id == Service.id)
        & (ServicePrice.academic_year_id == bindparam("year_id")),
    )
    .join(
        ServiceVat,
        (ServiceVat.service_id == Service.id)
        & (ServiceVat.customer_type == bindparam("customer_type")),
    )
    .where(Service.active.is_(True))
    .order_by(Service.sort_order, Service.name)
)


def catalogue_for(customer_type: CustomerType, year: AcademicYear) -> list[CatalogueEntry]:
    """Active services priced for `year`, in catalogue order. A service with no price for the
    year or no VAT rule for the customer type is not offered (it cannot be charged correctly).

    This runs on every change of days in the basket, so it is kept per process and checked
    against the catalogue's stamp on each use (platform/stamped_cache.py): the prices are
    always the current ones, at the cost of one small query."""

    def load() -> tuple[CatalogueEntry, ...]:
        rows = db.session.execute(
            _CATALOGUE, {"year_id": year.id, "customer_type": customer_type}
        ).tuples()
        return tuple(
            CatalogueEntry(OfferedService(*service), price, treatment, rate)
            for *service, price, treatment, rate in rows
        )

    return list(_CATALOGUES.get((customer_type, year.id), load))


def grouped(entries: list[CatalogueEntry]) -> list[tuple[ServiceGroup, list[CatalogueEntry]]]:
    """Entries by group, groups in their declared order."""
    by_group: dict[ServiceGroup, list[CatalogueEntry]] = {}
    for entry in entries:
        by_group.setdefault(entry.service.group, []).append(entry)
    return [(group, by_group[group]) for group in ServiceGroup if group in by_group]
