"""Closing an academic year (issue 15 part 6): the service manager's preview per school of what
carries over and what lapses (paged, county totals, CSV), closing it once in one transaction,
the days ledger and the Days page after the close, booking carried-over days, and refusals."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from tests.conftest import text_of
from tests.factories import make_school, make_service
from traded_app.extensions import db
from traded_app.models import (
    AuditEvent,
    CoreAllocation,
    DaysTransfer,
    DaysTransferKind,
    Order,
    OrderLine,
    OrderStatus,
    School,
    Visit,
    VisitStatus,
    YearClose,
)
from traded_app.models.types import AllocationReason, Role
from traded_app.services.days import ledger as days_ledger
from traded_app.services.days import over_time, visits, year_close
from traded_app.services.platform.settings import ensure_academic_year, today

URL = "/council/manage/year-close"


def _rules(**values: Any) -> None:
    fields: dict[str, Any] = {
        "usable_half_days_per_week": 2,
        "warn_at_risk": True,
        "lapse_warning_days": 31,
        "rule": "carry_over",
        "carry_over_max_half_days": 4,
        "core_carries_over": False,
    }
    fields.update(values)
    over_time.save_rules(**fields)
    db.session.commit()


def _order(world: Any, year: Any, lines: dict[Any, int], school: Any = None) -> Order:
    """A confirmed order of an earlier year (ordering refuses a past year today)."""
    school = school or world.school
    order = Order(
        school_id=school.id,
        academic_year_id=year.id,
        status=OrderStatus.CONFIRMED,
        created_by_id=world.users[Role.SCHOOL_BUSINESS_MANAGER].id,
        half_days=sum(lines.values()),
        net_pence=sum(lines.values()) * 22500,
        vat_pence=0,
        gross_pence=sum(lines.values()) * 22500,
        quadrant_id=school.quadrant_id,
        lines=[
            OrderLine(service_id=service.id, half_days=half_days, price_per_day_pence=45000)
            for service, half_days in lines.items()
        ],
    )
    db.session.add(order)
    db.session.flush()
    return order


def _visit(world: Any, year: Any, line: Any, half_days: int, status: VisitStatus) -> Visit:
    visit = Visit(
        school_id=world.school.id,
        academic_year_id=year.id,
        adviser_id=world.users[Role.ADVISER].id,
        order_line_id=line.id if line is not None else None,
        visit_date=year.starts_on + timedelta(days=30),
        half_days=half_days,
        purpose="Termly visit",
        status=status,
        scheduled_by_id=world.users[Role.LA_ADMIN].id,
    )
    if status == VisitStatus.DELIVERED:
        visit.delivered_at = datetime(year.start_year, 10, 2, 12, tzinfo=UTC)
        visit.delivered_by_id = world.users[Role.ADVISER].id
    db.session.add(visit)
    db.session.flush()
    return visit


def _last_year(world: Any) -> Any:
    """Last year (ended): Riverside bought 3 days of HTPM (used 1) and 2 days of a safeguarding
    audit, and had 2 core days (used half a day); Hilltop bought 1.5 days and used none."""
    year = ensure_academic_year(world.year.start_year - 1)
    safeguarding = make_service("SAFE", year, name="Safeguarding audit")
    htpm = _order(world, year, {world.service: 6})
    _order(world, year, {safeguarding: 4})
    _order(world, year, {world.service: 3}, school=world.other_school)
    db.session.add(
        CoreAllocation(
            school_id=world.school.id,
            academic_year_id=year.id,
            reason=AllocationReason.PARTNERSHIP,
            half_days=4,
        )
    )
    _visit(world, year, htpm.lines[0], 2, VisitStatus.DELIVERED)
    _visit(world, year, None, 1, VisitStatus.DELIVERED)
    db.session.commit()
    return year


def _close_form(page: Any) -> dict[str, str]:
    form = page.soup.select_one(f"form[action^='{URL}/']")
    assert form is not None, "no Close button"
    return {i["name"]: i["value"] for i in form.select("input[type=hidden]")}


def test_the_preview_shows_what_each_school_carries_over_and_loses(
    app: Any, as_role: Any, world: Any
) -> None:
    last = _last_year(world)
    _rules(carry_over_max_half_days=4)
    page = as_role(Role.LA_ADMIN).get(f"{URL}?year={last.start_year}")
    assert page.status_code == 200
    rows = {
        tr.select_one("th").get_text(" ", strip=True): [
            td.get_text(" ", strip=True) for td in tr.select("td")
        ]
        for tr in page.soup.select("#schools tbody tr")
    }
    riverside = rows["Riverside Primary School (100001)"]
    # HTPM 2 days left and the audit 2 days: 2 days carry over (the limit), 2 lapse, and the
    # 1.5 core days lapse.
    assert "Headteacher performance management" in riverside[1] and "2 days" in riverside[1]
    assert "Core allocation: 1.5 days" in riverside[1]
    assert riverside[2:] == ["2 days", "3.5 days", "None"]
    assert rows["Hilltop Infant School (100002)"][2:] == ["1.5 days", "0 days", "None"]
    totals = text_of(page.soup, "#totals")
    assert f"Carry over into {world.year.label} 3.5 days Lapse 3.5 days" in totals
    assert page.soup.select_one("#refusal") is None
    # The CSV has a row per line and the county's totals.
    download = as_role(Role.LA_ADMIN).get(f"{URL}/{last.start_year}/preview.csv")
    assert download.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert table[0][:3] == ["URN", "School", "Quadrant"]
    assert table[-1][1] == "All schools" and table[-1][5:8] == ["7", "3.5", "3.5"]


def test_the_preview_agrees_with_every_schools_days_ledger(app: Any, world: Any) -> None:
    last = _last_year(world)
    _rules(carry_over_max_half_days=3, core_carries_over=True)
    preview = year_close.preview(last, today())
    for school in preview.schools:
        ledger = days_ledger.school_ledger(school.school_id, last.id)
        traded = sum(line.unused for line in school.lines if line.order_line_id)
        core = sum(line.unused for line in school.lines if line.order_line_id is None)
        assert (traded, core) == (ledger.traded.remaining, max(0, ledger.core.remaining))
        assert sum(line.carried for line in school.lines if line.order_line_id) <= 3
    # The page's totals, summed by the database, are the close's.
    page = year_close.preview_page(last, today(), 1)
    assert page.totals == preview.totals and page.totals.carried > 0


def test_closing_a_year_carries_over_and_lapses_once_and_the_ledger_shows_it(
    app: Any, as_role: Any, world: Any
) -> None:
    last = _last_year(world)
    _rules(carry_over_max_half_days=4)
    admin = as_role(Role.LA_ADMIN)
    page = admin.get(f"{URL}?year={last.start_year}")
    done = admin.post_form(f"{URL}/{last.start_year}", _close_form(page))
    assert done.status_code == 302
    after = admin.get(done.location)
    assert f"{last.label} is closed" in after.get_data(as_text=True)
    assert "A year is closed once" in text_of(after.soup, "#closed")
    assert after.soup.select_one(f"form[action^='{URL}/']") is None

    closing = db.session.execute(select(YearClose)).scalar_one()
    assert (closing.carried_half_days, closing.lapsed_half_days, closing.schools) == (7, 7, 2)
    assert closing.closed_by_id == world.users[Role.LA_ADMIN].id
    audit = db.session.execute(
        select(AuditEvent).where(AuditEvent.entity == "year_close")
    ).scalar_one()
    assert audit.entity_label == last.label and audit.actor_id == world.users[Role.LA_ADMIN].id

    # The closed year: nothing left; the next: the carried-over days, on the same order line.
    old = days_ledger.school_ledger(world.school.id, last.id)
    assert (old.traded.remaining, old.core.remaining) == (0, 0)
    new = days_ledger.school_ledger(world.school.id, world.year.id)
    assert new.traded.allocated == 4 and new.core.allocated == 0
    assert [(s.service_name, s.figures.allocated) for s in new.services] == [
        ("Headteacher performance management", 4)
    ]
    # The county's overview counts them too.
    figures = days_ledger.school_figures_subquery(world.year.id)
    purchased = db.session.execute(
        select(figures.c.purchased).where(figures.c.school_id == world.school.id)
    ).scalar_one()
    assert purchased == 4

    head = as_role(Role.HEADTEACHER)
    this_year = head.get("/days")
    assert f"Carried over from {last.label}: 2 days" in text_of(this_year.soup, "#year-end")
    closed_year = head.get(f"/days?year={last.start_year}")
    year_end = text_of(closed_year.soup, "#year-end")
    assert f"Carried over to {world.year.label}: 2 days" in year_end
    assert f"Lapsed at the end of {last.label}: 3.5 days" in year_end

    # Closing again is refused with a message, and changes nothing.
    again = admin.post_form(f"{URL}/{last.start_year}", {"carried": "0", "lapsed": "0"})
    assert again.status_code == 302
    message = admin.get(again.location).get_data(as_text=True)
    assert f"{last.label} was closed on" in message
    assert db.session.execute(select(func.count(YearClose.id))).scalar_one() == 1
    # Riverside: HTPM carried (two rows), the audit and core lapsed; Hilltop carried (two).
    assert db.session.execute(select(func.count(DaysTransfer.id))).scalar_one() == 6


def test_carried_over_days_are_booked_in_the_year_they_were_carried_into(
    app: Any, world: Any
) -> None:
    last = _last_year(world)
    _rules(carry_over_max_half_days=2)
    year_close.close_year(last, world.users[Role.LA_ADMIN], today())
    db.session.commit()
    line_id = db.session.execute(
        select(DaysTransfer.order_line_id).where(
            DaysTransfer.kind == DaysTransferKind.CARRY_OVER,
            DaysTransfer.half_days > 0,
            DaysTransfer.school_id == world.school.id,
        )
    ).scalar_one()
    bookable = visits.bookable_lines(world.school, world.year)
    assert [(b.order_line_id, b.figures.not_yet_booked) for b in bookable] == [(line_id, 2)]
    day = today() + timedelta(days=14)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    visit = visits.schedule(
        visits.NewVisit(
            school=world.school,
            adviser_id=world.users[Role.ADVISER].id,
            visit_date=day,
            half_days=2,
            against=str(line_id),
            purpose="Carried-over day",
        ),
        world.users[Role.LA_ADMIN],
    )
    db.session.commit()
    assert visit.academic_year_id == world.year.id
    assert days_ledger.school_ledger(world.school.id, world.year.id).traded.not_yet_booked == 0


def test_closing_is_refused_until_the_year_can_be_closed(
    app: Any, as_role: Any, world: Any
) -> None:
    last = _last_year(world)
    admin = world.users[Role.LA_ADMIN]
    # The current year has not ended.
    current = year_close.preview(world.year, today())
    assert "it can be closed from the next day" in current.refusal
    # A visit still booked in the closed year.
    booked = _visit(world, last, None, 1, VisitStatus.SCHEDULED)
    db.session.commit()
    client = as_role(Role.LA_ADMIN)
    page = client.get(f"{URL}?year={last.start_year}")
    assert "1 school still has visits booked" in text_of(page.soup, "#refusal")
    assert page.soup.select_one(f"form[action^='{URL}/']") is None
    refused = client.post_form(f"{URL}/{last.start_year}", {"carried": "0", "lapsed": "0"})
    assert "Record them as delivered or cancel them" in client.get(refused.location).get_data(
        as_text=True
    )
    booked.status = VisitStatus.DELIVERED
    booked.delivered_at = datetime.now(UTC)
    booked.delivered_by_id = world.users[Role.ADVISER].id
    db.session.commit()
    # Figures that changed since the preview are refused; bad hidden values too (never a 500).
    page = client.get(f"{URL}?year={last.start_year}")
    stale = client.post_form(f"{URL}/{last.start_year}", {"carried": "1", "lapsed": "99"})
    assert "The figures have changed" in client.get(stale.location).get_data(as_text=True)
    for bad in ({"carried": "two", "lapsed": ""}, {}):
        response = client.post_form(f"{URL}/{last.start_year}", bad)
        assert response.status_code == 302
    assert client.post_form(f"{URL}/1066", _close_form(page)).status_code == 404
    assert client.get(f"{URL}?year=abc&page=-3").status_code == 200
    assert db.session.execute(select(func.count(YearClose.id))).scalar_one() == 0
    # Only the service manager closes a year, whoever calls the service.
    try:
        year_close.close_year(last, world.users[Role.LA_FINANCE], today())
    except year_close.YearCloseError as error:
        assert "Only the service manager" in str(error)
    else:
        raise AssertionError("finance closed a year")
    closing = year_close.close_year(last, admin, today())
    assert closing.academic_year_id == last.id


def test_closing_needs_the_next_year_set_up(app: Any, world: Any) -> None:
    # The world's year is the latest; pretend it has ended.
    after_end = world.year.ends_on + timedelta(days=1)
    found = year_close.preview(world.year, after_end)
    assert found.refusal.startswith(f"Set up {world.year.start_year + 1}/")


def test_the_preview_pages_the_schools_and_leaves_closed_schools_out(
    app: Any, as_role: Any, world: Any
) -> None:
    last = ensure_academic_year(world.year.start_year - 1)
    for n in range(55):
        school = make_school(200000 + n, f"School {n:02d}", quadrant=world.quadrant)
        db.session.add(
            CoreAllocation(
                school_id=school.id,
                academic_year_id=last.id,
                reason=AllocationReason.PARTNERSHIP,
                half_days=1,
            )
        )
    db.session.commit()
    closed = db.session.execute(select(School).where(School.urn == 200054)).scalar_one()
    closed.status = closed.status.__class__("closed")
    db.session.commit()
    client = as_role(Role.LA_ADMIN)
    first = client.get(f"{URL}?year={last.start_year}")
    assert "(54, page 1 of 2)" in text_of(first.soup, "#schools caption")
    second = client.get(f"{URL}?year={last.start_year}&page=2")
    assert len(second.soup.select("#schools tbody tr")) == 4
    assert "27 days" in text_of(first.soup, "#totals")  # 54 half-days lapse


def test_the_lapse_warning_runs_every_day_and_is_sent_once_a_year(app: Any, world: Any) -> None:
    """The warnings' schedule is daily, so a month's warning never waits for a Monday."""
    tuesday = datetime(2027, 7, 6, 7, 30, tzinfo=UTC)
    assert over_time._period(tuesday) == date(2027, 7, 6).isoformat()
    assert over_time._period(tuesday.replace(hour=5)) is None
