"""Schools: as each role may see them, the school's own ordering rules, and the council's data
about each school (GIAS data comes from the import)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from traded_app.domain.numbers import whole_number
from traded_app.extensions import db
from traded_app.models import AcademicYear, CoreAllocation, Partnership, Quadrant, School, User
from traded_app.models.types import BillingRoute, SchoolStatus
from traded_app.services.platform import errors
from traded_app.services.platform.paging import Page, paginate


class NotFound(errors.NotFound):
    """The record does not exist, or this user may not know that it does."""


class AdminError(errors.DomainError, ValueError):
    """A change to the council's records (a school, partnership or quadrant) refused; `field`
    names the form field the message belongs to."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def school_visible_to(user: User, urn: int) -> School:
    """The school with this URN if `user` may see it: council users see all, school users
    only their own. Anything else is NotFound, so a guessed URL reveals nothing."""
    school = db.session.execute(
        select(School)
        .options(joinedload(School.quadrant), joinedload(School.partnership))
        .where(School.urn == urn)
    ).scalar_one_or_none()
    if school is None:
        raise NotFound
    if not user.may_see(school):
        raise NotFound
    return school


def core_allocations(school: School, year: AcademicYear | None) -> list[CoreAllocation]:
    if year is None:
        return []
    return list(
        db.session.execute(
            select(CoreAllocation)
            .where(
                CoreAllocation.school_id == school.id, CoreAllocation.academic_year_id == year.id
            )
            .order_by(CoreAllocation.reason)
        ).scalars()
    )


def search_schools(query: str = "", page: int = 1, per_page: int = 50) -> Page[School]:
    """Open schools matching a name fragment or URN, by name, a page at a time."""
    stmt = select(School).where(School.status == SchoolStatus.OPEN)
    query = query.strip()
    if query:
        conditions = [func.lower(School.name).contains(query.lower(), autoescape=True)]
        urn = whole_number(query)
        if urn is not None:
            conditions.append(School.urn == urn)
        stmt = stmt.where(or_(*conditions))
    return paginate(
        stmt.options(joinedload(School.quadrant), joinedload(School.partnership)).order_by(
            School.name, School.urn
        ),
        page,
        per_page,
    )


def set_ordering_rules(school: School, approval_limit_pence: int | None, po_required: bool) -> None:
    """The school's own rules for orders: the cost (before VAT) over which its headteacher must
    approve an order (None: no approval needed), and whether a PO number is required."""
    school.approval_limit_pence = approval_limit_pence
    school.po_required = po_required
    db.session.flush()


# --- The council's own data about a school ------------------------------------------------


@dataclass(frozen=True)
class SchoolEdit:
    billing_route: BillingRoute
    cost_centre: str
    billing_contact_name: str
    billing_contact_email: str
    causing_concern: bool
    enhanced_provision: bool
    recruiting_headteacher: bool
    quadrant_id: int | None
    partnership_id: int | None
    approval_limit_pence: int | None
    po_required: bool


def update_school(school: School, edit: SchoolEdit) -> School:
    """The council's data about a school (GIAS data comes from the import)."""
    cost_centre = edit.cost_centre.strip()
    if edit.billing_route == BillingRoute.RECHARGE and not cost_centre:
        raise AdminError(
            "Enter the cost centre: an internal recharge is settled against it", "cost_centre"
        )
    partnership = db.session.get(Partnership, edit.partnership_id) if edit.partnership_id else None
    if edit.partnership_id and partnership is None:
        raise AdminError("Select a partnership from the list", "partnership_id")
    if partnership is not None and edit.quadrant_id != partnership.quadrant_id:
        raise AdminError(
            f"{partnership.name} is in the {partnership.quadrant.name} quadrant: choose that "
            "quadrant or another partnership",
            "partnership_id",
        )
    if edit.quadrant_id is not None and db.session.get(Quadrant, edit.quadrant_id) is None:
        raise AdminError("Select a quadrant from the list", "quadrant_id")
    values = {
        "billing_route": edit.billing_route,
        "cost_centre": cost_centre or None,
        "billing_contact_name": edit.billing_contact_name.strip(),
        "billing_contact_email": edit.billing_contact_email.strip(),
        "causing_concern": edit.causing_concern,
        "enhanced_provision": edit.enhanced_provision,
        "recruiting_headteacher": edit.recruiting_headteacher,
        "quadrant_id": edit.quadrant_id,
        "partnership_id": edit.partnership_id,
        "approval_limit_pence": edit.approval_limit_pence,
        "po_required": edit.po_required,
    }
    for name, value in values.items():
        if getattr(school, name) != value:
            setattr(school, name, value)
    db.session.flush()
    return school


def search_all_schools(
    query: str = "", status: str = "open", page: int = 1, per_page: int = 50
) -> Page[School]:
    """Schools open, closed or both, by name or URN, a page at a time."""
    stmt = select(School)
    if status in ("open", "closed"):
        stmt = stmt.where(School.status == SchoolStatus(status))
    query = query.strip()
    if query:
        conditions = [func.lower(School.name).contains(query.lower(), autoescape=True)]
        urn = whole_number(query)
        if urn is not None:
            conditions.append(School.urn == urn)
        stmt = stmt.where(or_(*conditions))
    return paginate(
        stmt.options(joinedload(School.quadrant), joinedload(School.partnership)).order_by(
            School.name, School.urn
        ),
        page,
        per_page,
    )


def successor_of(school: School) -> School | None:
    return db.session.execute(
        select(School).where(School.predecessor_id == school.id)
    ).scalar_one_or_none()
