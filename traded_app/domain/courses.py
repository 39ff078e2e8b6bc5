"""Pure rules for course places: what a cancellation or a no-show costs.

A course's terms say a place is free to cancel until `free_until_days` days before the session
(cancelling on that day or earlier costs nothing), and costs `late_percent` of its price after
that, up to the start of the session. A delegate who does not come is charged `no_show_percent`.
Money is integer pence; a part of a price rounds half a penny up, as VAT does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class CancellationTerms:
    free_until_days: int
    late_percent: int
    no_show_percent: int = 100

    def __post_init__(self) -> None:
        if self.free_until_days < 0:
            raise ValueError("free_until_days is never negative")
        for percent in (self.late_percent, self.no_show_percent):
            if not 0 <= percent <= 100:
                raise ValueError("a percentage is between 0 and 100")

    def describe(self) -> str:
        late = f"{self.late_percent}% of the price"
        if self.free_until_days == 0:
            free = "Free to cancel until the day of the session"
        else:
            days = "day" if self.free_until_days == 1 else "days"
            free = f"Free to cancel until {self.free_until_days} {days} before the session"
        return f"{free}; after that, {late}. A delegate who does not come: {self.no_show_percent}%."


def days_before(session_date: date, on: date) -> int:
    """Whole days from `on` to the session (0 on the day itself, negative after it)."""
    return (session_date - on).days


def cancellation_percent(terms: CancellationTerms, session_date: date, on: date) -> int:
    """The part of a place's price (in per cent) that cancelling it on `on` costs."""
    if on < session_date and days_before(session_date, on) >= terms.free_until_days:
        return 0
    return terms.late_percent


def part_of(price_pence: int, percent: int) -> int:
    """`percent` of a price in pence, half a penny rounding up."""
    if price_pence < 0 or not 0 <= percent <= 100:
        raise ValueError("prices are never negative and a percentage is between 0 and 100")
    return (price_pence * percent + 50) // 100
