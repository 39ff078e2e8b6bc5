"""Requests for support: a school tells the council, privately, what it needs; the council's
broker (the service manager, or the adviser it names) shortlists providers — schools' listed
offers and the council's own catalogue services — and sends the school a comparison: providers
side by side with days, price, availability and what each has delivered before (delivered
engagements, visits and feedback ratings only: nothing is invented)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from traded_app.extensions import db
from traded_app.models import (
    Engagement,
    EngagementDelivery,
    EngagementStatus,
    OrderLine,
    RequestStatus,
    School,
    ShortlistEntry,
    SupportOffer,
    SupportPhase,
    SupportRequest,
    User,
    Visit,
    VisitFeedback,
    VisitStatus,
)
from traded_app.models.base import utcnow
from traded_app.models.types import Role
from traded_app.services.brokering.offers import (
    MAX_TEXT,
    BrokeringError,
    area_by_id,
    council_broker_emails,
    is_available,
    school_staff_emails,
)
from traded_app.services.ordering.offer import CatalogueEntry, catalogue_for
from traded_app.services.platform import outbox
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.settings import current_academic_year

MAX_HALF_DAYS = 200


@dataclass(frozen=True)
class RequestDetails:
    area_id: int | None
    phase: str
    outcome: str
    wanted_when: str
    half_days: int
    budget_pence: int | None


def make_request(school_id: int, user: User, details: RequestDetails) -> SupportRequest:
    """A school's request, private to it and the council; the service manager is told."""
    area = area_by_id(details.area_id)
    try:
        phase = SupportPhase(details.phase)
    except ValueError:
        raise BrokeringError("Select the phase the support is for", "phase") from None
    outcome = details.outcome.strip()
    if not outcome:
        raise BrokeringError("Describe the outcome the school wants", "outcome")
    if len(outcome) > MAX_TEXT:
        raise BrokeringError(f"Outcome must be {MAX_TEXT} characters or fewer", "outcome")
    when = " ".join(details.wanted_when.split())
    if not when:
        raise BrokeringError("Say when the school needs the support, like spring term", "when")
    if not 1 <= details.half_days <= MAX_HALF_DAYS:
        raise BrokeringError("Days must be between 0.5 and 100", "days")
    request = SupportRequest(
        school_id=school_id,
        area_id=area.id,
        phase=phase,
        outcome=outcome,
        wanted_when=when[:200],
        half_days=details.half_days,
        budget_pence=details.budget_pence,
        status=RequestStatus.OPEN,
        created_by_id=user.id,
    )
    db.session.add(request)
    db.session.flush()
    link = absolute_url("brokering_council.request_page", request_id=request.id)
    outbox.queue_email(
        council_broker_emails(),
        f"{request.reference}: a school asks for {area.name} support",
        f"{user.name} of {request.school.name} asks for {area.name} support "
        f"({when}).\n\n{outcome}" + (f"\n\n{link}" if link else ""),
        purpose="School-to-school request",
        kind="support_request",
        ref_id=request.id,
    )
    return request


def request_by_id(request_id: int) -> SupportRequest:
    request = db.session.get(SupportRequest, request_id)
    if request is None:
        raise NotFound("There is no such request")
    return request


def request_for_school(request_id: int, school_id: int) -> SupportRequest:
    """A request as its own school sees it; any other school's is not there."""
    request = request_by_id(request_id)
    if request.school_id != school_id:
        raise NotFound("There is no such request")
    return request


def request_for_broker(request_id: int, user: User) -> SupportRequest:
    """The service manager sees every request; an adviser the ones they broker."""
    request = request_by_id(request_id)
    if user.role == Role.ADVISER and request.broker_id != user.id:
        raise NotFound("There is no such request")
    return request


def requests_of_school(school_id: int) -> list[SupportRequest]:
    return list(
        db.session.execute(
            select(SupportRequest)
            .options(joinedload(SupportRequest.area))
            .where(SupportRequest.school_id == school_id)
            .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc())
        ).scalars()
    )


def requests_for_broker(user: User, status: RequestStatus | None = None) -> list[SupportRequest]:
    stmt = (
        select(SupportRequest)
        .options(joinedload(SupportRequest.area), joinedload(SupportRequest.school))
        .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc())
    )
    if user.role == Role.ADVISER:
        stmt = stmt.where(SupportRequest.broker_id == user.id)
    if status is not None:
        stmt = stmt.where(SupportRequest.status == status)
    return list(db.session.execute(stmt).scalars())


