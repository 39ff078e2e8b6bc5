"""The service manager's catalogue: add, edit and retire services; set prices per academic year.

Orders freeze each line's price and VAT when they are submitted and documents copy their lines
when issued, so nothing here ever changes an existing order or document: a new price applies to
orders submitted from then on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import AcademicYear, Service, ServicePrice, ServiceVat
from traded_app.models.types import CustomerType, ServiceGroup, VatTreatment
from traded_app.services.platform.errors import DomainError, NotFound
from traded_app.services.platform.settings import academic_start_year, ensure_academic_year, today

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,15}$")
# Prices can be set this many academic years ahead of the current one.
YEARS_AHEAD = 2


class CatalogueError(DomainError, ValueError):
    """A change the catalogue cannot take; `field` names the form field it is about."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class VatRule:
    treatment: VatTreatment
    rate_bp: int


@dataclass(frozen=True)
class ServiceDetails:
    code: str
    name: str
    description: str
    group: ServiceGroup
    typical_half_days: int
    min_half_days: int
    max_half_days: int
    income_code: str
    vat: dict[CustomerType, VatRule]


RATED = frozenset({VatTreatment.STANDARD, VatTreatment.REDUCED})


def parse_vat_rate(raw: str | None, treatment: VatTreatment) -> int:
    """'20' or '17.5' (per cent) -> basis points; a rate only for standard or reduced rating."""
    text = (raw or "").strip().removesuffix("%").strip()
    if treatment not in RATED:
        if text and text not in {"0", "0.0", "0.00"}:
            raise ValueError(f"{treatment.label} has no VAT rate: leave the rate empty or 0")
        return 0
    if not text:
        raise ValueError("Enter the VAT rate, like 20")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("VAT rate must be a number, like 20 or 17.5") from None
    if not value.is_finite():
        raise ValueError("VAT rate must be a number, like 20 or 17.5")
    basis_points = value * 100
    if basis_points != basis_points.to_integral_value():
        raise ValueError("VAT rate must have no more than 2 decimal places")
    if not 0 < basis_points <= 10_000:
        raise ValueError("VAT rate must be more than 0% and no more than 100%")
    return int(basis_points)


def rate_text(rate_bp: int) -> str:
    whole, frac = divmod(rate_bp, 100)
    return f"{whole}" if frac == 0 else f"{whole}.{frac:02d}".rstrip("0")


def validate(details: ServiceDetails, service: Service | None = None) -> None:
    if not CODE_PATTERN.match(details.code):
        raise CatalogueError(
            "Code must be 1 to 16 capital letters, numbers or hyphens, like GOVREV", "code"
        )
    clash = db.session.execute(
        select(Service.id).where(func.upper(Service.code) == details.code)
    ).scalar_one_or_none()
    if clash is not None and (service is None or clash != service.id):
        raise CatalogueError(f"Another service already has the code {details.code}", "code")
    if details.max_half_days < details.min_half_days:
        raise CatalogueError(
            "Maximum days must be the same as or more than the minimum", "max_days"
        )
    if not details.min_half_days <= details.typical_half_days <= details.max_half_days:
        raise CatalogueError(
            "Typical days must be between the minimum and the maximum", "typical_days"
        )
    missing = [c for c in CustomerType if c not in details.vat]
    if missing:
        raise CatalogueError(f"Choose the VAT treatment for {missing[0].label.lower()}s", "vat")


def service_by_id(service_id: int) -> Service:
    """The service with this id, retired or not; NotFound if there is none."""
    service = db.session.get(Service, service_id)
    if service is None:
        raise NotFound(f"No service {service_id}")
    return service


def create_service(details: ServiceDetails) -> Service:
    """A new, active service at the end of its group. It is offered once it has a price."""
    validate(details)
    last = db.session.execute(select(func.max(Service.sort_order))).scalar_one()
    service = Service(sort_order=(last or 0) + 1)
    _apply(service, details)
    db.session.add(service)
    db.session.flush()
    _apply_vat(service, details.vat)
    db.session.flush()
    return service


