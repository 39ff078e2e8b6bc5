"""Planning a GIAS import: what the file's records would change in the council's schools.

Each record is compared with the school of its URN: new schools, changed ones (only what the
import owns: name, phase, type, district and the quadrant it maps to, postcode, address, opening
date), closures, and academy conversions (a school the app has open closed in the file, paired
with one school new to the app that opens at the same postcode as an academy, or says
"Academy converter"; anything ambiguous stays a separate closure and new school). Nothing is
written here: the preview shows the plan, and applying works it out again first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from traded_app.domain.conversions import effective_date
from traded_app.extensions import db
from traded_app.models import QuadrantDistrict, School, SchoolConversion
from traded_app.models.types import EstablishmentType
from traded_app.services.platform.settings import today

COMPARED = ("name", "phase", "establishment_type", "district", "postcode", "address", "opened_on")


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


def district_map() -> dict[str, int]:
    """The council's districts (lower case) to the quadrant each maps to."""
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


def _converting() -> set[int]:
    """Schools converting to an academy on a date still to come: they stay open until then,
    whatever a later file says (the conversion closes them)."""
    return set(
        db.session.scalars(
            select(SchoolConversion.old_school_id).where(SchoolConversion.transferred_at.is_(None))
        )
    )


def _iso(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def plan_for(records: list[dict[str, Any]]) -> Plan:
    """What importing `records` would do to the schools as they are now."""
    existing = _existing()
    converting = _converting()
    districts = district_map()
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
            if school.id in converting:
                plan.unchanged += 1  # closes on its conversion's date
            else:
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
            converts_on = effective_date(
                _iso(candidates[0]["opened_on"]), _iso(closed_record["closed_on"]), today()
            )
            plan.converted.append(
                (
                    school,
                    {
                        **candidates[0],
                        "closing": closed_record,
                        "converts_on": converts_on.isoformat(),
                    },
                )
            )
        else:
            plan.closed.append((school, closed_record))
    plan.new = [r for r in opening if r["urn"] not in paired]
    seen = {r["urn"] for r in records}
    plan.not_in_file = sum(1 for s in existing.values() if s.status == "open" and s.urn not in seen)
    return plan
