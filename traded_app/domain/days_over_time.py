"""Days against time: how many teaching days are left in the year, how many half-days a school
can still use at the council's realistic pace, and how many of its days are at risk of going
unused. Pure rules, in whole numbers (half-day units)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from traded_app.domain.school_calendar import Closed, Term, refusal

WEEKDAYS = 5


def teaching_days_from(terms: Sequence[Term], closed: Closed, on: date) -> int:
    """Days from `on` (itself included) that are in a term and open for visits."""
    count = 0
    for term in terms:
        day = max(term.first_day, on)
        while day <= term.last_day:
            if refusal(day, terms, closed) is None:
                count += 1
            day += timedelta(days=1)
    return count


def weekdays_from(on: date, last: date, holidays: set[date]) -> int:
    """Weekdays from `on` to `last` that are not bank holidays (a year with no term dates)."""
    count = 0
    day = on
    while day <= last:
        if day.weekday() < WEEKDAYS and day not in holidays:
            count += 1
        day += timedelta(days=1)
    return count


def usable_half_days(teaching_days: int, per_week: int) -> int:
    """Half-days a school can still use at `per_week` half-days a teaching week (rounded down)."""
    return teaching_days * per_week // WEEKDAYS


def at_risk(not_yet_booked: int, usable: int) -> int:
    """Half-days not yet booked that the time left cannot realistically use."""
    return max(0, not_yet_booked - usable)


def weeks_text(teaching_days: int) -> str:
    """'7 weeks and 2 days', '1 week', '3 days', 'no teaching days'."""
    weeks, days = divmod(teaching_days, WEEKDAYS)
    parts = []
    if weeks:
        parts.append(f"{weeks} week{'' if weeks == 1 else 's'}")
    if days:
        parts.append(f"{days} day{'' if days == 1 else 's'}")
    return " and ".join(parts) or "no teaching days"
