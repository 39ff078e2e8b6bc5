"""Quadrant teams: the districts each serves (a GIAS import maps schools by them) and the traded
capacity each can sell in a year, never below what it has already sold."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    Partnership,
    Quadrant,
    QuadrantCapacity,
    QuadrantDistrict,
)
from traded_app.services.council.schools import AdminError
from traded_app.services.ordering.workflow import capacity_position
from traded_app.services.platform.errors import NotFound

CODE = re.compile(r"^[A-Z][A-Z0-9]{0,15}$")


def quadrants(*, with_retired: bool = False) -> list[Quadrant]:
    """The quadrant teams by name (active ones only unless `with_retired`)."""
    stmt = select(Quadrant).order_by(Quadrant.name)
    if not with_retired:
        stmt = stmt.where(Quadrant.active.is_(True))
    return list(db.session.execute(stmt).scalars())


def save_quadrant(quadrant: Quadrant | None, name: str, code: str) -> Quadrant:
    """Create a quadrant team, or rename it (name and short code, each unique)."""
    name = " ".join(name.split())
    code = code.strip().upper()
    if not name or len(name) > 80:
        raise AdminError("Enter the team's name, 80 characters or fewer", "name")
    if not CODE.match(code):
        raise AdminError(
            "Code must be 1 to 16 capital letters or numbers, starting with a letter, like NE",
            "code",
        )
    for column, value, field in ((Quadrant.name, name, "name"), (Quadrant.code, code, "code")):
        clash = db.session.execute(
            select(Quadrant.id).where(func.lower(column) == value.lower())
        ).scalar_one_or_none()
        if clash is not None and (quadrant is None or clash != quadrant.id):
            raise AdminError(f"Another quadrant team already has the {field} {value}", field)
    if quadrant is None:
        quadrant = Quadrant(name=name, code=code, active=True)
        db.session.add(quadrant)
    else:
        if quadrant.name != name:
            quadrant.name = name
        if quadrant.code != code:
            quadrant.code = code
    db.session.flush()
    return quadrant


def set_quadrant_active(quadrant: Quadrant, active: bool) -> None:
    """Retire a team (its history stays; it serves no district and takes no new partnership)
    or bring it back. Refused while it still serves districts or has active partnerships."""
    if not active:
        if quadrant.districts:
            raise AdminError(
                f"{quadrant.name} still serves {len(quadrant.districts)} districts: move them "
                "to another team first",
                "districts",
            )
        partnerships = db.session.execute(
            select(func.count())
            .select_from(Partnership)
            .where(Partnership.quadrant_id == quadrant.id, Partnership.active.is_(True))
        ).scalar_one()
        if partnerships:
            raise AdminError(
                f"{quadrant.name} has {partnerships} active partnerships: move or close them first"
            )
    if quadrant.active != active:
        quadrant.active = active
    db.session.flush()


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


def quadrant_by_id(quadrant_id: int) -> Quadrant:
    """The quadrant with this id; NotFound if there is none."""
    quadrant = db.session.get(Quadrant, quadrant_id)
    if quadrant is None:
        raise NotFound(f"No quadrant {quadrant_id}")
    return quadrant


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
    if not quadrant.active and any(raw.strip() for raw in names):
        raise AdminError(
            f"The {quadrant.name} team is retired: it serves no districts", "districts"
        )
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
