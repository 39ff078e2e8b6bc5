"""Advisers book, deliver and cancel visits through the forms; bad input is refused cleanly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import text_of
from tests.factories import (
    book_visit,
    confirmed_order,
    core_allocation,
    make_user,
    weekday_in_year,
)
from traded_app.extensions import db
from traded_app.models import OrderStatus, Visit, VisitStatus
from traded_app.models.types import Role
from traded_app.services.days import visits


def _form(world: Any, on: Any, **values: Any) -> dict[str, Any]:
    return {
        "adviser_id": str(world.users[Role.ADVISER].id),
        "visit_date": [str(on.day), str(on.month), str(on.year)],
        "half_days": "2",
        "against": "core",
        "purpose": "Termly visit",
        **values,
    }


def _errors(response: Any) -> list[str]:
    return [a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")]


def test_adviser_books_a_visit_and_sees_it_in_the_week(as_role: Any, world: Any) -> None:
    core_allocation(world, 4)
    on = weekday_in_year(world)
    client = as_role(Role.ADVISER)
    choose = client.get("/visits/new")
    assert choose.soup.h1.get_text(strip=True) == "Book a visit"
    form = client.get(f"/visits/new?school={world.school.urn}")
    assert "Core days not yet booked" in form.get_data(as_text=True)
    done = client.post_form(f"/visits/new?school={world.school.urn}", _form(world, on))
    assert done.status_code == 302, _errors(done)
    week = client.get(f"/visits?week={on.isoformat()}")
    assert "Riverside Primary School" in week.get_data(as_text=True)
    visit = db.session.query(Visit).one()
    assert (visit.half_days, visit.status, visit.visit_date) == (2, VisitStatus.SCHEDULED, on)


def test_unknown_school_urn_is_an_error_on_the_first_step(as_role: Any, world: Any) -> None:
    page = as_role(Role.ADVISER).get("/visits/new?school=abc")
    assert _errors(page) == ["Enter the URN of a school, like 114999"]
    assert page.soup.title.get_text().startswith("Error:")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"half_days": "3"}, "Not a valid choice."),
        ({"purpose": ""}, "Enter the purpose of the visit"),
        ({"visit_date": ["", "", ""]}, "Enter the date of the visit"),
        (
            {"visit_date": ["30", "2", "2027"]},
            "Date of the visit must be a real date, like 27 3 2027",
        ),
    ],
)
def test_form_errors(as_role: Any, world: Any, change: dict[str, Any], message: str) -> None:
    core_allocation(world, 4)
    response = as_role(Role.ADVISER).post_form(
        f"/visits/new?school={world.school.urn}", _form(world, weekday_in_year(world), **change)
    )
    assert response.status_code == 200
    assert message in _errors(response)
    assert db.session.query(Visit).count() == 0


def _saturday(world: Any) -> Any:
    day = weekday_in_year(world)
    while day.weekday() != 5:
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize("case", ["weekend", "outside_year", "too_many", "other_school", "double"])
def test_booking_refusals(as_role: Any, world: Any, case: str) -> None:
    core_allocation(world, 3)
    on = weekday_in_year(world)
    values: dict[str, Any] = {}
    expected = ""
    if case == "weekend":
        day = _saturday(world)
        values["visit_date"] = [str(day.day), str(day.month), str(day.year)]
        expected = "is a Saturday: choose a weekday"
    elif case == "outside_year":
        order = confirmed_order(world, 2)
        day = world.year.ends_on + timedelta(days=7)
        values = {
            "visit_date": [str(day.day), str(day.month), str(day.year)],
            "against": str(order.lines[0].id),
        }
        expected = f"must be in the {world.year.label} academic year"
    elif case == "too_many":
        book_visit(world, half_days=2, on=on)
        other_day = on + timedelta(days=1 if on.weekday() < 4 else 3)
        values["visit_date"] = [str(other_day.day), str(other_day.month), str(other_day.year)]
        expected = "has 0.5 days left to book, and this visit needs 1 day"
    elif case == "other_school":
        other_order = confirmed_order(world, 2, school=world.academy)
        values["against"] = str(other_order.lines[0].id)
        expected = ""  # not even offered: WTForms refuses the choice
    elif case == "double":
        core_allocation(world, 4, school=world.other_school)
        book_visit(world, school=world.other_school, half_days=1, on=on)
        expected = "already has 0.5 days booked"
    client = as_role(Role.LA_ADMIN)
    before = db.session.query(Visit).count()
    response = client.post_form(
        f"/visits/new?school={world.school.urn}", _form(world, on, **values)
    )
    assert response.status_code == 200
    errors = " ".join(_errors(response))
    assert expected in errors and errors
    assert db.session.query(Visit).count() == before


def test_a_visit_against_another_schools_order_is_refused_by_the_service(world: Any) -> None:
    other_order = confirmed_order(world, 2, school=world.academy)
    with pytest.raises(visits.VisitError, match="That order is not Riverside Primary School's"):
        book_visit(world, against=str(other_order.lines[0].id))


def test_an_adviser_cannot_book_for_another_adviser(world: Any) -> None:
    core_allocation(world, 4)
    other = make_user("other@council.example", Role.ADVISER)
    with pytest.raises(visits.VisitError, match="only book visits for yourself"):
        visits.schedule(
            visits.NewVisit(world.school, other.id, weekday_in_year(world), 1, "core", "Visit"),
            world.users[Role.ADVISER],
        )


def test_deliver_then_order_completes(as_role: Any, world: Any) -> None:
    order = confirmed_order(world, 2)
    visit = book_visit(world, on=weekday_in_year(world, past=True), against=str(order.lines[0].id))
    client = as_role(Role.ADVISER)
    empty = client.post_form(f"/visits/{visit.id}/deliver", {"note": ""})
    assert _errors(empty) == ["Enter a short note of what was done"]
    done = client.post_form(f"/visits/{visit.id}/deliver", {"note": "Objectives agreed"})
    assert done.status_code == 302
    db.session.refresh(order)
    assert order.status == OrderStatus.COMPLETED
    assert [e.to_status for e in order.events][-1] == "completed"
    page = client.get(done.location)
    assert "Objectives agreed" in page.get_data(as_text=True)


def test_delivering_a_cancelled_visit_is_refused(as_role: Any, world: Any) -> None:
    core_allocation(world, 4)
    visit = book_visit(world, on=weekday_in_year(world, past=True))
    client = as_role(Role.LA_ADMIN)
    cancelled = client.post_form(
        f"/visits/{visit.id}/cancel", {"party": "council", "reason": "Adviser ill"}
    )
    assert cancelled.status_code == 302
    refused = client.post_form(f"/visits/{visit.id}/deliver", {"note": "Done"})
    assert refused.status_code == 409
    assert "is cancelled, so it cannot be delivered" in text_of(
        refused.soup, ".govuk-error-summary"
    )
    db.session.refresh(visit)
    assert visit.status == VisitStatus.CANCELLED and visit.delivered_at is None


def test_a_future_visit_cannot_be_delivered_yet(world: Any) -> None:
    core_allocation(world, 4)
    visit = book_visit(world, on=weekday_in_year(world))
    with pytest.raises(visits.VisitError, match="record it as delivered on or after that day"):
        visits.deliver(
            visit, world.users[Role.ADVISER], "Done", on=visit.visit_date - timedelta(days=1)
        )


def test_late_cancellation_by_the_school_shows_as_charged(as_role: Any, world: Any) -> None:
    core_allocation(world, 4)
    visit = book_visit(world, on=weekday_in_year(world))  # within the 10 days' notice
    client = as_role(Role.ADVISER)
    form = client.get(f"/visits/{visit.id}/cancel")
    assert "will be charged" in form.get_data(as_text=True)
    done = client.post_form(f"/visits/{visit.id}/cancel", {"party": "school", "reason": "Trip"})
    assert done.status_code == 302
    db.session.refresh(visit)
    assert visit.chargeable and visit.cancelled_by_id == world.users[Role.ADVISER].id
    days = as_role(Role.HEADTEACHER).get("/days")
    assert "Late cancellation: the days are charged." in days.get_data(as_text=True)


def test_another_advisers_visit_cannot_be_changed(as_role: Any, world: Any) -> None:
    core_allocation(world, 4)
    other = make_user("other@council.example", Role.ADVISER)
    db.session.commit()
    day = weekday_in_year(world, past=True)
    visit = visits.schedule(
        visits.NewVisit(world.school, other.id, day, 1, "core", "V"),
        world.users[Role.LA_ADMIN],
        booked_on=day,
    )
    db.session.commit()
    response = as_role(Role.ADVISER).post_form(f"/visits/{visit.id}/deliver", {"note": "Done"})
    assert response.status_code == 409
    assert "Only the visit's adviser" in text_of(response.soup, ".govuk-error-summary")


def test_unknown_visit_is_not_found(as_role: Any, world: Any) -> None:
    assert as_role(Role.ADVISER).get("/visits/99999999999").status_code == 404
