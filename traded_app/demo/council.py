"""The demo council: Essex's settings, its four quadrant teams (districts and traded capacity
for each year) and the 2017/18 traded offer at £450 a day, with VAT by customer type."""

from __future__ import annotations

from typing import Any

from traded_app.demo.records import one, upsert
from traded_app.extensions import db
from traded_app.models import (
    CouncilSettings,
    Quadrant,
    QuadrantCapacity,
    QuadrantDistrict,
    Service,
    ServicePrice,
    ServiceVat,
)
from traded_app.models.types import CustomerType, ServiceGroup, VatTreatment
from traded_app.services.days import activities

DEMO_PRICE_PENCE = 45_000

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


def council_settings() -> CouncilSettings:
    settings = upsert(
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


def quadrants(years: list[Any]) -> dict[str, Quadrant]:
    result = {}
    for code, name, districts, capacity_days in QUADRANTS:
        quadrant = upsert(Quadrant, {"code": code}, {"name": name})
        db.session.flush()
        for district in districts:
            upsert(QuadrantDistrict, {"name": district}, {"quadrant_id": quadrant.id})
        for year in years:
            if one(QuadrantCapacity, quadrant_id=quadrant.id, academic_year_id=year.id) is None:
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


def catalogue(years: list[Any]) -> None:
    for order, (code, name, group, (typical, low, high), description) in enumerate(CATALOGUE):
        service = upsert(
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
            if one(ServicePrice, service_id=service.id, academic_year_id=year.id) is None:
                db.session.add(
                    ServicePrice(
                        service_id=service.id,
                        academic_year_id=year.id,
                        price_per_day_pence=DEMO_PRICE_PENCE,
                    )
                )
        for customer_type, (treatment, rate) in VAT_RULES.items():
            upsert(
                ServiceVat,
                {"service_id": service.id, "customer_type": customer_type},
                {"treatment": treatment, "vat_rate_bp": rate},
            )
    db.session.flush()


AGREED_ACTIVITIES = (
    ("Quality assurance of self-evaluation and the school's action plan", ""),
    (
        "Peer review in the partnership",
        "Training and support for headteachers reviewing each other's schools.",
    ),
)


def delivery_activities() -> None:
    """The council's non-negotiable activities and two it agrees with partnerships."""
    activities.ensure_non_negotiable_activities()
    known = {a.name for a in activities.activities(with_retired=True)}
    for name, description in AGREED_ACTIVITIES:
        if name not in known:
            activities.save_activity(None, name, description, False)
