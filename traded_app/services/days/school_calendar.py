"""The school year's calendar: term dates, INSET days, bank holidays and council closure days.

The service manager enters the council's terms for each academic year (typed, or from a CSV or
iCalendar file with a preview) and the council's INSET days; a school's staff add the school's
own INSET days; England and Wales's bank holidays ship with the app
(`traded_app/data/bank_holidays.json`, GOV.UK's list on release) and `flask update-bank-holidays`
loads GOV.UK's current list into the database. `refusal` says why a school cannot be visited on
a date (the rules are `domain.school_calendar`'s), and visits.schedule asks it before booking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources

from sqlalchemy import delete, func, or_, select

from traded_app import formatting
from traded_app.domain import school_calendar as rules
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    BankHoliday,
    ClosureDay,
    InsetDay,
    School,
    TermPeriod,
    User,
    Visit,
    VisitStatus,
)
from traded_app.models.base import utcnow
from traded_app.models.types import Role
from traded_app.services.platform.errors import DomainError

BANK_HOLIDAY_DIVISION = "england-and-wales"
SCHOOL_STAFF = frozenset({Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER})


class CalendarError(DomainError, ValueError):
    """A calendar change that cannot be made; the message is for the person making it."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- Bank holidays ----------------------------------------------------------------------------


def read_govuk_bank_holidays(data: bytes) -> list[tuple[date, str]]:
    """England and Wales's events from GOV.UK's bank-holidays.json (or our shipped copy)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CalendarError("The file is not GOV.UK's bank holidays JSON") from None
    if isinstance(document, dict) and BANK_HOLIDAY_DIVISION in document:
        document = document[BANK_HOLIDAY_DIVISION]
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list) or not events:
        raise CalendarError("The file has no England and Wales bank holidays")
    found: list[tuple[date, str]] = []
    for event in events:
        try:
            found.append((date.fromisoformat(event["date"]), str(event["title"])[:120]))
        except (TypeError, KeyError, ValueError):
            raise CalendarError(f"A bank holiday in the file is not readable: {event!r}") from None
    return sorted(found)


@cache
def shipped_bank_holidays() -> dict[date, str]:
    """The bank holidays shipped with this release."""
    data = resources.files("traded_app.data").joinpath("bank_holidays.json").read_bytes()
    return dict(read_govuk_bank_holidays(data))


def shipped_bank_holidays_updated() -> str:
    data = resources.files("traded_app.data").joinpath("bank_holidays.json").read_bytes()
    return str(json.loads(data).get("updated", ""))


def bank_holidays(first: date, last: date) -> dict[date, str]:
    """Bank holidays between two dates, each year's from the first list that has that year:
    GOV.UK's list as last loaded (`flask update-bank-holidays`), else the shipped one, else the
    standing rules (`domain.school_calendar.standing_bank_holidays`), so a year past both lists'
    end still has its Christmas and Easter."""
    loaded = dict(
        db.session.execute(
            select(BankHoliday.holiday_on, BankHoliday.title).where(
                BankHoliday.holiday_on.between(date(first.year, 1, 1), date(last.year, 12, 31))
            )
        )
        .tuples()
        .all()
    )
    shipped = shipped_bank_holidays_by_year()
    found: dict[date, str] = {}
    for year in range(first.year, last.year + 1):
        of_year = {day: title for day, title in loaded.items() if day.year == year}
        found.update(of_year or shipped.get(year) or rules.standing_bank_holidays(year))
    return {day: title for day, title in sorted(found.items()) if first <= day <= last}


@cache
def shipped_bank_holidays_by_year() -> dict[int, dict[date, str]]:
    by_year: dict[int, dict[date, str]] = {}
    for day, title in shipped_bank_holidays().items():
        by_year.setdefault(day.year, {})[day] = title
    return by_year


def update_bank_holidays(events: list[tuple[date, str]]) -> tuple[int, int]:
    """Replace the loaded bank holidays with `events`; (how many now, how many years covered)."""
    if not events:
        raise CalendarError("There are no bank holidays to load")
    db.session.execute(delete(BankHoliday))
    now = utcnow()
    db.session.add_all(
        BankHoliday(holiday_on=day, title=title, loaded_at=now) for day, title in events
    )
    db.session.flush()
    return len(events), len({day.year for day, _ in events})


def bank_holidays_loaded_at() -> str:
    """When `flask update-bank-holidays` last loaded GOV.UK's list, or '' when never."""
    loaded = db.session.execute(select(func.max(BankHoliday.loaded_at))).scalar_one_or_none()
    return formatting.long_date(loaded.date()) if loaded else ""


