"""A school's days for one academic year in five figures, as the catalogue's summary shows them.

The same figures as the full ledger (ledger.school_ledger) summed up, in one statement built
once: the catalogue's days control asks for them on every change of days, so they cost one
query and no statement building. tests/unit/test_days_ledger.py checks them against the ledger
after random sequences of orders, visits and cancellations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, case, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from traded_app.models import CoreAllocation, Order, OrderLine, OrderStatus, Visit, VisitStatus
from traded_app.models.orders import PENDING_STATUSES, SOLD_STATUSES
from traded_app.services.days.ledger import LEDGER_STATUSES
from traded_app.services.platform.statements import constant, one_of, run


@dataclass(frozen=True)
class YearPosition:
    """Half-days for one school and academic year, as the catalogue shows them."""

    core_half_days: int
    purchased_half_days: int  # sold orders, and the used days of cancelled ones
    pending_half_days: int  # submitted orders the headteacher or council has not decided
    delivered_half_days: int = 0  # used: delivered, or cancelled late and charged
    scheduled_half_days: int = 0

    @property
    def remaining_half_days(self) -> int:
        return self.core_half_days + self.purchased_half_days - self.delivered_half_days

    def remaining_after(self, ordering_half_days: int) -> int:
        """Days left this year if pending orders and `ordering_half_days` are confirmed."""
        return self.remaining_half_days + self.pending_half_days + ordering_half_days


def _position_statement() -> Select[Any]:
    """SELECT core, sold, pending, used, scheduled, cancelled_used for :school_id, :year_id.

    Each figure is an aggregate over one table (one row each), cross-joined into one row. A visit
    counts when it is core (no order line) or on a line of a ledger order of the same school and
    year, as in the full ledger."""
    school_id = bindparam("school_id", type_=Integer)
    year_id = bindparam("year_id", type_=Integer)

    def total(column: Any) -> ColumnElement[Any]:
        return func.coalesce(func.sum(column), 0)

    core = (
        select(total(CoreAllocation.half_days).label("core"))
        .where(CoreAllocation.school_id == school_id, CoreAllocation.academic_year_id == year_id)
        .subquery()
    )
    this_year = and_(Order.school_id == school_id, Order.academic_year_id == year_id)
    sold = (
        select(total(OrderLine.half_days).label("sold"))
        .join(Order, Order.id == OrderLine.order_id)
        .where(this_year, one_of(Order.status, SOLD_STATUSES))
        .subquery()
    )
    pending = (
        select(total(Order.half_days).label("pending"))
        .where(this_year, one_of(Order.status, PENDING_STATUSES))
        .subquery()
    )
    uses = or_(Visit.status == constant(VisitStatus.DELIVERED), Visit.chargeable.is_(True))
    counted = or_(Visit.order_line_id.is_(None), one_of(Order.status, LEDGER_STATUSES))
    visits = (
        select(
            total(case((and_(uses, counted), Visit.half_days), else_=0)).label("used"),
            total(
                case(
                    (
                        and_(Visit.status == constant(VisitStatus.SCHEDULED), counted),
                        Visit.half_days,
                    ),
                    else_=0,
                )
            ).label("scheduled"),
            total(
                case(
                    (and_(uses, Order.status == constant(OrderStatus.CANCELLED)), Visit.half_days),
                    else_=0,
                )
            ).label("cancelled_used"),
        )
        .select_from(Visit)
        .outerjoin(OrderLine, OrderLine.id == Visit.order_line_id)
        .outerjoin(Order, and_(Order.id == OrderLine.order_id, this_year))
        .where(Visit.school_id == school_id, Visit.academic_year_id == year_id)
        .subquery()
    )
    return select(
        core.c.core,
        sold.c.sold,
        pending.c.pending,
        visits.c.used,
        visits.c.scheduled,
        visits.c.cancelled_used,
    ).select_from(core.join(sold, true()).join(pending, true()).join(visits, true()))


# Also read within the change of days' one statement on PostgreSQL (ordering.draft_line).
POSITION = _position_statement()


def year_position(school_id: int, year_id: int) -> YearPosition:
    """The school's five figures for the year, in one query."""
    return position_of(*run(POSITION, {"school_id": school_id, "year_id": year_id}).one())


def position_of(
    core: int, sold: int, pending: int, used: int, scheduled: int, cancelled_used: int
) -> YearPosition:
    """The figures from a row of POSITION's six columns."""
    return YearPosition(
        core_half_days=int(core),
        purchased_half_days=int(sold) + int(cancelled_used),
        pending_half_days=int(pending),
        delivered_half_days=int(used),
        scheduled_half_days=int(scheduled),
    )
