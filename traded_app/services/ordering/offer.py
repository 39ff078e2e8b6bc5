"""The catalogue as a customer sees it: active services with this year's price and VAT."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import AcademicYear, Service, ServicePrice, ServiceVat
from traded_app.models.types import CustomerType, ServiceGroup, VatTreatment


@dataclass(frozen=True)
class CatalogueEntry:
    service: Service
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


def catalogue_for(customer_type: CustomerType, year: AcademicYear) -> list[CatalogueEntry]:
    """Active services priced for `year`, in catalogue order. A service with no price for the
    year or no VAT rule for the customer type is not offered (it cannot be charged correctly).

    One query: this runs on every change of days in the basket."""
    rows = db.session.execute(
        select(
            Service, ServicePrice.price_per_day_pence, ServiceVat.treatment, ServiceVat.vat_rate_bp
        )
        .join(
            ServicePrice,
            (ServicePrice.service_id == Service.id) & (ServicePrice.academic_year_id == year.id),
        )
        .join(
            ServiceVat,
            (ServiceVat.service_id == Service.id) & (ServiceVat.customer_type == customer_type),
        )
        .where(Service.active.is_(True))
        .order_by(Service.sort_order, Service.name)
    ).tuples()
    return [
        CatalogueEntry(service, price, treatment, rate) for service, price, treatment, rate in rows
    ]


def grouped(entries: list[CatalogueEntry]) -> list[tuple[ServiceGroup, list[CatalogueEntry]]]:
    """Entries by group, groups in their declared order."""
    by_group: dict[ServiceGroup, list[CatalogueEntry]] = {}
    for entry in entries:
        by_group.setdefault(entry.service.group, []).append(entry)
    return [(group, by_group[group]) for group in ServiceGroup if group in by_group]