# --- What a date is ---------------------------------------------------------------------------


def terms(year: AcademicYear) -> list[TermPeriod]:
    return list(
        db.session.execute(
            select(TermPeriod)
            .where(TermPeriod.academic_year_id == year.id)
            .order_by(TermPeriod.first_day)
        ).scalars()
    )


def _rules_terms(year: AcademicYear) -> list[rules.Term]:
    return [rules.Term(t.name, t.first_day, t.last_day) for t in terms(year)]


def closed_days(first: date, last: date, school_id: int | None) -> rules.Closed:
    """Every day between two dates that no visit may fall on, for one school (or none)."""
    closures = dict(
        db.session.execute(
            select(ClosureDay.closed_on, ClosureDay.name).where(
                ClosureDay.closed_on.between(first, last)
            )
        )
        .tuples()
        .all()
    )
    council_inset: dict[date, str] = {}
    school_inset: dict[date, str] = {}
    rows = (
        db.session.execute(
            select(InsetDay.inset_on, InsetDay.name, InsetDay.school_id).where(
                InsetDay.inset_on.between(first, last),
                or_(InsetDay.school_id.is_(None), InsetDay.school_id == school_id),
            )
        )
        .tuples()
        .all()
    )
    for on, name, owner in rows:
        (council_inset if owner is None else school_inset)[on] = name
    return rules.Closed(bank_holidays(first, last), closures, council_inset, school_inset)


def refusal(on: date, year: AcademicYear, school_id: int | None) -> str | None:
    """Why `on` cannot be a visit to the school, or None when it can."""
    return rules.refusal(on, _rules_terms(year), closed_days(on, on, school_id))


def council_day_notes(first: date, last: date) -> dict[date, str]:
    """Why each weekday between two dates is closed to visits at every school (a bank holiday,
    a closure day, a holiday between terms, a council INSET day); open days are left out."""
    closed = closed_days(first, last, None)
    years = {
        year.id: year
        for year in db.session.execute(
            select(AcademicYear).where(
                AcademicYear.ends_on >= first, AcademicYear.starts_on <= last
            )
        ).scalars()
    }
    term_lists = {year_id: _rules_terms(year) for year_id, year in years.items()}
    notes: dict[date, str] = {}
    day = first
    while day <= last:
        year_id = next((y.id for y in years.values() if y.starts_on <= day <= y.ends_on), None)
        terms_then = term_lists.get(year_id, []) if year_id is not None else []
        if day.weekday() < 5 and rules.refusal(day, terms_then, closed) is not None:
            notes[day] = rules.day_note(day, terms_then, closed)
        day += timedelta(days=1)
    return notes


@dataclass(frozen=True)
class YearCalendar:
    year: AcademicYear
    terms: list[TermPeriod]
    council_inset: list[InsetDay]
    school_inset: list[InsetDay]
    bank_holidays: list[tuple[date, str]]
    closures: list[ClosureDay]
    visit_days: int  # weekdays in term open for visits


