"""Demo data for development: Essex schools from GIAS, a catalogue at £450 a day, accounts,
orders in every status at four demo schools, and confirmed orders at seven more academies whose
VAT invoices give finance a believable month (traded_app.demo.finance).

Idempotent: every record is found by its natural key (URN, code, e-mail) and updated in place.
Quadrant, district and partnership membership and the school flags are illustrative (the GIAS
extract has no districts), derived from the URN so that each run gives the same result. Demo
orders are made once per demo school (a school with any submitted order is left alone), and only
through the ordering service, so their history, frozen prices and totals are the real thing.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select

from traded_app.demo import finance as demo_finance
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    CouncilSettings,
    Order,
    OrderStatus,
    Partnership,
    Quadrant,
    QuadrantCapacity,
    QuadrantDistrict,
    School,
    Service,
    ServicePrice,
    ServiceVat,
    User,
)
from traded_app.models.types import (
    BillingRoute,
    CustomerType,
    EstablishmentType,
    Phase,
    Role,
    SchoolStatus,
    ServiceGroup,
    VatTreatment,
)
from traded_app.services.days.allocations import generate_core_allocations
from traded_app.services.ordering import basket, workflow
from traded_app.services.ordering.offer import catalogue_for
from traded_app.services.platform.auth import hash_password
from traded_app.services.platform.settings import academic_start_year, ensure_academic_year, today

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "essex_la_maintained_schools_2020.csv"
DEMO_PASSWORD = "demo-password"
DEMO_PRICE_PENCE = 45_000

log = logging.getLogger(__name__)

# Essex's four area teams and their districts (from the council's school-places plans).
QUADRANTS = [
    ("MID", "Mid", ["Braintree", "Chelmsford", "Maldon"], 600),
    ("NE", "North East", ["Colchester", "Tendring"], 520),
    ("SOUTH", "South", ["Basildon", "Brentwood", "Castle Point", "Rochford"], 640),
    ("WEST", "West", ["Epping Forest", "Harlow", "Uttlesford"], 480),
]

# The traded offer of 2017/18 (seeds 002 and 003). Days are in half-days: (typical, min, max).
CATALOGUE: list[tuple[str, str, ServiceGroup, tuple[int, int, int], str]] = [
    (
        "HTPM",
        "Headteacher performance management",
        ServiceGroup.LEADERSHIP,
        (2, 1, 4),
        "Support and advice for governors conducting the headteacher's performance management: "
        "preparing, attending the review meeting and agreeing objectives.",
    ),
    (
        "DHREC",
        "Deputy headteacher and leader recruitment",
        ServiceGroup.LEADERSHIP,
        (2, 1, 6),
        "Help for headteachers appointing deputies and senior leaders: shortlisting, tasks and "
        "interview panels.",
    ),
    (
        "COLNEW",
        "Collaborative review for a new headteacher",
        ServiceGroup.LEADERSHIP,
        (4, 2, 6),
        "A review carried out with a newly appointed headteacher to set priorities for the year.",
    ),
    (
        "COLPRI",
        "Collaborative review of a current priority",
        ServiceGroup.LEADERSHIP,
        (4, 2, 8),
        "A review focused on a current improvement priority or any strand of the school's work.",
    ),
    (
        "QASEF",
        "Quality assurance of self-evaluation and action plans",
        ServiceGroup.LEADERSHIP,
        (2, 1, 4),
        "An adviser checks the school's self-evaluation and improvement plan against the "
        "evidence and the inspection framework.",
    ),
    (
        "PARENT",
        "Support with challenging parents",
        ServiceGroup.LEADERSHIP,
        (1, 1, 4),
        "Advice and mediation when relationships with parents have broken down.",
    ),
    (
        "GOVREV",
        "Review of governance",
        ServiceGroup.GOVERNANCE,
        (4, 2, 6),
        "An external review of how well the governing body carries out its duties, with a report.",
    ),
    (
        "GOVSUP",
        "Support to governing bodies",
        ServiceGroup.GOVERNANCE,
        (2, 1, 6),
        "Training and advice for governors and clerks on their strategic role.",
    ),
    (
        "GOVHTR",
        "Governors' headteacher recruitment (after the free first day)",
        ServiceGroup.GOVERNANCE,
        (2, 1, 6),
        "Further support for governors recruiting a headteacher, beyond the first day free to every "
        "maintained school.",
    ),
    (
        "SAFE",
        "Safeguarding audit",
        ServiceGroup.SAFEGUARDING,
        (2, 1, 4),
        "An audit of safeguarding arrangements, records and training, with an action plan.",
    ),
    (
        "SENPP",
        "SEN and pupil premium review",
        ServiceGroup.SEND,
        (4, 2, 6),
        "A review of provision and outcomes for pupils with special educational needs and for "
        "disadvantaged pupils.",
    ),
    (
        "CURRIC",
        "Bespoke curriculum review",
        ServiceGroup.CURRICULUM,
        (4, 2, 8),
        "A review of the curriculum's intent, implementation and impact, designed with the school.",
    ),
    (
        "PEER",
        "Support and training for peer review",
        ServiceGroup.CURRICULUM,
        (2, 1, 6),
        "Training for school leaders to review each other's schools, and support for the reviews.",
    ),
    (
        "EVENTS",
        "Planning of conferences and events",
        ServiceGroup.EVENTS,
        (2, 1, 10),
        "Planning and running conferences, briefings or events for a school or a partnership.",
    ),
]

VAT_RULES = {
    # A maintained school is part of the council: outside the scope of VAT (internal recharge).
    CustomerType.MAINTAINED: (VatTreatment.OUTSIDE_SCOPE, 0),
    CustomerType.ACADEMY: (VatTreatment.STANDARD, 2000),
    CustomerType.OTHER: (VatTreatment.STANDARD, 2000),
}

# The demo schools, by key: URN, approval limit (cost before VAT, pence) and whether a PO number
# is required. Hamilton Primary (maintained, internal recharge) and de Vere Primary (an academy made
# from a successor link: VAT invoices) are where the first demo accounts work; two more maintained
# schools, in other quadrants, carry the orders the council has still to act on. All are in the
# shipped extract; if a future extract lacks one, the seed picks another school of the same kind.
SBM_SCHOOL_URN = 114706  # Hamilton Primary School
ACADEMY_URN = 148139  # de Vere Primary School (successor of URN 114726)


@dataclass(frozen=True)
class DemoSchool:
    urn: int
    kind: str  # "maintained primary", "academy" or "maintained secondary"
    approval_limit_pence: int | None
    po_required: bool


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


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: Role
    school: str  # a key of DEMO_SCHOOLS, or "" for council staff


DEMO_ACCOUNTS = [
    DemoAccount("sbm@example.org", "Sam Patel", Role.SCHOOL_BUSINESS_MANAGER, "maintained"),
    DemoAccount("head@example.org", "Helen Carter", Role.HEADTEACHER, "maintained"),
    DemoAccount("sbm2@example.org", "Alex Morgan", Role.SCHOOL_BUSINESS_MANAGER, "academy"),
    DemoAccount("finance@example.org", "Fiona Reed", Role.LA_FINANCE, ""),
    DemoAccount("admin@example.org", "Adam Shah", Role.LA_ADMIN, ""),
    DemoAccount("adviser@example.org", "Priya Evans", Role.ADVISER, ""),
    DemoAccount("head2@example.org", "Daniel Okafor", Role.HEADTEACHER, "academy"),
    DemoAccount("sbm3@example.org", "Jo Whitfield", Role.SCHOOL_BUSINESS_MANAGER, "myland"),
    DemoAccount("head3@example.org", "Ruth Adeyemi", Role.HEADTEACHER, "myland"),
    DemoAccount("sbm4@example.org", "Chris Lowe", Role.SCHOOL_BUSINESS_MANAGER, "delasalle"),
    DemoAccount("head4@example.org", "Marcus Bell", Role.HEADTEACHER, "delasalle"),
    DemoAccount("sbm5@example.org", "Sophie Grant", Role.SCHOOL_BUSINESS_MANAGER, "frinton"),
    DemoAccount("sbm6@example.org", "Tom Barker", Role.SCHOOL_BUSINESS_MANAGER, "langenhoe"),
    DemoAccount("sbm7@example.org", "Aisha Khan", Role.SCHOOL_BUSINESS_MANAGER, "homefarm"),
    DemoAccount("sbm8@example.org", "Lee Harper", Role.SCHOOL_BUSINESS_MANAGER, "williamread"),
    DemoAccount("sbm9@example.org", "Nina Walsh", Role.SCHOOL_BUSINESS_MANAGER, "bocking"),
    DemoAccount("sbm10@example.org", "Owen Price", Role.SCHOOL_BUSINESS_MANAGER, "greatbentley"),
    DemoAccount("sbm11@example.org", "Grace Fielding", Role.SCHOOL_BUSINESS_MANAGER, "lincewood"),
]
COUNCIL_ADMIN = "admin@example.org"


@dataclass(frozen=True)
class DemoOrder:
    """One order: who builds and submits it, then what happens to it, as (action, by, reason)."""

    school: str  # a key of DEMO_SCHOOLS
    lines: tuple[tuple[str, int], ...]  # (service code, half-days)
    submitted_by: str
    steps: tuple[tuple[str, str, str], ...] = ()
    po_number: str = ""
    preferred_term: str = ""
    adviser_note: str = ""
    # When a confirmed order was charged and what happened to its document since.
    charge: demo_finance.Charge | None = None

    @property
    def confirmed(self) -> bool:
        return any(action == "confirm" for action, _by, _reason in self.steps)

    @property
    def half_days(self) -> int:
        return sum(half_days for _code, half_days in self.lines)


# Orders in every status a newcomer can meet before visits exist (in progress and completed come
# with visits, so the demo has none yet). Hamilton Primary, where the browser tests start from an
# empty basket and confirm "the newest submitted order", has only finished business; the council's
# queue (submitted, awaiting approval, cancellation requested) is at the other schools.
# Totals before VAT at £450 a day: Hamilton's limit is £2,000, the academy's £1,500, Myland's
# £1,000 and De La Salle's £3,000.
DEMO_ORDERS = [
    # Hamilton Primary: 5 days (£2,250) is over the limit; the headteacher approved it and the
    # council confirmed it.
    DemoOrder(
        "maintained",
        (("COLPRI", 8), ("QASEF", 2)),
        "sbm@example.org",
        (("approve", "head@example.org", ""), ("confirm", COUNCIL_ADMIN, "")),
        po_number="DEMO-114706-001",
        preferred_term="autumn",
        adviser_note="Our priority this year is reading in Key Stage 2.",
        charge=demo_finance.Charge(84),
    ),
    DemoOrder(
        "maintained",
        (("PARENT", 2),),
        "sbm@example.org",
        (("withdraw", "sbm@example.org", "The governors resolved the complaint themselves."),),
        po_number="DEMO-114706-002",
    ),
    # de Vere Primary (academy: VAT at 20%).
    DemoOrder(
        "academy",
        (("GOVREV", 6),),
        "sbm2@example.org",
        po_number="DEMO-148139-001",
        preferred_term="spring",
    ),
    DemoOrder(
        "academy",
        (("CURRIC", 8),),
        "sbm2@example.org",
        po_number="DEMO-148139-002",
        preferred_term="summer",
        adviser_note="We would like the review to cover the wider curriculum in Years 5 and 6.",
    ),
    DemoOrder(
        "academy",
        (("SAFE", 4),),
        "sbm2@example.org",
        (
            ("confirm", COUNCIL_ADMIN, ""),
            (
                "request_cancellation",
                "sbm2@example.org",
                "Our trust is arranging a safeguarding audit for all its schools this year.",
            ),
        ),
        po_number="DEMO-148139-003",
        # 31 to 60 days overdue: half paid two weeks after issue, reminded once.
        charge=demo_finance.Charge(84, demo_finance.HALF_PAID, reminders=1),
    ),
    DemoOrder(
        "academy",
        (("SENPP", 6),),
        "sbm2@example.org",
        (
            (
                "decline",
                COUNCIL_ADMIN,
                "No SEN adviser is free in the summer term. Please order again for the autumn.",
            ),
        ),
        po_number="DEMO-148139-004",
        preferred_term="summer",
    ),
    # Myland Community Primary: 3 days (£1,350) is over its £1,000 limit.
    DemoOrder(
        "myland",
        (("COLNEW", 6),),
        "sbm3@example.org",
        (
            (
                "reject",
                "head3@example.org",
                "Not in this year's budget: we will look again in April.",
            ),
        ),
    ),
    DemoOrder("myland", (("HTPM", 2),), "sbm3@example.org", preferred_term="autumn"),
    DemoOrder(
        "myland",
        (("DHREC", 4),),
        "sbm3@example.org",
        (
            ("confirm", COUNCIL_ADMIN, ""),
            (
                "request_cancellation",
                "sbm3@example.org",
                "Our deputy headteacher has decided to stay, so we are not recruiting.",
            ),
            ("cancel", COUNCIL_ADMIN, "Cancelled at the school's request before any visit."),
        ),
    ),
    # De La Salle School.
    DemoOrder(
        "delasalle",
        (("COLPRI", 8), ("QASEF", 4)),
        "sbm4@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        po_number="DEMO-115237-001",
        charge=demo_finance.Charge(47),
    ),
    DemoOrder(
        "delasalle",
        (("PEER", 4),),
        "sbm4@example.org",
        (
            ("confirm", COUNCIL_ADMIN, ""),
            ("request_cancellation", "sbm4@example.org", "We have found training elsewhere."),
            (
                "keep",
                COUNCIL_ADMIN,
                "The trainer is booked and the partnership's other schools rely on these dates.",
            ),
        ),
        charge=demo_finance.Charge(19),  # the newest recharge: not yet in a journal
    ),
    # 8 days (£3,600) is over the £3,000 limit: waiting for the headteacher.
    DemoOrder(
        "delasalle",
        (("EVENTS", 10), ("GOVSUP", 6)),
        "sbm4@example.org",
        adviser_note="A conference for the partnership's subject leaders in June.",
    ),
    # Over the limit too, but submitted by the headteacher, who may commit the spending.
    DemoOrder(
        "delasalle",
        (("GOVREV", 6), ("SAFE", 4), ("HTPM", 4)),
        "head4@example.org",
        preferred_term="spring",
    ),
    # Seven academies, each with an order under its limit, confirmed by the council and charged
    # on an earlier date (payment terms 30 days), so aged debt has something in every column.
    # Over 90 days overdue: half paid, reminded three times.
    DemoOrder(
        "frinton",
        (("COLPRI", 6),),
        "sbm5@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        po_number="DEMO-149966-001",
        preferred_term="autumn",
        charge=demo_finance.Charge(150, demo_finance.HALF_PAID, paid_after=20, reminders=3),
    ),
    # 61 to 90 days overdue: nothing paid, reminded twice.
    DemoOrder(
        "langenhoe",
        (("GOVREV", 4),),
        "sbm6@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        preferred_term="autumn",
        charge=demo_finance.Charge(105, reminders=2),
    ),
    # Paid in full by bank transfer, a few days late.
    DemoOrder(
        "homefarm",
        (("QASEF", 2), ("HTPM", 2)),
        "sbm7@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        po_number="DEMO-147713-001",
        charge=demo_finance.Charge(98, demo_finance.PAID, paid_after=36),
    ),
    # 0 to 30 days overdue: a transfer recorded against it by mistake, then reversed.
    DemoOrder(
        "williamread",
        (("CURRIC", 6),),
        "sbm8@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        po_number="DEMO-149253-001",
        preferred_term="spring",
        charge=demo_finance.Charge(52, demo_finance.PAID_BY_MISTAKE, paid_after=40, reminders=1),
    ),
    # Paid in full by bank transfer within terms.
    DemoOrder(
        "bocking",
        (("SAFE", 4),),
        "sbm9@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        charge=demo_finance.Charge(40, demo_finance.PAID, paid_after=28),
    ),
    # Not yet due: half a day credited.
    DemoOrder(
        "greatbentley",
        (("SENPP", 4), ("PEER", 2)),
        "sbm10@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        po_number="DEMO-149967-001",
        preferred_term="spring",
        charge=demo_finance.Charge(12, credit_half_days=1),
    ),
    # Not yet due: half paid.
    DemoOrder(
        "lincewood",
        (("DHREC", 4),),
        "sbm11@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        charge=demo_finance.Charge(26, demo_finance.HALF_PAID, paid_after=22),
    ),
]

M = TypeVar("M")


def _one(model: type[M], **keys: Any) -> M | None:
    return db.session.execute(select(model).filter_by(**keys)).scalar_one_or_none()  # type: ignore[no-any-return]


def _upsert(model: type[M], keys: dict[str, Any], values: dict[str, Any]) -> M:
    row = _one(model, **keys)
    if row is None:
        row = model(**keys, **values)
        db.session.add(row)
    else:
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
    return row


def _parse_link_date(raw: str) -> date | None:
    try:
        return datetime.strptime(raw.strip(), "%d-%m-%Y").date()  # noqa: DTZ007 - a date, no time
    except ValueError:
        return None


def load_demo(data_file: Path = DATA_FILE, password_hash: str | None = None) -> dict[str, int]:
    """Load or refresh the whole demo; returns counts of what is there afterwards.

    The audit trail is paused while loading; the demo's history is then written into it with
    the people and times of each step (traded_app.demo.audit)."""
    from traded_app.demo import audit as demo_audit
    from traded_app.services.platform import audit

    with audit.paused():
        counts = _load_demo(data_file, password_hash)
    counts["audit_events"] = demo_audit.load_history()
    return counts


def _load_demo(data_file: Path, password_hash: str | None) -> dict[str, int]:
    settings = _council()
    this_year = academic_start_year(today())
    years = [ensure_academic_year(y) for y in (this_year - 1, this_year, this_year + 1)]
    quadrants = _quadrants(years)
    _catalogue(years)
    schools = _schools(data_file, quadrants)
    _partnerships(schools, quadrants)
    demo_schools = _demo_schools(schools)
    accounts = _accounts(demo_schools, password_hash or hash_password(DEMO_PASSWORD))
    db.session.flush()
    for year in years[1:]:
        generate_core_allocations(year, settings)
    timing = demo_finance.hold_invoices(settings)  # issued below with believable dates
    orders = _orders(demo_schools, {u.email: u for u in accounts}, years[1])
    visit_count = _days(years, demo_schools)
    # Aged invoices, payments, journals.
    demo_finance.load_finance(settings, timing, _charges(demo_schools))
    settings.demo_data = True
    db.session.flush()
    return {
        "schools": len(schools),
        "accounts": len(accounts),
        "services": len(CATALOGUE),
        "orders": orders,
        "visits": visit_count,
    }


def _days(years: list[AcademicYear], demo_schools: dict[str, School]) -> int:
    """Closure days for every demo year and this year's visits (traded_app.demo.days)."""
    from traded_app.demo import days as demo_days

    demo_days.load_closure_days(years)
    return demo_days.load_visits(years[1], list(demo_schools.values()))


