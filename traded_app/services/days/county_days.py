"""The council's days overview: every school's days for a year, filtered and paged, with
each quadrant's totals against its capacity, from the ledger's figures in SQL (one query per
page, whatever the number of schools)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.sql.selectable import Subquery

from traded_app.domain.numbers import whole_number
from traded_app.extensions import db
from traded_app.models import (
    Order,
    Partnership,
    Quadrant,
    QuadrantCapacity,
    School,
    Visit,
)
from traded_app.models.orders import SOLD_STATUSES
from traded_app.models.types import Phase, SchoolStatus
from traded_app.services.days import partnership_days
from traded_app.services.days.ledger import Figures, school_figures_subquery, visit_sums
from traded_app.services.platform.paging import Page, count_rows, paginate_rows


@dataclass(frozen=True)
class OverviewFilters:
    year_id: int
    q: str = ""
    quadrant_id: int | None = None
    partnership_id: int | None = None
    phase: str = ""
    unused_only: bool = False
    page: int = 1


@dataclass(frozen=True)
class SchoolRow:
    school_id: int
    urn: int
    name: str
    phase: str
    quadrant_name: str
    partnership_name: str
    core: Figures
    traded: Figures

    @property
    def total(self) -> Figures:
        return self.core + self.traded


@dataclass(frozen=True)
class QuadrantRow:
    quadrant_id: int | None
    name: str
    schools: int
    figures: Figures
    capacity_half_days: int | None
    sold_half_days: int

    @property
    def capacity_used_percent(self) -> int | None:
        if not self.capacity_half_days:
            return None
        return self.sold_half_days * 100 // self.capacity_half_days


@dataclass(frozen=True)
class Overview:
    """A page of the schools' days, and the totals of every quadrant."""

    rows: Page[SchoolRow]
    quadrants: list[QuadrantRow]


def council_overview(filters: OverviewFilters, per_page: int = 50) -> Overview:
    """Every open school's days for the year, filtered and paged, with totals per quadrant.

    Six queries whatever the number of schools: the page, its count, the quadrant totals, the
    teams' capacities and the days sold per team, by schools' orders and by partnership orders.
    """
    figures = school_figures_subquery(filters.year_id)
    core_used = _core_used_subquery(filters.year_id)
    conditions = _overview_conditions(filters, figures)

    # Only the "has unused days" filter needs the figures to count the schools.
    base = select(School.id).where(*conditions)
    if filters.unused_only:
        base = base.join(figures, figures.c.school_id == School.id)
    rows = paginate_rows(
        select(
            School.id,
            School.urn,
            School.name,
            School.phase,
            Quadrant.name,
            Partnership.name,
            figures.c.core,
            figures.c.purchased,
            figures.c.scheduled,
            figures.c.delivered,
            figures.c.charged,
            func.coalesce(core_used.c.scheduled, 0),
            func.coalesce(core_used.c.delivered, 0),
            func.coalesce(core_used.c.charged, 0),
        )
        .join(figures, figures.c.school_id == School.id)
        .outerjoin(core_used, core_used.c.school_id == School.id)
        .outerjoin(Quadrant, Quadrant.id == School.quadrant_id)
        .outerjoin(Partnership, Partnership.id == School.partnership_id)
        .where(*conditions)
        .order_by(School.name, School.urn),
        filters.page,
        per_page,
        total=count_rows(base),
    )
    quadrants = _overview_quadrant_rows(filters.year_id, figures)
    return Overview(rows.map(_overview_school_row), quadrants)