def update_service(service: Service, details: ServiceDetails) -> Service:
    validate(details, service)
    _apply(service, details)
    _apply_vat(service, details.vat)
    db.session.flush()
    return service


def _apply(service: Service, details: ServiceDetails) -> None:
    for name in (
        "code",
        "name",
        "description",
        "group",
        "typical_half_days",
        "min_half_days",
        "max_half_days",
        "income_code",
    ):
        value = getattr(details, name)
        if getattr(service, name) != value:
            setattr(service, name, value)


def _apply_vat(service: Service, rules: dict[CustomerType, VatRule]) -> None:
    existing = {rule.customer_type: rule for rule in service.vat_rules}
    for customer_type, rule in rules.items():
        row = existing.get(customer_type)
        if row is None:
            service.vat_rules.append(
                ServiceVat(
                    customer_type=customer_type, treatment=rule.treatment, vat_rate_bp=rule.rate_bp
                )
            )
        else:
            if row.treatment != rule.treatment:
                row.treatment = rule.treatment
            if row.vat_rate_bp != rule.rate_bp:
                row.vat_rate_bp = rule.rate_bp


def set_active(service: Service, active: bool) -> None:
    """Retire (no longer offered; old orders and documents still name it) or reinstate. A
    bespoke line made for one school's request (ordering.bespoke, code BSP-…) is never offered
    to every school."""
    if active and service.code.startswith("BSP-"):
        raise CatalogueError(
            f"{service.name} is a bespoke line made for one school's request: "
            "it is never offered in the catalogue"
        )
    service.active = active
    db.session.flush()


def price_years() -> list[AcademicYear]:
    """The years whose prices can be set: this academic year and the next YEARS_AHEAD, those of
    them the council has set up (read only: pages call this, and a GET never writes)."""
    start = academic_start_year(today())
    return list(
        db.session.execute(
            select(AcademicYear)
            .where(AcademicYear.start_year.between(start, start + YEARS_AHEAD))
            .order_by(AcademicYear.start_year)
        ).scalars()
    )


def set_up_price_years() -> list[AcademicYear]:
    """Set up this academic year and the next YEARS_AHEAD where missing, so their prices can be
    set (`flask academic-years ensure`, on each release or once a year); all of them."""
    start = academic_start_year(today())
    return [ensure_academic_year(start + n) for n in range(YEARS_AHEAD + 1)]


def set_price(service: Service, year: AcademicYear, price_pence: int) -> ServicePrice:
    """The price per day for `year`. Orders already submitted keep the price they froze."""
    if year.ends_on < today():
        raise CatalogueError(f"{year.label} has ended: its prices can no longer change", "price")
    row = db.session.execute(
        select(ServicePrice).where(
            ServicePrice.service_id == service.id, ServicePrice.academic_year_id == year.id
        )
    ).scalar_one_or_none()
    if row is None:
        row = ServicePrice(
            service_id=service.id, academic_year_id=year.id, price_per_day_pence=price_pence
        )
        db.session.add(row)
    elif row.price_per_day_pence != price_pence:
        row.price_per_day_pence = price_pence
    db.session.flush()
    return row


@dataclass(frozen=True)
class ServiceRow:
    service: Service
    prices: dict[int, int]  # academic year id -> pence


def all_services() -> list[ServiceRow]:
    """Every service (active first, then retired), with its prices by year, in two queries."""
    services = list(
        db.session.execute(
            select(Service).order_by(Service.active.desc(), Service.sort_order, Service.name)
        ).scalars()
    )
    prices: dict[int, dict[int, int]] = {}
    for price in db.session.execute(select(ServicePrice)).scalars():
        prices.setdefault(price.service_id, {})[price.academic_year_id] = price.price_per_day_pence
    return [ServiceRow(s, prices.get(s.id, {})) for s in services]


def prices_of(service: Service) -> dict[int, int]:
    return {p.academic_year_id: p.price_per_day_pence for p in service.prices}


def get_service(service_id: int) -> Service | None:
    return db.session.get(Service, service_id)