def brokers() -> list[User]:
    """Who may broker: the service managers and the advisers."""
    return list(
        db.session.execute(
            select(User)
            .where(User.role.in_([Role.LA_ADMIN, Role.ADVISER]), User.active.is_(True))
            .order_by(User.name)
        ).scalars()
    )


def assign_broker(request: SupportRequest, broker_id: int | None) -> None:
    if broker_id is not None and broker_id not in {u.id for u in brokers()}:
        raise BrokeringError("Select a broker from the list", "broker_id")
    if request.broker_id != broker_id:
        request.broker_id = broker_id
    db.session.flush()


def _editable(request: SupportRequest) -> None:
    if request.status not in (RequestStatus.OPEN, RequestStatus.SHORTLIST_SENT):
        raise BrokeringError(f"This request is {request.status.label.lower()}: it cannot change")


def add_offer(request: SupportRequest, offer_id: int, user: User, note: str, today: date) -> None:
    """Put a school's listed offer on the shortlist (never the requesting school's own)."""
    _editable(request)
    offer = db.session.get(SupportOffer, offer_id)
    if offer is None or not is_available(offer, today):
        raise BrokeringError("Select a listed offer", "offer_id")
    if offer.school_id == request.school_id:
        raise BrokeringError("A school cannot be shortlisted for its own request", "offer_id")
    if any(e.offer_id == offer.id for e in request.entries):
        raise BrokeringError("That offer is already on the shortlist", "offer_id")
    request.entries.append(
        ShortlistEntry(offer_id=offer.id, note=note.strip()[:MAX_TEXT], added_by_id=user.id)
    )
    _take_on(request, user)
    db.session.flush()


def add_service(request: SupportRequest, service_id: int, user: User, note: str) -> None:
    """Put one of the council's own services on the shortlist (priced for the school now)."""
    _editable(request)
    if service_id not in {e.service.id for e in council_services(request.school)}:
        raise BrokeringError("Select a service from the council's catalogue", "service_id")
    if any(e.service_id == service_id for e in request.entries):
        raise BrokeringError("That service is already on the shortlist", "service_id")
    request.entries.append(
        ShortlistEntry(service_id=service_id, note=note.strip()[:MAX_TEXT], added_by_id=user.id)
    )
    _take_on(request, user)
    db.session.flush()


def _take_on(request: SupportRequest, user: User) -> None:
    if request.broker_id is None:
        request.broker_id = user.id


def remove_entry(request: SupportRequest, entry_id: int) -> None:
    _editable(request)
    entry = next((e for e in request.entries if e.id == entry_id), None)
    if entry is None:
        raise NotFound("There is no such shortlist entry")
    request.entries.remove(entry)
    db.session.flush()


def send_shortlist(request: SupportRequest, user: User) -> None:
    """Send the comparison to the school (again, after a change); it is told by e-mail."""
    _editable(request)
    if not request.entries:
        raise BrokeringError("Add at least one provider to the shortlist first")
    request.status = RequestStatus.SHORTLIST_SENT
    request.shortlist_sent_at = utcnow()
    _take_on(request, user)
    db.session.flush()
    link = absolute_url("brokering.request_page", request_id=request.id)
    outbox.queue_email(
        school_staff_emails(request.school_id),
        f"{request.reference}: providers to compare for your {request.area.name} request",
        f"The council has shortlisted {len(request.entries)} provider"
        f"{'' if len(request.entries) == 1 else 's'} for {request.school.name}'s request. "
        "Compare them side by side and choose one." + (f"\n\n{link}" if link else ""),
        purpose="School-to-school shortlist",
        school_id=request.school_id,
        kind="support_shortlist",
        ref_id=request.id,
    )


def close_request(request: SupportRequest, reason: str) -> None:
    """Withdrawn by the school or closed by the broker, with the reason."""
    if request.status in (RequestStatus.CHOSEN, RequestStatus.CLOSED):
        raise BrokeringError(f"This request is {request.status.label.lower()} already")
    reason = reason.strip()
    if not reason:
        raise BrokeringError("Say why the request is closed", "reason")
    request.status = RequestStatus.CLOSED
    request.closed_reason = reason[:MAX_TEXT]
    db.session.flush()


