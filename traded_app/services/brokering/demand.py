"""Demand for school-to-school support, for the service manager: requests, matches, engagements
and delivered days by area and by the buying school's quadrant, month by month, and what
schools asked for that no school offers. Counted in SQL from the records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import (
    Engagement,
    EngagementDelivery,
    EngagementStatus,
    OfferStatus,
    Quadrant,
    RequestStatus,
    School,
    SupportArea,
    SupportOffer,
    SupportRequest,
)

AGREED = (EngagementStatus.ACCEPTED, EngagementStatus.COMPLETED)
OPEN = (RequestStatus.OPEN, RequestStatus.SHORTLIST_SENT)


@dataclass
class DemandRow:
    name: str
    offers: int = 0  # listed and not ended
    requests: int = 0  # made in the period
    open_requests: int = 0  # with the council or being compared, now
    engagements: int = 0  # agreed in the period
    delivered_half_days: int = 0  # confirmed by the buyer in the period


@dataclass(frozen=True)
class Demand:
    since: date
    by_area: list[DemandRow]
    by_quadrant: list[DemandRow]
    by_month: list[DemandRow]
    unmet: list[DemandRow]  # areas asked for with no school offering them


def _start(on: date) -> datetime:
    return datetime(on.year, on.month, on.day, tzinfo=UTC)


def months_back(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def _months(since: date, today: date) -> dict[str, DemandRow]:
    """A row for each month from `since` to `today`, keyed "2026-11"."""
    rows: dict[str, DemandRow] = {}
    index = since.year * 12 + since.month - 1
    while index <= today.year * 12 + today.month - 1:
        key = f"{index // 12}-{index % 12 + 1:02d}"
        rows[key] = DemandRow(date(index // 12, index % 12 + 1, 1).strftime("%B %Y"))
        index += 1
    return rows


def demand(today: date, months: int = 12) -> Demand:
    since = months_back(today, months)
    start = _start(since)
    areas = {
        a.id: DemandRow(a.name)
        for a in db.session.execute(
            select(SupportArea).order_by(SupportArea.position, SupportArea.name)
        ).scalars()
    }
    quadrants: dict[int | None, DemandRow] = {
        q.id: DemandRow(q.name)
        for q in db.session.execute(select(Quadrant).order_by(Quadrant.name)).scalars()
    }
    quadrants[None] = DemandRow("No quadrant")
    month_rows = _months(since, today)

    for area_id, count in db.session.execute(
        select(SupportOffer.area_id, func.count())
        .where(SupportOffer.status == OfferStatus.LISTED, SupportOffer.ends_on >= today)
        .group_by(SupportOffer.area_id)
    ).tuples():
        areas[area_id].offers = count

    for area_id, quadrant_id, status, created_at in db.session.execute(
        select(
            SupportRequest.area_id,
            School.quadrant_id,
            SupportRequest.status,
            SupportRequest.created_at,
        ).join(School, School.id == SupportRequest.school_id)
    ).tuples():
        rows = [areas[area_id], quadrants.get(quadrant_id, quadrants[None])]
        if status in OPEN:
            for row in rows:
                row.open_requests += 1
        if created_at >= start:
            for row in rows:
                row.requests += 1
            month = month_rows.get(f"{created_at.year}-{created_at.month:02d}")
            if month is not None:
                month.requests += 1

    for area_id, quadrant_id, answered_at in db.session.execute(
        select(SupportOffer.area_id, School.quadrant_id, Engagement.answered_at)
        .join(SupportOffer, SupportOffer.id == Engagement.offer_id)
        .join(School, School.id == Engagement.buyer_school_id)
        .where(Engagement.status.in_(AGREED), Engagement.answered_at >= start)
    ).tuples():
        for row in (areas[area_id], quadrants.get(quadrant_id, quadrants[None])):
            row.engagements += 1
        if answered_at is None:
            continue
        month = month_rows.get(f"{answered_at.year}-{answered_at.month:02d}")
        if month is not None:
            month.engagements += 1

    for area_id, quadrant_id, confirmed_at, half_days in db.session.execute(
        select(
            SupportOffer.area_id,
            School.quadrant_id,
            EngagementDelivery.confirmed_at,
            EngagementDelivery.half_days,
        )
        .join(Engagement, Engagement.id == EngagementDelivery.engagement_id)
        .join(SupportOffer, SupportOffer.id == Engagement.offer_id)
        .join(School, School.id == Engagement.buyer_school_id)
        .where(EngagementDelivery.confirmed_at >= start)
    ).tuples():
        for row in (areas[area_id], quadrants.get(quadrant_id, quadrants[None])):
            row.delivered_half_days += half_days
        if confirmed_at is None:
            continue
        month = month_rows.get(f"{confirmed_at.year}-{confirmed_at.month:02d}")
        if month is not None:
            month.delivered_half_days += half_days

    return _result(since, areas, quadrants, month_rows)


def _result(
    since: date,
    areas: dict[int, DemandRow],
    quadrants: dict[int | None, DemandRow],
    month_rows: dict[str, DemandRow],
) -> Demand:
    by_area = list(areas.values())
    return Demand(
        since=since,
        by_area=by_area,
        by_quadrant=[
            q
            for q in quadrants.values()
            if q.requests or q.open_requests or q.name != "No quadrant"
        ],
        by_month=list(month_rows.values()),
        unmet=[a for a in by_area if (a.requests or a.open_requests) and not a.offers],
    )
