"""Days against time (issue 15 parts 6 and 7): for a school, per service and for core, the days
left, what is booked and what is not yet booked, against the teaching weeks left in the academic
year; the days at risk (not yet booked beyond what the time left can realistically use, at the
council's pace); the county's bought, delivered and at-risk days by quadrant; and the warnings
headteachers get (at risk, at most every four weeks; days that would lapse, once a year).

Teaching days come from the council's term dates, INSET and closure days, bank holidays and the
school's own INSET days; a year without term dates counts every weekday but bank holidays, and
says so. At risk is a school's figure (its visits share its weeks), not a line's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select

from traded_app import formatting
from traded_app.domain import days_over_time as rules
from traded_app.domain import school_calendar as calendar_rules
from traded_app.domain import year_end
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    DaysRules,
    OutgoingEmail,
    Quadrant,
    School,
    User,
    YearEndRule,
)
from traded_app.models.jobs import ScheduledRun
from traded_app.models.types import Role, SchoolStatus
from traded_app.services.days import school_calendar
from traded_app.services.days.ledger import Figures, school_figures_subquery, school_ledger
from traded_app.services.platform import memberships, outbox, schedules
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.settings import academic_year_bounds, current_academic_year

AT_RISK_EVERY_DAYS = 28
SCHEDULE_NAME = "days_warnings"
WARNINGS_AT = time(7, 0)  # every day, Europe/London


class RulesError(DomainError, ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def days_rules() -> DaysRules:
    """The council's rules (the defaults until the service manager saves them)."""
    found = db.session.get(DaysRules, 1)
    if found is not None:
        return found
    return DaysRules(
        id=1,
        usable_half_days_per_week=2,
        warn_at_risk=True,
        lapse_warning_days=31,
        rule=YearEndRule.LAPSE,
        carry_over_max_half_days=0,
        core_carries_over=False,
    )


def save_rules(
    *,
    usable_half_days_per_week: int,
    warn_at_risk: bool,
    lapse_warning_days: int,
    rule: str,
    carry_over_max_half_days: int,
    core_carries_over: bool,
) -> DaysRules:
    if not 1 <= usable_half_days_per_week <= 20:
        raise RulesError("A school's pace must be between 0.5 and 10 days a week", "pace")
    if not 0 <= lapse_warning_days <= 120:
        raise RulesError("The warning must be between 0 and 120 days before", "lapse_warning")
    try:
        year_end = YearEndRule(rule)
    except ValueError:
        raise RulesError("Select what happens to unused bought days", "rule") from None
    if year_end == YearEndRule.LAPSE:
        carry_over_max_half_days = 0
    elif carry_over_max_half_days < 1:
        raise RulesError("Enter how many days may carry over, like 2", "carry_over")
    found = db.session.get(DaysRules, 1)
    if found is None:
        found = days_rules()
        db.session.add(found)
    found.usable_half_days_per_week = usable_half_days_per_week
    found.warn_at_risk = warn_at_risk
    found.lapse_warning_days = lapse_warning_days
    found.rule = year_end
    found.carry_over_max_half_days = carry_over_max_half_days
    found.core_carries_over = core_carries_over
    db.session.flush()
    return found


# --- Time left --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeLeft:
    on: date
    year_ends: date  # the last day of the last term (31 August when no terms)
    teaching_days: int
    usable_half_days: int  # at the council's pace
    from_term_dates: bool

    @property
    def weeks_text(self) -> str:
        return rules.weeks_text(self.teaching_days)


def time_left(year: AcademicYear, on: date, school_id: int | None = None) -> TimeLeft:
    """Teaching days from `on` to the end of the year for a school (or the council's calendar
    when none), and the half-days the council's pace makes usable in them."""
    first, last = academic_year_bounds(year.start_year)
    terms = [
        calendar_rules.Term(t.name, t.first_day, t.last_day) for t in school_calendar.terms(year)
    ]
    pace = days_rules().usable_half_days_per_week
    start = max(on, first)
    if terms:
        closed = school_calendar.closed_days(start, last, school_id)
        teaching = rules.teaching_days_from(terms, closed, start) if start <= last else 0
        year_ends = max(t.last_day for t in terms)
    else:
        holidays = set(school_calendar.bank_holidays(start, last)) if start <= last else set()
        teaching = rules.weekdays_from(start, last, holidays)
        year_ends = last
    return TimeLeft(
        on=on,
        year_ends=year_ends,
        teaching_days=teaching,
        usable_half_days=rules.usable_half_days(teaching, pace),
        from_term_dates=bool(terms),
    )


