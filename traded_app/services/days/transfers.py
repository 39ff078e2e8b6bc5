"""Days moved in the days ledger, as it reads them: between records on an academy conversion,
and out of a closed year (carried over into the next, or lapsed)."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.sql.selectable import Subquery

from traded_app.extensions import db
from traded_app.models import DaysTransfer, DaysTransferKind, OrderLine, Service


def of_school(
    school_id: int, year_id: int
) -> list[tuple[int | None, int, str, str, DaysTransferKind]]:
    """The days moved to or from the school in the year: (order line, half-days, reason, what,
    kind)."""
    rows = db.session.execute(
        select(
            DaysTransfer.order_line_id,
            DaysTransfer.half_days,
            DaysTransfer.reason,
            Service.name,
            DaysTransfer.kind,
        )
        .outerjoin(OrderLine, OrderLine.id == DaysTransfer.order_line_id)
        .outerjoin(Service, Service.id == OrderLine.service_id)
        .where(DaysTransfer.school_id == school_id, DaysTransfer.academic_year_id == year_id)
        .order_by(DaysTransfer.id)
    ).tuples()
    return [
        (line, int(half_days), reason, name or "Core", kind)
        for line, half_days, reason, name, kind in rows
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


def carried_into(order_line_id: int, school_id: int, year_id: int) -> bool:
    """Were days of this (earlier year's) order line carried over into this year for the school?"""
    return (
        db.session.execute(
            select(DaysTransfer.id).where(
                DaysTransfer.order_line_id == order_line_id,
                DaysTransfer.school_id == school_id,
                DaysTransfer.academic_year_id == year_id,
                DaysTransfer.kind == DaysTransferKind.CARRY_OVER,
                DaysTransfer.half_days > 0,
            )
        ).first()
        is not None
    )


def moved_subquery(year_id: int) -> Subquery:
    """Per school, the core and traded half-days moved in or out in the year (conversions;
    carried over or lapsed at a year's end): school_id, core, traded."""
    return (
        select(
            DaysTransfer.school_id.label("school_id"),
            func.sum(
                case((DaysTransfer.order_line_id.is_(None), DaysTransfer.half_days), else_=0)
            ).label("core"),
            func.sum(
                case((DaysTransfer.order_line_id.is_not(None), DaysTransfer.half_days), else_=0)
            ).label("traded"),
        )
        .where(DaysTransfer.academic_year_id == year_id)
        .group_by(DaysTransfer.school_id)
        .subquery("moved")
    )
