"""The days ledger: a school's days for an academic year, per traded service and for core.

For each line: **allocated or purchased**, **scheduled**, **used** (delivered, plus a school's
late cancellations the council's notice policy charges), **remaining = allocated or purchased −
used** and **not yet booked = remaining − scheduled**.

Purchased days are the lines of orders the council has sold (confirmed, cancellation requested,
in progress, completed). A cancelled order keeps only the days already used: cancelling releases
its undelivered days, to the school's figures and to the quadrant team's capacity.

An academy conversion moves the remaining days to the academy's record on its date: each move is
a `DaysTransfer` row on both records (less on the maintained school's, more on the academy's,
with its reason), added to the core or order line figures and listed as the ledger's transfers;
a traded line moved to the academy appears in its ledger for the days moved. A year's close
(days/year_close) adds carried-over and lapsed days the same way, into the next year too.

Everything is computed from the rows (allocations, order lines, visits, transfers), never
stored, so the identity holds by construction; the visits service refuses any booking or delivery that would
make `not yet booked` or `remaining` negative.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.sql.selectable import Subquery

from traded_app.extensions import db
from traded_app.models import (
    CoreAllocation,
    DaysTransferKind,
    Order,
    OrderLine,
    OrderStatus,
    School,
    Service,
    Visit,
    VisitStatus,
)
from traded_app.models.orders import PENDING_STATUSES, SOLD_STATUSES
from traded_app.services.days import partnership_days
from traded_app.services.days import transfers as days_transfers

# Orders whose lines appear in the ledger: sold ones in full, cancelled ones for their used days.
LEDGER_STATUSES = SOLD_STATUSES | {OrderStatus.CANCELLED}
# Orders a visit may still be booked against.
BOOKABLE_STATUSES = frozenset({OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS})


@dataclass(frozen=True)
class Figures:
    """Half-days of one ledger line (or a sum of lines)."""

    allocated: int = 0  # allocated (core) or purchased (traded)
    scheduled: int = 0
    delivered: int = 0
    charged: int = 0  # late cancellations by the school, charged under the notice policy

    @property
    def used(self) -> int:
        return self.delivered + self.charged

    @property
    def remaining(self) -> int:
        return self.allocated - self.used

    @property
    def not_yet_booked(self) -> int:
        return self.remaining - self.scheduled

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.allocated + other.allocated,
            self.scheduled + other.scheduled,
            self.delivered + other.delivered,
            self.charged + other.charged,
        )

    @property
    def used_percent(self) -> int:
        """Share used, 0–100, for the bars (whole numbers, no floats)."""
        return min(100, self.used * 100 // self.allocated) if self.allocated else 0

    @property
    def scheduled_percent(self) -> int:
        if not self.allocated:
            return 0
        return min(100 - self.used_percent, self.scheduled * 100 // self.allocated)


@dataclass(frozen=True)
class OrderLineFigures:
    order_line_id: int
    order_id: int
    order_status: OrderStatus
    service_id: int
    service_name: str
    bought: int  # the line's days as ordered
    figures: Figures

    @property
    def order_reference(self) -> str:
        return f"ORD-{self.order_id:06d}"


@dataclass(frozen=True)
class ServiceLine:
    service_id: int
    service_name: str
    figures: Figures
    order_lines: list[OrderLineFigures]


@dataclass(frozen=True)
class Transfer:
    """Days moved to or from this record: a conversion, or a year's end (negative: moved away)."""

    what: str  # "Core" or the service's name
    half_days: int
    reason: str
    kind: DaysTransferKind = DaysTransferKind.CONVERSION


@dataclass(frozen=True)
class Ledger:
    """A school's days for one academic year."""

    school_id: int
    academic_year_id: int
    core: Figures
    services: list[ServiceLine] = field(default_factory=list)
    pending_half_days: int = 0
    transfers: list[Transfer] = field(default_factory=list)
    # Days the school's partnership bought together (not in the school's own totals).
    partnership: list[partnership_days.PartnershipDays] = field(default_factory=list)

    @property
    def traded(self) -> Figures:
        total = Figures()
        for line in self.services:
            total = total + line.figures
        return total

    @property
    def total(self) -> Figures:
        return self.core + self.traded

    def order_line(self, order_line_id: int) -> OrderLineFigures | None:
        for line in self.services:
            for order_line in line.order_lines:
                if order_line.order_line_id == order_line_id:
                    return order_line
        return None


