"""Asking for what is not in the catalogue: a school (its business manager or headteacher) asks
for a service the catalogue does not list (what, when, roughly how many days); the service
manager answers with a bespoke line (service name, days, price per day; VAT as the council treats
the school's customer type) or declines with a reason. E-mails go both ways through the outbox.

An answer makes a service of its own (code BSP-nnnnnn, never active in the catalogue, its
price for the request's year and its VAT rule for the school's customer type), so a bespoke line
is an ordinary order line: the basket offers it to that school only (`entries_for`, merged into
basket.offer_to), at the answered days and price, until an order carrying it is submitted; the
workflow then freezes its price like any other.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from traded_app import formatting
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    Order,
    OrderLine,
    OrderStatus,
    School,
    Service,
    ServicePrice,
    ServiceRequest,
    ServiceRequestStatus,
    ServiceVat,
    User,
)
from traded_app.models.base import utcnow
from traded_app.models.types import CustomerType, Role, ServiceGroup, VatTreatment
from traded_app.services.ordering.offer import CatalogueEntry, OfferedService
from traded_app.services.platform import outbox
from traded_app.services.platform.errors import DomainError, NotFound
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.settings import council_settings
from traded_app.services.platform.stamped_cache import StampedCache
from traded_app.services.platform.statements import constant, one_of, run

MAX_WHAT = 2000
MAX_WHEN = 200
MAX_NAME = 160
MAX_INCOME_CODE = 32
# Orders on which a bespoke line is taken: it is offered no more once one carries it.
_TAKEN = frozenset(set(OrderStatus) - {OrderStatus.DRAFT, OrderStatus.WITHDRAWN})


class RequestError(DomainError, ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def ask(
    school: School,
    year: AcademicYear,
    user: User,
    what: str,
    when_wanted: str,
    rough_half_days: int | None,
) -> ServiceRequest:
    """A school's request; the council's inbox is told."""
    if user.school_id != school.id or user.role not in (
        Role.SCHOOL_BUSINESS_MANAGER,
        Role.HEADTEACHER,
    ):
        raise RequestError("Only the school's business manager or headteacher can ask")
    text = what.strip()
    when = " ".join(when_wanted.split())
    if not text:
        raise RequestError("Say what you would like the council to provide", "what")
    if len(text) > MAX_WHAT:
        raise RequestError(f"What you need must be {MAX_WHAT} characters or fewer", "what")
    if len(when) > MAX_WHEN:
        raise RequestError(f"When must be {MAX_WHEN} characters or fewer", "when_wanted")
    request = ServiceRequest(
        school_id=school.id,
        academic_year_id=year.id,
        asked_by_id=user.id,
        what=text,
        when_wanted=when,
        rough_half_days=rough_half_days,
        status=ServiceRequestStatus.OPEN,
        created_at=utcnow(),
    )
    db.session.add(request)
    db.session.flush()
    settings = council_settings()
    link = absolute_url("requests.council_request", request_id=request.id)
    outbox.queue_email(
        [settings.contact_email] if settings and settings.contact_email else [],
        f"{school.name} asks for a service not in the catalogue ({request.reference})",
        f"{user.name} of {school.name} asks for:\n\n{text}\n\n"
        f"When: {when or 'not said'}\n"
        f"Roughly: {formatting.days(rough_half_days) if rough_half_days else 'not said'}"
        + (f"\n\nAnswer or decline it: {link}\n" if link else "\n"),
        purpose="A school's request for a bespoke service",
        school_id=school.id,
    )
    return request


def request_for(user: User, request_id: int) -> ServiceRequest:
    """A request its school's staff, or the council, may see; others' answer NotFound."""
    found = db.session.get(ServiceRequest, request_id) if request_id < 2**31 else None
    if found is None or not (user.is_council_user or user.school_id == found.school_id):
        raise NotFound("There is no such request")
    return found


def school_requests(school_id: int) -> list[ServiceRequest]:
    return list(
        db.session.execute(
            select(ServiceRequest)
            .options(joinedload(ServiceRequest.asked_by), joinedload(ServiceRequest.academic_year))
            .where(ServiceRequest.school_id == school_id)
            .order_by(ServiceRequest.id.desc())
        ).scalars()
    )


def usual_vat(customer_type: CustomerType) -> tuple[VatTreatment, int]:
    """How the council's catalogue treats this customer type for VAT (its most common rule
    among active services); with no catalogue to go by, the usual treatment of the type."""
    rows = db.session.execute(
        select(ServiceVat.treatment, ServiceVat.vat_rate_bp, func.count())
        .join(Service, Service.id == ServiceVat.service_id)
        .where(ServiceVat.customer_type == customer_type, Service.active.is_(True))
        .group_by(ServiceVat.treatment, ServiceVat.vat_rate_bp)
        .order_by(func.count().desc(), ServiceVat.treatment)
    ).first()
    if rows is not None:
        return rows[0], int(rows[1])
    if customer_type == CustomerType.MAINTAINED:
        return VatTreatment.OUTSIDE_SCOPE, 0
    return VatTreatment.STANDARD, 2000


@dataclass(frozen=True)
class Answer:
    service_name: str
    half_days: int | None
    price_per_day_pence: int | None
    income_code: str
    group: str
    note: str = ""


def answer(request: ServiceRequest, details: Answer, user: User) -> ServiceRequest:
    """The service manager's bespoke line: a service made for the request, priced by the answer,
    that the school can put into its basket. The school's asker is told."""
    _require_open(request, user)
    name = " ".join(details.service_name.split())
    code = details.income_code.strip()
    if not name:
        raise RequestError("Enter the name of the service", "service_name")
    if len(name) > MAX_NAME:
        raise RequestError(f"The name must be {MAX_NAME} characters or fewer", "service_name")
    if not details.half_days or details.half_days <= 0:
        raise RequestError("Enter the days, like 2 or 1.5", "days")
    if details.price_per_day_pence is None:
        raise RequestError("Enter the price per day, like 450", "price")
    if not code or len(code) > MAX_INCOME_CODE:
        raise RequestError("Enter the ledger income code", "income_code")
    if details.group not in {g.value for g in ServiceGroup}:
        raise RequestError("Select the kind of service", "group")
    treatment, rate = usual_vat(request.school.customer_type)
    service = Service(
        code=f"BSP-{request.id:06d}",
        name=name,
        description=request.what[:2000],
        group=ServiceGroup(details.group),
        typical_half_days=details.half_days,
        min_half_days=details.half_days,
        max_half_days=details.half_days,
        income_code=code,
        active=False,  # never in the catalogue: offered only to the school that asked
    )
    service.prices.append(
        ServicePrice(
            academic_year_id=request.academic_year_id,
            price_per_day_pence=details.price_per_day_pence,
        )
    )
    service.vat_rules.append(
        ServiceVat(
            customer_type=request.school.customer_type, treatment=treatment, vat_rate_bp=rate
        )
    )
    db.session.add(service)
    db.session.flush()
    request.service_id = service.id
    request.half_days = details.half_days
    request.price_per_day_pence = details.price_per_day_pence
    request.vat_treatment = treatment
    request.vat_rate_bp = rate
    request.answer_note = details.note.strip()[:MAX_WHAT]
    _decided(request, user, ServiceRequestStatus.ANSWERED)
    link = absolute_url("requests.school_request", request_id=request.id)
    _tell_school(
        request,
        f"The council can provide {name} ({request.reference})",
        f"You asked for:\n\n{request.what}\n\nThe council can provide {name}: "
        f"{formatting.days(details.half_days)} at "
        f"{formatting.pounds(details.price_per_day_pence)} a day "
        f"({treatment.label.lower()}).\n"
        + (f"\n{request.answer_note}\n" if request.answer_note else "")
        + (
            f"\nAdd it to your basket: {link}\n"
            if link
            else "\nSign in to add it to your basket.\n"
        ),
    )
    return request


