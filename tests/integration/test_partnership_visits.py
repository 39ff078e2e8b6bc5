"""Visits against a confirmed partnership order (issue 16 part 3): one visit for several of the
schools taking part, drawing the line's days once, never past what the line has left.

Runs on the suite's database: an SQLite file, and PostgreSQL with TRADED_TEST_DB=postgres.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from tests.conftest import text_of
from tests.factories import make_user, weekday_in_year
from tests.partnership_factories import confirmed_partnership_order
from traded_app.domain.types import CancelledBy
from traded_app.extensions import db
from traded_app.models import OutgoingEmail, SharedVisit, User, Visit, VisitStatus
from traded_app.models.partnership_orders import PartnershipOrder
from traded_app.models.types import Role
from traded_app.services.days import (
    adviser_calendar,
    feedback,
    partnership_days,
    partnership_visits,
    shared_visits,
    visits,
)
from traded_app.services.days import ledger as days_ledger
from traded_app.services.ordering import partnership_credits
from traded_app.services.platform.settings import today


def _book(
    world: Any,
    order: PartnershipOrder,
    schools: list[Any],
    *,
    on: Any = None,
    half_days: int = 2,
    by: Role = Role.LA_ADMIN,
) -> SharedVisit:
    day = on or weekday_in_year(world)
    shared = partnership_visits.book(
        order,
        partnership_visits.NewPartnershipVisit(
            adviser_id=world.users[Role.ADVISER].id,
            visit_date=day,
            half_days=half_days,
            school_ids=[s.id for s in schools],
            line_id=order.lines[0].id,
        ),
        world.users[by],
        booked_on=min(day, today()),  # a past visit booked on its day, to be delivered
    )
    db.session.commit()
    return shared


def _line(order: PartnershipOrder) -> partnership_visits.LineFigures:
    db.session.expire_all()
    return partnership_visits.line_figures(db.session.get(PartnershipOrder, order.id))[0]


def _client(as_role: Any, user: User) -> Any:
    return as_role.app.test_client().sign_in_as(user)


def _errors(response: Any) -> list[str]:
    return [li.get_text(strip=True) for li in response.soup.select(".govuk-error-summary li")]


def _partnership_row(page: Any) -> dict[str, str]:
    headers = [
        th.get_text(" ", strip=True) for th in page.soup.select("#partnership-days thead th")
    ]
    cells = [td.get_text(" ", strip=True) for td in page.soup.select("#partnership-days tbody td")]
    return dict(zip(headers, cells, strict=True))


def test_a_visit_for_two_of_three_members_draws_the_lines_days_once(
    as_role: Any, world: Any
) -> None:
    order, _documents = confirmed_partnership_order(world)  # 3 days of one service, 3 members
    day = weekday_in_year(world)
    page = as_role(Role.ADVISER).get(
        f"/council/partnership-orders/{order.id}/visits/new?line={order.lines[0].id}"
    )
    assert page.status_code == 200
    assert [
        label.get_text(strip=True) for label in page.soup.select(".govuk-checkboxes label")
    ] == [
        "Brook Academy",
        "Meadow Academy",
        "Riverside Primary School",
    ]
    booked = as_role(Role.ADVISER).post_form(
        f"/council/partnership-orders/{order.id}/visits/new",
        {
            "line_id": str(order.lines[0].id),
            "school_ids": [str(world.school.id), str(world.academy.id)],
            "adviser_id": str(world.users[Role.ADVISER].id),
            "visit_date": [str(day.day), str(day.month), str(day.year)],
            "half_days": "2",
            "purpose": "Appraisal objectives with both heads",
        },
    )
    assert booked.status_code == 302, _errors(booked)
    shared = db.session.query(SharedVisit).one()
    assert booked.headers["Location"].endswith(f"/council/shared-visits/{shared.id}")

    # One day from the line, not one from each school; the schools' own days untouched.
    line = _line(order)
    assert (line.bought, line.use.scheduled, line.use.used, line.left) == (6, 2, 0, 4)
    assert sorted(v.school_id for v in shared.visits) == sorted([world.school.id, world.academy.id])
    for school in (world.school, world.academy):
        assert days_ledger.school_ledger(school.id, world.year.id).total.scheduled == 0
    assert visits.booked_half_days(world.users[Role.ADVISER].id, day) == 2

    # Each school visited sees it on its Days page, with the partnership's days counted once.
    own = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/days")
    assert "Appraisal objectives with both heads" in own.get_data(as_text=True)
    assert "a visit from the partnership's days with 1 other school" in own.get_data(as_text=True)
    row = _partnership_row(own)
    assert row["Bought for the partnership"] == "3 days"
    assert (row["Booked"], row["Delivered"], row["Left to book"]) == ("1 day", "0 days", "2 days")
    academy = _client(as_role, world.academy_sbm).get("/days")
    assert "Appraisal objectives with both heads" in academy.get_data(as_text=True)
    # The third member shares the days (its table says so) but was not visited.
    brook = _client(as_role, world.brook_sbm).get("/days")
    assert "Appraisal objectives with both heads" not in brook.get_data(as_text=True)
    assert _partnership_row(brook)["Left to book"] == "2 days"


def test_a_visit_cannot_draw_more_than_the_line_has_left(as_role: Any, world: Any) -> None:
    order, _documents = confirmed_partnership_order(world)
    first = weekday_in_year(world)
    for week in range(3):  # the adviser works a day a date: three dates use the 3 days
        _book(world, order, [world.school], on=first + timedelta(days=7 * week))
    assert _line(order).left == 0

    later = first + timedelta(days=28)
    with pytest.raises(visits.VisitError, match="has no days left to book"):
        _book(world, order, [world.school, world.brook], on=later, half_days=1)
    db.session.rollback()
    refused = as_role(Role.LA_ADMIN).post_form(
        f"/council/partnership-orders/{order.id}/visits/new",
        {
            "line_id": str(order.lines[0].id),
            "school_ids": [str(world.brook.id)],
            "adviser_id": str(world.users[Role.ADVISER].id),
            "visit_date": [str(later.day), str(later.month), str(later.year)],
            "half_days": "1",
        },
    )
    assert refused.status_code == 200
    assert _errors(refused) == [
        f"{order.reference}'s Headteacher performance management has no days left to book, "
        "and this visit needs 0.5 days"
    ]
    assert db.session.query(SharedVisit).count() == 3

    # A school outside the order is refused too.
    db.session.expire_all()
    order = db.session.get(PartnershipOrder, order.id)
    with pytest.raises(visits.VisitError, match="Select schools taking part"):
        _book(world, order, [world.other_school], on=later, half_days=1)
    db.session.rollback()


def _race(app: Flask, jobs: list[Callable[[], object]]) -> list[str]:
    """Each job in its own thread and session, released together; what each one says."""
    start = threading.Barrier(len(jobs))
    outcomes = [""] * len(jobs)

    def run(index: int, job: Callable[[], object]) -> None:
        start.wait(timeout=30)
        with app.app_context():
            try:
                job()
                db.session.commit()
                outcomes[index] = "booked"
            except visits.VisitError as error:
                db.session.rollback()
                outcomes[index] = str(error)
            except Exception as error:
                db.session.rollback()
                outcomes[index] = f"unexpected {type(error).__name__}: {error}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_bookings_at_the_same_moment_never_overdraw_the_line(app: Flask, world: Any) -> None:
    order, _documents = confirmed_partnership_order(world)
    first = weekday_in_year(world)
    _book(world, order, [world.school], on=first)
    _book(world, order, [world.academy], on=first + timedelta(days=7))  # 1 day left
    order_id, line_id = order.id, order.lines[0].id
    school_ids = [world.school.id, world.brook.id]
    manager_id = world.users[Role.LA_ADMIN].id
    advisers = [world.users[Role.ADVISER].id]
    # Four bookings of the last day, each with its own date, so only the line's days refuse.
    dates = [first + timedelta(days=7 * (week + 2)) for week in range(4)]
    db.session.remove()

    def job(on: Any) -> Callable[[], object]:
        def book() -> object:
            target = db.session.get(PartnershipOrder, order_id)
            manager = db.session.get(User, manager_id)
            assert target is not None and manager is not None
            return partnership_visits.book(
                target,
                partnership_visits.NewPartnershipVisit(
                    advisers[0], on, 2, school_ids, line_id, purpose="Race"
                ),
                manager,
            )

        return book

    outcomes = _race(app, [job(on) for on in dates])
    assert outcomes.count("booked") == 1, outcomes
    refused = [o for o in outcomes if o != "booked"]
    assert all("has no days left to book" in o for o in refused), outcomes
    line = _line(db.session.get(PartnershipOrder, order_id))
    assert (line.use.scheduled, line.left) == (6, 0)


def test_cancelling_returns_the_days_and_delivering_asks_each_school(
    as_role: Any, world: Any
) -> None:
    order, _documents = confirmed_partnership_order(world)
    ahead = _book(world, order, [world.school, world.brook])
    cancelled = as_role(Role.ADVISER).post_form(
        f"/council/shared-visits/{ahead.id}/cancel",
        {"party": "council", "reason": "Adviser unwell"},
    )
    assert cancelled.status_code == 302
    db.session.expire_all()
    assert {v.status for v in db.session.query(Visit).filter_by(shared_visit_id=ahead.id)} == {
        VisitStatus.CANCELLED
    }
    line = _line(order)
    assert (line.use.scheduled, line.left) == (0, 6)
    assert visits.booked_half_days(world.users[Role.ADVISER].id, ahead.visit_date) == 0

    # A past visit is delivered for both schools: the line's day used once, each head asked.
    order = db.session.get(PartnershipOrder, order.id)
    past = _book(world, order, [world.school, world.brook], on=weekday_in_year(world, past=True))
    page = as_role(Role.ADVISER).get(f"/council/shared-visits/{past.id}")
    assert "drawn once from the days the partnership bought" in text_of(page.soup, "dl")
    delivered = as_role(Role.ADVISER).post_form(
        f"/council/shared-visits/{past.id}/deliver", {"note": "Objectives agreed at both"}
    )
    assert delivered.status_code == 302
    line = _line(order)
    assert (line.use.delivered, line.left) == (2, 4)
    asked = {m.recipients for m in db.session.query(OutgoingEmail).filter_by(kind="visit_feedback")}
    assert asked == {world.users[Role.HEADTEACHER].email, world.brook_head.email}
    # Each school's part asks for its own report, as any shared visit's does.
    page = as_role(Role.ADVISER).get(f"/council/shared-visits/{past.id}")
    links = {a["href"] for a in page.soup.select("#shares a") if a["href"].endswith("/report")}
    assert links == {f"/visits/{v.id}/report" for v in past.visits}
    # The schools' own figures never moved.
    assert days_ledger.school_ledger(world.brook.id, world.year.id).total.delivered == 0
    # Brook's headteacher rates its part: counted under the service the partnership bought.
    (brook_part,) = [v for v in past.visits if v.school_id == world.brook.id]
    feedback.give(brook_part, world.brook_head, 5, "Useful for both schools")
    db.session.commit()
    rated = feedback.ratings("service", 3, today())
    assert [(g.name, g.count) for g in rated.groups] == [("Headteacher performance management", 1)]


def test_cancelling_the_order_cancels_its_booked_visits_and_never_credits_days_used(
    world: Any,
) -> None:
    order, _documents = confirmed_partnership_order(world)
    past = _book(world, order, [world.school], on=weekday_in_year(world, past=True))
    shared_visits.deliver(past, world.users[Role.ADVISER], "Done")
    ahead = _book(world, order, [world.academy])
    db.session.commit()
    assert partnership_credits.delivered_half_days(order) == {order.lines[0].id: 2}

    partnership_credits.cancel(order, world.users[Role.LA_ADMIN], "The partnership split up")
    db.session.commit()
    db.session.expire_all()
    assert {v.status for v in ahead.visits} == {VisitStatus.CANCELLED}
    assert {v.cancelled_by_party for v in ahead.visits} == {CancelledBy.COUNCIL}
    # The day used still counts against the quadrant team's capacity; the rest is free again.
    assert partnership_days.sold_half_days(world.quadrant.id, world.year.id) == 2
    # Each member credited for its part of the 2 days not used (an equal split of 6 half-days).
    positions = partnership_credits.positions(db.session.get(PartnershipOrder, order.id))
    assert {p.share.school_id: p.lines[0].delivered_half_days for p in positions} == {
        s.id: 2 for s in (world.school, world.academy, world.brook)
    }


def test_who_books_and_who_sees(as_role: Any, world: Any) -> None:
    order, _documents = confirmed_partnership_order(world)
    shared = _book(world, order, [world.school, world.academy])
    url = f"/council/partnership-orders/{order.id}/visits/new"
    for role in (Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER, Role.LA_FINANCE):
        assert as_role(role).get(url).status_code == 403, role
    assert as_role(Role.LA_ADMIN).get(url).status_code == 200
    with pytest.raises(visits.VisitError, match="Only advisers and the service manager"):
        _book(world, order, [world.school], by=Role.LA_FINANCE)
    db.session.rollback()

    # The service manager's order page: each line's days and the order's visits.
    order_page = as_role(Role.LA_ADMIN).get(f"/partnership-orders/{order.id}")
    assert "Headteacher performance management 3 days 1 day 0 days 2 days" in text_of(
        order_page.soup, "#line-days"
    )
    assert "Meadow Academy" in text_of(order_page.soup, "#order-visits")
    # Finance sees the order but no booking links.
    finance_page = as_role(Role.LA_FINANCE).get(f"/partnership-orders/{order.id}")
    assert finance_page.soup.select_one("#line-days") is None

    # A school outside the order never sees the visit, nor its days.
    visit_ids = {v.id for v in shared.visits}
    outsider = make_user("sbm@hilltop.example", Role.SCHOOL_BUSINESS_MANAGER, world.other_school)
    db.session.commit()
    hilltop = _client(as_role, outsider).get("/days")
    assert hilltop.soup.select_one("#partnership-days") is None
    assert "Headteacher performance management" not in text_of(hilltop.soup, "main")
    # School users never open a council visit page.
    for visit_id in visit_ids:
        assert as_role(Role.SCHOOL_BUSINESS_MANAGER).get(f"/visits/{visit_id}").status_code in (
            403,
            404,
        )
    assert as_role(Role.HEADTEACHER).get(f"/council/shared-visits/{shared.id}").status_code == 403


def test_the_advisers_calendar_shows_the_visit_once(as_role: Any, world: Any) -> None:
    order, _documents = confirmed_partnership_order(world)
    shared = _book(world, order, [world.school, world.academy, world.brook])
    adviser = world.users[Role.ADVISER]
    feed = adviser_calendar.ics_feed(adviser, "example.test")
    assert feed.count("BEGIN:VEVENT") == 1
    assert "Whole day: Brook Academy\\, Meadow Academy\\, Riverside Primary School" in feed.replace(
        "\r\n ", ""
    )
    (day,) = adviser_calendar.days_between(adviser.id, shared.visit_date, shared.visit_date)
    assert (day.booked, day.free) == (2, 0)
    week = adviser_calendar.week_load(
        shared.visit_date - timedelta(days=shared.visit_date.weekday())
    )
    (load,) = [row for row in week if row.adviser.id == adviser.id]
    assert load.total == 2
    # The adviser's day is full: no second visit that date, whatever it is against.
    with pytest.raises(visits.VisitError, match="at most one day a date"):
        _book(world, order, [world.school], on=shared.visit_date, half_days=1)
    db.session.rollback()
