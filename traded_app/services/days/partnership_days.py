"""Partnership days: the days a partnership bought together, in each member's days ledger.

A confirmed partnership order's days belong to the partnership as a whole, not to any one
member, so each member's ledger lists them apart from its own traded lines, as "partnership
days" (per service, with the order and the member's share of the cost), and they are not added
to the school's own totals: counted in every member's totals, one bought day would look like
several. The days of confirmed partnership orders count against their quadrant team's traded
capacity, like any sold order's; a cancelled order's days used before it was cancelled still do.

Visits against a line (days/partnership_visits) draw its days once, whatever the number of
schools visited: a line's figures (booked, delivered, left) come from its shared visits'
lengths, never from the schools' own visit rows (which carry 0 half-days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import Partnership, Service, SharedVisit, Visit, VisitStatus
from traded_app.models.partnership_orders import (
    PartnershipOrder,
    PartnershipOrderLine,
    PartnershipOrderStatus,
    PartnershipShare,
    PartnershipShareLine,
)

SOLD = PartnershipOrderStatus.CONFIRMED


@dataclass(frozen=True)
class LineUse:
    """Half-days of a partnership order line's visits, each visit counted once."""

    scheduled: int = 0
    delivered: int = 0
    charged: int = 0  # cancelled late by a school, charged under the notice policy

    @property
    def used(self) -> int:
        return self.delivered + self.charged


def use_by_line(line_ids: list[int]) -> dict[int, LineUse]:
    """Each line's booked, delivered and charged half-days (lines without visits are absent)."""
    if not line_ids:
        return {}
    rows = db.session.execute(
        select(
            SharedVisit.id,
            SharedVisit.partnership_order_line_id,
            SharedVisit.half_days,
            Visit.status,
            Visit.chargeable,
        )
        .join(Visit, Visit.shared_visit_id == SharedVisit.id)
        .where(SharedVisit.partnership_order_line_id.in_(line_ids))
        .order_by(SharedVisit.id, Visit.id)
    ).tuples()
    sums: dict[int, list[int]] = {}
    seen: set[int] = set()
    for shared_id, line_id, half_days, status, chargeable in rows:
        if shared_id in seen or line_id is None:
            continue  # its schools' rows move together: the first one speaks for the visit
        seen.add(shared_id)
        figures = sums.setdefault(line_id, [0, 0, 0])
        if status == VisitStatus.SCHEDULED:
            figures[0] += half_days
        elif status == VisitStatus.DELIVERED:
            figures[1] += half_days
        elif chargeable:
            figures[2] += half_days
    return {line_id: LineUse(*figures) for line_id, figures in sums.items()}


@dataclass(frozen=True)
class PartnershipDays:
    """One line of a confirmed partnership order, as a member's ledger shows it (half-days)."""

    order_id: int
    partnership_name: str
    service_name: str
    half_days: int  # bought by the partnership for all its members
    share_pence: int  # this member's part of the line's cost before VAT
    line_id: int = 0
    use: LineUse = LineUse()

    @property
    def order_reference(self) -> str:
        return f"PTN-{self.order_id:06d}"

    @property
    def booked(self) -> int:
        """Booked and not yet delivered."""
        return self.use.scheduled

    @property
    def delivered(self) -> int:
        return self.use.used

    @property
    def left(self) -> int:
        """Neither used nor booked: what visits can still be booked for."""
        return self.half_days - self.use.used - self.use.scheduled


