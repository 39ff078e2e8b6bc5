"""School-to-school support records for tests, made through the services as users would."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from traded_app.extensions import db
from traded_app.models.types import Role
from traded_app.services.brokering import engagements, offers, requests
from traded_app.services.platform.settings import today


def area_id(name: str = "SEND") -> int:
    offers.ensure_areas()
    return next(a.id for a in offers.areas() if a.name == name)


def offer_details(**values: Any) -> offers.OfferDetails:
    fields: dict[str, Any] = {
        "area_id": area_id(values.pop("area", "SEND")),
        "phase": "primary",
        "practitioner_name": "Sam Patel",
        "practitioner_role": "Specialist leader of education",
        "half_days_per_term": 6,
        "daily_rate_pence": 40000,
        "description": "Support for SENCOs setting up provision maps.",
        "evidence": "Two schools supported in 2025/26.",
        "ends_on": today() + timedelta(days=300),
    }
    fields.update(values)
    return offers.OfferDetails(**fields)


def listed_offer(world: Any, school: Any = None, user: Any = None, **values: Any) -> Any:
    """An offer the service manager has checked and listed (the academy's, unless told)."""
    school = school or world.academy
    user = user or world.academy_sbm
    offer = offers.save_offer(None, school.id, user, offer_details(**values), today())
    offers.check_offer(offer, world.users[Role.LA_ADMIN], approve=True)
    db.session.commit()
    return offer


def request_details(**values: Any) -> requests.RequestDetails:
    fields: dict[str, Any] = {
        "area_id": area_id(values.pop("area", "SEND")),
        "phase": "primary",
        "outcome": "A SENCO confident with provision maps by Easter.",
        "wanted_when": "Spring term",
        "half_days": 4,
        "budget_pence": 200000,
    }
    fields.update(values)
    return requests.RequestDetails(**fields)


def shortlisted_request(world: Any, offer: Any, *, with_service: bool = True) -> Any:
    """The school's request, with the offer (and the council's service) sent to compare."""
    request = requests.make_request(
        world.school.id, world.users[Role.SCHOOL_BUSINESS_MANAGER], request_details()
    )
    broker = world.users[Role.LA_ADMIN]
    requests.add_offer(request, offer.id, broker, "Strong record with SENCOs", today())
    if with_service:
        requests.add_service(request, world.service.id, broker, "")
    requests.send_shortlist(request, broker)
    db.session.commit()
    return request


def agreed_engagement(world: Any, offer: Any = None, half_days: int = 3) -> Any:
    """The school chose the academy's offer and the academy accepted it."""
    offer = offer or listed_offer(world)
    request = shortlisted_request(world, offer)
    entry = next(e for e in request.entries if e.offer_id == offer.id)
    engagement = engagements.choose(
        request,
        entry.id,
        world.users[Role.SCHOOL_BUSINESS_MANAGER],
        engagements.Agreement(half_days, today(), today() + timedelta(days=60)),
        today(),
    )
    assert engagement is not None
    engagements.answer(engagement, world.academy.id, world.academy_sbm, True, "")
    db.session.commit()
    return engagement


def brokering_for_access(world: Any) -> Any:
    """One of each school-to-school record a URL names: the school's own offer, a request
    brokered by the adviser with a shortlist sent, and an agreed engagement with a recorded
    day the school has yet to confirm."""
    world.own_offer = listed_offer(
        world, school=world.school, user=world.users[Role.HEADTEACHER], area="Leadership"
    )
    engagement = agreed_engagement(world)
    delivery = engagements.record_delivery(
        engagement, world.academy.id, world.academy_sbm, today(), 1, "SENCO session", today()
    )
    request = shortlisted_request(world, listed_offer(world))
    request.broker_id = world.users[Role.ADVISER].id
    world.engagement, world.delivery, world.support_request = engagement, delivery, request
    world.area_id = area_id()
    world.entry_id = request.entries[0].id
    world.listed_offer_id = request.entries[0].offer_id
    db.session.commit()
    return world
