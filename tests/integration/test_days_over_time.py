"""Days against time: a school's days left against the teaching weeks left, the days at risk at
the council's pace, the county's figures by quadrant, the warnings headteachers get (at risk at
most every four weeks; about to lapse once a year), and the rules the service manager sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import text_of
from tests.factories import confirmed_order, core_allocation
from traded_app.extensions import db
from traded_app.models import DaysRules, OutgoingEmail, YearEndRule
from traded_app.models.types import Role
from traded_app.services.days import over_time, school_calendar
from traded_app.services.platform.settings import academic_year_bounds, today


def _errors(response: Any) -> list[str]:
    return [a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")]


def _summer_term(world: Any) -> tuple[Any, Any]:
    """One term: the last six weeks of the academic year, Monday to Friday."""
    _first, last = academic_year_bounds(world.year.start_year)
    friday = last - timedelta(days=(last.weekday() - 4) % 7)
    monday = friday - timedelta(days=39)
    school_calendar.add_term(world.year, "Summer 2", monday, friday, world.users[Role.LA_ADMIN])
    db.session.commit()
    return monday, friday


def _set_rules(**values: Any) -> None:
    fields: dict[str, Any] = {
        "usable_half_days_per_week": 2,
        "warn_at_risk": True,
        "lapse_warning_days": 31,
        "rule": "lapse",
        "carry_over_max_half_days": 0,
        "core_carries_over": False,
    }
    fields.update(values)
    over_time.save_rules(**fields)
    db.session.commit()


def test_a_schools_days_against_the_teaching_weeks_left(app: Any, world: Any) -> None:
    monday, friday = _summer_term(world)
    core_allocation(world, 4)
    confirmed_order(world, half_days=6)  # 3 days of the service
    _set_rules(usable_half_days_per_week=2)
    position = over_time.school_against_time(world.school.id, world.year, monday)
    assert position.time.teaching_days == 30 - sum(
        1 for d in school_calendar.bank_holidays(monday, friday) if d.weekday() < 5
    )
    assert position.time.year_ends == friday
    assert position.time.from_term_dates
    usable = position.time.teaching_days * 2 // 5
    assert position.time.usable_half_days == usable
    assert [line.name for line in position.lines] == [
        "Core allocation (free)",
        world.service.name,
    ]
    assert position.total.not_yet_booked == 10
    assert position.at_risk_half_days == max(0, 10 - usable)
    # Two weeks before the end, most of it is at risk; after the last day, all of it.
    late = over_time.school_against_time(world.school.id, world.year, friday - timedelta(days=4))
    assert late.time.teaching_days == 5 and late.time.usable_half_days == 2
    assert late.at_risk_half_days == 8
    assert (
        over_time.school_against_time(
            world.school.id, world.year, friday + timedelta(days=1)
        ).at_risk_half_days
        == 10
    )


def test_what_would_lapse_follows_the_councils_rule(app: Any, world: Any) -> None:
    core_allocation(world, 4)
    confirmed_order(world, half_days=6)
    _set_rules(rule="lapse")
    on = today()
    assert over_time.school_against_time(world.school.id, world.year, on).lapsing_half_days == 10
    _set_rules(rule="carry_over", carry_over_max_half_days=4)
    assert over_time.school_against_time(world.school.id, world.year, on).lapsing_half_days == 6
    _set_rules(rule="carry_over", carry_over_max_half_days=4, core_carries_over=True)
    assert over_time.school_against_time(world.school.id, world.year, on).lapsing_half_days == 2


def test_the_headteacher_is_warned_on_the_days_page_when_days_are_at_risk(
    app: Any, as_role: Any, world: Any
) -> None:
    confirmed_order(world, half_days=4)
    head = as_role(Role.HEADTEACHER)
    calm = head.get("/days")
    assert calm.soup.select_one("#days-at-risk") is None
    assert "None: the time left can use every day" in text_of(calm.soup, "#against-time")
    # More days than a half-day a week can use in the rest of the year.
    _set_rules(usable_half_days_per_week=1)
    core_allocation(world, 400)
    position = over_time.school_against_time(world.school.id, world.year, today())
    assert position.at_risk
    page = head.get("/days")
    assert f"{position.at_risk_half_days // 2}" in text_of(page.soup, "#days-at-risk")
    assert "may go unused this year" in text_of(page.soup, "#days-at-risk")
    assert "cannot be used at that pace" in text_of(page.soup, "#against-time")


def test_warnings_are_e_mailed_at_most_every_four_weeks_and_lapse_once_a_year(
    app: Any, world: Any
) -> None:
    _monday, friday = _summer_term(world)
    core_allocation(world, 60)
    _set_rules(usable_half_days_per_week=2, lapse_warning_days=31)

    def sent(kind: str) -> int:
        return db.session.query(OutgoingEmail).filter_by(kind=kind).count()

    def sent_on(day: Any) -> None:
        """Date the e-mails sent so far as if sent on `day`."""
        at = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
        db.session.query(OutgoingEmail).update({"created_at": at})
        db.session.commit()

    now = today()
    assert over_time.send_warnings(world.year, now) == 1  # at risk; the year's end is far off
    db.session.commit()
    mail = db.session.query(OutgoingEmail).filter_by(kind="days_at_risk").one()
    assert mail.recipients == world.users[Role.HEADTEACHER].email
    assert over_time.send_warnings(world.year, now + timedelta(days=7)) == 0
    # Within 31 days of the end, more than four weeks after the last warning: at risk again,
    # and about to lapse.
    near_end = friday - timedelta(days=20)
    sent_on(near_end - timedelta(days=40))
    assert over_time.send_warnings(world.year, near_end) == 2
    db.session.commit()
    assert (sent("days_at_risk"), sent("days_lapse")) == (2, 1)
    sent_on(near_end)
    assert over_time.send_warnings(world.year, near_end + timedelta(days=1)) == 0
    # Nobody is warned when the council turns warnings off and nothing would lapse.
    _set_rules(warn_at_risk=False, lapse_warning_days=0)
    db.session.query(OutgoingEmail).delete()
    db.session.commit()
    assert over_time.send_warnings(world.year, near_end) == 0


def test_the_county_sees_bought_delivered_and_at_risk_days_by_quadrant(
    app: Any, as_role: Any, world: Any
) -> None:
    _set_rules(usable_half_days_per_week=1)
    core_allocation(world, 400)
    confirmed_order(world, half_days=2, school=world.other_school)
    time, rows = over_time.county_against_time(world.year, today())
    row = next(r for r in rows if r.name == world.quadrant.name)
    assert row.bought_half_days == 2
    assert row.delivered_half_days == 0
    assert row.schools_at_risk == 1
    assert row.at_risk_half_days == 400 - time.usable_half_days
    page = as_role(Role.LA_FINANCE).get("/council/days")
    cells = [
        td.get_text(strip=True)
        for td in page.soup.select_one("#county-against-time tbody tr").select("td")
    ]
    at_risk_days = (400 - time.usable_half_days) / 2
    assert cells[3] == (f"{at_risk_days:g}")


def test_the_service_manager_sets_the_rules_and_bad_ones_are_refused(
    app: Any, as_role: Any
) -> None:
    admin = as_role(Role.LA_ADMIN)
    page = admin.get("/council/manage/days-rules")
    assert page.soup.select_one("#pace")["value"] == "1"
    bad = admin.post_form(
        "/council/manage/days-rules",
        {"pace": "abc", "lapse_warning": "31", "rule": "lapse", "carry_over": "0"},
    )
    assert _errors(bad)[0].startswith("Days a week")
    no_limit = admin.post_form(
        "/council/manage/days-rules",
        {"pace": "1", "lapse_warning": "31", "rule": "carry_over", "carry_over": "0"},
    )
    assert _errors(no_limit) == ["Enter how many days may carry over, like 2"]
    assert db.session.get(DaysRules, 1) is None
    saved = admin.post_form(
        "/council/manage/days-rules",
        {
            "pace": "1.5",
            "warn_at_risk": "y",
            "lapse_warning": "20",
            "rule": "carry_over",
            "carry_over": "2.5",
            "core_carries_over": "y",
        },
    )
    assert saved.status_code == 302
    rules = db.session.get(DaysRules, 1)
    assert rules is not None
    assert (
        rules.usable_half_days_per_week,
        rules.lapse_warning_days,
        rules.rule,
        rules.carry_over_max_half_days,
        rules.core_carries_over,
    ) == (3, 20, YearEndRule.CARRY_OVER, 5, True)
    assert as_role(Role.LA_FINANCE).get("/council/manage/days-rules").status_code == 403
