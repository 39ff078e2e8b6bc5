"""Demo data for one person serving several schools and an academy conversion on its date:
`sbm12@example.org` is business manager at Myland and at De La Salle (both maintained), and one
maintained primary outside the demo schools converts to an academy on the first of the month
after next (listed on the service manager's Academy conversions page, waiting for its date)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from traded_app.demo.records import one
from traded_app.extensions import db
from traded_app.models import School, SchoolConversion, User
from traded_app.models.types import (
    BillingRoute,
    CustomerType,
    EstablishmentType,
    Phase,
    Role,
    SchoolStatus,
)
from traded_app.services.council import conversions
from traded_app.services.platform import memberships
from traded_app.services.platform.settings import today

TWO_SCHOOLS_EMAIL = "sbm12@example.org"
SECOND_SCHOOL = "delasalle"
# A demo academy's URN: the converting school's, in a range GIAS does not use.
ACADEMY_URN_BASE = 900_000


def load(demo_schools: dict[str, School], schools: list[School]) -> None:
    person = one(User, email=TWO_SCHOOLS_EMAIL)
    if person is not None:
        memberships.add(person, demo_schools[SECOND_SCHOOL].id, Role.SCHOOL_BUSINESS_MANAGER)
    _pending_conversion(demo_schools, schools)


def _pending_conversion(demo_schools: dict[str, School], schools: list[School]) -> None:
    if db.session.scalar(select(SchoolConversion.id).limit(1)) is not None:
        return
    taken = {s.id for s in demo_schools.values()}
    old = next(
        s
        for s in sorted(schools, key=lambda s: s.urn)
        if s.is_open
        and s.id not in taken
        and s.customer_type == CustomerType.MAINTAINED
        and s.phase == Phase.PRIMARY
    )
    first = today().replace(day=1)
    month = first.month + 2
    converts_on = date(first.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    academy = School(
        urn=ACADEMY_URN_BASE + old.urn % 100_000,
        name=old.name.replace(" School", "").replace(" Primary", " Primary Academy")
        if " Primary" in old.name
        else f"{old.name} Academy",
        phase=old.phase,
        establishment_type=EstablishmentType.ACADEMY,
        customer_type=CustomerType.ACADEMY,
        billing_route=BillingRoute.INVOICE,
        status=SchoolStatus.OPEN,
        quadrant_id=old.quadrant_id,
        partnership_id=old.partnership_id,
        district=old.district,
        address=old.address,
        postcode=old.postcode,
        billing_contact_name=old.billing_contact_name,
        billing_contact_email=old.billing_contact_email,
        predecessor_id=old.id,
        opened_on=converts_on,
    )
    db.session.add(academy)
    db.session.flush()
    conversions.record(old.id, academy.id, converts_on, None)
