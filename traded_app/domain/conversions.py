"""Academy conversions on their date: the pure rules (no database).

A maintained school converting to an academy gets a new URN. The conversion takes effect on the
academy's open date: until then the maintained school keeps ordering and is recharged; on the
date its remaining days, booked visits from that date and open orders move to the academy, and
the staff's access moves when the service manager confirms. Issued documents never move.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum


def long_date(value: date) -> str:
    """'1 April 2027'."""
    return f"{value.day} {value:%B %Y}"


class Stage(StrEnum):
    WAITING = "waiting"  # before its date: the maintained school carries on
    DUE = "due"  # its date has come; nothing moved yet (the daily job, or confirming, moves it)
    MOVED = "moved"  # days, visits and orders moved; staff access waits for confirmation
    DONE = "done"  # confirmed: the staff work at the academy

    @property
    def label(self) -> str:
        return {
            "waiting": "Waiting for its date",
            "due": "Due: days and orders move today",
            "moved": "Days and orders moved: confirm to move staff access",
            "done": "Done",
        }[self.value]


def effective_date(opens_on: date | None, closes_on: date | None, imported_on: date) -> date:
    """The day the conversion takes effect: the academy's open date; without one, the day after
    the maintained school closes; without either, the day of the import."""
    if opens_on is not None:
        return opens_on
    if closes_on is not None:
        return closes_on + timedelta(days=1)
    return imported_on


def old_closes_on(converts_on: date, closes_on: date | None) -> date:
    """The maintained school's last day: GIAS's close date when it is before the academy opens,
    else the day before."""
    if closes_on is not None and closes_on < converts_on:
        return closes_on
    return converts_on - timedelta(days=1)


def stage(converts_on: date, today: date, moved: bool, confirmed: bool) -> Stage:
    if confirmed:
        return Stage.DONE
    if moved:
        return Stage.MOVED
    return Stage.DUE if converts_on <= today else Stage.WAITING


def is_due(converts_on: date, today: date, moved: bool) -> bool:
    """Should the days, visits and orders move now?"""
    return not moved and converts_on <= today


def visit_moves(visit_date: date, converts_on: date) -> bool:
    """A booked visit on or after the date is the academy's; one before stays."""
    return visit_date >= converts_on


def confirm_refusal(converts_on: date, today: date) -> str | None:
    """Why the service manager cannot confirm yet (staff move only once the academy is open)."""
    if converts_on > today:
        return (
            f"This conversion takes effect on {long_date(converts_on)}: "
            "confirm it on or after that date"
        )
    return None


def reason(moved_out: bool, other: str, converts_on: date) -> str:
    """The days ledger's line for a transfer, on each record."""
    when = long_date(converts_on)
    if moved_out:
        return f"Moved to {other} on its conversion to an academy, {when}"
    return f"Moved from {other} on its conversion to an academy, {when}"