def visit_sums(*group_by: Any) -> list[Any]:
    uses = or_(Visit.status == VisitStatus.DELIVERED, Visit.chargeable.is_(True))
    return [
        *group_by,
        func.coalesce(
            func.sum(case((Visit.status == VisitStatus.SCHEDULED, Visit.half_days), else_=0)), 0
        ).label("scheduled"),
        func.coalesce(
            func.sum(case((Visit.status == VisitStatus.DELIVERED, Visit.half_days), else_=0)), 0
        ).label("delivered"),
        func.coalesce(
            func.sum(
                case((and_(uses, Visit.status != VisitStatus.DELIVERED), Visit.half_days), else_=0)
            ),
            0,
        ).label("charged"),
    ]


visit_sums = visit_sums  # the year's close sums visits the same way


def _service_lines(
    line_rows: Any, by_line: dict[Any, tuple[int, int, int]], moved: dict[Any, int], school_id: int
) -> list[ServiceLine]:
    """The ledger's traded lines, by service: each order line's figures, with the days moved to
    or from it on an academy conversion (a line moved here counts only the days moved)."""
    grouped: dict[int, list[OrderLineFigures]] = defaultdict(list)
    names: dict[int, str] = {}
    for row in line_rows:
        line_id, order_id, status, service_id, service_name, half_days, owner, this_year = row
        scheduled, delivered, charged = by_line.get(line_id, (0, 0, 0))
        # A line of an earlier year is here only for the days carried over into this one.
        own = owner == school_id and bool(this_year)
        bought = int(half_days) if own else 0
        allocated = bought if status in SOLD_STATUSES else delivered + charged
        if status in SOLD_STATUSES or not own:
            allocated = bought + moved.get(line_id, 0)
        grouped[service_id].append(
            OrderLineFigures(
                order_line_id=line_id,
                order_id=order_id,
                order_status=status,
                service_id=service_id,
                service_name=service_name,
                bought=bought,
                figures=Figures(allocated, scheduled, delivered, charged),
            )
        )
        names[service_id] = service_name
    services = []
    for service_id, order_lines in grouped.items():
        figures = Figures()
        for order_line in order_lines:
            figures = figures + order_line.figures
        services.append(ServiceLine(service_id, names[service_id], figures, order_lines))
    services.sort(key=lambda s: s.service_name)
    return services


def school_ledger(school_id: int, year_id: int) -> Ledger:
    """The ledger of one school and academic year, in five queries whatever its size."""
    core_total = db.session.execute(
        select(func.coalesce(func.sum(CoreAllocation.half_days), 0)).where(
            CoreAllocation.school_id == school_id, CoreAllocation.academic_year_id == year_id
        )
    ).scalar_one()
    transfers = days_transfers.of_school(school_id, year_id)
    moved: dict[int | None, int] = defaultdict(int)
    for line_id, half_days, _reason, _what, _kind in transfers:
        moved[line_id] += half_days
    of_school = and_(Order.school_id == school_id, Order.academic_year_id == year_id)
    moved_in = [line_id for line_id in moved if line_id is not None]
    line_rows = db.session.execute(
        select(
            OrderLine.id,
            Order.id,
            Order.status,
            OrderLine.service_id,
            Service.name,
            OrderLine.half_days,
            Order.school_id,
            Order.academic_year_id == year_id,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .join(Service, Service.id == OrderLine.service_id)
        .where(
            or_(of_school, OrderLine.id.in_(moved_in)) if moved_in else of_school,
            Order.status.in_(LEDGER_STATUSES),
        )
        .order_by(Service.name, Order.id)
    ).all()
    visit_rows = db.session.execute(
        select(*visit_sums(Visit.order_line_id))
        .where(Visit.school_id == school_id, Visit.academic_year_id == year_id)
        .group_by(Visit.order_line_id)
    ).all()
    pending = db.session.execute(
        select(func.coalesce(func.sum(Order.half_days), 0)).where(
            Order.school_id == school_id,
            Order.academic_year_id == year_id,
            Order.status.in_(PENDING_STATUSES),
        )
    ).scalar_one()

    by_line = {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in visit_rows}
    core_visits = by_line.get(None, (0, 0, 0))
    core = Figures(int(core_total) + moved.get(None, 0), *core_visits)

    services = _service_lines(line_rows, by_line, moved, school_id)
    return Ledger(
        school_id,
        year_id,
        core,
        services,
        int(pending or 0),
        [Transfer(w, half_days, r, k) for _line, half_days, r, w, k in transfers],
        partnership_days.of_school(school_id, year_id),
    )


def order_used_half_days(order_id: int) -> int:
    """Days of an order already used (delivered, or charged late cancellations)."""
    uses = or_(Visit.status == VisitStatus.DELIVERED, Visit.chargeable.is_(True))
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(Visit.half_days), 0))
            .join(OrderLine, OrderLine.id == Visit.order_line_id)
            .where(OrderLine.order_id == order_id, uses)
        ).scalar_one()
    )


