"""Reading and checking a Get Information About Schools (GIAS) CSV export, as a stream.

The file comes as UTF-8, UTF-8 with a byte-order mark or Windows-1252 (as GIAS sometimes serves
it); the council's rows (its LA code) of the establishment types it serves are kept, checked and
returned as plain records. Anything wrong raises GiasFileError with every problem found (up to a
few), so the service manager can fix the file in one go.
"""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from traded_app.domain.numbers import whole_number
from traded_app.models.types import EstablishmentType, Phase
from traded_app.services.platform.errors import DomainError

REQUIRED_COLUMNS = (
    "URN",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "EstablishmentTypeGroup (name)",
    "PhaseOfEducation (name)",
    "LA (code)",
    "DistrictAdministrative (name)",
    "Postcode",
    "EstablishmentStatus (name)",
)
OPTIONAL_COLUMNS = (
    "Street",
    "Locality",
    "Address3",
    "Town",
    "OpenDate",
    "CloseDate",
    "ReasonEstablishmentOpened (name)",
    "ReasonEstablishmentClosed (name)",
    "NumberOfPupils",  # what a partnership's split by pupil numbers uses
    # The multi-academy trust running an academy: GIAS's group UID and the trust's name.
    "Trusts (code)",
    "Trusts (name)",
)
# England's full GIAS export is about 60 MB; anything far beyond that is not one.
MAX_BYTES = 150 * 1024 * 1024
MAX_LINE_CHARS = 64 * 1024
MAX_ERRORS_SHOWN = 10

# GIAS's establishment type groups the council serves; others (independent schools, colleges,
# children's centres, universities, Welsh schools…) are skipped.
SERVED_GROUPS = {
    "local authority maintained schools",
    "academies",
    "free schools",
    "special schools",
}


class GiasFileError(DomainError, ValueError):
    """The file cannot be imported; `problems` are the messages for the service manager."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0] if problems else "The file could not be imported")
        self.problems = problems


# --- Reading the file -------------------------------------------------------------------------


class _Undecodable(Exception):
    pass


def _lines(stream: IO[bytes], encoding: str, max_bytes: int) -> Iterator[str]:
    """The stream's text a line at a time, never more than `max_bytes` read."""
    decoder = codecs.getincrementaldecoder(encoding)(
        errors="strict" if encoding.startswith("utf") else "replace"
    )
    total = 0
    pending = ""
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise GiasFileError(
                [
                    f"The file is larger than {max_bytes // (1024 * 1024)} MB, so it is not a GIAS "
                    "export. Download the CSV from Get Information About Schools again."
                ]
            )
        try:
            pending += _text(decoder.decode(chunk))
        except UnicodeDecodeError:
            raise _Undecodable from None
        parts = pending.split("\n")
        pending = parts.pop()
        if len(pending) > MAX_LINE_CHARS:
            raise GiasFileError([_NOT_CSV])
        for part in parts:
            yield part + "\n"
    try:
        pending += _text(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        raise _Undecodable from None
    if pending:
        yield pending


def _text(decoded: str) -> str:
    # A NUL is in no text file (GIAS's included), and PostgreSQL cannot store one: importing
    # a school named with one was a server error.
    if "\x00" in decoded:
        raise GiasFileError([_NOT_CSV])
    return decoded


_NOT_CSV = (
    "The file is not a CSV file from Get Information About Schools. Download the establishment "
    "data as CSV and upload that file."
)


def _encoding_of(stream: IO[bytes]) -> str:
    start = stream.read(4)
    stream.seek(0)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _parse_date(raw: str) -> str | None:
    raw = raw.strip()
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, fmt).date().isoformat()  # noqa: DTZ007 - a date
        except ValueError:
            continue
    return None


