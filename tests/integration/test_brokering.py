"""School-to-school support: offers listed only once the council has checked them; requests
private to the school and the council; the broker's comparison built from records only; the
engagement chosen, accepted, delivered in half-days and confirmed; the demand the council sees."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from werkzeug.datastructures import MultiDict

from tests.brokering_helpers import (
    agreed_engagement,
    area_id,
    listed_offer,
    offer_details,
    request_details,
    shortlisted_request,
)
from tests.conftest import text_of
from tests.factories import make_user
from traded_app.extensions import db
from traded_app.models import (
    Engagement,
    EngagementStatus,
    OfferStatus,
    OutgoingEmail,
    RequestStatus,
    SupportOffer,
    SupportRequest,
)
from traded_app.models.types import Role
from traded_app.services.brokering import demand, engagements, offers, requests
from traded_app.services.platform.settings import today


def _errors(response: Any) -> list[str]:
    return [a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")]


def _post(client: Any, url: str, data: Any = None) -> Any:
    """POST a form as a browser would, repeated names (the date's three inputs) included."""
    pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
    return client.post(url, data=MultiDict([("csrf_token", client.csrf_token()), *pairs]))


def _date_fields(name: str, day: Any) -> list[tuple[str, str]]:
    return [(name, str(day.day)), (name, str(day.month)), (name, str(day.year))]


def _other_school_head(world: Any) -> Any:
    user = make_user("head@hilltop.example", Role.HEADTEACHER, world.other_school)
    db.session.commit()
    return user


def test_an_offer_is_seen_by_other_schools_only_once_listed(
    app: Any, as_role: Any, world: Any
) -> None:
    offers.ensure_areas()
    db.session.commit()
    academy = as_role(None)
    academy.sign_in_as(world.academy_sbm)
    sent = _post(
        academy,
        "/support/offers/new",
        [
            ("area_id", str(area_id("SEND"))),
            ("phase", "primary"),
            ("practitioner_name", "Sam Patel"),
            ("practitioner_role", "Specialist leader of education"),
            ("days_per_term", "2.5"),
            ("daily_rate", "£400"),
            ("description", "Provision maps with SENCOs."),
            ("evidence", ""),
            *_date_fields("ends_on", today() + timedelta(days=200)),
        ],
    )
    assert sent.status_code == 302
    offer = db.session.query(SupportOffer).one()
    assert (offer.half_days_per_term, offer.daily_rate_pence, offer.status) == (
        5,
        40000,
        OfferStatus.AWAITING_CHECK,
    )
    school = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert school.get(f"/support/offers/{offer.id}").status_code == 404
    assert "Sam Patel" not in school.get("/support/offers").get_data(as_text=True)

    admin = as_role(Role.LA_ADMIN)
    assert offer.reference in text_of(admin.get("/council/support/offers").soup, "#to-check")
    # The adviser may read it but only the service manager checks it.
    assert (
        as_role(Role.ADVISER)
        .post_form(f"/council/support/offers/{offer.id}/check", {"decision": "yes"})
        .status_code
        == 403
    )
    refused = _post(admin, f"/council/support/offers/{offer.id}/check", {"decision": "no"})
    assert _errors(refused) == ["Say why the offer cannot be listed"]
    listed = _post(admin, f"/council/support/offers/{offer.id}/check", {"decision": "yes"})
    assert listed.status_code == 302
    db.session.refresh(offer)
    assert offer.status == OfferStatus.LISTED
    told = db.session.query(OutgoingEmail).filter_by(kind="support_offer", ref_id=offer.id).one()
    assert told.recipients == world.academy_sbm.email

    assert "Sam Patel" in text_of(school.get("/support/offers").soup, "main")
    assert school.get(f"/support/offers/{offer.id}").status_code == 200
    # Paused by its school: gone from the list; an ended one likewise.
    _post(academy, f"/support/offers/{offer.id}/pause", {"pause": "yes"})
    assert "Sam Patel" not in text_of(school.get("/support/offers").soup, "main")
    _post(academy, f"/support/offers/{offer.id}/pause", {"pause": "no"})
    assert "Sam Patel" in text_of(school.get("/support/offers").soup, "main")
    assert offers.available_offers(offer.ends_on + timedelta(days=1)) == []
    # A change goes back to the council before it is listed again.
    offers.save_offer(offer, world.academy.id, world.academy_sbm, offer_details(), today())
    db.session.commit()
    assert school.get(f"/support/offers/{offer.id}").status_code == 404


def test_bad_offers_are_refused_with_the_fields_message_and_nothing_saved(
    app: Any, as_role: Any, world: Any
) -> None:
    offers.ensure_areas()
    db.session.commit()
    school = as_role(Role.HEADTEACHER)
    page = _post(
        school,
        "/support/offers/new",
        [
            ("area_id", "999999"),
            ("phase", "primary"),
            ("practitioner_name", "A"),
            ("practitioner_role", "B"),
            ("days_per_term", "2,5"),
            ("daily_rate", "lots"),
            ("description", "x"),
            *_date_fields("ends_on", today() - timedelta(days=1)),
        ],
    )
    errors = _errors(page)
    assert any(e.startswith("Days available a term") for e in errors)
    assert any(e.startswith("Daily rate") for e in errors)
    fixed = _post(
        school,
        "/support/offers/new",
        [
            ("area_id", "999999"),
            ("phase", "primary"),
            ("practitioner_name", "A"),
            ("practitioner_role", "B"),
            ("days_per_term", "2"),
            ("daily_rate", "300"),
            ("description", "x"),
            *_date_fields("ends_on", today() - timedelta(days=1)),
        ],
    )
    assert _errors(fixed) == ["Select an area from the list"]
    assert db.session.query(SupportOffer).count() == 0


def test_a_request_is_private_to_its_school_and_the_council(
    app: Any, as_role: Any, world: Any
) -> None:
    offers.ensure_areas()
    db.session.commit()
    school = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    made = _post(
        school,
        "/support/requests/new",
        {
            "area_id": str(area_id("SEND")),
            "phase": "primary",
            "outcome": "Provision maps in place by Easter",
            "when": "Spring term",
            "days": "2",
            "budget": "",
        },
    )
    request = db.session.query(SupportRequest).one()
    assert made.location.endswith(f"/support/requests/{request.id}")
    assert (request.half_days, request.budget_pence, request.status) == (
        4,
        None,
        RequestStatus.OPEN,
    )
    assert db.session.query(OutgoingEmail).filter_by(kind="support_request").one().recipients == (
        world.users[Role.LA_ADMIN].email
    )
    assert school.get(f"/support/requests/{request.id}").status_code == 200
    other = as_role(None)
    other.sign_in_as(_other_school_head(world))
    assert other.get(f"/support/requests/{request.id}").status_code == 404
    provider = as_role(None)
    provider.sign_in_as(world.academy_sbm)
    assert provider.get(f"/support/requests/{request.id}").status_code == 404
    # Advisers see the requests they broker; the service manager sees every one.
    adviser = as_role(Role.ADVISER)
    assert adviser.get(f"/council/support/requests/{request.id}").status_code == 404
    assert request.reference not in adviser.get("/council/support").get_data(as_text=True)
    admin = as_role(Role.LA_ADMIN)
    assert request.reference in text_of(admin.get("/council/support").soup, "#requests")
    _post(
        admin,
        f"/council/support/requests/{request.id}/broker",
        {"broker_id": str(world.users[Role.ADVISER].id)},
    )
    assert adviser.get(f"/council/support/requests/{request.id}").status_code == 200


def test_the_broker_compares_providers_from_their_records_only(
    app: Any, as_role: Any, world: Any
) -> None:
    offer = listed_offer(world)
    own = listed_offer(world, school=world.school, user=world.users[Role.HEADTEACHER])
    request = requests.make_request(
        world.school.id, world.users[Role.SCHOOL_BUSINESS_MANAGER], request_details()
    )
    db.session.commit()
    admin = as_role(Role.LA_ADMIN)
    page = admin.get(f"/council/support/requests/{request.id}")
    choices = [o.get("value") for o in page.soup.select("#choice option")]
    assert f"o{offer.id}" in choices and f"o{own.id}" not in choices
    assert f"s{world.service.id}" in choices
    own_added = _post(
        admin, f"/council/support/requests/{request.id}/shortlist", {"choice": f"o{own.id}"}
    )
    assert _errors(own_added) == ["A school cannot be shortlisted for its own request"]
    nothing = _post(admin, f"/council/support/requests/{request.id}/send", {})
    assert nothing.status_code == 302
    db.session.refresh(request)
    assert request.status == RequestStatus.OPEN  # nothing to send yet
    _post(
        admin,
        f"/council/support/requests/{request.id}/shortlist",
        {"choice": f"o{offer.id}", "note": "Worked with three SENCOs"},
    )
    _post(
        admin,
        f"/council/support/requests/{request.id}/shortlist",
        {"choice": f"s{world.service.id}"},
    )
    school = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert school.get(f"/support/requests/{request.id}").soup.select_one("#comparison") is None
    _post(admin, f"/council/support/requests/{request.id}/send", {})
    db.session.refresh(request)
    assert request.status == RequestStatus.SHORTLIST_SENT
    shortlist_mail = db.session.query(OutgoingEmail).filter_by(kind="support_shortlist").one()
    assert world.users[Role.SCHOOL_BUSINESS_MANAGER].email in shortlist_mail.recipients

    rows = school.get(f"/support/requests/{request.id}").soup.select("#comparison tbody tr")
    assert len(rows) == 2
    academy_row = rows[0].get_text(" ", strip=True)
    assert world.academy.name in academy_row
    assert "£400.00" in academy_row and "£800.00" in academy_row  # 2 days at £400
    assert "No deliveries recorded yet" in academy_row
    council_row = rows[1].get_text(" ", strip=True)
    assert world.service.name in council_row
    assert "No deliveries recorded yet" in council_row

    # A delivered, rated engagement becomes part of the academy's record.
    done = agreed_engagement(world, offer, half_days=1)
    engagements.record_delivery(done, world.academy.id, world.academy_sbm, today(), 1, "", today())
    engagements.confirm_delivery(
        done, world.school.id, world.users[Role.HEADTEACHER], done.deliveries[0].id, True, ""
    )
    engagements.rate(done, world.school.id, 4, "Practical")
    db.session.commit()
    row = school.get(f"/support/requests/{request.id}").soup.select("#comparison tbody tr")[0]
    assert "1 engagement, 0.5 days delivered; rated 4.0 out of 5 by 1 school" in row.get_text(
        " ", strip=True
    )


def test_choosing_a_school_accepting_delivering_and_confirming(
    app: Any, as_role: Any, world: Any
) -> None:
    offer = listed_offer(world)
    request = shortlisted_request(world, offer)
    entry = next(e for e in request.entries if e.offer_id == offer.id)
    school = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    start, end = today(), today() + timedelta(days=30)
    no_dates = _post(
        school,
        f"/support/requests/{request.id}/choose",
        {"entry_id": str(entry.id), "days": "1.5"},
    )
    assert _errors(no_dates) == ["Enter the start date", "Enter the end date"]
    chosen = _post(
        school,
        f"/support/requests/{request.id}/choose",
        [
            ("entry_id", str(entry.id)),
            ("days", "1.5"),
            *_date_fields("starts_on", start),
            *_date_fields("ends_on", end),
        ],
    )
    engagement = db.session.query(Engagement).one()
    assert chosen.location.endswith(f"/support/engagements/{engagement.id}")
    assert (engagement.half_days, engagement.daily_rate_pence, engagement.status) == (
        3,
        40000,
        EngagementStatus.PROPOSED,
    )
    asked = db.session.query(OutgoingEmail).filter_by(kind="engagement").one()
    assert asked.recipients == world.academy_sbm.email

    provider = as_role(None)
    provider.sign_in_as(world.academy_sbm)
    declined = _post(
        provider, f"/support/engagements/{engagement.id}/answer", {"decision": "no", "reason": ""}
    )
    assert _errors(declined) == ["Say why the school cannot take this on"]
    _post(
        provider,
        f"/support/engagements/{engagement.id}/answer",
        {"decision": "no", "reason": "Our SLE is on leave this term"},
    )
    db.session.refresh(request)
    assert request.status == RequestStatus.SHORTLIST_SENT  # choose again
    assert "Our SLE is on leave" in school.get(f"/support/requests/{request.id}").get_data(
        as_text=True
    )
    # Another school never sees the engagement.
    other = as_role(None)
    other.sign_in_as(_other_school_head(world))
    assert other.get(f"/support/engagements/{engagement.id}").status_code == 404

    again = agreed_engagement(world, offer, half_days=3)
    record = _post(
        provider,
        f"/support/engagements/{again.id}/deliveries",
        [*_date_fields("delivered_on", today()), ("half_days", "2"), ("note", "Audit")],
    )
    assert record.status_code == 302
    _post(
        provider,
        f"/support/engagements/{again.id}/deliveries",
        [*_date_fields("delivered_on", today()), ("half_days", "1"), ("note", "")],
    )
    too_many = _post(
        provider,
        f"/support/engagements/{again.id}/deliveries",
        [*_date_fields("delivered_on", today()), ("half_days", "1")],
    )
    assert _errors(too_many) == ["Only 0 days of the agreed 1.5 days are left to record"]
    future = _post(
        provider,
        f"/support/engagements/{again.id}/deliveries",
        [*_date_fields("delivered_on", today() + timedelta(days=3)), ("half_days", "1")],
    )
    assert _errors(future) == ["The date cannot be in the future"]
    # Only the provider records; only the buyer confirms.
    assert _errors(
        _post(
            school,
            f"/support/engagements/{again.id}/deliveries",
            [*_date_fields("delivered_on", today()), ("half_days", "1")],
        )
    ) == ["Only the providing school records what it delivered"]
    db.session.refresh(again)
    first, second = sorted(again.deliveries, key=lambda d: -d.half_days)
    assert (
        _post(
            provider,
            f"/support/engagements/{again.id}/deliveries/{first.id}/confirm",
            {"decision": "yes"},
        ).status_code
        == 200
    )  # refused on the page: only the buyer confirms
    head = as_role(Role.HEADTEACHER)
    _post(
        head, f"/support/engagements/{again.id}/deliveries/{first.id}/confirm", {"decision": "yes"}
    )
    query = _post(
        head,
        f"/support/engagements/{again.id}/deliveries/{second.id}/confirm",
        {"decision": "no", "reason": ""},
    )
    assert _errors(query) == ["Say what is wrong with the record"]
    _post(
        head,
        f"/support/engagements/{again.id}/deliveries/{second.id}/confirm",
        {"decision": "no", "reason": "That was a phone call"},
    )
    db.session.refresh(again)
    days = engagements.days_of(again)
    assert (days.agreed, days.confirmed, days.awaiting, days.left) == (3, 2, 0, 1)
    # The queried record is withdrawn by the provider; the half-day is recorded again.
    _post(provider, f"/support/engagements/{again.id}/deliveries/{second.id}/withdraw", {})
    _post(
        provider,
        f"/support/engagements/{again.id}/deliveries",
        [*_date_fields("delivered_on", today()), ("half_days", "1"), ("note", "Follow-up")],
    )
    db.session.refresh(again)
    last = next(d for d in again.deliveries if d.confirmed_at is None)
    _post(
        head, f"/support/engagements/{again.id}/deliveries/{last.id}/confirm", {"decision": "yes"}
    )
    db.session.refresh(again)
    assert again.status == EngagementStatus.COMPLETED
    _post(head, f"/support/engagements/{again.id}/rate", {"rating": "5", "comment": "Superb"})
    db.session.refresh(again)
    assert (again.rating, again.rating_comment) == (5, "Superb")
    twice = _post(head, f"/support/engagements/{again.id}/rate", {"rating": "1"})
    assert _errors(twice) == ["You have rated this support already"]

    # The buyer's Days page shows the engagement's days beside its traded and core days.
    table = text_of(head.get("/days").soup, "#engagement-days")
    assert f"SEND from {world.academy.name}" in table
    assert "1.5 days 1.5 days 0 days" in table


def test_choosing_the_councils_service_sends_the_school_to_order_it(
    app: Any, as_role: Any, world: Any
) -> None:
    request = shortlisted_request(world, listed_offer(world))
    entry = next(e for e in request.entries if e.service_id is not None)
    answer = as_role(Role.HEADTEACHER).post_form(
        f"/support/requests/{request.id}/choose", {"entry_id": str(entry.id)}
    )
    assert answer.location.endswith("/catalogue")
    db.session.refresh(request)
    assert (request.status, request.chosen_service_id) == (RequestStatus.CHOSEN, world.service.id)
    assert db.session.query(Engagement).count() == 0


def test_demand_by_area_quadrant_and_month_and_what_nobody_offers(
    app: Any, as_role: Any, world: Any
) -> None:
    engagement = agreed_engagement(world, half_days=2)
    engagements.record_delivery(
        engagement, world.academy.id, world.academy_sbm, today(), 2, "", today()
    )
    engagements.confirm_delivery(
        engagement,
        world.school.id,
        world.users[Role.HEADTEACHER],
        engagement.deliveries[0].id,
        True,
        "",
    )
    requests.make_request(
        world.school.id,
        world.users[Role.SCHOOL_BUSINESS_MANAGER],
        request_details(area="Governance"),
    )
    db.session.commit()
    figures = demand.demand(today())
    send = next(r for r in figures.by_area if r.name == "SEND")
    assert (send.offers, send.requests, send.engagements, send.delivered_half_days) == (
        1,
        1,
        1,
        2,
    )
    quadrant = next(r for r in figures.by_quadrant if r.name == world.quadrant.name)
    assert (quadrant.requests, quadrant.open_requests, quadrant.engagements) == (2, 1, 1)
    this_month = figures.by_month[-1]
    assert (this_month.requests, this_month.engagements, this_month.delivered_half_days) == (
        2,
        1,
        2,
    )
    assert [r.name for r in figures.unmet] == ["Governance"]
    page = as_role(Role.LA_ADMIN).get("/council/support/demand")
    assert "Governance: 1 request in the period, 1 open" in text_of(page.soup, "#unmet")
    assert as_role(Role.ADVISER).get("/council/support/demand").status_code == 403


def test_a_record_not_of_the_page_it_is_posted_from_is_not_found_and_nothing_changes(
    app: Any, as_role: Any, world: Any
) -> None:
    offer = listed_offer(world)
    request = requests.make_request(
        world.school.id, world.users[Role.SCHOOL_BUSINESS_MANAGER], request_details()
    )
    requests.add_offer(request, offer.id, world.users[Role.LA_ADMIN], "", today())
    engagement = agreed_engagement(world, offer)
    engagements.record_delivery(
        engagement, world.academy.id, world.academy_sbm, today(), 1, "", today()
    )
    db.session.commit()
    entry_id, delivery_id = request.entries[0].id, engagement.deliveries[0].id
    admin = as_role(Role.LA_ADMIN)
    stranger = f"/council/support/requests/{request.id}/shortlist/{entry_id + 999}/remove"
    assert _post(admin, stranger, {}).status_code == 404
    provider = as_role(None)
    provider.sign_in_as(world.academy_sbm)
    elsewhere = f"/support/engagements/{engagement.id}/deliveries/{delivery_id + 999}/withdraw"
    assert _post(provider, elsewhere, {}).status_code == 404
    db.session.expire_all()
    assert [e.id for e in db.session.get(SupportRequest, request.id).entries] == [entry_id]
    assert [d.id for d in db.session.get(Engagement, engagement.id).deliveries] == [delivery_id]
    # The right ones go, each with its message.
    removed = _post(
        admin, f"/council/support/requests/{request.id}/shortlist/{entry_id}/remove", {}
    )
    assert removed.status_code == 302
    withdrawn = provider.post_form(
        f"/support/engagements/{engagement.id}/deliveries/{delivery_id}/withdraw",
        follow_redirects=True,
    )
    assert "Record withdrawn." in text_of(withdrawn.soup, ".govuk-notification-banner")
    db.session.expire_all()
    assert db.session.get(SupportRequest, request.id).entries == []
    assert db.session.get(Engagement, engagement.id).deliveries == []