def _council() -> CouncilSettings:
    settings = _upsert(
        CouncilSettings,
        {"id": 1},
        {
            "name": "Essex County Council",
            "service_name": "Traded services for schools",
            "address": "County Hall\nMarket Road\nChelmsford",
            "postcode": "CM1 1QH",
            "contact_email": "traded.services@example.org",
            "contact_phone": "0333 013 0000",
            "vat_number": "GB 000 0000 00 (demo)",
            "bank_name": "Demo Bank plc",
            "bank_account_name": "Essex County Council (demo)",
            "bank_sort_code": "00-00-00",
            "bank_account_number": "00000000",
            "default_approval_limit_pence": 150_000,
            "la_code": "881",  # Essex's local authority code in GIAS
        },
    )
    db.session.flush()
    return settings


def _quadrants(years: list[Any]) -> dict[str, Quadrant]:
    result = {}
    for code, name, districts, capacity_days in QUADRANTS:
        quadrant = _upsert(Quadrant, {"code": code}, {"name": name})
        db.session.flush()
        for district in districts:
            _upsert(QuadrantDistrict, {"name": district}, {"quadrant_id": quadrant.id})
        for year in years:
            if _one(QuadrantCapacity, quadrant_id=quadrant.id, academic_year_id=year.id) is None:
                db.session.add(
                    QuadrantCapacity(
                        quadrant_id=quadrant.id,
                        academic_year_id=year.id,
                        traded_capacity_half_days=capacity_days * 2,
                    )
                )
        result[code] = quadrant
    db.session.flush()
    return result


