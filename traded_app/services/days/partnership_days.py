"""Partnership days: the days a partnership bought together, in each member's days ledger.

A confirmed partnership order's days belong to the partnership as a whole, not to any one
member, so each member's ledger lists them apart from its own traded lines, as "partnership
days" (per service, with the order and the member's share of the cost), and they are not added
to the school's own totals: counted in every member's totals, one bought day would look like
several. The days of confirmed partnership orders count against their quadrant team's traded
capacity, like any sold order's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import Partnership, Service
from traded_app.models.partnership_orders import (
    PartnershipOrder,
    PartnershipOrderLine,
    PartnershipOrderStatus,
    PartnershipShare,
    PartnershipShareLine,
)

SOLD = PartnershipOrderStatus.CONFIRMED


@dataclass(frozen=True)
class PartnershipDays:
    """One line of a confirmed partnership order, as a member's ledger shows it (half-days)."""

    order_id: int
    partnership_name: str
    service_name: str
    half_days: int  # bought by the partnership for all its members
    share_pence: int  # this member's part of the line's cost before VAT

    @property
    def order_reference(self) -> str:
        return f"PTN-{self.order_id:06d}"


def of_school(school_id: int, year_id: int) -> list[PartnershipDays]:
    """The partnership days `school_id` shares in `year_id`, by order then service."""
    rows = db.session.execute(
        select(
            PartnershipOrder.id,
            Partnership.name,
            Service.name,
            PartnershipOrderLine.half_days,
            PartnershipShareLine.net_pence,
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
    ).tuples()
    return [PartnershipDays(*row) for row in rows]


def sold_half_days(quadrant_id: int, year_id: int) -> int:
    """Half-days of the quadrant team's capacity that confirmed partnership orders use."""
    return int(
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
    `year_id` (a cancelled order's days are free again: none of them was delivered)."""
    return {
        int(quadrant_id): int(half_days)
        for quadrant_id, half_days in db.session.execute(
            select(PartnershipOrder.quadrant_id, func.sum(PartnershipOrder.half_days))
            .where(PartnershipOrder.academic_year_id == year_id, PartnershipOrder.status == SOLD)
            .group_by(PartnershipOrder.quadrant_id)
        ).tuples()
    }