def year_calendar(year: AcademicYear, school_id: int | None = None) -> YearCalendar:
    """The council's calendar for a year (with a school's own INSET days when one is given)."""
    term_rows = terms(year)
    closed = closed_days(year.starts_on, year.ends_on, school_id)
    return YearCalendar(
        year=year,
        terms=term_rows,
        council_inset=inset_days(year, None),
        school_inset=inset_days(year, school_id) if school_id is not None else [],
        bank_holidays=sorted(closed.bank_holidays.items()),
        closures=list(
            db.session.execute(
                select(ClosureDay)
                .where(ClosureDay.closed_on.between(year.starts_on, year.ends_on))
                .order_by(ClosureDay.closed_on)
            ).scalars()
        ),
        visit_days=rules.teaching_days(_rules_terms(year), closed) if term_rows else 0,
    )


# --- Terms ------------------------------------------------------------------------------------


def _require_manager(user: User) -> None:
    if user.role != Role.LA_ADMIN:
        raise CalendarError("Only the council's service manager can do that")


def check_term(year: AcademicYear, name: str, first: date, last: date) -> str:
    """Why a term cannot be added to the year (empty when it can)."""
    if not name.strip():
        return "Enter the name of the term, like Autumn 1"
    if len(name.strip()) > rules.MAX_NAME_LENGTH:
        return f"The name must be {rules.MAX_NAME_LENGTH} characters or fewer"
    if last < first:
        return "The last day must be on or after the first day"
    if not (year.starts_on <= first and last <= year.ends_on):
        return (
            f"A term of {year.label} must be between {formatting.long_date(year.starts_on)} "
            f"and {formatting.long_date(year.ends_on)}"
        )
    existing = [rules.Term(t.name, t.first_day, t.last_day) for t in terms(year)]
    clash = rules.overlapping(existing, rules.Term(name, first, last))
    if clash is not None:
        return (
            f"It overlaps {clash.name} ({formatting.long_date(clash.first_day)} to "
            f"{formatting.long_date(clash.last_day)})"
        )
    return ""


def add_term(year: AcademicYear, name: str, first: date, last: date, user: User) -> TermPeriod:
    _require_manager(user)
    problem = check_term(year, name, first, last)
    if problem:
        raise CalendarError(problem, "term_name" if "name" in problem.lower() else "first_day")
    term = TermPeriod(
        academic_year_id=year.id,
        name=" ".join(name.split()),
        first_day=first,
        last_day=last,
        created_by_id=user.id,
        created_at=utcnow(),
    )
    db.session.add(term)
    db.session.flush()
    return term


def remove_term(term_id: int, user: User) -> TermPeriod | None:
    _require_manager(user)
    term = db.session.get(TermPeriod, term_id) if 0 < term_id < 2**31 else None
    if term is not None:
        db.session.delete(term)
        db.session.flush()
    return term


# --- INSET days -------------------------------------------------------------------------------


def inset_days(year: AcademicYear, school_id: int | None) -> list[InsetDay]:
    """The council's INSET days (school_id None) or one school's own, in a year."""
    owner = InsetDay.school_id.is_(None) if school_id is None else InsetDay.school_id == school_id
    return list(
        db.session.execute(
            select(InsetDay)
            .where(owner, InsetDay.inset_on.between(year.starts_on, year.ends_on))
            .order_by(InsetDay.inset_on)
        ).scalars()
    )


def _may_change_inset(user: User, school: School | None) -> None:
    if school is None:
        _require_manager(user)
    elif not (
        user.role == Role.LA_ADMIN or (user.role in SCHOOL_STAFF and user.school_id == school.id)
    ):
        raise CalendarError("You can only change your own school's INSET days")