def decline(request: ServiceRequest, reason: str, user: User) -> ServiceRequest:
    _require_open(request, user)
    text = reason.strip()
    if not text:
        raise RequestError("Say why the council cannot provide it", "reason")
    if len(text) > MAX_WHAT:
        raise RequestError(f"The reason must be {MAX_WHAT} characters or fewer", "reason")
    request.decline_reason = text
    _decided(request, user, ServiceRequestStatus.DECLINED)
    _tell_school(
        request,
        f"Your request {request.reference} was declined",
        f"You asked for:\n\n{request.what}\n\nThe council cannot provide it:\n\n{text}\n",
    )
    return request


def _require_open(request: ServiceRequest, user: User) -> None:
    if user.role != Role.LA_ADMIN:
        raise RequestError("Only the service manager can answer requests")
    db.session.refresh(request, with_for_update=True)
    if request.status != ServiceRequestStatus.OPEN:
        raise RequestError(f"{request.reference} has already been {request.status.value}")


def _decided(request: ServiceRequest, user: User, status: ServiceRequestStatus) -> None:
    request.status = status
    request.decided_by_id = user.id
    request.decided_at = utcnow()
    db.session.flush()


def _tell_school(request: ServiceRequest, subject: str, body: str) -> None:
    asker = request.asked_by
    outbox.queue_email(
        [asker.email] if asker.active else [],
        subject,
        body,
        purpose="The council's answer to a school's request",
        school_id=request.school_id,
    )


