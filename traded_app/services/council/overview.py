"""The council's overview of its schools, quadrants and catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    CoreAllocation,
    Quadrant,
    QuadrantCapacity,
    School,
    Service,
)
from traded_app.models.types import BillingRoute, SchoolStatus


@dataclass(frozen=True)
class QuadrantSummary:
    quadrant: Quadrant
    open_schools: int
    traded_capacity_half_days: int | None
    core_half_days: int


@dataclass(frozen=True)
class Overview:
    quadrants: list[QuadrantSummary]
    open_schools: int
    recharge_schools: int
    invoice_schools: int
    active_services: int


def overview(year: AcademicYear | None) -> Overview:
    open_school = School.status == SchoolStatus.OPEN
    schools_by_quadrant = dict(
        db.session.execute(
            select(School.quadrant_id, func.count()).where(open_school).group_by(School.quadrant_id)
        )
        .tuples()
        .all()
    )
    capacity: dict[int, int] = {}
    core: dict[int | None, int] = {}
    if year is not None:
        capacity = dict(
            db.session.execute(
                select(
                    QuadrantCapacity.quadrant_id, QuadrantCapacity.traded_capacity_half_days
                ).where(QuadrantCapacity.academic_year_id == year.id)
            )
            .tuples()
            .all()
        )
        core = dict(
            db.session.execute(
                select(School.quadrant_id, func.sum(CoreAllocation.half_days))
                .join(School, School.id == CoreAllocation.school_id)
                .where(CoreAllocation.academic_year_id == year.id)
                .group_by(School.quadrant_id)
            )
            .tuples()
            .all()
        )
    quadrants = [
        QuadrantSummary(
            quadrant=q,
            open_schools=schools_by_quadrant.get(q.id, 0),
            traded_capacity_half_days=capacity.get(q.id),
            core_half_days=int(core.get(q.id) or 0),
        )
        for q in db.session.execute(select(Quadrant).order_by(Quadrant.name)).scalars()
    ]
    routes = dict(
        db.session.execute(
            select(School.billing_route, func.count())
            .where(open_school)
            .group_by(School.billing_route)
        )
        .tuples()
        .all()
    )
    return Overview(
        quadrants=quadrants,
        open_schools=sum(schools_by_quadrant.values()),
        recharge_schools=routes.get(BillingRoute.RECHARGE, 0),
        invoice_schools=routes.get(BillingRoute.INVOICE, 0),
        active_services=db.session.execute(
            select(func.count()).select_from(Service).where(Service.active.is_(True))
        ).scalar_one(),
    )


def quadrants() -> list[Quadrant]:
    return list(db.session.execute(select(Quadrant).order_by(Quadrant.name)).scalars())


def services() -> list[Service]:
    """Every service, retired ones too (old orders still name them), by name."""
    return list(db.session.execute(select(Service).order_by(Service.name)).scalars())
