"""Days as people type them: one parser for every days field (basket lines, allocations,
services' day ranges, the council's allocation rules).

Days are kept as half-days. A days field is a text input (GOV.UK's advice for numbers: no
`type=number`, so a mouse wheel or an arrow key never changes a saved figure), with
`inputmode="decimal"` and the pattern below; this parser is the judge. It accepts a whole or half
number of days written the usual ways: "2", "2.5", "2.0", "2½", "½", "2 days", "1 day", "0.5
days". It refuses, with one message, anything else: "2,5" (a decimal comma is ambiguous: 2.5 or
25?), words, negative numbers and values that are not whole or half days.
"""

from __future__ import annotations

import re
from decimal import Decimal

MAX_HALF_DAYS = 2 * 365

DAYS_FORMAT_MESSAGE = "Enter days as a whole or half number, like 1.5"
EMPTY_MESSAGE = "Enter the number of days"

# For the input's `pattern` attribute (forms are `novalidate`: a hint for keyboards and
# assistive technology, never the check). ASCII digits only, so "２" is refused too.
DAYS_PATTERN = r"[0-9]*(\.[0-9]+)?½?( ?[Dd][Aa][Yy][Ss]?)?"

_DAYS = re.compile(
    r"""^(?:
        (?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)   # 2, 2.5, 2.0, .5
      | (?P<whole>[0-9]*)\s?½                      # ½, 2½, 2 ½
    )
    (?:\s*days?)?$""",
    re.VERBOSE | re.IGNORECASE,
)


class DaysError(ValueError):
    """A day count a person typed that cannot be used; the message is for them."""


def days_text(half_days: int) -> str:
    whole, half = divmod(half_days, 2)
    return f"{whole}.5" if half else f"{whole}"


def _half_days(text: str) -> int:
    """The half-days `text` names, or DaysError with the format message."""
    match = _DAYS.match(text)
    if match is None:
        raise DaysError(DAYS_FORMAT_MESSAGE)
    if match["number"] is None:
        return int(match["whole"] or 0) * 2 + 1
    doubled = Decimal(match["number"]) * 2
    if doubled != doubled.to_integral_value():
        raise DaysError(DAYS_FORMAT_MESSAGE)
    return int(doubled)


def parse_days(raw: str | None, *, minimum: int = 1, maximum: int = MAX_HALF_DAYS) -> int:
    """'2.5', '2½' or '2.5 days' -> 5 half-days, or DaysError with a GOV.UK-style message:
    'Enter days as a whole or half number, like 1.5' for anything that is not a whole or half
    number of days; the bounds (in half-days) stated as days ('Days must be at least 0.5')."""
    text = (raw or "").strip()
    if not text:
        raise DaysError(EMPTY_MESSAGE)
    if len(text) > 20:
        raise DaysError(DAYS_FORMAT_MESSAGE)
    half_days = _half_days(text)
    if half_days < minimum:
        raise DaysError(f"Days must be at least {days_text(minimum)}")
    if half_days > maximum:
        raise DaysError(f"Days must be {days_text(maximum)} or fewer")
    return half_days
