"""A school's days for an academic year: what it is entitled to, has bought, and has left.

Until visits are recorded nothing has been delivered, so what is left is the core allocation
plus the days bought. The days-ledger issue extends this with scheduled and delivered visits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import AcademicYear, CoreAllocation, Order, School
from traded_app.models.orders import PENDING_STATUSES, SOLD_STATUSES


@dataclass(frozen=True)
class YearPosition:
    """Half-days for one school and academic year."""

    core_half_days: int
    purchased_half_days: int  # confirmed orders (and those not yet cancelled)
    pending_half_days: int  # submitted orders the headteacher or council has not decided
    delivered_half_days: int = 0

    @property
    def remaining_half_days(self) -> int:
        return self.core_half_days + self.purchased_half_days - self.delivered_half_days

    def remaining_after(self, ordering_half_days: int) -> int:
        """Days left this year if pending orders and `ordering_half_days` are confirmed."""
        return self.remaining_half_days + self.pending_half_days + ordering_half_days


def year_position(school: School, year: AcademicYear) -> YearPosition:
    core = db.session.execute(
        select(func.coalesce(func.sum(CoreAllocation.half_days), 0)).where(
            CoreAllocation.school_id == school.id, CoreAllocation.academic_year_id == year.id
        )
    ).scalar_one()
    by_status = dict(
        db.session.execute(
            select(Order.status, func.coalesce(func.sum(Order.half_days), 0))
            .where(Order.school_id == school.id, Order.academic_year_id == year.id)
            .group_by(Order.status)
        )
        .tuples()
        .all()
    )
    return YearPosition(
        core_half_days=int(core),
        purchased_half_days=sum(int(by_status.get(s) or 0) for s in SOLD_STATUSES),
        pending_half_days=sum(int(by_status.get(s) or 0) for s in PENDING_STATUSES),
    )
