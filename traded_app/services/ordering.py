"""Ordering, from the school's side: the draft order (the basket) and its live figures.

The draft lives in the database, one per school, so it survives a reload, signing out and a
second tab. While it is a draft its lines carry no price: the catalogue's price for the order's
academic year applies, and is frozen on the lines when the order is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from traded_app.extensions import db
from traded_app.models import AcademicYear, Order, OrderEvent, OrderLine, OrderStatus, School, User
from traded_app.services import pricing
from traded_app.services.catalogue import CatalogueEntry, catalogue_for


class OrderError(ValueError):
    """A change the order cannot take; the message is for the person making it."""


def draft_for(school: School, user: User, year: AcademicYear) -> Order:
    """The school's draft order, created on first use (safe when two tabs ask at once)."""
    existing = _current_draft(school)
    if existing is not None:
        return existing
    order = Order(school_id=school.id, academic_year_id=year.id, created_by_id=user.id)
    try:
        with db.session.begin_nested():
            db.session.add(order)
            db.session.flush()
            db.session.add(
                OrderEvent(
                    order_id=order.id,
                    user_id=user.id,
                    action="created",
                    to_status=OrderStatus.DRAFT.value,
                )
            )
            db.session.flush()
    except IntegrityError:
        found = _current_draft(school)
        if found is None:
            raise
        return found
    return order


def _current_draft(school: School) -> Order | None:
    return db.session.execute(
        select(Order).where(Order.school_id == school.id, Order.status == OrderStatus.DRAFT)
    ).scalar_one_or_none()


def offer_for(order: Order) -> dict[int, CatalogueEntry]:
    """What the order's school may buy this year, by service id."""
    return {
        entry.service.id: entry
        for entry in catalogue_for(order.school.customer_type, order.academic_year)
    }


def set_days(order: Order, service_id: int, half_days: int) -> None:
    """Set a draft line's days; 0 takes the service out of the order."""
    if order.status != OrderStatus.DRAFT:
        raise OrderError("This order has been submitted and can no longer be changed")
    entry = offer_for(order).get(service_id)
    if entry is None:
        raise OrderError("That service is not available to order")
    line = next((line for line in order.lines if line.service_id == service_id), None)
    if half_days == 0:
        if line is not None:
            order.lines.remove(line)
        db.session.flush()
        return
    service = entry.service
    if not service.min_half_days <= half_days <= service.max_half_days:
        low = pricing.days_text(service.min_half_days)
        high = pricing.days_text(service.max_half_days)
        raise OrderError(f"{service.name} can be ordered for {low} to {high} days")
    if line is None:
        order.lines.append(OrderLine(service_id=service_id, half_days=half_days))
    else:
        line.half_days = half_days
    db.session.flush()


@dataclass(frozen=True)
class PricedLine:
    entry: CatalogueEntry
    half_days: int

    @property
    def net_pence(self) -> int:
        return pricing.line_net_pence(self.half_days, self.entry.price_per_day_pence)


@dataclass(frozen=True)
class DraftSummary:
    lines: list[PricedLine]
    totals: pricing.Totals
    unavailable: list[OrderLine]  # lines whose service was retired or lost its price since


def summarise(order: Order) -> DraftSummary:
    """The draft's lines priced from the catalogue, and its totals, recomputed every time."""
    offer = offer_for(order)
    priced, unavailable = [], []
    for line in order.lines:
        entry = offer.get(line.service_id)
        if entry is None:
            unavailable.append(line)
        else:
            priced.append(PricedLine(entry, line.half_days))
    totals = pricing.totals(
        pricing.Line(
            p.half_days, p.entry.price_per_day_pence, p.entry.vat_treatment, p.entry.vat_rate_bp
        )
        for p in priced
    )
    return DraftSummary(priced, totals, unavailable)