def undelivered_by_line(order: Order) -> dict[int, int]:
    """For each line of `order`, the half-days not used: what a cancellation releases (and what
    a credit note for a cancelled order would cover)."""
    uses = or_(Visit.status == VisitStatus.DELIVERED, Visit.chargeable.is_(True))
    used = dict(
        db.session.execute(
            select(Visit.order_line_id, func.sum(Visit.half_days))
            .join(OrderLine, OrderLine.id == Visit.order_line_id)
            .where(OrderLine.order_id == order.id, uses)
            .group_by(Visit.order_line_id)
        )
        .tuples()
        .all()
    )
    return {line.id: line.half_days - int(used.get(line.id) or 0) for line in order.lines}


def cancelled_orders_used_half_days(quadrant_id: int, year_id: int) -> int:
    """Days used on a quadrant team's cancelled orders: still sold, so still using capacity."""
    uses = or_(Visit.status == VisitStatus.DELIVERED, Visit.chargeable.is_(True))
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(Visit.half_days), 0))
            .join(OrderLine, OrderLine.id == Visit.order_line_id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(
                Order.quadrant_id == quadrant_id,
                Order.academic_year_id == year_id,
                Order.status == OrderStatus.CANCELLED,
                uses,
            )
        ).scalar_one()
    )


def school_figures_subquery(year_id: int) -> Subquery:
    """Per school: core, purchased (both with days moved in or out), scheduled, delivered and
    charged half-days for the year, as one subquery that the council's overview joins to schools,
    so a page of any number of schools costs the same few queries."""
    core = (
        select(
            CoreAllocation.school_id.label("school_id"),
            func.sum(CoreAllocation.half_days).label("core"),
        )
        .where(CoreAllocation.academic_year_id == year_id)
        .group_by(CoreAllocation.school_id)
        .subquery("core")
    )
    sold = (
        select(Order.school_id.label("school_id"), func.sum(Order.half_days).label("sold"))
        .where(Order.academic_year_id == year_id, Order.status.in_(SOLD_STATUSES))
        .group_by(Order.school_id)
        .subquery("sold")
    )
    uses = or_(Visit.status == VisitStatus.DELIVERED, Visit.chargeable.is_(True))
    visits = (
        select(
            *visit_sums(Visit.school_id.label("school_id")),
            func.coalesce(
                func.sum(
                    case(
                        (and_(uses, Order.status == OrderStatus.CANCELLED), Visit.half_days),
                        else_=0,
                    )
                ),
                0,
            ).label("used_cancelled"),
        )
        .outerjoin(OrderLine, OrderLine.id == Visit.order_line_id)
        .outerjoin(Order, Order.id == OrderLine.order_id)
        .where(Visit.academic_year_id == year_id)
        .group_by(Visit.school_id)
        .subquery("visits")
    )
    moved = days_transfers.moved_subquery(year_id)
    core_days = func.coalesce(core.c.core, 0) + func.coalesce(moved.c.core, 0)
    purchased = (
        func.coalesce(sold.c.sold, 0)
        + func.coalesce(visits.c.used_cancelled, 0)
        + func.coalesce(moved.c.traded, 0)
    )
    delivered = func.coalesce(visits.c.delivered, 0)
    charged = func.coalesce(visits.c.charged, 0)
    scheduled = func.coalesce(visits.c.scheduled, 0)
    stmt: Select[tuple[int, int, int, int, int, int]] = (
        select(
            School.id.label("school_id"),
            core_days.label("core"),
            purchased.label("purchased"),
            scheduled.label("scheduled"),
            delivered.label("delivered"),
            charged.label("charged"),
        )
        .outerjoin(core, core.c.school_id == School.id)
        .outerjoin(sold, sold.c.school_id == School.id)
        .outerjoin(visits, visits.c.school_id == School.id)
        .outerjoin(moved, moved.c.school_id == School.id)
    )
    return stmt.subquery("figures")