_TAKEN_LINES = (
    select(OrderLine.service_id)
    .join(Order, Order.id == OrderLine.order_id)
    .where(
        Order.school_id == bindparam("school_id"),
        one_of(Order.status, _TAKEN),
    )
)
# Built once: it runs on every change of days in the basket (basket.offer_to), so it selects plain
# columns (no ORM rows) and, for the school with no answered request, finds nothing quickly.
_BESPOKE = (
    select(
        Service.id,
        Service.code,
        Service.name,
        Service.description,
        Service.group,
        Service.typical_half_days,
        Service.min_half_days,
        Service.max_half_days,
        ServiceRequest.price_per_day_pence,
        ServiceRequest.vat_treatment,
        ServiceRequest.vat_rate_bp,
    )
    .join(Service, Service.id == ServiceRequest.service_id)
    .where(
        ServiceRequest.school_id == bindparam("school_id"),
        ServiceRequest.academic_year_id == bindparam("year_id"),
        ServiceRequest.status == constant(ServiceRequestStatus.ANSWERED),
        Service.id.not_in(_TAKEN_LINES),
    )
)


# The schools with an answered request, by year, kept per process under the catalogue's stamp:
# answering makes the request's own service in the same transaction, which renews the stamp, so a
# school missing here has no answered request, and its basket (every change of days on the
# buy-back morning) is spared the query below. A school here may have had its line taken since:
# the query says so.
_ANSWERED = (
    select(ServiceRequest.school_id)
    .where(
        ServiceRequest.academic_year_id == bindparam("year_id"),
        ServiceRequest.status == constant(ServiceRequestStatus.ANSWERED),
    )
    .distinct()
)
_ANSWERED_BY_YEAR: StampedCache[int, frozenset[int]] = StampedCache()


def _schools_answered(year_id: int) -> frozenset[int]:
    return _ANSWERED_BY_YEAR.get(
        year_id, lambda: frozenset(run(_ANSWERED, {"year_id": year_id}).scalars())
    )


def entries_for(school: School, year: AcademicYear) -> dict[int, CatalogueEntry]:
    """The school's answered bespoke lines for `year` not yet on a submitted order, priced as
    answered: what basket.offer_to adds to the catalogue for this school."""
    if school.id not in _schools_answered(year.id):
        return {}
    rows = run(_BESPOKE, {"school_id": school.id, "year_id": year.id}).tuples()
    return {
        service[0]: CatalogueEntry(
            OfferedService(*service),
            int(price or 0),
            treatment or VatTreatment.STANDARD,
            int(rate or 0),
        )
        for *service, price, treatment, rate in rows
    }


def on_order(request: ServiceRequest) -> Order | None:
    """The school's order (its basket or a submitted one) carrying the bespoke line, if any."""
    if request.service_id is None:
        return None
    return db.session.execute(
        select(Order)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(OrderLine.service_id == request.service_id, Order.school_id == request.school_id)
        .order_by(Order.id.desc())
        .limit(1)
    ).scalar_one_or_none()


# --- The council's list -----------------------------------------------------------------------


@dataclass(frozen=True)
class Demand:
    """Requests by month (YYYY-MM) and status: what schools ask for that the catalogue lacks."""

    months: list[str]
    counts: dict[tuple[str, ServiceRequestStatus], int]

    def count(self, month: str, status: ServiceRequestStatus) -> int:
        return self.counts.get((month, status), 0)

    def month_total(self, month: str) -> int:
        return sum(self.count(month, s) for s in ServiceRequestStatus)


def all_requests(status: ServiceRequestStatus | None = None) -> list[ServiceRequest]:
    stmt = (
        select(ServiceRequest)
        .options(joinedload(ServiceRequest.school), joinedload(ServiceRequest.asked_by))
        .order_by(ServiceRequest.id.desc())
    )
    if status is not None:
        stmt = stmt.where(ServiceRequest.status == status)
    return list(db.session.execute(stmt).scalars())


def demand() -> Demand:
    """Every request counted by the month it was made and its status now."""
    counter: Counter[tuple[str, ServiceRequestStatus]] = Counter()
    for created_at, status in db.session.execute(
        select(ServiceRequest.created_at, ServiceRequest.status)
    ).tuples():
        counter[(f"{created_at:%Y-%m}", status)] += 1
    months = sorted({month for month, _ in counter}, reverse=True)
    return Demand(months, dict(counter))
