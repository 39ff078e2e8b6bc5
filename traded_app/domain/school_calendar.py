"""The school year's calendar: when a school can be visited, and the files term dates come in.

Pure rules, no database. A date can be visited when it is a weekday inside one of the year's
terms (when the council has entered its term dates), not a bank holiday, not a council closure
day and not an INSET day (the council's, or the school's own). `refusal` gives the reason a date
cannot be visited, in words a person booking it understands, or None.

Term dates arrive typed, as a CSV (name, first day, last day) or as an iCalendar file (one all-day
event per term, or per INSET day); `read_terms_csv` and `read_ics` turn a file into rows with a
reason for every row they refuse, so the page can preview them before anything is saved.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

MAX_FILE_BYTES = 1_000_000
MAX_ROWS = 200
MAX_NAME_LENGTH = 60


@dataclass(frozen=True)
class Term:
    """One term (or half term's teaching weeks): its name and first and last teaching days."""

    name: str
    first_day: date
    last_day: date

    def __contains__(self, on: object) -> bool:
        return isinstance(on, date) and self.first_day <= on <= self.last_day


@dataclass(frozen=True)
class Closed:
    """Days a visit cannot fall on, each with its name: bank holidays, the council's closure
    days, the council's INSET days and the school's own."""

    bank_holidays: Mapping[date, str] = field(default_factory=dict)
    closures: Mapping[date, str] = field(default_factory=dict)
    council_inset: Mapping[date, str] = field(default_factory=dict)
    school_inset: Mapping[date, str] = field(default_factory=dict)


def long_date(on: date) -> str:
    return f"{on:%A} {on.day} {on:%B %Y}"


def holiday_between(terms: Sequence[Term], on: date) -> str:
    """The name of the holiday `on` falls in: "the holiday after Autumn 1", or before the first."""
    before = [term for term in terms if term.last_day < on]
    if not before:
        return "before the first term"
    return f"in the holiday after {max(before, key=lambda t: t.last_day).name}"


def refusal(on: date, terms: Sequence[Term], closed: Closed) -> str | None:
    """Why a visit cannot be on `on`, or None when it can. With no terms entered for the year,
    term time is not checked (the council's set-up page says the dates are missing)."""
    when = long_date(on)
    if on.weekday() >= 5:
        return f"{when} is a {on:%A}: choose a weekday"
    if on in closed.bank_holidays:
        return f"{when} is a bank holiday ({closed.bank_holidays[on]}): choose another date"
    if on in closed.closures:
        return f"The council is closed on {when} ({closed.closures[on]}): choose another date"
    if terms and not any(on in term for term in terms):
        return f"{when} is not in term time ({holiday_between(terms, on)}): choose a term day"
    if on in closed.council_inset:
        return f"{when} is an INSET day ({closed.council_inset[on]}): choose another date"
    if on in closed.school_inset:
        return (
            f"{when} is one of the school's INSET days ({closed.school_inset[on]}): "
            "choose another date"
        )
    return None


def day_note(on: date, terms: Sequence[Term], closed: Closed) -> str:
    """A short name for a day closed to visits, for calendars: "Good Friday", "Half term"."""
    for names in (closed.bank_holidays, closed.closures, closed.council_inset, closed.school_inset):
        if on in names:
            return names[on]
    if terms and not any(on in term for term in terms):
        return "School holiday"
    return ""


def overlapping(terms: Iterable[Term], candidate: Term) -> Term | None:
    """A term that shares a day with `candidate`, if any."""
    for term in terms:
        if candidate.first_day <= term.last_day and term.first_day <= candidate.last_day:
            return term
    return None


def teaching_days(terms: Sequence[Term], closed: Closed) -> int:
    """Weekdays in the terms that are open for visits (for the summary on the page)."""
    count = 0
    for term in terms:
        day = term.first_day
        while day <= term.last_day:
            if refusal(day, terms, closed) is None:
                count += 1
            day += timedelta(days=1)
    return count


# --- Reading files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A row of an uploaded file: what it would add, or why it is refused."""

    line: int
    kind: str  # "term" or "inset"
    name: str
    first_day: date | None
    last_day: date | None
    problem: str = ""


class FileRefused(ValueError):
    """The file as a whole cannot be read; the message says why and what to upload instead."""


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d %B %Y", "%d %b %Y")


def parse_day(text: str) -> date | None:
    """A date as people write them in term-date spreadsheets: 2026-09-03, 03/09/2026, 3 Sep 2026."""
    value = text.strip()
    for fmt in DATE_FORMATS:
        try:
            return date(*time.strptime(value, fmt)[:3])
        except ValueError:
            continue
    return None


def _decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused("The file must be smaller than 1 MB")
    if not data.strip():
        raise FileRefused("The selected file is empty")
    if b"\x00" in data:
        raise FileRefused("The selected file must be a CSV or an iCalendar (.ics) file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused("The file must be saved as UTF-8 (in Excel: CSV UTF-8)") from None


def _check_row(line: int, kind: str, name: str, first: str, last: str) -> Row:
    first_day, last_day = parse_day(first), parse_day(last or first)
    name = " ".join(name.split())
    problem = ""
    if not name:
        problem = "The name is missing"
    elif len(name) > MAX_NAME_LENGTH:
        problem = f"The name must be {MAX_NAME_LENGTH} characters or fewer"
    elif first_day is None:
        problem = f"The first day {first.strip()!r} is not a date like 2026-09-03"
    elif last_day is None:
        problem = f"The last day {last.strip()!r} is not a date like 2026-10-23"
    elif last_day < first_day:
        problem = "The last day is before the first day"
    elif kind == "inset" and last_day != first_day:
        problem = "An INSET day is one date"
    return Row(line, kind, name, first_day, last_day, problem)


KIND_WORDS = {"term": "term", "inset": "inset", "inset day": "inset", "training day": "inset"}


def _cell(cells: list[str], at: int | None) -> str:
    return cells[at] if at is not None and at < len(cells) else ""


def read_terms_csv(data: bytes) -> list[Row]:
    """A CSV with a header: name, first day, last day, and optionally kind (term or INSET day)."""
    text = _decode(data)
    try:
        table = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        raise FileRefused("The file is not a CSV file") from None
    if not table:
        raise FileRefused("The selected file is empty")
    header = [re.sub(r"[^a-z]", "", cell.lower()) for cell in table[0]]
    try:
        at_name = header.index("name")
        at_first = header.index("firstday")
    except ValueError:
        raise FileRefused(
            "The first row must name the columns: Name, First day, Last day (and Kind if the "
            "file has INSET days)"
        ) from None
    at_last = header.index("lastday") if "lastday" in header else None
    at_kind = header.index("kind") if "kind" in header else None
    body = [row for row in table[1:] if any(cell.strip() for cell in row)]
    if len(body) > MAX_ROWS:
        raise FileRefused(f"The file has more than {MAX_ROWS} rows: is it the right file?")
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue

        name = _cell(cells, at_name)
        kind = KIND_WORDS.get(_cell(cells, at_kind).strip().lower() or "term", "")
        if not kind:
            rows.append(
                Row(number, "term", name.strip(), None, None, "The kind must be term or INSET day")
            )
            continue
        rows.append(_check_row(number, kind, name, _cell(cells, at_first), _cell(cells, at_last)))
    return rows


def _unfold(text: str) -> list[str]:
    """RFC 5545 content lines: a line starting with a space or tab continues the one before."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def _unescape(value: str) -> str:
    return (
        value.replace("\\n", " ").replace("\\N", " ").replace("\\,", ",").replace("\\;", ";")
    ).replace("\\\\", "\\")


def _ics_date(value: str) -> date | None:
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(T\d{6}Z?)?", value.strip())
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


INSET_WORDS = ("inset", "training day", "staff development", "teacher day", "pd day")


def read_ics(data: bytes) -> list[Row]:
    """All-day events of an iCalendar file: an event of one day named like an INSET day is one;
    every other event is a term from its start to the day before its (exclusive) end."""
    text = _decode(data)
    lines = _unfold(text)
    if not lines or lines[0].strip().upper() != "BEGIN:VCALENDAR":
        raise FileRefused("The file is not an iCalendar file (it must begin BEGIN:VCALENDAR)")
    rows: list[Row] = []
    event: dict[str, str] | None = None
    start_line = 0
    for number, line in enumerate(lines, start=1):
        upper = line.upper()
        if upper == "BEGIN:VEVENT":
            event, start_line = {}, number
            continue
        if upper == "END:VEVENT" and event is not None:
            rows.append(_ics_event(start_line, event))
            event = None
            continue
        if event is not None and ":" in line:
            head, value = line.split(":", 1)
            event[head.split(";", 1)[0].upper()] = value
    if len(rows) > MAX_ROWS:
        raise FileRefused(f"The file has more than {MAX_ROWS} events: is it the right file?")
    if not rows:
        raise FileRefused("The file has no events")
    return rows


def _ics_event(line: int, event: dict[str, str]) -> Row:
    name = " ".join(_unescape(event.get("SUMMARY", "")).split())
    first = _ics_date(event.get("DTSTART", ""))
    end = _ics_date(event.get("DTEND", "")) if "DTEND" in event else None
    if first is None:
        return Row(line, "term", name, None, None, "The event has no start date")
    last = first if end is None or end <= first else end - timedelta(days=1)
    kind = "inset" if any(word in name.lower() for word in INSET_WORDS) else "term"
    if kind == "inset" and last != first:
        kind = "term"
    return _check_row(line, kind, name, first.isoformat(), last.isoformat())


def ics_escape(text: str) -> str:
    """A TEXT value for an iCalendar property (RFC 5545 3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


# --- Bank holidays by the standing rules ------------------------------------------------------
#
# GOV.UK's list reaches a few years ahead; the service runs for longer. Past its last year, the
# standing pattern of England and Wales's eight bank holidays stands in (a one-off holiday, such
# as a coronation, is announced and arrives with GOV.UK's list).


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * leap) // 433
    month = (h + leap - 7 * m + 90) // 25
    day = (h + leap - 7 * m + 33 * month + 19) % 32
    return date(year, month, day)


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=-day.weekday() % 7)


def _last_monday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=last.weekday())


def standing_bank_holidays(year: int) -> dict[date, str]:
    """England and Wales's bank holidays in `year` by the standing rules, named as GOV.UK names
    them: a New Year's, Christmas or Boxing Day on a weekend moves to the next weekday free."""
    easter = easter_sunday(year)
    found = {
        easter - timedelta(days=2): "Good Friday",
        easter + timedelta(days=1): "Easter Monday",
        _monday_on_or_after(date(year, 5, 1)): "Early May bank holiday",
        _last_monday(year, 5): "Spring bank holiday",
        _last_monday(year, 8): "Summer bank holiday",
    }
    for fixed, name in (
        (date(year, 1, 1), "New Year’s Day"),
        (date(year, 12, 25), "Christmas Day"),
        (date(year, 12, 26), "Boxing Day"),
    ):
        if fixed.weekday() < 5:
            found[fixed] = name
            continue
        substitute = _monday_on_or_after(fixed)
        while substitute in found:
            substitute += timedelta(days=1)
        found[substitute] = f"{name} (substitute day)"
    return dict(sorted(found.items()))