# --- The comparison ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackRecord:
    """What a provider has delivered before, from the records only."""

    engagements: int  # engagements agreed (school providers) or visits delivered (council)
    delivered_half_days: int
    ratings: int
    rating_total: int

    @property
    def average_text(self) -> str:
        if not self.ratings:
            return ""
        tenths = (self.rating_total * 20 + self.ratings) // (2 * self.ratings)  # half up
        return f"{tenths // 10}.{tenths % 10}"


@dataclass(frozen=True)
class ComparisonRow:
    entry: ShortlistEntry
    provider: str
    what: str
    practitioner: str
    price_per_day_pence: int
    cost_pence: int  # of the days the school asked for, before any VAT
    vat_note: str
    availability: str
    track: TrackRecord
    available: bool


def council_services(school: School) -> list[CatalogueEntry]:
    year = current_academic_year()
    return catalogue_for(school.customer_type, year) if year is not None else []


def _school_track(school_id: int) -> TrackRecord:
    engagements = db.session.execute(
        select(
            func.count(Engagement.id),
            func.count(Engagement.rating),
            func.coalesce(func.sum(Engagement.rating), 0),
        ).where(
            Engagement.provider_school_id == school_id,
            Engagement.status.in_([EngagementStatus.ACCEPTED, EngagementStatus.COMPLETED]),
        )
    ).one()
    delivered = db.session.execute(
        select(func.coalesce(func.sum(EngagementDelivery.half_days), 0))
        .join(Engagement)
        .where(
            Engagement.provider_school_id == school_id,
            EngagementDelivery.confirmed_at.is_not(None),
        )
    ).scalar_one()
    return TrackRecord(engagements[0], delivered, engagements[1], engagements[2])


def _service_track(service_id: int) -> TrackRecord:
    visits = db.session.execute(
        select(func.count(Visit.id), func.coalesce(func.sum(Visit.half_days), 0))
        .join(OrderLine, OrderLine.id == Visit.order_line_id)
        .where(OrderLine.service_id == service_id, Visit.status == VisitStatus.DELIVERED)
    ).one()
    ratings = db.session.execute(
        select(func.count(VisitFeedback.id), func.coalesce(func.sum(VisitFeedback.rating), 0))
        .join(Visit, Visit.id == VisitFeedback.visit_id)
        .join(OrderLine, OrderLine.id == Visit.order_line_id)
        .where(OrderLine.service_id == service_id)
    ).one()
    return TrackRecord(visits[0], visits[1], ratings[0], ratings[1])


def comparison(request: SupportRequest, today: date) -> list[ComparisonRow]:
    """The shortlist side by side, in the order the broker added it."""
    priced = {e.service.id: e for e in council_services(request.school)}
    rows = []
    for entry in db.session.execute(
        select(ShortlistEntry)
        .options(
            selectinload(ShortlistEntry.offer).joinedload(SupportOffer.school),
            selectinload(ShortlistEntry.service),
        )
        .where(ShortlistEntry.request_id == request.id)
        .order_by(ShortlistEntry.id)
    ).scalars():
        if entry.offer is not None:
            offer = entry.offer
            rows.append(
                ComparisonRow(
                    entry=entry,
                    provider=offer.school.name,
                    what=f"{offer.area.name}: {offer.description}",
                    practitioner=f"{offer.practitioner_name}, {offer.practitioner_role}",
                    price_per_day_pence=offer.daily_rate_pence,
                    cost_pence=(offer.daily_rate_pence * request.half_days + 1) // 2,
                    vat_note="As the providing school charges it",
                    availability=_offer_availability(offer),
                    track=_school_track(offer.school_id),
                    available=is_available(offer, today),
                )
            )
        else:
            service = entry.service
            assert service is not None  # the CHECK: an offer or a service
            price = priced.get(service.id)
            rows.append(
                ComparisonRow(
                    entry=entry,
                    provider="The council's school improvement team",
                    what=service.name,
                    practitioner="A School Performance Partner",
                    price_per_day_pence=price.price_per_day_pence if price else 0,
                    cost_pence=(price.price_per_day_pence * request.half_days + 1) // 2
                    if price
                    else 0,
                    vat_note=price.vat_note if price else "",
                    availability="Booked with the council's team, subject to its capacity",
                    track=_service_track(service.id),
                    available=price is not None,
                )
            )
    return rows


def _offer_availability(offer: SupportOffer) -> str:
    whole, half = divmod(offer.half_days_per_term, 2)
    days = f"{whole}.5" if half else str(whole)
    return f"Up to {days} days a term until {offer.ends_on.strftime('%-d %B %Y')}"
