"""The demo's schools: every Essex maintained school of a GIAS extract (with the academies that
succeeded the converted ones), illustrative quadrants, districts, partnerships and flags derived
from the URN, and the demo schools where the demo accounts work, with their ordering rules."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from traded_app.demo.council import QUADRANTS
from traded_app.demo.records import upsert
from traded_app.extensions import db
from traded_app.models import Partnership, Quadrant, School
from traded_app.models.base import utcnow
from traded_app.models.types import (
    BillingRoute,
    CustomerType,
    EstablishmentType,
    Phase,
    SchoolStatus,
)
from traded_app.services.platform.settings import academic_start_year, today

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "essex_la_maintained_schools_2020.csv"

# The demo schools, by key: URN, approval limit (cost before VAT, pence) and whether a PO number
# is required. Hamilton Primary (maintained, internal recharge) and de Vere Primary (an academy made
# from a successor link: VAT invoices) are where the first demo accounts work; two more maintained
# schools, in other quadrants, carry the orders the council has still to act on. All are in the
# shipped extract; if a future extract lacks one, the demo picks another school of the same kind.
SBM_SCHOOL_URN = 114706  # Hamilton Primary School
ACADEMY_URN = 148139  # de Vere Primary School (successor of URN 114726)


@dataclass(frozen=True)
class DemoSchool:
    urn: int
    kind: str  # "maintained primary", "academy" or "maintained secondary"
    approval_limit_pence: int | None
    po_required: bool


# Its business manager (sbm11@example.org) is asked to check the school's details at sign-in,
# as every business manager is at their first sign-in of an academic year; the others have.
UNCHECKED_SCHOOL = "lincewood"
DEMO_SCHOOLS = {
    "maintained": DemoSchool(SBM_SCHOOL_URN, "maintained primary", 200_000, True),
    "academy": DemoSchool(ACADEMY_URN, "academy", 150_000, True),
    "myland": DemoSchool(114708, "maintained primary", 100_000, False),  # Myland Community Primary
    "delasalle": DemoSchool(115237, "maintained secondary", 300_000, False),  # De La Salle School
    # Academies (successor links, VAT invoices) with one confirmed order each, charged on
    # earlier dates for the register and aged debt.
    "frinton": DemoSchool(149966, "academy", 200_000, True),  # Frinton-on-Sea Primary
    "langenhoe": DemoSchool(151064, "academy", 150_000, False),  # Langenhoe Community Primary
    "homefarm": DemoSchool(147713, "academy", 100_000, True),  # Home Farm Primary
    "williamread": DemoSchool(149253, "academy", 150_000, True),  # William Read Primary Academy
    "bocking": DemoSchool(148305, "academy", 150_000, False),  # Bocking Primary
    "greatbentley": DemoSchool(149967, "academy", 200_000, True),  # Great Bentley Primary
    "lincewood": DemoSchool(150598, "academy", 100_000, False),  # Lincewood Primary Academy
}


def _parse_link_date(raw: str) -> date | None:
    try:
        return datetime.strptime(raw.strip(), "%d-%m-%Y").date()  # noqa: DTZ007 - a date, no time
    except ValueError:
        return None


def _classify(row: dict[str, str]) -> tuple[Phase, EstablishmentType]:
    phase_raw = row["phase_of_education"].strip().lower()
    if row["establishment_type_group"].strip().lower().startswith("special"):
        return Phase.SPECIAL, EstablishmentType.SPECIAL
    if phase_raw == "primary":
        return Phase.PRIMARY, EstablishmentType.LA_MAINTAINED
    if phase_raw == "secondary":
        return Phase.SECONDARY, EstablishmentType.LA_MAINTAINED
    if phase_raw == "nursery":
        return Phase.NURSERY, EstablishmentType.LA_MAINTAINED
    return Phase.PRU, EstablishmentType.PRU


def _illustrative_place(urn: int, quadrants: dict[str, Quadrant]) -> tuple[Quadrant, str]:
    code, _name, districts, _cap = QUADRANTS[urn % len(QUADRANTS)]
    return quadrants[code], districts[(urn // len(QUADRANTS)) % len(districts)]


def schools(data_file: Path, quadrants: dict[str, Quadrant]) -> list[School]:
    """Every school of the extract, and each successor it names that has opened by today."""
    with data_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found = [_school(row, quadrants) for row in rows]
    db.session.flush()
    found += _successors(rows, found, quadrants)
    db.session.flush()
    return found


def _school(row: dict[str, str], quadrants: dict[str, Quadrant]) -> School:
    urn = int(row["urn"])
    phase, kind = _classify(row)
    quadrant, district = _illustrative_place(urn, quadrants)
    successor = row["successor_urn_gias_2025"].strip()
    link_date = _parse_link_date(row["successor_link_date"])
    closed = bool(successor) and link_date is not None and link_date <= today()
    return upsert(
        School,
        {"urn": urn},
        {
            "name": row["establishment_name"].strip(),
            "phase": phase,
            "establishment_type": kind,
            "customer_type": CustomerType.MAINTAINED,
            "billing_route": BillingRoute.RECHARGE,
            "status": SchoolStatus.CLOSED if closed else SchoolStatus.OPEN,
            "closed_on": (link_date - timedelta(days=1)) if closed and link_date else None,
            "quadrant_id": quadrant.id,
            "district": district,
            "address": _illustrative_address(district),
            "cost_centre": f"CC{urn}",
            "billing_contact_name": "School business manager",
            "billing_contact_email": f"finance.{urn}@schools.example.org",
            "causing_concern": urn % 17 == 0,
            "enhanced_provision": urn % 13 == 0,
            "recruiting_headteacher": urn % 29 == 0,
            "approval_limit_pence": 150_000,
            "po_required": urn % 3 == 0,
        },
    )


def _illustrative_address(district: str) -> str:
    """The extract has no addresses; every school billed needs one (a VAT invoice shows it)."""
    return f"School Road\n{district}\nEssex"


def _successors(
    rows: list[dict[str, str]], schools: list[School], quadrants: dict[str, Quadrant]
) -> list[School]:
    """A single "Successor" link is a conversion to an academy (new URN, invoice route, history
    left on the old record); a merger continues as a maintained school."""
    by_urn = {s.urn: s for s in schools}
    added: list[School] = []
    for row in rows:
        raw = row["successor_urn_gias_2025"].strip()
        link_date = _parse_link_date(row["successor_link_date"])
        if not raw or link_date is None or link_date > today():
            continue
        old = by_urn[int(row["urn"])]
        merged = "merged" in row["successor_link_type"].lower()
        for urn_text in raw.split(";"):
            new_urn = int(urn_text)
            if new_urn in by_urn:
                continue
            academy = not merged
            quadrant, district = _illustrative_place(new_urn, quadrants)
            successor = upsert(
                School,
                {"urn": new_urn},
                {
                    "name": row["successor_name_gias_2025"].split(";")[0].strip() or old.name,
                    "phase": old.phase,
                    "establishment_type": EstablishmentType.ACADEMY
                    if academy
                    else old.establishment_type,
                    "customer_type": CustomerType.ACADEMY if academy else CustomerType.MAINTAINED,
                    "billing_route": BillingRoute.INVOICE if academy else BillingRoute.RECHARGE,
                    "status": SchoolStatus.OPEN,
                    "opened_on": link_date,
                    "predecessor_id": old.id,
                    "quadrant_id": old.quadrant_id or quadrant.id,
                    "district": old.district or district,
                    "address": _illustrative_address(old.district or district),
                    "cost_centre": None if academy else f"CC{new_urn}",
                    "billing_contact_name": "Trust finance team"
                    if academy
                    else "School business manager",
                    "billing_contact_email": f"finance.{new_urn}@schools.example.org",
                    "approval_limit_pence": None if academy else 150_000,
                    "po_required": academy and new_urn % 2 == 0,
                },
            )
            by_urn[new_urn] = successor
            added.append(successor)
    return added


def partnerships(schools: list[School], quadrants: dict[str, Quadrant]) -> None:
    """Group about two thirds of each quadrant's open mainstream schools into partnerships of
    six to ten, leaving the rest unpartnered (the seeds: "a minority of primary schools")."""
    for code, name, _districts, _cap in QUADRANTS:
        quadrant = quadrants[code]
        eligible = sorted(
            (
                s
                for s in schools
                if s.quadrant_id == quadrant.id
                and s.is_open
                and s.phase not in (Phase.SPECIAL, Phase.PRU)
            ),
            key=lambda s: s.urn,
        )
        member_count = len(eligible) * 2 // 3
        size = 8
        groups = [eligible[i : i + size] for i in range(0, member_count, size)]
        for number, group in enumerate(groups, start=1):
            partnership = upsert(
                Partnership,
                {"name": f"{name} demo partnership {number}"},
                {"quadrant_id": quadrant.id, "active": True},
            )
            db.session.flush()
            for school in group:
                school.partnership_id = partnership.id
        for school in eligible[member_count:]:
            school.partnership_id = None
    db.session.flush()


def demo_schools(schools: list[School]) -> dict[str, School]:
    """The demo schools by key, with their approval limits and PO requirements set."""
    kinds: dict[str, Callable[[School], bool]] = {
        "maintained primary": lambda s: (
            s.customer_type == CustomerType.MAINTAINED and s.phase == Phase.PRIMARY
        ),
        "maintained secondary": lambda s: (
            s.customer_type == CustomerType.MAINTAINED and s.phase == Phase.SECONDARY
        ),
        "academy": lambda s: s.customer_type == CustomerType.ACADEMY,
    }
    chosen: dict[str, School] = {}
    for key, demo in DEMO_SCHOOLS.items():
        fits = kinds[demo.kind]
        taken = {s.id for s in chosen.values()}
        school = next(
            (s for s in schools if s.urn == demo.urn and s.is_open and fits(s)), None
        ) or next(s for s in schools if s.is_open and fits(s) and s.id not in taken)
        school.approval_limit_pence = demo.approval_limit_pence
        school.po_required = demo.po_required
        if key != UNCHECKED_SCHOOL:
            school.details_checked_year = academic_start_year(today())
            school.details_checked_at = utcnow()
            school.details_checked_by = "Demo data"
        chosen[key] = school
    db.session.flush()
    return chosen