def check_inset(year: AcademicYear, on: date, name: str, school: School | None) -> str:
    """Why an INSET day cannot be added (empty when it can)."""
    if not name.strip():
        return "Enter what the day is, like Staff training day"
    if len(name.strip()) > rules.MAX_NAME_LENGTH:
        return f"The name must be {rules.MAX_NAME_LENGTH} characters or fewer"
    if not year.starts_on <= on <= year.ends_on:
        return f"The date must be in the {year.label} academic year"
    if on.weekday() >= 5:
        return f"{formatting.long_date(on)} is a {on:%A}: an INSET day is a weekday"
    owner = InsetDay.school_id.is_(None) if school is None else InsetDay.school_id == school.id
    if db.session.execute(select(InsetDay.id).where(owner, InsetDay.inset_on == on)).first():
        return f"{formatting.long_date(on)} is already an INSET day"
    booked = select(func.count()).where(
        Visit.visit_date == on, Visit.status == VisitStatus.SCHEDULED
    )
    if school is not None:
        booked = booked.where(Visit.school_id == school.id)
    count = db.session.execute(booked).scalar_one()
    if count:
        return (
            f"{count} {'visit is' if count == 1 else 'visits are'} booked on "
            f"{formatting.long_date(on)}: ask the council to move "
            f"{'it' if count == 1 else 'them'} first"
        )
    return ""


def add_inset_day(
    year: AcademicYear, on: date, name: str, user: User, school: School | None = None
) -> InsetDay:
    _may_change_inset(user, school)
    problem = check_inset(year, on, name, school)
    if problem:
        raise CalendarError(problem, "inset_name" if problem.startswith("Enter") else "inset_on")
    day = InsetDay(
        inset_on=on,
        school_id=school.id if school else None,
        name=" ".join(name.split()),
        created_by_id=user.id,
        created_at=utcnow(),
    )
    db.session.add(day)
    db.session.flush()
    return day


def remove_inset_day(inset_id: int, user: User, school: School | None = None) -> InsetDay | None:
    """Remove an INSET day of the council (school None) or of `school`; None when not found."""
    _may_change_inset(user, school)
    day = db.session.get(InsetDay, inset_id) if 0 < inset_id < 2**31 else None
    if day is None or day.school_id != (school.id if school else None):
        return None
    db.session.delete(day)
    db.session.flush()
    return day


# --- Council closure days ---------------------------------------------------------------------


def closure_on(on: date) -> ClosureDay | None:
    return db.session.execute(
        select(ClosureDay).where(ClosureDay.closed_on == on)
    ).scalar_one_or_none()


def closure_days(year: AcademicYear) -> list[ClosureDay]:
    return list(
        db.session.execute(
            select(ClosureDay)
            .where(ClosureDay.closed_on >= year.starts_on, ClosureDay.closed_on <= year.ends_on)
            .order_by(ClosureDay.closed_on)
        ).scalars()
    )


def add_closure_day(on: date, name: str, user: User) -> ClosureDay:
    """Mark a date as a council closure day; refused when visits are already booked on it."""
    if user.role != Role.LA_ADMIN:
        raise CalendarError("Only the council's service manager can do that")
    text = name.strip()
    if not text:
        raise CalendarError("Enter what the closure is, like Christmas Day", "name")
    if closure_on(on) is not None:
        raise CalendarError(f"{formatting.long_date(on)} is already a closure day", "closed_on")
    booked = db.session.execute(
        select(func.count()).where(Visit.visit_date == on, Visit.status == VisitStatus.SCHEDULED)
    ).scalar_one()
    if booked:
        raise CalendarError(
            f"{booked} {'visit is' if booked == 1 else 'visits are'} booked on "
            f"{formatting.long_date(on)}: move or cancel {'it' if booked == 1 else 'them'} first",
            "closed_on",
        )
    closure = ClosureDay(closed_on=on, name=text, created_by_id=user.id, created_at=utcnow())
    db.session.add(closure)
    db.session.flush()
    return closure


def remove_closure_day(closure_id: int, user: User) -> ClosureDay | None:
    if user.role != Role.LA_ADMIN:
        raise CalendarError("Only the council's service manager can do that")
    closure = db.session.get(ClosureDay, closure_id) if closure_id < 2**31 else None
    if closure is not None:
        db.session.delete(closure)
        db.session.flush()
    return closure
