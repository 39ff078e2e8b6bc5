"""Demo data for school-to-school support: listed offers from three demo schools and one
awaiting the council's check, a delivered and rated engagement (the maintained demo school
bought SEND support from the demo academy, recharged by the council as the academy's agent, the
academy owed its share less the fee), an open request with its comparison sent, and a
request for an area nobody offers.

Idempotent: nothing is added when any offer exists. Made through the services, with "today"
moved back where a record belongs in the past (an engagement chosen six weeks ago)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import School, Service, SupportOffer, User
from traded_app.services.brokering import engagements, money, offers, requests
from traded_app.services.platform.settings import today

COUNCIL_ADMIN = "admin@example.org"


def _area(name: str) -> int:
    return next(a.id for a in offers.areas() if a.name == name)


def _offer(
    school: School,
    user: User,
    area: str,
    who: tuple[str, str],
    rate_pence: int,
    what: str,
    ends_on: date,
) -> SupportOffer:
    return offers.save_offer(
        None,
        school.id,
        user,
        offers.OfferDetails(
            area_id=_area(area),
            phase="any",
            practitioner_name=who[0],
            practitioner_role=who[1],
            half_days_per_term=6,
            daily_rate_pence=rate_pence,
            description=what,
            evidence="Supported schools in the partnership in 2025/26; outcomes shared on request.",
            ends_on=ends_on,
        ),
        today(),
    )


def load(chosen: dict[str, School], users: dict[str, User]) -> int:
    """Returns the number of offers there are afterwards."""
    if db.session.execute(select(SupportOffer.id).limit(1)).first() is not None:
        return len(offers.all_offers())
    offers.ensure_areas()
    now = today()
    admin = users[COUNCIL_ADMIN]
    year_end = now + timedelta(days=270)
    send = _offer(
        chosen["academy"],
        users["sbm2@example.org"],
        "SEND",
        ("Kate Ellis", "SENCO and SLE"),
        42000,
        "Setting up provision maps and reviewing SEN support plans with the SENCO.",
        year_end,
    )
    leadership = _offer(
        chosen["myland"],
        users["head3@example.org"],
        "Leadership",
        ("Ruth Adeyemi", "Headteacher, national leader of education"),
        50000,
        "Coaching for new headteachers in their first two years.",
        year_end,
    )
    maths = _offer(
        chosen["delasalle"],
        users["head4@example.org"],
        "Mathematics",
        ("Marcus Bell", "Maths hub lead"),
        38000,
        "Teaching for mastery in Key Stage 2: lesson study and subject leader coaching.",
        year_end,
    )
    for offer in (send, leadership, maths):
        offers.check_offer(offer, admin, approve=True)
    _offer(
        chosen["frinton"],
        users["sbm5@example.org"],
        "Safeguarding",
        ("Sophie Grant", "Designated safeguarding lead"),
        35000,
        "Peer review of safeguarding records and training for governors.",
        year_end,
    )
    buyer = chosen["maintained"]
    sbm, head = users["sbm@example.org"], users["head@example.org"]
    # The council invoices as the providing school's agent, for a 5% brokerage fee: the
    # delivered engagement below is recharged to the buyer and owed to the academy, less the fee.
    money.save_settings(money.MoneyChoice("council_agent", 500, "standard", 2000, "S2S"), admin)
    _delivered_engagement(buyer, sbm, head, send, admin, users["sbm2@example.org"], now)
    _open_request(buyer, sbm, maths, admin, now)
    requests.make_request(
        chosen["frinton"].id,
        users["sbm5@example.org"],
        requests.RequestDetails(
            _area("Governance"),
            "primary",
            "A review of how governors challenge leaders.",
            "Summer term",
            2,
            None,
        ),
    )
    db.session.flush()
    return len(offers.all_offers())


def _delivered_engagement(
    buyer: School,
    sbm: User,
    head: User,
    offer: SupportOffer,
    admin: User,
    provider: User,
    now: date,
) -> None:
    chose_on = now - timedelta(days=42)
    request = requests.make_request(
        buyer.id,
        sbm,
        requests.RequestDetails(
            offer.area_id,
            "primary",
            "Our new SENCO confident with provision maps by Christmas.",
            "Autumn term",
            3,
            150000,
        ),
    )
    requests.add_offer(request, offer.id, admin, "Strong record with new SENCOs", chose_on)
    requests.send_shortlist(request, admin)
    entry = request.entries[0]
    engagement = engagements.choose(
        request,
        entry.id,
        sbm,
        engagements.Agreement(3, chose_on, chose_on + timedelta(days=60)),
        chose_on,
    )
    assert engagement is not None
    engagements.answer(engagement, offer.school_id, provider, True, "")
    for days_ago, half_days, note in ((35, 2, "Provision map workshop"), (14, 1, "Review")):
        delivery = engagements.record_delivery(
            engagement,
            offer.school_id,
            provider,
            now - timedelta(days=days_ago),
            half_days,
            note,
            now,
        )
        engagements.confirm_delivery(engagement, buyer.id, head, delivery.id, True, "")
    engagements.rate(engagement, buyer.id, 5, "Practical and well prepared.")


def _open_request(buyer: School, sbm: User, offer: SupportOffer, admin: User, now: date) -> None:
    request = requests.make_request(
        buyer.id,
        sbm,
        requests.RequestDetails(
            offer.area_id,
            "primary",
            "Consistent maths teaching across Key Stage 2.",
            "Spring term",
            4,
            200000,
        ),
    )
    requests.add_offer(request, offer.id, admin, "", now)
    service = (
        db.session.execute(
            select(Service).where(Service.active.is_(True)).order_by(Service.sort_order)
        )
        .scalars()
        .first()
    )
    if service is not None and service.id in {
        e.service.id for e in requests.council_services(buyer)
    }:
        requests.add_service(request, service.id, admin, "Our own curriculum review")
    requests.send_shortlist(request, admin)