def _catalogue(years: list[Any]) -> None:
    for order, (code, name, group, (typical, low, high), description) in enumerate(CATALOGUE):
        service = _upsert(
            Service,
            {"code": code},
            {
                "name": name,
                "description": description,
                "group": group,
                "typical_half_days": typical,
                "min_half_days": low,
                "max_half_days": high,
                "income_code": f"T45{order + 1:02d}",
                "sort_order": order,
            },
        )
        db.session.flush()
        for year in years:
            if _one(ServicePrice, service_id=service.id, academic_year_id=year.id) is None:
                db.session.add(
                    ServicePrice(
                        service_id=service.id,
                        academic_year_id=year.id,
                        price_per_day_pence=DEMO_PRICE_PENCE,
                    )
                )
        for customer_type, (treatment, rate) in VAT_RULES.items():
            _upsert(
                ServiceVat,
                {"service_id": service.id, "customer_type": customer_type},
                {"treatment": treatment, "vat_rate_bp": rate},
            )
    db.session.flush()


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


def _schools(data_file: Path, quadrants: dict[str, Quadrant]) -> list[School]:
    with data_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    schools: list[School] = []
    for row in rows:
        urn = int(row["urn"])
        phase, kind = _classify(row)
        quadrant, district = _illustrative_place(urn, quadrants)
        successor = row["successor_urn_gias_2025"].strip()
        link_date = _parse_link_date(row["successor_link_date"])
        closed = bool(successor) and link_date is not None and link_date <= today()
        school = _upsert(
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
        schools.append(school)
    db.session.flush()

    # Successors: a single "Successor" link is a conversion to an academy (new URN, invoice
    # route, history left on the old record); a merger continues as a maintained school.
    by_urn = {s.urn: s for s in schools}
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
            successor = _upsert(
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
            schools.append(successor)
    db.session.flush()
    return schools


def _partnerships(schools: list[School], quadrants: dict[str, Quadrant]) -> None:
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
            partnership = _upsert(
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


def _demo_schools(schools: list[School]) -> dict[str, School]:
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
        chosen[key] = school
    db.session.flush()
    return chosen


def _accounts(demo_schools: dict[str, School], password_hash: str) -> list[User]:
    users = []
    for account in DEMO_ACCOUNTS:
        school = demo_schools.get(account.school)
        user = _one(User, email=account.email)
        if user is None:
            user = User(email=account.email, password_hash=password_hash)
            db.session.add(user)
        user.name = account.name
        user.role = account.role
        user.school_id = school.id if school else None
        user.active = True
        users.append(user)
    db.session.flush()
    return users


ORDER_STEPS: dict[str, Callable[[Order, User, str], Order]] = {
    "approve": lambda order, user, _reason: workflow.approve(order, user),
    "reject": workflow.reject,
    "withdraw": workflow.withdraw,
    "request_cancellation": workflow.request_cancellation,
    "confirm": lambda order, user, _reason: workflow.confirm(order, user),
    "decline": workflow.decline,
    "cancel": workflow.cancel,
    "keep": workflow.keep,
}


def _orders(demo_schools: dict[str, School], users: dict[str, User], year: AcademicYear) -> int:
    """Make the demo orders of each demo school that has none yet; returns how many orders the
    demo schools have afterwards.

    A school is left alone when it already has a submitted order (an earlier run, or someone
    trying the app) or a basket with something in it (someone's unfinished order). A school whose
    quadrant team has too few days left to confirm its orders is left out, with a warning, rather
    than half made.
    """
    for key, school in demo_schools.items():
        plan = [o for o in DEMO_ORDERS if o.school == key]
        if not plan or _has_orders(school):
            continue
        problem = _why_not(school, plan, year)
        if problem:
            log.warning("Demo orders for %s left out: %s", school.name, problem)
            continue
        for demo in plan:
            _make_order(demo, school, users, year)
    db.session.flush()
    return int(
        db.session.execute(
            select(func.count())
            .select_from(Order)
            .where(
                Order.school_id.in_([s.id for s in demo_schools.values()]),
                Order.status != OrderStatus.DRAFT,
            )
        ).scalar_one()
    )


def _charges(demo_schools: dict[str, School]) -> dict[int, demo_finance.Charge]:
    """Each demo school's orders matched to the demo orders they were made from (by status and
    lines), with their charges, by order id."""
    result: dict[int, demo_finance.Charge] = {}
    for key, school in demo_schools.items():
        plan = [o for o in DEMO_ORDERS if o.school == key and o.charge is not None]
        orders = db.session.execute(
            select(Order)
            .where(Order.school_id == school.id, Order.confirmed_at.is_not(None))
            .order_by(Order.id)
        ).scalars()
        for order in orders:
            lines = sorted((line.service.code, line.half_days) for line in order.lines)
            demo = next((d for d in plan if sorted(d.lines) == lines), None)
            if demo is not None and demo.charge is not None:
                result[order.id] = demo.charge
                plan.remove(demo)
    return result


def _why_not(school: School, plan: list[DemoOrder], year: AcademicYear) -> str:
    """What would stop the school's demo orders being made in full ("" when nothing would)."""
    offered = {e.service.code for e in catalogue_for(school.customer_type, year)}
    missing = sorted({code for o in plan for code, _ in o.lines} - offered)
    if missing:
        return f"{', '.join(missing)} cannot be ordered in {year.label}"
    needed = sum(o.half_days for o in plan if o.confirmed)
    if not needed:
        return ""
    position = (
        workflow.capacity_position(school.quadrant_id, year.id) if school.quadrant_id else None
    )
    if position is None or position.available_half_days < needed:
        return f"its quadrant team cannot sell {needed / 2:g} more days in {year.label}"
    return ""


def _has_orders(school: School) -> bool:
    orders = db.session.execute(select(Order).where(Order.school_id == school.id)).scalars().all()
    return any(o.status != OrderStatus.DRAFT or o.lines for o in orders)


def _make_order(
    demo: DemoOrder, school: School, users: dict[str, User], year: AcademicYear
) -> Order:
    """Build, submit and move one order on, as the people who would do it in the app."""
    submitter = users[demo.submitted_by]
    order = basket.draft_for(school, submitter, year)
    services = {s.code: s.id for s in db.session.execute(select(Service)).scalars()}
    for code, half_days in demo.lines:
        basket.set_days(order, services[code], half_days)
    details = workflow.Checkout(
        po_number=demo.po_number,
        preferred_term=demo.preferred_term,
        adviser_note=demo.adviser_note,
    )
    workflow.submit(order, submitter, details, expected_version=order.version)
    for action, email, reason in demo.steps:
        ORDER_STEPS[action](order, users[email], reason)
    return order


def demo_account_lines() -> list[str]:
    lines = []
    for account in DEMO_ACCOUNTS:
        user = _one(User, email=account.email)
        where = f" ({user.school.name}, URN {user.school.urn})" if user and user.school else ""
        lines.append(f"  {account.email:<22} {account.role.label}{where}")
    return lines
