"""Asking for what is not in the catalogue (issue 18 part 6): the council's answer becomes a basket
line at the answered price, or a refusal with its reason; e-mails both ways; another school never
sees the request or its line; the council sees demand by month and status."""

from __future__ import annotations

from typing import Any

from tests.conftest import text_of
from tests.plans_factories import asked
from traded_app.extensions import db
from traded_app.models import OutgoingEmail, ServiceRequest, ServiceRequestStatus
from traded_app.models.types import Role, VatTreatment
from traded_app.services.ordering import basket, bespoke
from traded_app.services.platform.settings import today


def _errors(response: Any) -> list[str]:
    return [a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")]


def _answer(as_role: Any, request_id: int, **overrides: str) -> Any:
    return as_role(Role.LA_ADMIN).post_form(
        f"/council/requests/{request_id}",
        {
            "service_name": "Phonics review",
            "group": "curriculum",
            "days": "1.5",
            "price": "525",
            "income_code": "SI-TRADED",
            "note": "Two advisers, one morning each",
            **overrides,
        },
    )


def test_an_answered_request_is_a_basket_line_at_the_answered_price(
    as_role: Any, world: Any
) -> None:
    world.council.contact_email = "traded@council.example"
    db.session.commit()
    sbm = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    sent = sbm.post_form(
        "/requests/new",
        {"what": "A review of our phonics teaching", "when_wanted": "Spring", "rough_days": "2"},
    )
    assert sent.status_code == 302
    request = db.session.query(ServiceRequest).one()
    assert (request.status, request.rough_half_days) == (ServiceRequestStatus.OPEN, 4)
    to_council = db.session.query(OutgoingEmail).filter_by(recipients="traded@council.example")
    assert "A review of our phonics teaching" in to_council.one().body

    # The school's catalogue is read while the request is open (so what the process keeps says
    # the school has no answered request): the answer is offered all the same once made.
    assert "Phonics review" not in sbm.get("/catalogue").get_data(as_text=True)

    # Bad input is a message, never a 500.
    bad = _answer(as_role, request.id, price="lots", days="0")
    assert bad.status_code == 200 and len(_errors(bad)) == 2
    answered = _answer(as_role, request.id)
    assert answered.status_code == 302, _errors(answered)
    db.session.expire_all()
    assert request.status == ServiceRequestStatus.ANSWERED
    # VAT as the council treats a maintained school: outside the scope, as in its catalogue.
    assert (request.half_days, request.price_per_day_pence, request.vat_treatment) == (
        3,
        52_500,
        VatTreatment.OUTSIDE_SCOPE,
    )
    told = db.session.query(OutgoingEmail).filter_by(
        recipients=world.users[Role.SCHOOL_BUSINESS_MANAGER].email
    )
    assert "Phonics review: 1.5 days at £525.00 a day" in told.one().body

    # The school adds it to its basket through the catalogue's own days form.
    page = sbm.get(f"/requests/{request.id}")
    assert "Phonics review" in text_of(page.soup, "#answer")
    form = page.soup.select_one("form[action^='/catalogue/services/']")
    added = sbm.post_form(form["action"], {i["name"]: i["value"] for i in form.select("input")})
    assert added.status_code == 302
    order = basket.draft_or_empty(world.school, world.year)
    summary = basket.summarise(order)
    (line,) = summary.lines
    assert (line.entry.service.name, line.half_days, line.entry.price_per_day_pence) == (
        "Phonics review",
        3,
        52_500,
    )
    assert line.net_pence == 78_750
    # Only at the answered days.
    refused = basket.set_typed_days(order, basket.offer_for(order), line.entry.service.id, "3")
    assert refused is not None and "1.5 to 1.5 days" in refused
    # Never in the catalogue for anyone else.
    catalogue = sbm.get("/catalogue").get_data(as_text=True)
    assert "Phonics review" in catalogue
    other = as_role.app.test_client().sign_in_as(world.academy_sbm)
    assert "Phonics review" not in other.get("/catalogue").get_data(as_text=True)
    assert line.entry.service.id not in basket.offer_to(world.academy, world.year)


def test_a_declined_request_says_why_and_cannot_then_be_answered(as_role: Any, world: Any) -> None:
    request = asked(world)
    admin = as_role(Role.LA_ADMIN)
    empty = admin.post_form(f"/council/requests/{request.id}/decline", {"reason": ""})
    assert _errors(empty) == ["Say why the council cannot"]
    done = admin.post_form(
        f"/council/requests/{request.id}/decline",
        {"reason": "Our advisers do not cover phonics this year: try the English hub"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert request.status == ServiceRequestStatus.DECLINED
    told = db.session.query(OutgoingEmail).filter_by(
        recipients=world.users[Role.SCHOOL_BUSINESS_MANAGER].email
    )
    assert "try the English hub" in told.one().body
    seen = as_role(Role.HEADTEACHER).get(f"/requests/{request.id}")
    assert "try the English hub" in text_of(seen.soup, "#answer")
    again = _answer(as_role, request.id)
    assert f"{request.reference} has already been declined" in _errors(again)[0]
    assert bespoke.entries_for(world.school, world.year) == {}


def test_another_school_never_sees_a_request(as_role: Any, world: Any) -> None:
    request = asked(world)
    _answer(as_role, request.id)
    db.session.expire_all()
    other = as_role.app.test_client().sign_in_as(world.academy_sbm)
    assert other.get(f"/requests/{request.id}").status_code == 404
    assert request.reference not in other.get("/requests").get_data(as_text=True)
    # Nor can it order the bespoke line by its number.
    tried = other.post_form(
        f"/catalogue/services/{request.service_id}/days",
        {f"days-{request.service_id}": "1.5"},
    )
    assert tried.status_code == 302
    draft = basket.draft_or_empty(world.academy, world.year)
    assert [line.service_id for line in draft.lines] == []


def test_the_council_sees_demand_by_month_and_status(as_role: Any, world: Any) -> None:
    first = asked(world)
    asked(world, "Support with a curriculum for a new resource base")
    _answer(as_role, first.id)
    page = as_role(Role.LA_ADMIN).get("/council/requests")
    month = f"{today():%Y-%m}"
    row = next(r for r in page.soup.select("#demand tbody tr") if month in r.get_text())
    cells = [c.get_text(strip=True) for c in row.select("td")]
    assert cells == ["1", "1", "0", "2"]  # waiting, answered, declined, all
    waiting = as_role(Role.LA_ADMIN).get("/council/requests?status=open")
    assert "new resource base" in text_of(waiting.soup, "#requests")
    assert "phonics" not in text_of(waiting.soup, "#requests")


def test_a_bespoke_line_is_never_offered_to_every_school(as_role: Any, world: Any) -> None:
    request = asked(world)
    _answer(as_role, request.id)
    db.session.expire_all()
    admin = as_role(Role.LA_ADMIN)
    refused = admin.post_form(f"/council/manage/services/{request.service_id}/reinstate")
    assert refused.status_code == 302
    page = admin.get(refused.location)
    assert "a bespoke line made for one school" in page.get_data(as_text=True)
    db.session.expire_all()
    assert request.service is not None and not request.service.active
