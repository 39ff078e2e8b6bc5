"""Importing schools from a Get Information About Schools (GIAS) CSV export.

Two steps. `preview` reads and checks the uploaded file (gias_file), keeps the council's rows,
works out what would change (gias_plan) and stores the rows with a `GiasImport` record; nothing
else changes. `apply` works the plan out again against the schools as they are then and writes
it in bulk, with an audit row for each school it touches. Any problem raises GiasFileError
before anything is written, so a failed import changes nothing.

What the import owns: a school's name, phase, type, district (and the quadrant its district maps
to, through the council's QuadrantDistrict settings), address, postcode, opening and closing.
The council's own data (billing route, cost centre, contact, flags, partnership, approval limit,
PO rule) is never overwritten; a new school starts with its route worked out from its type.

Academy conversions: GIAS closes the maintained school's URN and opens the academy under a new
one. The new record points back to the old (`predecessor_id`), takes over its council data and is
billed by VAT invoice. The conversion takes effect on the academy's open date (conversions): until
then the maintained school stays open, orders and is recharged; on the date it closes, and its
remaining days, booked visits and open orders move to the academy; its staff move when the
service manager confirms. A conversion whose date has already come is carried out at once.
"""

from __future__ import annotations

import json
from datetime import date
from typing import IO, Any, cast

from sqlalchemy import Table, bindparam, insert, select, update

from traded_app.extensions import db
from traded_app.models import GiasImport, GiasImportStatus, School, User
from traded_app.models.base import utcnow
from traded_app.models.types import (
    BillingRoute,
    CustomerType,
    EstablishmentType,
    Phase,
    SchoolStatus,
)
from traded_app.services.council import conversions, gias_trusts
from traded_app.services.council.gias_file import MAX_BYTES, GiasFileError, read_file
from traded_app.services.council.gias_plan import Existing, Plan, district_map, plan_for
from traded_app.services.platform import audit
from traded_app.services.platform.errors import DomainError, NotFound
from traded_app.services.platform.settings import today

SCHOOL = cast(Table, School.__table__)

# What the preview page shows: how many schools of each kind of change, and each field's name.
PREVIEW_LIMIT = 100
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


# --- Preview --------------------------------------------------------------------------------


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
        "trusts": gias_trusts.plan_for(parsed.records).summary(),
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


def trust_plan_of(record: GiasImport) -> gias_trusts.TrustPlan:
    return gias_trusts.plan_for(json.loads(record.rows))


def summary_of(record: GiasImport) -> dict[str, Any]:
    return json.loads(record.summary or "{}")  # type: ignore[no-any-return]


class ImportStateError(DomainError, ValueError):
    pass


# --- Apply ----------------------------------------------------------------------------------


def apply(record: GiasImport, user: User) -> dict[str, Any]:
    """Apply a previewed import in bulk; returns what it did. One transaction (the caller's)."""
    locked = db.session.execute(
        select(GiasImport).where(GiasImport.id == record.id).with_for_update()
    ).scalar_one()
    if locked.status != GiasImportStatus.PREVIEWED:
        raise ImportStateError(f"This import was already {locked.status.value}")
    plan = plan_of(locked)
    entries: list[audit.Entry] = []
    conversion_rows, ids = _insert_schools(plan, entries)
    _close_schools(plan, entries)
    _record_conversions(plan, conversion_rows, ids, entries)
    if plan.changed:
        _apply_changes(plan.changed, entries)
    rows = json.loads(locked.rows)
    _refresh_pupils(rows)
    trusts = gias_trusts.apply(rows, entries)
    db.session.flush()
    audit.record_many(entries, source=f"GIAS import {locked.id}")
    carried_out = conversions.carry_out_due(today())
    outcome = plan.summary() | {"conversions_carried_out": len(carried_out), "trusts": trusts}
    locked.status = GiasImportStatus.APPLIED
    locked.applied_at = utcnow()
    locked.applied_by_id = user.id
    locked.summary = json.dumps(summary_of(locked) | {"applied": outcome})
    db.session.flush()
    return outcome


def _insert_schools(
    plan: Plan, entries: list[audit.Entry]
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """Insert the new schools, and the academies that continue converted schools; returns the
    academies' rows and every school's id by URN."""
    districts = district_map()
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
    return conversion_rows, ids


def _close_schools(plan: Plan, entries: list[audit.Entry]) -> None:
    """Close the schools closed in the file (not by conversion to an academy: those close on
    the conversion's date)."""
    closures = [(old, r["closed_on"]) for old, r in plan.closed]
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


def _record_conversions(
    plan: Plan,
    conversion_rows: list[dict[str, Any]],
    ids: dict[int, int],
    entries: list[audit.Entry],
) -> None:
    """Each converted school's conversion, to take effect on its date."""
    for old, r in plan.converted:
        new_id = ids[r["urn"]]
        entries.append(
            _created_entry(
                next(c for c in conversion_rows if c["urn"] == r["urn"]),
                new_id,
                extra={"predecessor": (None, f"{old.name} ({old.urn})")},
            )
        )
        conversions.record(
            old.id,
            new_id,
            date.fromisoformat(r["converts_on"]),
            _to_date(r["closing"]["closed_on"]),
        )


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
        "pupils": record.get("pupils"),
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


def _refresh_pupils(records: list[dict[str, Any]]) -> None:
    """Pupil numbers follow every applied file that gives them (they change each term, so the
    preview does not list them as changes); a file without them leaves them as they were."""
    params = [
        {"b_urn": r["urn"], "b_pupils": r["pupils"]} for r in records if r.get("pupils") is not None
    ]
    if params:
        db.session.execute(
            update(SCHOOL)
            .where(SCHOOL.c.urn == bindparam("b_urn"))
            .values(pupils=bindparam("b_pupils")),
            params,
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


def import_by_id(import_id: int) -> GiasImport:
    """The GIAS import with this id, whatever its state; NotFound if there is none."""
    record = db.session.get(GiasImport, import_id)
    if record is None:
        raise NotFound(f"No GIAS import {import_id}")
    return record


def recent_imports(limit: int = 10) -> list[GiasImport]:
    return list(
        db.session.execute(
            select(GiasImport)
            .order_by(GiasImport.uploaded_at.desc(), GiasImport.id.desc())
            .limit(limit)
        ).scalars()
    )
