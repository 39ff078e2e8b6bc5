"""Multi-academy trusts: their details, the council's setting for whom invoices are addressed
to, and their member academies (linked by the service manager here, or by the GIAS import in
gias_trusts).

Only academies and free schools belong to a trust: a maintained school is part of the council.
An academy belongs to one trust at a time; moving it to another trust takes it out of the first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from traded_app.domain.trusts import InvoiceTo, companies_house_number
from traded_app.extensions import db
from traded_app.models import School, Trust, User
from traded_app.models.types import CustomerType, SchoolStatus
from traded_app.services.council.schools import AdminError
from traded_app.services.platform.errors import NotFound

EMAIL_MAX = 254


@dataclass(frozen=True)
class TrustRow:
    trust: Trust
    academies: int


@dataclass(frozen=True)
class TrustDetails:
    """What the service manager enters about a trust (already stripped by the form)."""

    name: str
    companies_house_number: str
    billing_address: str
    finance_email: str
    invoice_to: InvoiceTo = InvoiceTo.ACADEMY
    # The trust's word that its finance staff may order for its academies (ordering.by_trust).
    staff_may_order: bool = False


def all_trusts() -> list[TrustRow]:
    """Every trust by name, with how many open academies it has."""
    counts = dict(
        db.session.execute(
            select(School.trust_id, func.count())
            .where(School.status == SchoolStatus.OPEN, School.trust_id.is_not(None))
            .group_by(School.trust_id)
        )
        .tuples()
        .all()
    )
    trusts = db.session.execute(select(Trust).order_by(Trust.name, Trust.id)).scalars()
    return [TrustRow(t, counts.get(t.id, 0)) for t in trusts]


def trust_by_id(trust_id: int) -> Trust:
    trust = db.session.get(Trust, trust_id)
    if trust is None:
        raise NotFound(f"No trust {trust_id}")
    return trust


def _check(details: TrustDetails, trust: Trust | None) -> tuple[str, str | None]:
    """The name and Companies House number to store, or AdminError naming the field."""
    name = " ".join(details.name.split())
    if not name:
        raise AdminError("Enter the trust's name", "name")
    if len(name) > 200:
        raise AdminError("The trust's name must be 200 characters or fewer", "name")
    number: str | None = None
    if details.companies_house_number.strip():
        number = companies_house_number(details.companies_house_number)
        if number is None:
            raise AdminError(
                "Enter the Companies House number as 8 digits, like 07318714, or 2 letters and "
                "6 digits, like SC123456",
                "companies_house_number",
            )
        clash = db.session.execute(
            select(Trust).where(Trust.companies_house_number == number)
        ).scalar_one_or_none()
        if clash is not None and clash is not trust:
            raise AdminError(
                f"{clash.name} already has Companies House number {number}",
                "companies_house_number",
            )
    email = details.finance_email.strip()
    if email and ("@" not in email or len(email) > EMAIL_MAX or " " in email):
        raise AdminError(
            "Enter the finance contact's email address in the correct format, like "
            "finance@trust.example.org",
            "finance_email",
        )
    return name, number


def save_trust(trust: Trust | None, details: TrustDetails) -> Trust:
    """Add a trust (when `trust` is None) or change one's details. Documents already issued
    keep the details they were issued with."""
    name, number = _check(details, trust)
    if trust is None:
        trust = Trust(name=name)
        db.session.add(trust)
    values = {
        "name": name,
        "companies_house_number": number,
        "billing_address": details.billing_address.strip(),
        "finance_email": details.finance_email.strip(),
        "invoice_to": details.invoice_to,
        "staff_may_order": details.staff_may_order,
    }
    for field, value in values.items():
        if getattr(trust, field) != value:  # only real changes reach the audit trail
            setattr(trust, field, value)
    db.session.flush()
    return trust


def members(trust: Trust) -> list[School]:
    """The trust's open academies, by name."""
    return list(
        db.session.execute(
            select(School)
            .where(School.trust_id == trust.id, School.status == SchoolStatus.OPEN)
            .order_by(School.name, School.id)
        ).scalars()
    )


def member_ids(trust_id: int) -> list[int]:
    """The ids of every school linked to the trust, open or closed (a closed academy's records
    stay the trust's to see)."""
    return list(db.session.scalars(select(School.id).where(School.trust_id == trust_id)))


def add_member(trust: Trust, urn: int) -> School:
    """Link an open academy to the trust (taking it out of any other trust)."""
    school = db.session.execute(select(School).where(School.urn == urn)).scalar_one_or_none()
    if school is None:
        raise AdminError(f"There is no school with URN {urn}", "urn")
    if not school.is_open:
        raise AdminError(f"{school.name} is closed", "urn")
    if school.customer_type != CustomerType.ACADEMY:
        raise AdminError(
            f"{school.name} is not an academy: only academies and free schools belong to a trust",
            "urn",
        )
    if school.trust_id == trust.id:
        raise AdminError(f"{school.name} is already in this trust", "urn")
    school.trust_id = trust.id
    db.session.flush()
    return school


def remove_member(trust: Trust, school: School) -> None:
    if school.trust_id != trust.id:
        raise AdminError(f"{school.name} is not in this trust")
    school.trust_id = None
    db.session.flush()


# --- What a trust's finance staff see ----------------------------------------------------------


def trust_of(user: User) -> Trust:
    """The trust a trust finance person belongs to."""
    if user.trust_id is None:
        raise NotFound("Not a trust's member of staff")
    return trust_by_id(user.trust_id)


def member_visible_to(user: User, urn: int) -> School:
    """One of the user's trust's academies (open or closed) by URN; NotFound for any other
    school, so a guessed URL reveals nothing."""
    school = db.session.execute(select(School).where(School.urn == urn)).scalar_one_or_none()
    if school is None or not user.is_trust_user or not user.may_see(school):
        raise NotFound(f"No academy {urn} in the trust")
    return school


def member_schools(trust: Trust) -> list[School]:
    """Every school linked to the trust, open ones first, by name (a closed academy's documents
    can still be open)."""
    return list(
        db.session.execute(
            select(School)
            .where(School.trust_id == trust.id)
            .order_by(School.status != SchoolStatus.OPEN, School.name, School.id)
        ).scalars()
    )


def staff(trust: Trust) -> list[User]:
    """The trust's finance staff, by name."""
    return list(
        db.session.execute(
            select(User).where(User.trust_id == trust.id).order_by(User.name, User.id)
        ).scalars()
    )
