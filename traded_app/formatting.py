"""How money, days and times are shown. Money is integer pence; days are half-day units."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


# Formatted amounts and dates kept per process: a finance page shows a few hundred, many the
# same (£0.00, this month's due dates), and formatting each again cost more than the page's SQL.
# A plain dict (one get or set at a time is safe across threads), emptied when it is full.
_KEPT_MAX = 50_000
_POUNDS: dict[int, str] = {}
_DATES: dict[date, str] = {}


def pounds(pence: int | None) -> str:
    """1234567 -> '£12,345.67'; negative amounts keep their sign in front: '-£5.00'."""
    if pence is None:
        return ""
    if type(pence) is int:  # not bool, Decimal or float: those are formatted each time
        kept = _POUNDS.get(pence)
        if kept is None:
            if len(_POUNDS) >= _KEPT_MAX:
                _POUNDS.clear()
            kept = _POUNDS[pence] = _pounds(pence)
        return kept
    return _pounds(int(pence))


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{part:02d}"


def days(half_days: int | None) -> str:
    """5 -> '2.5 days', 2 -> '1 day', 1 -> '0.5 days'."""
    if half_days is None:
        return ""
    whole, half = divmod(abs(int(half_days)), 2)
    sign = "-" if half_days < 0 else ""
    number = f"{whole}.5" if half else f"{whole}"
    unit = "day" if half_days in (2, -2) else "days"
    return f"{sign}{number} {unit}"


def days_number(half_days: int) -> str:
    """5 -> '2.5', 4 -> '2' (for inputs and tables with a 'days' heading)."""
    whole, half = divmod(abs(int(half_days)), 2)
    sign = "-" if half_days < 0 else ""
    return f"{sign}{whole}.5" if half else f"{sign}{whole}"


def long_date(value: date | datetime | None) -> str:
    """'25 November 2026'; aware datetimes are shown in Europe/London."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON)
    elif type(value) is date:
        kept = _DATES.get(value)
        if kept is None:
            if len(_DATES) >= _KEPT_MAX:
                _DATES.clear()
            kept = _DATES[value] = f"{value.day} {value:%B %Y}"
        return kept
    return f"{value.day} {value:%B %Y}"


def date_time(value: datetime | None) -> str:
    """'25 November 2026 at 2:05pm' in Europe/London."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    hour = local.hour % 12 or 12
    return f"{long_date(local)} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def sentence(message: str) -> str:
    """An error message (GOV.UK style, no full stop) as a sentence for a notification banner."""
    return message if message.endswith((".", "?", "!")) else message + "."