def _overview_conditions(filters: OverviewFilters, figures: Subquery) -> list[Any]:
    """The overview's filters as conditions on open schools (and their figures, for "has unused
    days")."""
    remaining = figures.c.core + figures.c.purchased - figures.c.delivered - figures.c.charged
    conditions: list[Any] = [School.status == SchoolStatus.OPEN]
    text = filters.q.strip()
    if text:
        urn = whole_number(text)
        if urn is not None:
            conditions.append(or_(School.urn == urn, School.name.ilike(f"%{text}%")))
        else:
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(School.name.ilike(f"%{escaped}%", escape="\\"))
    if filters.quadrant_id is not None:
        conditions.append(School.quadrant_id == filters.quadrant_id)
    if filters.partnership_id is not None:
        conditions.append(School.partnership_id == filters.partnership_id)
    if filters.phase in {p.value for p in Phase}:
        conditions.append(School.phase == Phase(filters.phase))
    if filters.unused_only:
        conditions.append(remaining > 0)
    return conditions


def _overview_school_row(row: Any) -> SchoolRow:
    """A school's row of the overview: its core days, and its traded days (all less core)."""
    core_figures = Figures(int(row[6]), int(row[11]), int(row[12]), int(row[13]))
    all_figures = Figures(int(row[6]) + int(row[7]), int(row[8]), int(row[9]), int(row[10]))
    traded = Figures(
        all_figures.allocated - core_figures.allocated,
        all_figures.scheduled - core_figures.scheduled,
        all_figures.delivered - core_figures.delivered,
        all_figures.charged - core_figures.charged,
    )
    return SchoolRow(
        school_id=row[0],
        urn=row[1],
        name=row[2],
        phase=row[3].label,
        quadrant_name=row[4] or "",
        partnership_name=row[5] or "",
        core=core_figures,
        traded=traded,
    )


def _overview_quadrant_rows(year_id: int, figures: Subquery) -> list[QuadrantRow]:
    """Every quadrant's open schools and their days, with the team's capacity and days sold
    (schools' own orders and the partnership orders of the team's partnerships)."""
    quadrant_totals = db.session.execute(
        select(
            School.quadrant_id,
            Quadrant.name,
            func.count(),
            func.sum(figures.c.core + figures.c.purchased),
            func.sum(figures.c.scheduled),
            func.sum(figures.c.delivered),
            func.sum(figures.c.charged),
        )
        .join(figures, figures.c.school_id == School.id)
        .outerjoin(Quadrant, Quadrant.id == School.quadrant_id)
        .where(School.status == SchoolStatus.OPEN)
        .group_by(School.quadrant_id, Quadrant.name)
        .order_by(Quadrant.name)
    ).all()
    capacities = dict(
        db.session.execute(
            select(QuadrantCapacity.quadrant_id, QuadrantCapacity.traded_capacity_half_days).where(
                QuadrantCapacity.academic_year_id == year_id
            )
        )
        .tuples()
        .all()
    )
    sold = dict(
        db.session.execute(
            select(Order.quadrant_id, func.sum(Order.half_days))
            .where(
                Order.academic_year_id == year_id,
                Order.status.in_(SOLD_STATUSES),
                Order.quadrant_id.is_not(None),
            )
            .group_by(Order.quadrant_id)
        )
        .tuples()
        .all()
    )
    for quadrant_id, half_days in partnership_days.sold_by_quadrant(year_id).items():
        sold[quadrant_id] = int(sold.get(quadrant_id) or 0) + half_days
    return [
        QuadrantRow(
            quadrant_id=quadrant_id,
            name=name or "No quadrant",
            schools=int(count),
            figures=Figures(int(a or 0), int(s or 0), int(d or 0), int(c or 0)),
            capacity_half_days=capacities.get(quadrant_id) if quadrant_id else None,
            sold_half_days=int(sold.get(quadrant_id) or 0) if quadrant_id else 0,
        )
        for quadrant_id, name, count, a, s, d, c in quadrant_totals
    ]


def _core_used_subquery(year_id: int) -> Subquery:
    return (
        select(*visit_sums(Visit.school_id.label("school_id")))
        .where(Visit.academic_year_id == year_id, Visit.order_line_id.is_(None))
        .group_by(Visit.school_id)
        .subquery("core_visits")
    )
