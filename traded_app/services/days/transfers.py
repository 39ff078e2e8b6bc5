"""Days moved between records on an academy conversion, as the days ledger reads them."""

from __future__ import annotations

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import DaysTransfer, OrderLine, Service


def of_school(school_id: int, year_id: int) -> list[tuple[int | None, int, str, str]]:
    """The days moved to or from the school in the year: (order line, half-days, reason, what)."""
    rows = db.session.execute(
        select(
            DaysTransfer.order_line_id, DaysTransfer.half_days, DaysTransfer.reason, Service.name
        )
        .outerjoin(OrderLine, OrderLine.id == DaysTransfer.order_line_id)
        .outerjoin(Service, Service.id == OrderLine.service_id)
        .where(DaysTransfer.school_id == school_id, DaysTransfer.academic_year_id == year_id)
        .order_by(DaysTransfer.id)
    ).tuples()
    return [
        (line, int(half_days), reason, name or "Core") for line, half_days, reason, name in rows
    ]


def transferred_to(order_line_id: int, school_id: int) -> bool:
    """Were days of this order line moved to this school (an academy conversion)?"""
    return (
        db.session.execute(
            select(DaysTransfer.id).where(
                DaysTransfer.order_line_id == order_line_id,
                DaysTransfer.school_id == school_id,
                DaysTransfer.half_days > 0,
            )
        ).first()
        is not None
    )