def of_school(school_id: int, year_id: int) -> list[PartnershipDays]:
    """The partnership days `school_id` shares in `year_id`, by order then service."""
    rows = db.session.execute(
        select(
            PartnershipOrder.id,
            Partnership.name,
            Service.name,
            PartnershipOrderLine.half_days,
            PartnershipShareLine.net_pence,
            PartnershipOrderLine.id,
        )
        .join(PartnershipShare, PartnershipShare.order_id == PartnershipOrder.id)
        .join(PartnershipShareLine, PartnershipShareLine.share_id == PartnershipShare.id)
        .join(PartnershipOrderLine, PartnershipOrderLine.id == PartnershipShareLine.order_line_id)
        .join(Service, Service.id == PartnershipOrderLine.service_id)
        .join(Partnership, Partnership.id == PartnershipOrder.partnership_id)
        .where(
            PartnershipShare.school_id == school_id,
            PartnershipOrder.academic_year_id == year_id,
            PartnershipOrder.status == SOLD,
        )
        .order_by(PartnershipOrder.id, PartnershipOrderLine.position)
    ).all()
    uses = use_by_line([int(row[5]) for row in rows])
    return [
        PartnershipDays(
            order_id,
            partnership,
            service,
            int(half_days),
            int(pence),
            line_id,
            uses.get(line_id, LineUse()),
        )
        for order_id, partnership, service, half_days, pence, line_id in rows
    ]


def used_on_cancelled(year_id: int) -> dict[int, int]:
    """Half-days used (delivered or charged) on each quadrant's cancelled partnership orders in
    `year_id`: sold and used, so still using the team's capacity."""
    lines = dict(
        db.session.execute(
            select(PartnershipOrderLine.id, PartnershipOrder.quadrant_id)
            .join(PartnershipOrder, PartnershipOrder.id == PartnershipOrderLine.order_id)
            .where(
                PartnershipOrder.academic_year_id == year_id,
                PartnershipOrder.status == PartnershipOrderStatus.CANCELLED,
            )
        )
        .tuples()
        .all()
    )
    used: dict[int, int] = {}
    for line_id, use in use_by_line(list(lines)).items():
        quadrant_id = int(lines[line_id])
        used[quadrant_id] = used.get(quadrant_id, 0) + use.used
    return used


def sold_half_days(quadrant_id: int, year_id: int) -> int:
    """Half-days of the quadrant team's capacity that confirmed partnership orders use (and
    the days used on cancelled ones)."""
    return used_on_cancelled(year_id).get(quadrant_id, 0) + int(
        db.session.execute(
            select(func.coalesce(func.sum(PartnershipOrder.half_days), 0)).where(
                PartnershipOrder.quadrant_id == quadrant_id,
                PartnershipOrder.academic_year_id == year_id,
                PartnershipOrder.status == SOLD,
            )
        ).scalar_one()
    )


def sold_by_quadrant(year_id: int) -> dict[int, int]:
    """Half-days confirmed partnership orders use of each quadrant team's capacity in
    `year_id` (a cancelled order's days are free again, but for the days used before it was
    cancelled)."""
    sold = used_on_cancelled(year_id)
    for quadrant_id, half_days in db.session.execute(
        select(PartnershipOrder.quadrant_id, func.sum(PartnershipOrder.half_days))
        .where(PartnershipOrder.academic_year_id == year_id, PartnershipOrder.status == SOLD)
        .group_by(PartnershipOrder.quadrant_id)
    ).tuples():
        sold[int(quadrant_id)] = sold.get(int(quadrant_id), 0) + int(half_days)
    return sold


def adviser_half_days(adviser_id: int, on: date) -> int:
    """The adviser's half-days on a date in visits against partnership orders not cancelled,
    each visit's length once."""
    open_row = (
        select(Visit.id)
        .where(Visit.shared_visit_id == SharedVisit.id, Visit.status != VisitStatus.CANCELLED)
        .exists()
    )
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(SharedVisit.half_days), 0)).where(
                SharedVisit.adviser_id == adviser_id,
                SharedVisit.visit_date == on,
                SharedVisit.partnership_order_line_id.is_not(None),
                open_row,
            )
        ).scalar_one()
    )


def label_of(visit: Visit) -> str:
    """What a school's part of a visit against a partnership order was against."""
    line = visit.shared_visit.partnership_order_line if visit.shared_visit else None
    if line is None:
        return "Partnership days"
    return f"{line.service.name} (partnership order PTN-{line.order_id:06d})"
