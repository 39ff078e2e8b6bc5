"""Advisers' calendars: the month with free half-days, the private iCalendar feed (valid, token
required, reset invalidates it) and the service manager's view of every adviser's week."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import text_of
from tests.factories import make_quadrant, make_user
from tests.integration.test_term_dates import Year
from traded_app.domain import school_calendar as rules
from traded_app.extensions import db
from traded_app.models import CancelledBy, Visit
from traded_app.models.types import Role
from traded_app.services.days import visits


def _book(
    world: Any, year: Year, on: Any, half_days: int, school: Any = None, adviser: Any = None
) -> Visit:
    visit = visits.schedule(
        visits.NewVisit(
            school or world.school,
            (adviser or world.users[Role.ADVISER]).id,
            on,
            half_days,
            visits.CORE,
            "Termly visit",
        ),
        world.users[Role.LA_ADMIN],
    )
    db.session.commit()
    return visit


def _row(page: Any, day: Any) -> str:
    for row in page.soup.select("#month tbody tr"):
        if row.th.get_text(" ", strip=True).split(" ")[:2] == [f"{day:%a}", str(day.day)]:
            return row.get_text(" ", strip=True)
    raise AssertionError(f"no row for {day}")


def test_the_month_shows_visits_and_free_half_days(as_role: Any, world: Any) -> None:
    year = Year(world)
    half = _book(world, year, year.t1_first + timedelta(days=1), 1)
    _book(world, year, year.t1_first + timedelta(days=2), 2)
    page = as_role(Role.ADVISER).get(f"/visits/month?month={year.t1_first:%Y-%m}")
    assert page.soup.h1.get_text(strip=True) == f"Visits in {year.t1_first:%B %Y}"
    assert _row(page, year.t1_first).endswith("Whole day")  # nothing booked
    assert "Riverside Primary School , half day" in _row(page, half.visit_date)
    assert _row(page, half.visit_date).endswith("Half day")
    assert _row(page, year.t1_first + timedelta(days=2)).endswith("None")
    before_term = year.t1_first - timedelta(days=3)  # the Friday before: a holiday
    if before_term.month == year.t1_first.month:
        assert "No visits: School holiday" in _row(page, before_term)
    # A service manager chooses whose month; a bad month shows this month, not an error.
    assert as_role(Role.LA_ADMIN).get("/visits/month?month=2026-13").status_code == 200


def test_the_feed_is_valid_icalendar_and_needs_its_token(as_role: Any, world: Any) -> None:
    year = Year(world)
    kept = _book(world, year, year.t1_first + timedelta(days=1), 2)
    dropped = _book(world, year, year.t1_first + timedelta(days=3), 1)
    visits.cancel(dropped, world.users[Role.ADVISER], CancelledBy.COUNCIL, "Adviser unwell")
    db.session.commit()
    adviser = as_role(Role.ADVISER)
    assert adviser.get("/visits/calendar-feed").soup.select_one("#feed-url") is None
    assert adviser.post_form("/visits/calendar-feed").status_code == 302
    url = adviser.get("/visits/calendar-feed").soup.select_one("#feed-url")["value"]
    path = url.split("localhost", 1)[-1]
    assert path.startswith("/calendar/") and path.endswith(".ics")

    anonymous = as_role(None)
    feed = anonymous.get(path)
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    body = feed.get_data()
    lines = body.split(b"\r\n")
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-2] == b"END:VCALENDAR"
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in body.replace(b"\r\n", b"")
    events = rules.read_ics(body)
    assert [(e.first_day, e.name) for e in events] == [
        (kept.visit_date, "Whole day: Riverside Primary School"),
        (dropped.visit_date, "Half day: Riverside Primary School"),
    ]
    text = body.decode()
    assert f"UID:visit-{kept.id}@" in text
    assert text.count("STATUS:CANCELLED") == 1

    assert anonymous.get("/calendar/not-the-token.ics").status_code == 404
    assert adviser.post_form("/visits/calendar-feed").status_code == 302
    assert anonymous.get(path).status_code == 404  # the old address stops at once
    new_url = adviser.get("/visits/calendar-feed").soup.select_one("#feed-url")["value"]
    assert new_url != url
    assert anonymous.get(new_url.split("localhost", 1)[-1]).status_code == 200


def test_a_deactivated_advisers_feed_stops(as_role: Any, world: Any) -> None:
    adviser = as_role(Role.ADVISER)
    adviser.post_form("/visits/calendar-feed")
    path = adviser.get("/visits/calendar-feed").soup.select_one("#feed-url")["value"]
    path = path.split("localhost", 1)[-1]
    world.users[Role.ADVISER].active = False
    db.session.commit()
    assert as_role(None).get(path).status_code == 404


def test_the_service_manager_sees_every_advisers_week_by_quadrant(as_role: Any, world: Any) -> None:
    year = Year(world)
    south = make_quadrant("SOU", "South")
    world.other_school.quadrant_id = south.id
    second = make_user("second@council.example", Role.ADVISER, name="Bea Second")
    db.session.commit()
    monday = year.t1_first
    _book(world, year, monday, 2)
    _book(world, year, monday + timedelta(days=1), 1, school=world.other_school)
    _book(world, year, monday + timedelta(days=1), 1, adviser=second)
    admin = as_role(Role.LA_ADMIN)
    page = admin.get(f"/council/adviser-load?week={monday.isoformat()}")
    rows = {
        row.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in row.select("td")]
        for row in page.soup.select("#load tbody tr")
    }
    adviser_name = world.users[Role.ADVISER].name
    assert rows[adviser_name][:6] == ["2", "1", "0", "0", "0", "3 of 10"]
    assert rows[adviser_name][6] == "Mid: 2, South: 1"
    assert rows["Bea Second"][:6] == ["0", "1", "0", "0", "0", "1 of 10"]
    only_south = admin.get(f"/council/adviser-load?week={monday.isoformat()}&quadrant={south.id}")
    assert "South" in text_of(only_south.soup, ".govuk-caption-l")
    south_rows = {
        row.th.get_text(strip=True): row.select("td")[5].get_text(" ", strip=True)
        for row in only_south.soup.select("#load tbody tr")
    }
    assert south_rows == {adviser_name: "1 of 10", "Bea Second": "0 of 10"}
