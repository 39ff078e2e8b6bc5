"""Quadrant teams: the districts each serves (a GIAS import maps schools by them) and the traded
capacity each can sell in a year, never below what it has already sold."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from traded_app.extensions import db
from traded_app.models import AcademicYear, Quadrant, QuadrantCapacity, QuadrantDistrict
from traded_app.services.council.schools import AdminError
from traded_app.services.ordering.workflow import capacity_position
from traded_app.services.platform.errors import NotFound


def quadrants() -> list[Quadrant]:
    return list(db.session.execute(select(Quadrant).order_by(Quadrant.name)).scalars())


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
