"""Schools' billing details kept true: the billing address, billing contact and e-mail, and cost
centre, which the school and the service manager can change, and which the school's business
manager checks once each academic year (at their first sign-in of the year).

Every change is in the audit trail (the `school` table is audited), which is the history the
pages show: who changed which detail, from what to what, and when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from traded_app.extensions import db
from traded_app.models import AuditEvent, School, User
from traded_app.models.base import utcnow
from traded_app.models.types import BillingRoute, Role
from traded_app.services.platform import audit
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import academic_start_year, today

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
FIELDS = (
    "billing_address",
    "billing_contact_name",
    "billing_contact_email",
    "cost_centre",
    "chair_of_governors_name",
    "chair_of_governors_email",
)
CHECK_FIELDS = ("details_checked_year",)
LABELS = {
    "billing_address": "Billing address",
    "billing_contact_name": "Billing contact",
    "billing_contact_email": "Billing e-mail",
    "cost_centre": "Cost centre",
    "chair_of_governors_name": "Chair of governors",
    "chair_of_governors_email": "Chair of governors' e-mail",
    "details_checked_year": "Checked for the academic year starting",
}


class DetailsError(DomainError, ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class BillingDetails:
    billing_address: str
    billing_contact_name: str
    billing_contact_email: str
    cost_centre: str
    # Copied into visit reports when the adviser ticks it.
    chair_of_governors_name: str = ""
    chair_of_governors_email: str = ""


def details_of(school: School) -> BillingDetails:
    return BillingDetails(
        school.billing_address,
        school.billing_contact_name,
        school.billing_contact_email,
        school.cost_centre or "",
        school.chair_of_governors_name,
        school.chair_of_governors_email,
    )


def update(school: School, details: BillingDetails) -> School:
    """Change the school's billing details (by the school or the service manager)."""
    address = "\n".join(line.strip() for line in details.billing_address.strip().splitlines())
    email = details.billing_contact_email.strip()
    cost_centre = details.cost_centre.strip()
    if len(address) > 500:
        raise DetailsError("Billing address must be 500 characters or fewer", "billing_address")
    if email and (not EMAIL.match(email) or len(email) > 254):
        raise DetailsError(
            "Enter an email address in the correct format, like name@example.org",
            "billing_contact_email",
        )
    chair_email = details.chair_of_governors_email.strip()
    if chair_email and (not EMAIL.match(chair_email) or len(chair_email) > 254):
        raise DetailsError(
            "Enter the chair of governors' email address in the correct format, "
            "like name@example.org",
            "chair_of_governors_email",
        )
    if school.billing_route == BillingRoute.RECHARGE and not cost_centre:
        raise DetailsError(
            "Enter the cost centre: an internal recharge is settled against it", "cost_centre"
        )
    values = {
        "billing_address": address,
        "billing_contact_name": details.billing_contact_name.strip()[:120],
        "billing_contact_email": email,
        "cost_centre": cost_centre or None,
        "chair_of_governors_name": " ".join(details.chair_of_governors_name.split())[:120],
        "chair_of_governors_email": chair_email,
    }
    for name, value in values.items():
        if getattr(school, name) != value:
            setattr(school, name, value)
    db.session.flush()
    return school


def missing(school: School) -> list[str]:
    """What the school's documents need and it lacks, and why (empty when nothing is)."""
    problems = []
    if school.billing_route == BillingRoute.INVOICE and not school.invoice_address:
        problems.append("a billing address: a VAT invoice must show it")
    if not school.billing_contact_email.strip():
        problems.append("a billing e-mail address: invoices and reminders are sent to it")
    if school.billing_route == BillingRoute.RECHARGE and not (school.cost_centre or "").strip():
        problems.append("a cost centre: an internal recharge is settled against it")
    return problems


def this_year() -> int:
    return academic_start_year(today())


def check_due(user: User) -> bool:
    """Whether this user should check their school's details now: a business manager whose
    school's details have not been checked in this academic year."""
    return (
        user.role == Role.SCHOOL_BUSINESS_MANAGER
        and user.school is not None
        and user.school.details_checked_year != this_year()
    )


def confirm(school: School, by: User) -> None:
    """The business manager says the details are right for this academic year."""
    problems = missing(school)
    if problems:
        raise DetailsError(f"Add {problems[0].split(':')[0]} before confirming")
    school.details_checked_year = this_year()
    school.details_checked_at = utcnow()
    school.details_checked_by = by.name
    db.session.flush()


def last_checked(school: School) -> tuple[datetime, str] | None:
    if school.details_checked_at is None:
        return None
    return school.details_checked_at, school.details_checked_by


def history(school: School) -> list[AuditEvent]:
    """Changes to the billing details and their yearly checks, oldest first."""
    shown = set(FIELDS) | set(CHECK_FIELDS)
    return [
        event
        for event in audit.history_of("school", school.id)
        if any(field in shown for field, _before, _after in event.change_items)
    ]
