"""Partnerships, quadrant teams (districts and traded capacity per year) and the council's edits
to a school's record."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    Partnership,
    Quadrant,
    QuadrantCapacity,
    QuadrantDistrict,
    School,
)
from traded_app.models.types import BillingRoute, SchoolStatus
from traded_app.services.ordering.workflow import capacity_position


class AdminError(ValueError):
    """A change refused; `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- Partnerships -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnershipRow:
    partnership: Partnership
    members: int


def all_partnerships() -> list[PartnershipRow]:
    counts = dict(
        db.session.execute(
            select(School.partnership_id, func.count())
            .where(School.status == SchoolStatus.OPEN, School.partnership_id.is_not(None))
            .group_by(School.partnership_id)
        )
        .tuples()
        .all()
    )
    rows = db.session.execute(
        select(Partnership)
        .options(joinedload(Partnership.quadrant))
        .order_by(Partnership.active.desc(), Partnership.name)
    ).scalars()
    return [PartnershipRow(p, counts.get(p.id, 0)) for p in rows]


def _name_taken(name: str, partnership: Partnership | None) -> bool:
    clash = db.session.execute(
        select(Partnership.id).where(func.lower(Partnership.name) == name.strip().lower())
    ).scalar_one_or_none()
    return clash is not None and (partnership is None or clash != partnership.id)


def save_partnership(
    partnership: Partnership | None, name: str, quadrant_id: int, active: bool = True
) -> Partnership:
    name = " ".join(name.split())
    if _name_taken(name, partnership):
        raise AdminError(f"There is already a partnership called {name}", "name")
    if db.session.get(Quadrant, quadrant_id) is None:
        raise AdminError("Select the partnership's quadrant", "quadrant_id")
    if partnership is None:
        partnership = Partnership(name=name, quadrant_id=quadrant_id, active=active)
        db.session.add(partnership)
    else:
        if partnership.name != name:
            partnership.name = name
        if partnership.quadrant_id != quadrant_id:
            partnership.quadrant_id = quadrant_id
        if partnership.active != active:
            partnership.active = active
    db.session.flush()
    return partnership


def members(partnership: Partnership) -> list[School]:
    return list(
        db.session.execute(
            select(School)
            .where(School.partnership_id == partnership.id, School.status == SchoolStatus.OPEN)
            .order_by(School.name)
        ).scalars()
    )


def add_member(partnership: Partnership, urn: int) -> School:
    school = db.session.execute(select(School).where(School.urn == urn)).scalar_one_or_none()
    if school is None:
        raise AdminError(f"There is no school with URN {urn}", "urn")
    if not school.is_open:
        raise AdminError(f"{school.name} is closed", "urn")
    if not partnership.active:
        raise AdminError("This partnership is no longer active: reactivate it first", "urn")
    if school.partnership_id == partnership.id:
        raise AdminError(f"{school.name} is already in this partnership", "urn")
    if school.quadrant_id is not None and school.quadrant_id != partnership.quadrant_id:
        raise AdminError(
            f"{school.name} is in the {school.quadrant.name if school.quadrant else ''} quadrant; "
            f"this partnership is in {partnership.quadrant.name}",
            "urn",
        )
    school.partnership_id = partnership.id
    db.session.flush()
    return school


def remove_member(partnership: Partnership, school: School) -> None:
    if school.partnership_id != partnership.id:
        raise AdminError(f"{school.name} is not in this partnership")
    school.partnership_id = None
    db.session.flush()


# --- Quadrants: districts and capacity ---------------------------------------------------------


@dataclass(frozen=True)
class CapacityCell:
    year: AcademicYear
    capacity_half_days: int | None
    sold_half_days: int


@dataclass(frozen=True)
class QuadrantRow:
    quadrant: Quadrant
    districts: list[str]
    cells: list[CapacityCell]


def quadrant_rows(years: list[AcademicYear]) -> list[QuadrantRow]:
    rows = []
    for quadrant in (
        db.session.execute(
            select(Quadrant).options(joinedload(Quadrant.districts)).order_by(Quadrant.name)
        )
        .unique()
        .scalars()
    ):
        rows.append(
            QuadrantRow(
                quadrant, [d.name for d in quadrant.districts], capacity_cells(quadrant, years)
            )
        )
    return rows


def capacity_cells(quadrant: Quadrant, years: list[AcademicYear]) -> list[CapacityCell]:
    cells = []
    for year in years:
        position = capacity_position(quadrant.id, year.id)
        cells.append(
            CapacityCell(
                year,
                position.capacity_half_days if position else None,
                position.sold_half_days if position else 0,
            )
        )
    return cells


def set_capacity(quadrant: Quadrant, year: AcademicYear, half_days: int) -> None:
    """The days the team can sell in `year`; never below what it has already sold."""
    position = capacity_position(quadrant.id, year.id, lock=True)
    if position is not None and half_days < position.sold_half_days:
        sold = position.sold_half_days / 2
        raise AdminError(
            f"The {quadrant.name} team has already sold {sold:g} days in {year.label}: "
            "capacity cannot be less than that",
            f"capacity_{year.start_year}",
        )
    row = db.session.execute(
        select(QuadrantCapacity).where(
            QuadrantCapacity.quadrant_id == quadrant.id,
            QuadrantCapacity.academic_year_id == year.id,
        )
    ).scalar_one_or_none()
    if row is None:
        db.session.add(
            QuadrantCapacity(
                quadrant_id=quadrant.id,
                academic_year_id=year.id,
                traded_capacity_half_days=half_days,
            )
        )
    elif row.traded_capacity_half_days != half_days:
        row.traded_capacity_half_days = half_days
    db.session.flush()


def set_districts(quadrant: Quadrant, names: list[str]) -> None:
    """The GIAS administrative districts this team serves (a GIAS import maps schools by them)."""
    wanted: dict[str, str] = {}
    for raw in names:
        name = " ".join(raw.split())
        if name:
            if len(name) > 80:
                raise AdminError("Each district name must be 80 characters or fewer", "districts")
            wanted.setdefault(name.lower(), name)
    others = {
        d.name.lower(): d
        for d in db.session.execute(
            select(QuadrantDistrict)
            .options(joinedload(QuadrantDistrict.quadrant))
            .where(QuadrantDistrict.quadrant_id != quadrant.id)
        ).scalars()
    }
    for key, name in wanted.items():
        if key in others:
            raise AdminError(
                f"{name} is already a district of the {others[key].quadrant.name} quadrant",
                "districts",
            )
    current = {d.name.lower(): d for d in quadrant.districts}
    for key, district in current.items():
        if key not in wanted:
            quadrant.districts.remove(district)
    for key, name in wanted.items():
        if key not in current:
            quadrant.districts.append(QuadrantDistrict(name=name))
        elif current[key].name != name:
            current[key].name = name
    db.session.flush()


# --- Schools: the council's own data --------------------------------------------------------------


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


@dataclass(frozen=True)
class SchoolList:
    schools: list[School]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_all_schools(
    query: str = "", status: str = "open", page: int = 1, per_page: int = 50
) -> SchoolList:
    """Schools open, closed or both, by name or URN, a page at a time."""
    stmt = select(School)
    if status in ("open", "closed"):
        stmt = stmt.where(School.status == SchoolStatus(status))
    query = query.strip()
    if query:
        conditions = [func.lower(School.name).contains(query.lower(), autoescape=True)]
        if query.isdigit() and len(query) < 10:
            conditions.append(School.urn == int(query))
        stmt = stmt.where(or_(*conditions))
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    page = max(1, min(page, -(-total // per_page) or 1))
    rows = db.session.execute(
        stmt.options(joinedload(School.quadrant), joinedload(School.partnership))
        .order_by(School.name, School.urn)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).scalars()
    return SchoolList(list(rows), total, page, per_page)


def successor_of(school: School) -> School | None:
    return db.session.execute(
        select(School).where(School.predecessor_id == school.id)
    ).scalar_one_or_none()


def quadrants() -> list[Quadrant]:
    return list(db.session.execute(select(Quadrant).order_by(Quadrant.name)).scalars())


def active_partnerships() -> list[Partnership]:
    return list(
        db.session.execute(
            select(Partnership)
            .options(joinedload(Partnership.quadrant))
            .where(Partnership.active.is_(True))
            .order_by(Partnership.name)
        ).scalars()
    )