# --- A school's days against time -------------------------------------------------------------


@dataclass(frozen=True)
class LineAgainstTime:
    name: str
    figures: Figures
    traded: bool


@dataclass(frozen=True)
class SchoolAgainstTime:
    time: TimeLeft
    lines: list[LineAgainstTime]
    total: Figures
    at_risk_half_days: int
    lapsing_half_days: int  # left at the year's end by the council's rule, if nothing is used
    lapse_warning: bool  # the year ends within the council's warning

    @property
    def at_risk(self) -> bool:
        return self.at_risk_half_days > 0


def year_end_rule(rules_row: DaysRules) -> year_end.Rule:
    return year_end.Rule(
        carry_over=rules_row.rule == YearEndRule.CARRY_OVER,
        max_half_days=rules_row.carry_over_max_half_days,
        core_carries_over=rules_row.core_carries_over,
    )


def lapsing(traded_left: int, core_left: int, rules_row: DaysRules) -> int:
    """Half-days that would not carry over if nothing more were used."""
    return year_end.lapsing(year_end_rule(rules_row), traded_left, core_left)


def school_against_time(school_id: int, year: AcademicYear, on: date) -> SchoolAgainstTime:
    ledger = school_ledger(school_id, year.id)
    time = time_left(year, on, school_id)
    lines = [LineAgainstTime("Core allocation (free)", ledger.core, traded=False)] + [
        LineAgainstTime(s.service_name, s.figures, traded=True) for s in ledger.services
    ]
    lines = [line for line in lines if line.figures.allocated]
    total = ledger.total
    rules_row = days_rules()
    warning_from = time.year_ends - timedelta(days=rules_row.lapse_warning_days)
    return SchoolAgainstTime(
        time=time,
        lines=lines,
        total=total,
        at_risk_half_days=rules.at_risk(max(0, total.not_yet_booked), time.usable_half_days),
        lapsing_half_days=lapsing(
            max(0, ledger.traded.remaining), max(0, ledger.core.remaining), rules_row
        ),
        lapse_warning=bool(rules_row.lapse_warning_days) and warning_from <= on <= time.year_ends,
    )


# --- The county -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuadrantAgainstTime:
    name: str
    schools: int
    bought_half_days: int
    delivered_half_days: int
    at_risk_half_days: int
    schools_at_risk: int


def county_against_time(year: AcademicYear, on: date) -> tuple[TimeLeft, list[QuadrantAgainstTime]]:
    """Open schools' bought (traded), delivered (used) and at-risk half-days by quadrant, on the
    council's calendar (a school's own INSET days are not counted here). One query."""
    time = time_left(year, on)
    figures = school_figures_subquery(year.id)
    not_yet_booked = (
        figures.c.core
        + figures.c.purchased
        - figures.c.delivered
        - figures.c.charged
        - figures.c.scheduled
    )
    usable = time.usable_half_days
    risk = case((not_yet_booked > usable, not_yet_booked - usable), else_=0)
    rows = db.session.execute(
        select(
            Quadrant.name,
            func.count(),
            func.coalesce(func.sum(figures.c.purchased), 0),
            func.coalesce(func.sum(figures.c.delivered + figures.c.charged), 0),
            func.coalesce(func.sum(risk), 0),
            func.coalesce(func.sum(case((not_yet_booked > usable, 1), else_=0)), 0),
        )
        .select_from(School)
        .join(figures, figures.c.school_id == School.id)
        .outerjoin(Quadrant, Quadrant.id == School.quadrant_id)
        .where(School.status == SchoolStatus.OPEN)
        .group_by(Quadrant.name)
        .order_by(Quadrant.name)
    ).all()
    return time, [
        QuadrantAgainstTime(name or "No quadrant", int(n), int(b), int(d), int(r), int(s))
        for name, n, b, d, r, s in rows
    ]


