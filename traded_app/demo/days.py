"""Demo data for days: term dates, INSET and closure days, and a spread of visits this year.

Called from `demo.load_demo`. Idempotent: closure days are found by date, a year's terms and
INSET days are added only when it has no terms, visits are made only when the academic year has
none yet. Every visit goes through the visits service, so the demo
obeys the same rules as the app (weekdays, closure days, one day per adviser a date, never more
than allocated or bought). Visits against orders are only scheduled, never delivered, so the
demo orders keep the statuses the ordering demo promises.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models import (
    AcademicYear,
    CancelledBy,
    ClosureDay,
    CoreAllocation,
    InsetDay,
    Order,
    OrderStatus,
    School,
    TermPeriod,
    User,
    Visit,
    VisitFeedback,
    VisitStatus,
)
from traded_app.models.types import Role, SchoolStatus
from traded_app.services.days import ledger as days_ledger
from traded_app.services.days import school_calendar, visits
from traded_app.services.platform.settings import today

log = logging.getLogger(__name__)

OTHER_SCHOOLS_WITH_VISITS = 40
DELIVERY_NOTES = [
    "Reviewed the school's self-evaluation with the headteacher; agreed three priorities for the "
    "action plan.",
    "Learning walk in Key Stage 2 with the English lead; feedback given on reading for pleasure.",
    "Met the chair of governors to prepare the headteacher's performance review.",
    "Looked at pupil premium outcomes with the SENCo; next steps recorded in the school's plan.",
    "Safeguarding single central record checked with the business manager: compliant.",
]
PURPOSES = [
    "Termly School Performance Partner visit",
    "Review of the school development plan",
    "Support for governors: headteacher performance management",
    "Quality assurance of self-evaluation",
]


def easter_sunday(year: int) -> date:
    """Gregorian Easter (the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def _monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _weekday_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def demo_terms(year: AcademicYear) -> list[tuple[str, date, date]]:
    """Six terms in the usual English pattern (a week at October and February half terms, two
    weeks at Christmas and Easter, a week at the spring bank holiday), made up for the demo:
    not any council's published dates."""
    start, end = year.start_year, year.start_year + 1
    october = _monday_of(date(start, 10, 27))
    february = _monday_of(date(end, 2, 16))
    easter = _monday_of(easter_sunday(end)) - timedelta(days=7)  # holy week's Monday
    whitsun = _monday_of(date(end, 5, 31))  # the spring bank holiday's week
    return [
        ("Autumn 1", _weekday_on_or_after(date(start, 9, 2)), october - timedelta(days=3)),
        ("Autumn 2", october + timedelta(days=7), _weekday_on_or_before(date(start, 12, 19))),
        ("Spring 1", _weekday_on_or_after(date(end, 1, 5)), february - timedelta(days=3)),
        ("Spring 2", february + timedelta(days=7), easter - timedelta(days=3)),
        ("Summer 1", easter + timedelta(days=14), whitsun - timedelta(days=3)),
        ("Summer 2", whitsun + timedelta(days=7), _weekday_on_or_before(date(end, 7, 22))),
    ]


def christmas_closures(year: AcademicYear) -> list[tuple[date, str]]:
    """The council's offices close between Christmas and New Year (bank holidays ship with the
    app, so only the other weekdays are closure days)."""
    holidays = school_calendar.shipped_bank_holidays()
    days = []
    for offset in range(24, 32):
        day = date(year.start_year, 12, offset) if offset <= 31 else date(year.start_year + 1, 1, 1)
        if day.weekday() < 5 and day not in holidays:
            days.append((day, "Council Christmas closure"))
    return days


def load_calendar(years: list[AcademicYear], demo_schools: list[School]) -> int:
    """Term dates, an INSET day for every school on the first day of each year's autumn term,
    one demo school's own INSET day, and the council's Christmas closure (once)."""
    existing = set(db.session.execute(select(ClosureDay.closed_on)).scalars())
    added = 0
    for year in years:
        for day, name in christmas_closures(year):
            if day not in existing:
                db.session.add(ClosureDay(closed_on=day, name=name))
                existing.add(day)
                added += 1
        if school_calendar.terms(year):
            continue
        terms = demo_terms(year)
        for name, first, last in terms:
            db.session.add(
                TermPeriod(academic_year_id=year.id, name=name, first_day=first, last_day=last)
            )
        db.session.add(InsetDay(inset_on=terms[0][1], name="Staff training day"))
        if demo_schools:
            own = terms[2][2]  # the last day of Spring 1
            db.session.add(
                InsetDay(inset_on=own, school_id=demo_schools[0].id, name="Whole-school training")
            )
        added += len(terms)
    db.session.flush()
    return added


class _Diary:
    """Hands out weekdays the adviser is free, past ones for delivered visits, future for
    scheduled ones, skipping closure days."""

    def __init__(self, year: AcademicYear, now: date) -> None:
        closed = school_calendar.council_day_notes(year.starts_on, year.ends_on)
        # Past visits are half days: two a date fit the adviser's one day.
        self.past = [
            d
            for d in _weekdays(year.starts_on + timedelta(days=7), now - timedelta(days=1))
            if d not in closed
            for _slot in range(2)
        ]
        self.future = [
            d
            for d in _weekdays(now + timedelta(days=3), year.ends_on - timedelta(days=30))
            if d not in closed
        ]
        self.past_index = 0
        self.future_index = 0

    def next_past(self) -> date | None:
        if self.past_index >= len(self.past):
            return None
        day = self.past[self.past_index]
        self.past_index += 1
        return day

    def next_future(self, step: int = 1) -> date | None:
        if self.future_index >= len(self.future):
            return None
        day = self.future[self.future_index]
        self.future_index += step
        return day


def _weekdays(first: date, last: date) -> list[date]:
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(UTC)


def load_visits(year: AcademicYear, demo_schools: list[School]) -> int:
    """A spread of delivered, scheduled and cancelled visits for this year (once)."""
    already = db.session.execute(
        select(func.count()).select_from(Visit).where(Visit.academic_year_id == year.id)
    ).scalar_one()
    if already:
        return int(already)
    adviser = db.session.execute(
        select(User).where(User.email == "adviser@example.org")
    ).scalar_one_or_none()
    admin = (
        db.session.execute(
            select(User).where(User.role == Role.LA_ADMIN, User.active.is_(True)).order_by(User.id)
        )
        .scalars()
        .first()
    )
    if adviser is None or admin is None:
        return 0
    diary = _Diary(year, today())
    others = list(
        db.session.execute(
            select(School)
            .join(CoreAllocation, CoreAllocation.school_id == School.id)
            .where(
                CoreAllocation.academic_year_id == year.id,
                School.status == SchoolStatus.OPEN,
                School.id.not_in([s.id for s in demo_schools]),
            )
            .group_by(School.id)
            .order_by(School.urn)
            .limit(OTHER_SCHOOLS_WITH_VISITS)
        ).scalars()
    )
    made = 0
    for index, school in enumerate([*demo_schools, *others]):
        made += _school_visits(school, year, adviser, admin, diary, index)
    db.session.flush()
    _load_feedback(year)
    return made


FEEDBACK = [
    (5, "Really useful: clear priorities we could act on the next day."),
    (4, "Helpful challenge on our self-evaluation; the written notes came quickly."),
    (3, "Useful, though we ran short of time for the governors' part."),
    (5, ""),
    (2, "The visit moved twice at short notice, which made planning hard."),
    (4, "Good conversation with the English lead."),
]


def _load_feedback(year: AcademicYear) -> None:
    """Ratings from headteachers for most delivered visits; every school's latest is left for
    its headteacher to rate, so the Days page asks for it."""
    heads = {
        user.school_id: user
        for user in db.session.execute(
            select(User).where(User.role == Role.HEADTEACHER, User.active.is_(True))
        ).scalars()
    }
    delivered = db.session.execute(
        select(Visit)
        .where(Visit.academic_year_id == year.id, Visit.status == VisitStatus.DELIVERED)
        .order_by(Visit.school_id, Visit.visit_date.desc())
    ).scalars()
    latest_seen: set[int] = set()
    for index, visit in enumerate(delivered):
        head = heads.get(visit.school_id)
        if head is None or visit.school_id not in latest_seen:
            latest_seen.add(visit.school_id)
            continue
        rating, comment = FEEDBACK[index % len(FEEDBACK)]
        given = (visit.delivered_at or _at(visit.visit_date, 16)) + timedelta(days=2)
        db.session.add(
            VisitFeedback(
                visit_id=visit.id,
                rating=rating,
                comment=comment,
                given_by_id=head.id,
                given_at=given,
            )
        )
    db.session.flush()


def _book(
    school: School,
    adviser: User,
    admin: User,
    on: date | None,
    half_days: int,
    against: str,
    purpose: str,
) -> Visit | None:
    if on is None:
        return None
    try:
        return visits.schedule(
            visits.NewVisit(school, adviser.id, on, half_days, against, purpose),
            admin,
            booked_on=min(on, today() - timedelta(days=14)),  # the diary's history was booked ahead
        )
    except visits.VisitError as error:
        log.info("Demo visit to %s on %s left out: %s", school.name, on, error)
        return None


def _school_visits(
    school: School, year: AcademicYear, adviser: User, admin: User, diary: _Diary, index: int
) -> int:
    made = 0
    core = days_ledger.school_ledger(school.id, year.id).core
    # A delivered core visit (half a day) for every school that has core days.
    if core.not_yet_booked >= 1:
        visit = _book(
            school, adviser, admin, diary.next_past(), 1, visits.CORE, PURPOSES[index % 2]
        )
        if visit is not None:
            visits.deliver(visit, adviser, DELIVERY_NOTES[index % len(DELIVERY_NOTES)])
            visit.delivered_at = _at(visit.visit_date, 16)
            made += 1
    # Every third school: a visit the council had to cancel (free), then its replacement.
    if index % 3 == 1:
        visit = _book(school, adviser, admin, diary.next_past(), 1, visits.CORE, PURPOSES[0])
        if visit is not None:
            visits.cancel(
                visit,
                adviser,
                CancelledBy.COUNCIL,
                "Adviser unwell; visit to be rearranged.",
                on=visit.visit_date - timedelta(days=1),
            )
            visit.cancelled_at = _at(visit.visit_date - timedelta(days=1), 8)
            made += 1
    # Every fifth school: cancelled by the school at two days' notice, charged by the policy.
    if index % 5 == 2:
        visit = _book(school, adviser, admin, diary.next_past(), 1, visits.CORE, PURPOSES[3])
        if visit is not None:
            visits.cancel(
                visit,
                adviser,
                CancelledBy.SCHOOL,
                "School trip clashed with the visit.",
                on=visit.visit_date - timedelta(days=2),
            )
            visit.cancelled_at = _at(visit.visit_date - timedelta(days=2), 10)
            made += 1
    # An upcoming core visit when days are left.
    core = days_ledger.school_ledger(school.id, year.id).core
    if core.not_yet_booked >= 1:
        if _book(school, adviser, admin, diary.next_future(), 1, visits.CORE, PURPOSES[1]):
            made += 1
    # Upcoming visits against each confirmed order's lines (a whole day each).
    orders = db.session.execute(
        select(Order).where(
            Order.school_id == school.id,
            Order.academic_year_id == year.id,
            Order.status == OrderStatus.CONFIRMED,
        )
    ).scalars()
    for order in orders:
        for line in order.lines:
            if line.half_days >= 2 and _book(
                school,
                adviser,
                admin,
                diary.next_future(),
                2,
                str(line.id),
                f"{line.service.name}: first session",
            ):
                made += 1
    return made