def _classify(
    type_name: str, group: str, phase_name: str
) -> tuple[EstablishmentType, Phase] | None:
    t, g, p = type_name.lower(), group.lower(), phase_name.lower()
    pru = "pupil referral" in t or "alternative provision" in t
    if g not in SERVED_GROUPS and not pru:
        return None
    if pru:
        kind = EstablishmentType.PRU
    elif g == "academies":
        kind = EstablishmentType.ACADEMY
    elif g == "free schools":
        kind = EstablishmentType.FREE_SCHOOL
    elif "special" in t or g == "special schools":
        kind = EstablishmentType.SPECIAL if "non-maintained" not in t else EstablishmentType.OTHER
    else:
        kind = EstablishmentType.LA_MAINTAINED
    if "special" in t:
        phase = Phase.SPECIAL
    elif pru:
        phase = Phase.PRU
    elif p == "nursery":
        phase = Phase.NURSERY
    elif p in ("primary", "middle deemed primary"):
        phase = Phase.PRIMARY
    elif p in ("secondary", "middle deemed secondary", "16 plus"):
        phase = Phase.SECONDARY
    else:
        phase = Phase.ALL_THROUGH
    return kind, phase


@dataclass
class ParsedFile:
    encoding: str
    rows_read: int
    records: list[dict[str, Any]]
    other_la_rows: int
    skipped_types: int
    la_codes_seen: Counter[str]


def read_file(stream: IO[bytes], la_code: str, max_bytes: int = MAX_BYTES) -> ParsedFile:
    """The council's schools from a GIAS CSV, checked, or GiasFileError listing what is wrong."""
    encoding = _encoding_of(stream)
    try:
        return _read(stream, la_code, encoding, max_bytes)
    except _Undecodable:
        # Not valid UTF-8: GIAS's Windows-1252 export (the other encoding it is served in).
        stream.seek(0)
        try:
            return _read(stream, la_code, "cp1252", max_bytes)
        except _Undecodable:
            raise GiasFileError([_NOT_CSV]) from None


@dataclass(frozen=True)
class _Columns:
    """Where each GIAS column is in the file: required ones always, optional ones when present."""

    required: dict[str, int]
    optional: dict[str, int | None]
    width: int

    def value(self, row: list[str], name: str) -> str:
        return row[self.required[name]]


def _columns(reader: Iterator[list[str]]) -> _Columns:
    """The header row read and checked: every required GIAS column must be there."""
    try:
        header = next(reader)
    except StopIteration:
        raise GiasFileError(["The file is empty. " + _NOT_CSV]) from None
    except csv.Error:
        raise GiasFileError([_NOT_CSV]) from None
    names = [name.strip().lstrip("\ufeff") for name in header]
    index = {name: i for i, name in enumerate(names)}
    missing = [c for c in REQUIRED_COLUMNS if c not in index]
    if len(missing) == len(REQUIRED_COLUMNS):
        raise GiasFileError([_NOT_CSV])
    if missing:
        raise GiasFileError(
            [
                "The file is missing the GIAS column"
                + ("s " if len(missing) > 1 else " ")
                + ", ".join(missing)
                + ". Download the establishment data from Get Information About Schools with "
                "all its fields, without renaming columns."
            ]
        )
    return _Columns(
        {c: index[c] for c in REQUIRED_COLUMNS},
        {c: index.get(c) for c in OPTIONAL_COLUMNS},
        len(names),
    )


