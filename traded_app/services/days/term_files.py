"""Term dates from a file: a CSV or an iCalendar file previewed, then added all together.

The preview checks every row as adding it would (inside the year, no overlap with the terms
already entered or with another row, no INSET day twice) and says why each refused row is
refused. Nothing is saved until the service manager confirms a preview with no refused rows;
confirming checks every row again, so a preview that has gone stale adds nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from traded_app.domain import school_calendar as rules
from traded_app.models import AcademicYear, User
from traded_app.services.days import school_calendar as calendar
from traded_app.services.days.school_calendar import CalendarError

ICS_SUFFIXES = (".ics", ".ical", ".ifb", ".icalendar")


@dataclass(frozen=True)
class Preview:
    rows: list[rules.Row]

    @property
    def refused(self) -> list[rules.Row]:
        return [row for row in self.rows if row.problem]

    @property
    def terms(self) -> int:
        return sum(1 for row in self.rows if row.kind == "term" and not row.problem)

    @property
    def inset_days(self) -> int:
        return sum(1 for row in self.rows if row.kind == "inset" and not row.problem)

    def as_json(self) -> str:
        """The rows to add, for the confirmation form (checked again when confirmed)."""
        return json.dumps(
            [
                [row.kind, row.name, row.first_day.isoformat(), row.last_day.isoformat()]
                for row in self.rows
                if not row.problem and row.first_day and row.last_day
            ]
        )


def read(filename: str, data: bytes) -> list[rules.Row]:
    """The file's rows, whichever kind it is; CalendarError when it cannot be read at all."""
    is_ics = filename.lower().endswith(ICS_SUFFIXES) or data.lstrip()[:15].upper().startswith(
        b"BEGIN:VCALENDAR"
    )
    try:
        return rules.read_ics(data) if is_ics else rules.read_terms_csv(data)
    except rules.FileRefused as error:
        raise CalendarError(str(error), "file") from None


def preview(year: AcademicYear, filename: str, data: bytes) -> Preview:
    return Preview(_checked(year, read(filename, data)))


def _checked(year: AcademicYear, rows: list[rules.Row]) -> list[rules.Row]:
    """Each row with the problem adding it would meet, including clashes within the file."""
    checked: list[rules.Row] = []
    terms_so_far: list[rules.Term] = []
    inset_so_far: set[date] = set()
    for row in rows:
        problem = row.problem
        if not problem and row.first_day and row.last_day:
            if row.kind == "term":
                problem = calendar.check_term(year, row.name, row.first_day, row.last_day)
                candidate = rules.Term(row.name, row.first_day, row.last_day)
                clash = rules.overlapping(terms_so_far, candidate)
                if not problem and clash is not None:
                    problem = f"It overlaps {clash.name} earlier in the file"
                terms_so_far.append(candidate)
            else:
                problem = calendar.check_inset(year, row.first_day, row.name, None)
                if not problem and row.first_day in inset_so_far:
                    problem = "The same INSET day is earlier in the file"
                inset_so_far.add(row.first_day)
        checked.append(
            rules.Row(row.line, row.kind, row.name, row.first_day, row.last_day, problem)
        )
    return checked


def _rows_from_json(text: str) -> list[rules.Row]:
    try:
        raw = json.loads(text)
        rows = [
            rules.Row(
                number,
                str(kind),
                str(name),
                date.fromisoformat(first),
                date.fromisoformat(last),
            )
            for number, (kind, name, first, last) in enumerate(raw, start=1)
            if kind in ("term", "inset")
        ]
    except (TypeError, ValueError):
        raise CalendarError("Upload the file again: the preview could not be read") from None
    if not rows or len(rows) > rules.MAX_ROWS:
        raise CalendarError("Upload the file again: the preview could not be read")
    return rows


def confirm(year: AcademicYear, rows_json: str, user: User) -> tuple[int, int]:
    """Add every previewed row, all or nothing; (terms added, INSET days added)."""
    rows = _checked(year, _rows_from_json(rows_json))
    refused = [row for row in rows if row.problem]
    if refused:
        raise CalendarError(
            f"The term dates have changed since the preview ({refused[0].problem}): "
            "upload the file again"
        )
    terms = inset = 0
    for row in rows:
        if row.first_day is None or row.last_day is None:
            continue  # never: _rows_from_json gives both dates
        if row.kind == "term":
            calendar.add_term(year, row.name, row.first_day, row.last_day, user)
            terms += 1
        else:
            calendar.add_inset_day(year, row.first_day, row.name, user)
            inset += 1
    return terms, inset
