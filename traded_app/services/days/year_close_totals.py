"""The year's close in SQL, for the preview page: every open school's unused traded and core
half-days and visits still booked (as the days ledger computes them), what the council's rule
carries over, the county's totals, and one page of schools, without reading every line.

The database sums; only the page's schools are then read line by line (services/days/
year_close). The figures agree with the line-by-line computation the close applies
(tests/integration/test_year_close.py compares them)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    case,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.selectable import Subquery

from traded_app.domain import year_end
from traded_app.extensions import db
from traded_app.models import (
    CoreAllocation,
    DaysTransfer,
    Order,
    OrderLine,
    Quadrant,
    School,
    Visit,
    VisitStatus,
)
from traded_app.models.orders import SOLD_STATUSES
from traded_app.models.types import SchoolStatus

YEAR: BindParameter[int] = bindparam("year_id", type_=Integer)


@dataclass(frozen=True)
class Totals:
    schools: int  # open schools with days left or visits still booked
    unused: int
    carried: int
    booked_half_days: int
    schools_booked: int

    @property
    def lapsed(self) -> int:
        return self.unused - self.carried


def _positive(value: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((value > 0, value), else_=0)


def _per_school(rule: year_end.Rule) -> Subquery:
    """Open schools: school_id, traded and core (unused half-days), booked, carried.

    Every row that adds or takes days from a ledger line, signed, in one UNION ALL (bought
    lines, moves, core allocations, used visits), summed per line and clamped at nothing left
    (an own cancelled line keeps only its used days: its sum is never above nothing), then per
    school: the ledger's remaining, without reading each line into Python."""
    uses = or_(Visit.status == VisitStatus.DELIVERED, Visit.chargeable.is_(True))
    zero = literal(0)
    contributions = union_all(
        select(
            Order.school_id.label("school_id"),
            OrderLine.id.label("line_id"),
            OrderLine.half_days.label("half_days"),
            zero.label("booked"),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.academic_year_id == YEAR, Order.status.in_(list(SOLD_STATUSES))),
        select(
            DaysTransfer.school_id, DaysTransfer.order_line_id, DaysTransfer.half_days, zero
        ).where(DaysTransfer.academic_year_id == YEAR),
        select(CoreAllocation.school_id, null(), CoreAllocation.half_days, zero).where(
            CoreAllocation.academic_year_id == YEAR
        ),
        select(
            Visit.school_id,
            Visit.order_line_id,
            case((uses, -Visit.half_days), else_=0),
            case((Visit.status == VisitStatus.SCHEDULED, Visit.half_days), else_=0),
        ).where(Visit.academic_year_id == YEAR),
    ).subquery("contributions")
    per_line = (
        select(
            contributions.c.school_id,
            contributions.c.line_id,
            func.sum(contributions.c.half_days).label("left"),
            func.sum(contributions.c.booked).label("booked"),
        )
        .group_by(contributions.c.school_id, contributions.c.line_id)
        .subquery("per_line")
    )
    left = _positive(per_line.c.left)
    by_school = (
        select(
            per_line.c.school_id,
            func.sum(case((per_line.c.line_id.is_not(None), left), else_=0)).label("traded"),
            func.sum(case((per_line.c.line_id.is_(None), left), else_=0)).label("core"),
            func.sum(per_line.c.booked).label("booked"),
        )
        .group_by(per_line.c.school_id)
        .subquery("by_school")
    )
    room = rule.max_half_days if rule.carry_over else 0
    traded = by_school.c.traded
    carried: ColumnElement[Any] = case((traded > room, literal(room)), else_=traded)
    if rule.core_carries_over:
        carried = carried + by_school.c.core
    return (
        select(
            by_school.c.school_id,
            traded.label("traded"),
            by_school.c.core,
            by_school.c.booked,
            carried.label("carried"),
        )
        .join(School, School.id == by_school.c.school_id)
        .where(School.status == SchoolStatus.OPEN)
        .subquery("per_school")
    )


@functools.lru_cache(maxsize=16)
def _page_query(rule: year_end.Rule) -> Select[Any]:
    """Built once per rule, with the year, page size and offset bound at execution: building
    and keying a statement this size costs SQLAlchemy far more than SQLite takes to run it."""
    per_school = _per_school(rule)
    shown = or_(per_school.c.traded > 0, per_school.c.core > 0, per_school.c.booked > 0)
    query = (
        select(
            School.id,
            School.urn,
            School.name,
            func.coalesce(Quadrant.name, "No quadrant"),
            func.count().over(),
            func.sum(per_school.c.traded + per_school.c.core).over(),
            func.sum(per_school.c.carried).over(),
            func.sum(per_school.c.booked).over(),
            func.sum(case((per_school.c.booked > 0, 1), else_=0)).over(),
        )
        .join(per_school, per_school.c.school_id == School.id)
        .outerjoin(Quadrant, Quadrant.id == School.quadrant_id)
        .where(shown)
        .order_by(School.name, School.urn)
        .limit(bindparam("per_page"))
        .offset(bindparam("skip"))
    )
    return query


def totals_and_page(
    year_id: int, rule: year_end.Rule, page: int, per_page: int
) -> tuple[Totals, list[tuple[int, int, str, str]], int]:
    """The county's totals, and one page of schools (id, URN, name, quadrant) in name order,
    with the page number clamped: one query (the totals as window sums over every school the
    page is taken from), two when the page asked for is past the last."""
    query = _page_query(rule)

    def fetch(number: int) -> list[Any]:
        values = {"year_id": year_id, "per_page": per_page, "skip": (number - 1) * per_page}
        # Core's execute: the ORM's adds several times what SQLite takes for this one.
        return list(db.session.connection().execute(query, values).tuples())

    page = max(1, page)
    rows = fetch(page)
    if not rows and page > 1:
        first = fetch(1)
        count = int(first[0][4]) if first else 0
        page = max(1, -(-count // per_page))
        rows = fetch(page)
    if not rows:
        return Totals(0, 0, 0, 0, 0), [], 1
    totals = Totals(*(int(value or 0) for value in rows[0][4:]))
    return totals, [(row[0], row[1], row[2], row[3]) for row in rows], page
