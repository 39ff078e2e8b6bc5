"""Schools as each role may see them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from traded_app.extensions import db
from traded_app.models import AcademicYear, CoreAllocation, School, User
from traded_app.models.types import SchoolStatus


class NotFound(Exception):
    """The record does not exist, or this user may not know that it does."""


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
    if user.is_school_user and user.school_id != school.id:
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


@dataclass(frozen=True)
class SchoolPage:
    schools: list[School]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_schools(query: str = "", page: int = 1, per_page: int = 50) -> SchoolPage:
    """Open schools matching a name fragment or URN, by name, a page at a time."""
    stmt = select(School).where(School.status == SchoolStatus.OPEN)
    query = query.strip()
    if query:
        conditions = [func.lower(School.name).contains(query.lower(), autoescape=True)]
        if query.isdigit():
            conditions.append(School.urn == int(query))
        stmt = stmt.where(or_(*conditions))
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    page = max(1, page)
    rows = db.session.execute(
        stmt.options(joinedload(School.quadrant), joinedload(School.partnership))
        .order_by(School.name, School.urn)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).scalars()
    return SchoolPage(list(rows), total, page, per_page)


def set_ordering_rules(school: School, approval_limit_pence: int | None, po_required: bool) -> None:
    """The school's own rules for orders: the cost (before VAT) over which its headteacher must
    approve an order (None: no approval needed), and whether a PO number is required."""
    school.approval_limit_pence = approval_limit_pence
    school.po_required = po_required
    db.session.flush()
