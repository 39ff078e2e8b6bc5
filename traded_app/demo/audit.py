"""The demo's audit trail: its history written as the audit trail would have recorded it.

`seed-demo` loads its data with the audit trail paused (a bulk load by "System" would bury the
story), then this writes one audit row per step of the demo's history, with the person and time
of each: orders' status changes from their order history, visits booked, delivered and
cancelled, allocation changes, documents issued, the council's settings and accounts set up,
and prices set ahead for next year by the service manager. Idempotent: a row already written
(same record, action and time) is not written again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import (
    AllocationChange,
    AuditEvent,
    CoreAllocation,
    CouncilSettings,
    Document,
    Order,
    OrderEvent,
    ServicePrice,
    User,
    Visit,
)
from traded_app.models.types import Role
from traded_app.services.platform import audit
from traded_app.services.platform.settings import academic_start_year, today

SOURCE = "seed-demo"


def _actor(user: User | None) -> audit.Actor:
    return audit.actor_for(user) if user is not None else audit.SYSTEM


def load_history() -> int:
    """Write the demo's history into the audit trail; returns how many rows were added."""
    existing = {
        (e, i, a, at.replace(microsecond=0) if at else None)
        for e, i, a, at in db.session.execute(
            select(AuditEvent.entity, AuditEvent.entity_id, AuditEvent.action, AuditEvent.at)
        ).tuples()
    }
    users = {u.id: u for u in db.session.execute(select(User)).scalars()}
    admin = next((u for u in users.values() if u.role == Role.LA_ADMIN), None)
    entries: list[audit.Entry] = []
    settings = db.session.get(CouncilSettings, 1)
    earliest = _earliest()
    if settings is not None:
        entries.append(
            audit.Entry(
                "council_settings",
                "1",
                settings.name,
                "created",
                {
                    "name": (None, settings.name),
                    "la_code": (None, settings.la_code),
                    "payment_terms_days": (None, settings.payment_terms_days),
                    "cancellation_notice_days": (None, settings.cancellation_notice_days),
                },
                earliest,
                _actor(admin),
            )
        )
    for user in users.values():
        entries.append(
            audit.Entry(
                "user_account",
                str(user.id),
                f"{user.name} <{user.email}>",
                "created",
                {"role": (None, user.role.value), "active": (None, user.active)},
                user.created_at,
                _actor(admin),
            )
        )
    entries += _orders(users)
    entries += _visits(users)
    entries += _allocations(users)
    entries += _documents(users)
    entries += _prices_ahead(admin)
    fresh = [
        e
        for e in entries
        if (e.entity, e.entity_id, e.action, e.at.replace(microsecond=0) if e.at else None)
        not in existing
    ]
    return audit.record_many(fresh, source=SOURCE)


def _earliest() -> datetime:
    first = db.session.execute(select(OrderEvent.at).order_by(OrderEvent.at).limit(1)).scalar()
    return (first or datetime.now().astimezone()) - timedelta(days=1)


def _orders(users: dict[int, User]) -> list[audit.Entry]:
    refs = {o.id: o.reference for o in db.session.execute(select(Order)).scalars()}
    entries = []
    for event in db.session.execute(select(OrderEvent).order_by(OrderEvent.id)).scalars():
        changes: dict[str, Any] = {"status": (event.from_status, event.to_status)}
        if event.note:
            changes["note"] = (None, event.note)
        entries.append(
            audit.Entry(
                "school_order",
                str(event.order_id),
                refs.get(event.order_id, ""),
                "created" if event.from_status is None else "updated",
                changes,
                event.at,
                _actor(users.get(event.user_id) if event.user_id else None),
            )
        )
    return entries


def _visits(users: dict[int, User]) -> list[audit.Entry]:
    entries = []
    for visit in db.session.execute(select(Visit).order_by(Visit.id)).scalars():
        ref = visit.reference
        entries.append(
            audit.Entry(
                "visit",
                str(visit.id),
                ref,
                "created",
                {
                    "visit_date": (None, visit.visit_date),
                    "half_days": (None, visit.half_days),
                    "purpose": (None, visit.purpose),
                    "status": (None, "scheduled"),
                },
                visit.created_at,
                _actor(users.get(visit.scheduled_by_id)),
            )
        )
        if visit.delivered_at is not None:
            entries.append(
                audit.Entry(
                    "visit",
                    str(visit.id),
                    ref,
                    "updated",
                    {
                        "status": ("scheduled", "delivered"),
                        "delivery_note": ("", visit.delivery_note),
                    },
                    visit.delivered_at,
                    _actor(users.get(visit.delivered_by_id or 0)),
                )
            )
        if visit.cancelled_at is not None:
            entries.append(
                audit.Entry(
                    "visit",
                    str(visit.id),
                    ref,
                    "updated",
                    {
                        "status": ("scheduled", "cancelled"),
                        "cancellation_reason": ("", visit.cancellation_reason),
                        "chargeable": (False, visit.chargeable),
                    },
                    visit.cancelled_at,
                    _actor(users.get(visit.cancelled_by_id or 0)),
                )
            )
    return entries


def _allocations(users: dict[int, User]) -> list[audit.Entry]:
    ids = {
        (a.school_id, a.academic_year_id, a.reason): a.id
        for a in db.session.execute(select(CoreAllocation)).scalars()
    }
    entries = []
    for change in db.session.execute(
        select(AllocationChange)
        .where(AllocationChange.user_id.is_not(None))  # the adjustments; generated ones are many
        .order_by(AllocationChange.id)
    ).scalars():
        key = (change.school_id, change.academic_year_id, change.reason)
        entries.append(
            audit.Entry(
                "core_allocation",
                str(ids.get(key, f"{change.school_id}")),
                f"{change.school.name} ({change.school.urn}) {change.academic_year.label}: "
                f"{change.reason.value}",
                "updated",
                {
                    "half_days": (change.from_half_days, change.to_half_days),
                    "note": ("", change.note),
                },
                change.at,
                _actor(users.get(change.user_id or 0)),
            )
        )
    return entries


def _documents(users: dict[int, User]) -> list[audit.Entry]:
    return [
        audit.Entry(
            "document",
            str(d.id),
            d.number,
            "created",
            {
                "document_type": (None, d.document_type.value),
                "number": (None, d.number),
                "gross_pence": (None, d.gross_pence),
                "order_reference": (None, d.order_reference),
            },
            d.issued_at,
            _actor(users.get(d.issued_by_id or 0)),
        )
        for d in db.session.execute(select(Document).order_by(Document.id)).scalars()
    ]


def _prices_ahead(admin: User | None) -> list[audit.Entry]:
    """Next year's prices, set ahead by the service manager."""
    next_start = academic_start_year(today()) + 1
    rows = db.session.execute(select(ServicePrice).order_by(ServicePrice.id)).scalars()
    at = _earliest() + timedelta(hours=2)
    return [
        audit.Entry(
            "service_price",
            str(p.id),
            f"{p.service.code} {p.academic_year.label}",
            "created",
            {"price_per_day_pence": (None, p.price_per_day_pence)},
            at,
            _actor(admin),
        )
        for p in rows
        if p.academic_year.start_year == next_start
    ]