# --- Warnings ---------------------------------------------------------------------------------


def _headteachers(school_id: int) -> list[str]:
    return list(
        db.session.execute(
            select(User.email).where(
                User.id.in_(memberships.user_ids_at(school_id, Role.HEADTEACHER)),
                User.active.is_(True),
            )
        ).scalars()
    )


def _warned_since(kind: str, school_id: int, since: date) -> bool:
    return (
        db.session.execute(
            select(OutgoingEmail.id).where(
                OutgoingEmail.kind == kind,
                OutgoingEmail.ref_id == school_id,
                OutgoingEmail.created_at
                >= datetime(since.year, since.month, since.day, tzinfo=UTC),
            )
        ).first()
        is not None
    )


def send_warnings(year: AcademicYear, on: date) -> int:
    """E-mail each open school's headteachers: days at risk (at most every four weeks) and,
    within the council's warning before the year ends, days that would lapse (once a year)."""
    rules_row = days_rules()
    first, _last = academic_year_bounds(year.start_year)
    sent = 0
    link = absolute_url("days.my_days")
    school_ids = db.session.execute(
        select(School.id).where(School.status == SchoolStatus.OPEN).order_by(School.id)
    ).scalars()
    for school_id in list(school_ids):
        position = school_against_time(school_id, year, on)
        heads = _headteachers(school_id)
        if not heads:
            continue
        if (
            rules_row.warn_at_risk
            and position.at_risk
            and not _warned_since("days_at_risk", school_id, on - timedelta(AT_RISK_EVERY_DAYS))
        ):
            outbox.queue_email(
                heads,
                f"{formatting.days(position.at_risk_half_days)} may go unused this year",
                f"With {position.time.weeks_text} of teaching left before "
                f"{formatting.long_date(position.time.year_ends)}, "
                f"{formatting.days(position.total.not_yet_booked)} are not yet booked. At "
                f"{formatting.days(rules_row.usable_half_days_per_week)} a week, about "
                f"{formatting.days(position.at_risk_half_days)} cannot be used unless visits "
                "are booked soon. Talk to your adviser to book them."
                + (f"\n\n{link}" if link else ""),
                purpose="Days at risk",
                school_id=school_id,
                kind="days_at_risk",
                ref_id=school_id,
            )
            sent += 1
        if (
            position.lapse_warning
            and position.lapsing_half_days
            and not _warned_since("days_lapse", school_id, first)
        ):
            outbox.queue_email(
                heads,
                f"{formatting.days(position.lapsing_half_days)} lapse on "
                f"{formatting.long_date(position.time.year_ends)}",
                f"Unused days at the end of the academic year: {rules_row.rule.label.lower()}"
                + (
                    f" ({formatting.days(rules_row.carry_over_max_half_days)} at most)"
                    if rules_row.rule == YearEndRule.CARRY_OVER
                    else ""
                )
                + ". Book visits with your adviser before then."
                + (f"\n\n{link}" if link else ""),
                purpose="Days about to lapse",
                school_id=school_id,
                kind="days_lapse",
                ref_id=school_id,
            )
            sent += 1
    return sent


def _period(now: datetime) -> str | None:
    """Every day from 07:00 (Europe/London): a warning a month before days lapse is not missed
    for want of a Monday; days at risk are still e-mailed at most every four weeks."""
    return schedules.daily_at(now, WARNINGS_AT)


def _describe() -> str:
    return (
        "Every day from 07:00 (Europe/London): days at risk (at most every four weeks), and "
        "days about to lapse (once a year)"
    )


@schedules.schedule(SCHEDULE_NAME, "Warnings of days at risk", _period, _describe)
def run_warnings(run: ScheduledRun) -> str:
    on = run.started_at.astimezone(schedules.LONDON).date()
    year = current_academic_year(on)
    if year is None:
        return "No academic year is set up for today"
    sent = send_warnings(year, on)
    return f"{sent} warning{'' if sent == 1 else 's'} e-mailed"
