"""Importing schools from a Get Information About Schools (GIAS) CSV export.

Two steps. `preview` reads the uploaded file as a stream (UTF-8, UTF-8 with a byte-order mark,
or Windows-1252, as GIAS sometimes serves it), keeps the council's rows (its LA code), checks
them, works out what would change and stores the rows with a `GiasImport` record; nothing else
changes. `apply` works the plan out again against the schools as they are then and writes it in
bulk, with an audit row for each school it touches. Any problem raises GiasFileError before
anything is written, so a failed import changes nothing.

What the import owns: a school's name, phase, type, district (and the quadrant its district maps
to, through the council's QuadrantDistrict settings), address, postcode, opening and closing.
The council's own data (billing route, cost centre, contact, flags, partnership, approval limit,
PO rule) is never overwritten; a new school starts with its route worked out from its type.

Academy conversions: GIAS closes the maintained school's URN and opens the academy under a new
one. When a school the app has open is closed in the file, and a school new to the app opens in
the file at the same postcode as an academy (or either record gives "Academy converter" as its
reason), the pair is a conversion: the old record is closed with its history, the new record
points back to it (`predecessor_id`), takes over its council data and its users, and is billed
by VAT invoice. Anything ambiguous (two candidates at one postcode) is left as a separate
closure and new school for the service manager to see.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, cast

from sqlalchemy import Table, bindparam, insert, select, update

from traded_app.extensions import db
from traded_app.models import GiasImport, GiasImportStatus, QuadrantDistrict, School, User
from traded_app.models.base import utcnow
from traded_app.models.types import (
    BillingRoute,
    CustomerType,
    EstablishmentType,
    Phase,
    SchoolStatus,
)
from traded_app.services.platform import audit
from traded_app.services.platform.settings import today

SCHOOL = cast(Table, School.__table__)

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
)
# England's full GIAS export is about 60 MB; anything far beyond that is not one.
MAX_BYTES = 150 * 1024 * 1024
MAX_LINE_CHARS = 64 * 1024
MAX_ERRORS_SHOWN = 10
PREVIEW_LIMIT = 100  # schools listed per kind of change on the preview page

# GIAS's establishment type groups the council serves; others (independent schools, colleges,
# children's centres, universities, Welsh schools…) are skipped.
SERVED_GROUPS = {
    "local authority maintained schools",
    "academies",
    "free schools",
    "special schools",
}


class GiasFileError(ValueError):
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
            pending += decoder.decode(chunk)
        except UnicodeDecodeError:
            raise _Undecodable from None
        parts = pending.split("\n")
        pending = parts.pop()
        if len(pending) > MAX_LINE_CHARS:
            raise GiasFileError([_NOT_CSV])
        for part in parts:
            yield part + "\n"
    try:
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _Undecodable from None
    if pending:
        yield pending


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


def _read(stream: IO[bytes], la_code: str, encoding: str, max_bytes: int) -> ParsedFile:
    reader = csv.reader(_lines(stream, encoding, max_bytes))
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
    col = {c: index[c] for c in REQUIRED_COLUMNS}
    opt = {c: index.get(c) for c in OPTIONAL_COLUMNS}
    width = len(names)
    records: list[dict[str, Any]] = []
    errors: list[str] = []
    first_row_of: dict[int, int] = {}
    duplicates: dict[int, list[int]] = {}
    la_codes: Counter[str] = Counter()
    rows_read = other_la = skipped = 0
    row_number = 1
    try:
        for row in reader:
            row_number += 1
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            rows_read += 1
            if len(row) < width:
                row = row + [""] * (width - len(row))
            la = row[col["LA (code)"]].strip()
            if la != la_code:
                other_la += 1
                if len(la_codes) < 500:
                    la_codes[la[:10]] += 1
                continue
            raw_urn = row[col["URN"]].strip()
            if not raw_urn.isdigit() or not 0 < int(raw_urn) < 10**9:
                errors.append(f"Row {row_number}: the URN “{raw_urn[:20]}” is not a number")
                continue
            urn = int(raw_urn)
            if urn in first_row_of:
                duplicates.setdefault(urn, [first_row_of[urn]]).append(row_number)
                continue
            first_row_of[urn] = row_number
            name = " ".join(row[col["EstablishmentName"]].split())
            if not name:
                errors.append(f"Row {row_number}: URN {urn} has no EstablishmentName")
                continue
            kind_phase = _classify(
                row[col["TypeOfEstablishment (name)"]],
                row[col["EstablishmentTypeGroup (name)"]],
                row[col["PhaseOfEducation (name)"]],
            )
            if kind_phase is None:
                skipped += 1
                continue
            kind, phase = kind_phase
            status_text = row[col["EstablishmentStatus (name)"]].strip().lower()
            address = "\n".join(
                part
                for part in (
                    row[opt[c]].strip() if opt[c] is not None else ""  # type: ignore[index]
                    for c in ("Street", "Locality", "Address3", "Town")
                )
                if part
            )
            records.append(
                {
                    "urn": urn,
                    "name": name[:200],
                    "phase": phase.value,
                    "type": kind.value,
                    "status": "closed" if status_text == "closed" else "open",
                    "district": " ".join(row[col["DistrictAdministrative (name)"]].split())[:80],
                    "postcode": " ".join(row[col["Postcode"]].upper().split())[:16],
                    "address": address,
                    "opened_on": _optional_date(row, opt["OpenDate"]),
                    "closed_on": _optional_date(row, opt["CloseDate"]),
                    "reason_opened": _optional(row, opt["ReasonEstablishmentOpened (name)"]),
                    "reason_closed": _optional(row, opt["ReasonEstablishmentClosed (name)"]),
                }
            )
    except csv.Error as error:
        raise GiasFileError(
            [f"Row {row_number} could not be read as CSV ({error}). " + _NOT_CSV]
        ) from None
    for urn, rows in duplicates.items():
        errors.append(
            f"URN {urn} appears more than once, on rows {', '.join(str(r) for r in rows)}"
        )
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN]
        if len(errors) > MAX_ERRORS_SHOWN:
            shown.append(f"and {len(errors) - MAX_ERRORS_SHOWN} more problems")
        raise GiasFileError(shown)
    if not records and not skipped:
        seen = ", ".join(code or "(blank)" for code, _n in la_codes.most_common(5))
        raise GiasFileError(
            [
                f"The file has no schools for LA code {la_code}"
                + (f" (it has LA codes {seen})" if seen else "")
                + ". Check the council's LA code in settings, or download the file for this "
                "local authority."
            ]
        )
    return ParsedFile(encoding, rows_read, records, other_la, skipped, la_codes)


def _optional(row: list[str], i: int | None) -> str:
    return row[i].strip()[:80] if i is not None else ""


def _optional_date(row: list[str], i: int | None) -> str | None:
    return _parse_date(row[i]) if i is not None and row[i].strip() else None


# --- Working out the changes ------------------------------------------------------------------

COMPARED = ("name", "phase", "establishment_type", "district", "postcode", "address", "opened_on")
FIELD_LABELS = {
    "name": "Name",
    "phase": "Phase",
    "establishment_type": "Type",
    "district": "District",
    "postcode": "Postcode",
    "address": "Address",
    "opened_on": "Opened",
    "status": "Status",
    "quadrant_id": "Quadrant",
}


@dataclass
class Existing:
    id: int
    urn: int
    name: str
    status: str
    values: dict[str, Any]


@dataclass
class Plan:
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[Existing, dict[str, Any], dict[str, tuple[Any, Any]]]] = field(
        default_factory=list
    )
    closed: list[tuple[Existing, dict[str, Any]]] = field(default_factory=list)
    converted: list[tuple[Existing, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0
    not_in_file: int = 0
    unmapped_districts: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        return {
            "new": len(self.new),
            "changed": len(self.changed),
            "closed": len(self.closed),
            "converted": len(self.converted),
            "unchanged": self.unchanged,
            "not_in_file": self.not_in_file,
            "unmapped_districts": dict(self.unmapped_districts.most_common(20)),
        }


def _district_map() -> dict[str, int]:
    return {
        name.lower(): quadrant_id
        for name, quadrant_id in db.session.execute(
            select(QuadrantDistrict.name, QuadrantDistrict.quadrant_id)
        ).tuples()
    }


def _existing() -> dict[int, Existing]:
    columns = [School.id, School.urn, School.status, School.quadrant_id] + [
        getattr(School, c) for c in COMPARED
    ]
    result = {}
    for row in db.session.execute(select(*columns)).tuples():
        school_id, urn, status, quadrant_id, *values = row
        data = dict(zip(COMPARED, values, strict=True))
        data["phase"] = data["phase"].value
        data["establishment_type"] = data["establishment_type"].value
        data["opened_on"] = data["opened_on"].isoformat() if data["opened_on"] else None
        data["district"] = data["district"] or ""
        data["quadrant_id"] = quadrant_id
        result[urn] = Existing(school_id, urn, data["name"], status.value, data)
    return result


def _as_values(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": record["name"],
        "phase": record["phase"],
        "establishment_type": record["type"],
        "district": record["district"],
        "postcode": record["postcode"],
        "address": record["address"],
        "opened_on": record["opened_on"],
    }


def _academy_like(record: dict[str, Any]) -> bool:
    return record["type"] in (EstablishmentType.ACADEMY.value, EstablishmentType.FREE_SCHOOL.value)


def plan_for(records: list[dict[str, Any]]) -> Plan:
    existing = _existing()
    districts = _district_map()
    plan = Plan()
    closing: list[tuple[Existing, dict[str, Any]]] = []
    opening: list[dict[str, Any]] = []
    for record in records:
        school = existing.get(record["urn"])
        if record["district"] and record["district"].lower() not in districts:
            plan.unmapped_districts[record["district"]] += 1
        if school is None:
            if record["status"] == "open":
                opening.append(record)
            continue
        if school.status == "open" and record["status"] == "closed":
            closing.append((school, record))
            continue
        wanted = _as_values(record)
        changes = {
            name: (school.values[name], wanted[name])
            for name in COMPARED
            if (school.values[name] or "") != (wanted[name] or "")
        }
        if school.status == "closed" and record["status"] == "open":
            changes["status"] = ("closed", "open")
        if "district" in changes:
            quadrant_id = districts.get(record["district"].lower())
            if quadrant_id is not None and quadrant_id != school.values["quadrant_id"]:
                changes["quadrant_id"] = (school.values["quadrant_id"], quadrant_id)
        if changes:
            plan.changed.append((school, record, changes))
        else:
            plan.unchanged += 1
    # Pair closures with openings at the same postcode: academy conversions.
    by_postcode: dict[str, list[dict[str, Any]]] = {}
    for record in opening:
        if record["postcode"]:
            by_postcode.setdefault(record["postcode"], []).append(record)
    paired: set[int] = set()
    for school, closed_record in closing:
        candidates = [
            r
            for r in by_postcode.get(closed_record["postcode"], [])
            if r["urn"] not in paired
            and (
                _academy_like(r)
                or "academy" in r["reason_opened"].lower()
                or "academy" in closed_record["reason_closed"].lower()
            )
        ]
        if len(candidates) == 1:
            paired.add(candidates[0]["urn"])
            plan.converted.append((school, {**candidates[0], "closing": closed_record}))
        else:
            plan.closed.append((school, closed_record))
    plan.new = [r for r in opening if r["urn"] not in paired]
    seen = {r["urn"] for r in records}
    plan.not_in_file = sum(1 for s in existing.values() if s.status == "open" and s.urn not in seen)
    return plan


# --- Preview and apply ------------------------------------------------------------------------


def preview(
    stream: IO[bytes], filename: str, la_code: str, user: User, max_bytes: int = MAX_BYTES
) -> GiasImport:
    """Read and check the file and store it for confirmation. Changes no school."""
    if not la_code:
        raise GiasFileError(
            ["Set the council's LA code in Council settings before importing from GIAS."]
        )
    parsed = read_file(stream, la_code, max_bytes)
    plan = plan_for(parsed.records)
    summary = plan.summary() | {
        "other_la_rows": parsed.other_la_rows,
        "skipped_types": parsed.skipped_types,
    }
    record = GiasImport(
        filename=filename[:255],
        encoding={"utf-8-sig": "UTF-8 with BOM", "cp1252": "Windows-1252"}.get(
            parsed.encoding, parsed.encoding.upper()
        ),
        la_code=la_code,
        rows_read=parsed.rows_read,
        rows_in_la=len(parsed.records),
        uploaded_by_id=user.id,
        summary=json.dumps(summary),
        rows=json.dumps(parsed.records, separators=(",", ":")),
    )
    db.session.add(record)
    db.session.flush()
    return record


def plan_of(record: GiasImport) -> Plan:
    return plan_for(json.loads(record.rows))


def summary_of(record: GiasImport) -> dict[str, Any]:
    return json.loads(record.summary or "{}")  # type: ignore[no-any-return]


class ImportStateError(ValueError):
    pass


def apply(record: GiasImport, user: User) -> dict[str, Any]:
    """Apply a previewed import in bulk; returns what it did. One transaction (the caller's)."""
    locked = db.session.execute(
        select(GiasImport).where(GiasImport.id == record.id).with_for_update()
    ).scalar_one()
    if locked.status != GiasImportStatus.PREVIEWED:
        raise ImportStateError(f"This import was already {locked.status.value}")
    plan = plan_of(locked)
    districts = _district_map()
    source = f"GIAS import {locked.id}"
    entries: list[audit.Entry] = []

    # New schools, and the academies that continue converted schools.
    carried = _council_data([old.id for old, _r in plan.converted])
    new_rows = [_new_row(r, districts) for r in plan.new]
    conversion_rows = []
    for old, r in plan.converted:
        row = _new_row(r, districts)
        row.update(carried[old.id])
        row.update(
            predecessor_id=old.id,
            customer_type=CustomerType.ACADEMY,
            billing_route=BillingRoute.INVOICE,
            cost_centre=None,
        )
        if row["quadrant_id"] is None:
            row["quadrant_id"] = old.values["quadrant_id"]
        conversion_rows.append(row)
    if new_rows or conversion_rows:
        db.session.execute(insert(SCHOOL), new_rows + conversion_rows)
    # Every school's id by URN: one query, whatever the number of new rows (no huge IN list).
    ids: dict[int, int] = {}
    if new_rows or conversion_rows:
        ids = {
            urn: school_id for urn, school_id in db.session.execute(select(School.urn, School.id))
        }
    for row in new_rows:
        entries.append(_created_entry(row, ids[row["urn"]]))

    # Closures, plain and by conversion.
    closures = [(old, r["closed_on"]) for old, r in plan.closed] + [
        (old, r["closing"]["closed_on"] or r["opened_on"]) for old, r in plan.converted
    ]
    if closures:
        db.session.execute(
            update(SCHOOL)
            .where(SCHOOL.c.id == bindparam("b_id"))
            .values(
                status=SchoolStatus.CLOSED, closed_on=bindparam("b_closed_on"), updated_at=utcnow()
            ),
            [
                {"b_id": old.id, "b_closed_on": _to_date(closed_on) or today()}
                for old, closed_on in closures
            ],
        )
    for old, closed_on in closures:
        entries.append(
            audit.Entry(
                "school",
                str(old.id),
                f"{old.name} ({old.urn})",
                "updated",
                {"status": ("open", "closed"), "closed_on": (None, closed_on)},
            )
        )
    moved_users = 0
    for old, r in plan.converted:
        new_id = ids[r["urn"]]
        entries.append(
            _created_entry(
                next(c for c in conversion_rows if c["urn"] == r["urn"]),
                new_id,
                extra={"predecessor": (None, f"{old.name} ({old.urn})")},
            )
        )
        # The school's staff carry on at the academy (their past orders stay with the old record).
        for staff in db.session.execute(select(User).where(User.school_id == old.id)).scalars():
            staff.school_id = new_id
            moved_users += 1

    # Changes to schools that stay.
    if plan.changed:
        _apply_changes(plan.changed, entries)
    db.session.flush()
    audit.record_many(entries, source=source)
    outcome = plan.summary() | {"users_moved": moved_users}
    locked.status = GiasImportStatus.APPLIED
    locked.applied_at = utcnow()
    locked.applied_by_id = user.id
    locked.summary = json.dumps(summary_of(locked) | {"applied": outcome})
    db.session.flush()
    return outcome


def discard(record: GiasImport) -> None:
    if record.status != GiasImportStatus.PREVIEWED:
        raise ImportStateError(f"This import was already {record.status.value}")
    record.status = GiasImportStatus.DISCARDED
    db.session.flush()


def _to_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _new_row(record: dict[str, Any], districts: dict[str, int]) -> dict[str, Any]:
    kind = EstablishmentType(record["type"])
    maintained = kind in (
        EstablishmentType.LA_MAINTAINED,
        EstablishmentType.SPECIAL,
        EstablishmentType.PRU,
    )
    if maintained:
        customer_type, route = CustomerType.MAINTAINED, BillingRoute.RECHARGE
    elif kind == EstablishmentType.OTHER:
        customer_type, route = CustomerType.OTHER, BillingRoute.INVOICE
    else:
        customer_type, route = CustomerType.ACADEMY, BillingRoute.INVOICE
    now = utcnow()
    return {
        "urn": record["urn"],
        "name": record["name"],
        "phase": Phase(record["phase"]),
        "establishment_type": kind,
        "customer_type": customer_type,
        "billing_route": route,
        "status": SchoolStatus.OPEN,
        "quadrant_id": districts.get(record["district"].lower()),
        "partnership_id": None,
        "district": record["district"] or None,
        "address": record["address"],
        "postcode": record["postcode"],
        "causing_concern": False,
        "enhanced_provision": False,
        "recruiting_headteacher": False,
        "billing_contact_name": "",
        "billing_contact_email": "",
        "cost_centre": None,
        "approval_limit_pence": None,
        "po_required": False,
        "predecessor_id": None,
        "opened_on": _to_date(record["opened_on"]),
        "closed_on": None,
        "created_at": now,
        "updated_at": now,
    }


CARRIED_OVER = (
    "partnership_id",
    "causing_concern",
    "enhanced_provision",
    "recruiting_headteacher",
    "billing_contact_name",
    "billing_contact_email",
    "approval_limit_pence",
    "po_required",
)


def _council_data(school_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not school_ids:
        return {}
    columns = [School.id] + [getattr(School, c) for c in CARRIED_OVER]
    return {
        row[0]: dict(zip(CARRIED_OVER, row[1:], strict=True))
        for row in db.session.execute(select(*columns).where(School.id.in_(school_ids))).tuples()
    }


def _created_entry(
    row: dict[str, Any], school_id: int, extra: dict[str, tuple[Any, Any]] | None = None
) -> audit.Entry:
    shown = ("name", "phase", "establishment_type", "billing_route", "district", "postcode")
    changes: dict[str, tuple[Any, Any]] = {k: (None, row[k]) for k in shown if row.get(k)}
    return audit.Entry(
        "school",
        str(school_id),
        f"{row['name']} ({row['urn']})",
        "created",
        changes | (extra or {}),
    )


def _apply_changes(
    changed: list[tuple[Existing, dict[str, Any], dict[str, tuple[Any, Any]]]],
    entries: list[audit.Entry],
) -> None:
    now = utcnow()
    # One executemany per set of changed columns (usually a handful of shapes).
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for school, _record, changes in changed:
        columns = tuple(sorted(changes))
        params: dict[str, Any] = {"b_id": school.id}
        for column in columns:
            value = changes[column][1]
            if column == "opened_on":
                value = _to_date(value)
            elif column == "phase":
                value = Phase(value)
            elif column == "establishment_type":
                value = EstablishmentType(value)
            elif column == "status":
                value = SchoolStatus(value)
            elif column == "district":
                value = value or None
            params[f"b_{column}"] = value
        groups.setdefault(columns, []).append(params)
        entries.append(
            audit.Entry(
                "school", str(school.id), f"{school.name} ({school.urn})", "updated", changes
            )
        )
    for columns, params_list in groups.items():
        values: dict[str, Any] = {c: bindparam(f"b_{c}") for c in columns}
        if "status" in columns:
            values["closed_on"] = None
        values["updated_at"] = now
        db.session.execute(
            update(SCHOOL).where(SCHOOL.c.id == bindparam("b_id")).values(**values), params_list
        )


def recent_imports(limit: int = 10) -> list[GiasImport]:
    return list(
        db.session.execute(
            select(GiasImport)
            .order_by(GiasImport.uploaded_at.desc(), GiasImport.id.desc())
            .limit(limit)
        ).scalars()
    )