@dataclass
class _Reading:
    """What reading the rows has found so far: the council's records, and the problems."""

    la_code: str
    columns: _Columns
    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    first_row_of: dict[int, int] = field(default_factory=dict)
    duplicates: dict[int, list[int]] = field(default_factory=dict)
    la_codes: Counter[str] = field(default_factory=Counter)
    rows_read: int = 0
    other_la: int = 0
    skipped: int = 0

    def take(self, row_number: int, row: list[str]) -> None:
        """Keep the row's school if it is the council's, of a type it serves, and sound."""
        if not row or (len(row) == 1 and not row[0].strip()):
            return
        self.rows_read += 1
        columns = self.columns
        if len(row) < columns.width:
            row = row + [""] * (columns.width - len(row))
        la = columns.value(row, "LA (code)").strip()
        if la != self.la_code:
            self.other_la += 1
            if len(self.la_codes) < 500:
                self.la_codes[la[:10]] += 1
            return
        raw_urn = columns.value(row, "URN").strip()
        urn = whole_number(raw_urn) or 0
        if urn <= 0:
            self.errors.append(f"Row {row_number}: the URN “{raw_urn[:20]}” is not a number")
            return
        if urn in self.first_row_of:
            self.duplicates.setdefault(urn, [self.first_row_of[urn]]).append(row_number)
            return
        self.first_row_of[urn] = row_number
        name = " ".join(columns.value(row, "EstablishmentName").split())
        if not name:
            self.errors.append(f"Row {row_number}: URN {urn} has no EstablishmentName")
            return
        kind_phase = _classify(
            columns.value(row, "TypeOfEstablishment (name)"),
            columns.value(row, "EstablishmentTypeGroup (name)"),
            columns.value(row, "PhaseOfEducation (name)"),
        )
        if kind_phase is None:
            self.skipped += 1
            return
        self.records.append(_record(row, columns, urn, name, *kind_phase))

    def check(self) -> None:
        """GiasFileError listing the problems found, or saying the file has none of the
        council's schools."""
        errors = self.errors + [
            f"URN {urn} appears more than once, on rows {', '.join(str(r) for r in rows)}"
            for urn, rows in self.duplicates.items()
        ]
        if errors:
            shown = errors[:MAX_ERRORS_SHOWN]
            if len(errors) > MAX_ERRORS_SHOWN:
                shown.append(f"and {len(errors) - MAX_ERRORS_SHOWN} more problems")
            raise GiasFileError(shown)
        if not self.records and not self.skipped:
            seen = ", ".join(code or "(blank)" for code, _n in self.la_codes.most_common(5))
            raise GiasFileError(
                [
                    f"The file has no schools for LA code {self.la_code}"
                    + (f" (it has LA codes {seen})" if seen else "")
                    + ". Check the council's LA code in settings, or download the file for this "
                    "local authority."
                ]
            )


def _read(stream: IO[bytes], la_code: str, encoding: str, max_bytes: int) -> ParsedFile:
    reader = csv.reader(_lines(stream, encoding, max_bytes))
    reading = _Reading(la_code, _columns(reader))
    row_number = 1
    try:
        for row in reader:
            row_number += 1
            reading.take(row_number, row)
    except csv.Error as error:
        raise GiasFileError(
            [f"Row {row_number} could not be read as CSV ({error}). " + _NOT_CSV]
        ) from None
    reading.check()
    return ParsedFile(
        encoding,
        reading.rows_read,
        reading.records,
        reading.other_la,
        reading.skipped,
        reading.la_codes,
    )


def _record(
    row: list[str], columns: _Columns, urn: int, name: str, kind: EstablishmentType, phase: Phase
) -> dict[str, Any]:
    """A school's row as the plain record the preview stores (JSON: text, numbers, ISO dates)."""
    opt = columns.optional
    status_text = columns.value(row, "EstablishmentStatus (name)").strip().lower()
    lines = (opt[c] for c in ("Street", "Locality", "Address3", "Town"))
    address = "\n".join(part for i in lines if i is not None and (part := row[i].strip()))
    return {
        "urn": urn,
        "name": name[:200],
        "phase": phase.value,
        "type": kind.value,
        "status": "closed" if status_text == "closed" else "open",
        "district": " ".join(columns.value(row, "DistrictAdministrative (name)").split())[:80],
        "postcode": " ".join(columns.value(row, "Postcode").upper().split())[:16],
        "address": address,
        "opened_on": _optional_date(row, opt["OpenDate"]),
        "closed_on": _optional_date(row, opt["CloseDate"]),
        "reason_opened": _optional(row, opt["ReasonEstablishmentOpened (name)"]),
        "reason_closed": _optional(row, opt["ReasonEstablishmentClosed (name)"]),
        "pupils": _optional_count(row, opt["NumberOfPupils"]),
        # None when the file has no trust columns (then the import leaves trusts alone).
        "trust_code": _optional(row, i)[:16] if (i := opt["Trusts (code)"]) is not None else None,
        "trust_name": " ".join(row[j].split())[:200] if (j := opt["Trusts (name)"]) else "",
    }


def _optional(row: list[str], i: int | None) -> str:
    return row[i].strip()[:80] if i is not None else ""


def _optional_count(row: list[str], i: int | None) -> int | None:
    """A count such as the number of pupils; None when absent or not a plain whole number."""
    text = row[i].strip() if i is not None else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


def _optional_date(row: list[str], i: int | None) -> str | None:
    return _parse_date(row[i]) if i is not None and row[i].strip() else None
