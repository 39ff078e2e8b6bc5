"""Ordering, from the school's side: the draft order (the basket) and its live figures.

The draft lives in the database, one per school and academic year (two while next year's
buy-back window is open: services/ordering/buy_back.py), so it survives a reload, signing out
and a second tab. While it is a draft its lines carry no price: the catalogue's price for the order's
academic year applies, and is frozen on the lines when the order is submitted (workflow.submit).
The errors here are those of every change to an order, the workflow's steps included.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from traded_app.domain import pricing
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    School,
    User,
)
from traded_app.models.base import utcnow
from traded_app.services.days.position import YearPosition
from traded_app.services.ordering import bespoke, draft_line, quote_prices
from traded_app.services.ordering.offer import CatalogueEntry, catalogue_for
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import council_settings, today

CHANGED_ELSEWHERE = (
    "This order was changed by someone else at the same time. Check it and try again"
)


class OrderError(DomainError, ValueError):
    """A change the order cannot take; the message is for the person making it."""


class OrderConflict(OrderError):
    """Someone else changed the order in the meantime; the transaction must be rolled back."""


def draft_or_empty(school: School, year: AcademicYear) -> Order:
    """The school's draft, or an unsaved empty one to show: reading a page never writes."""
    existing = _current_draft(school, year)
    if existing is not None:
        return existing  # a basket left from last year moves to this year when next changed
    # The ids too, not only the relationships (an unsaved order never flushes them): the
    # summary's "Days left now" is read by school and year id.
    return Order(
        school=school,
        school_id=school.id,
        academic_year=year,
        academic_year_id=year.id,
        status=OrderStatus.DRAFT,
        lines=[],
        version=0,
    )


def draft_for(school: School, user: User, year: AcademicYear) -> Order:
    """The school's draft order to change, created on first use (safe when two tabs ask at once).

    The draft's row is locked for the rest of the transaction (SELECT … FOR UPDATE on
    PostgreSQL; SQLite's writing transactions hold the database's lock from their start) and
    read afresh, so two people changing one basket at the same moment take turns: the second
    sees the first's change, and the order's version check never finds it stale."""
    existing = _current_draft(school, year, lock=True)
    if existing is not None:
        if existing.academic_year_id != year.id:
            # A basket left over from last year is for this year now (drafts carry no prices).
            existing.academic_year_id = year.id
            existing.academic_year = year
            db.session.flush()
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
        found = _current_draft(school, year, lock=True)
        if found is None:
            raise
        return found
    return order


_DRAFT = select(Order).where(
    Order.school_id == bindparam("school_id"), Order.status == OrderStatus.DRAFT
)
# The draft to change, with its lines, in one query built once (every change of days runs it):
# the order's row locked (FOR UPDATE OF school_order on PostgreSQL; its lines come by an outer
# join, which may not be locked) and read afresh over anything the session held.
_DRAFT_TO_CHANGE = (
    _DRAFT.options(joinedload(Order.lines))
    .with_for_update(of=Order)
    .execution_options(populate_existing=True)
)


def _current_draft(school: School, year: AcademicYear, *, lock: bool = False) -> Order | None:
    """The school's draft for `year`, else a draft left from a year that has ended when `year`
    is under way (it becomes this year's when next changed). Every draft of the school comes in
    the one query (there are at most a few), locked together when `lock`."""
    query = _DRAFT_TO_CHANGE if lock else _DRAFT
    drafts = db.session.execute(query, {"school_id": school.id}).unique().scalars().all()
    for draft in drafts:
        if draft.academic_year_id == year.id:
            return draft
    if year.starts_on <= today():
        for draft in drafts:
            if draft.academic_year.ends_on < year.starts_on:
                return draft
    return None


def offer_for(order: Order) -> dict[int, CatalogueEntry]:
    """What the order's school may buy in the order's year, by service id."""
    return offer_to(order.school, order.academic_year)


def offer_to(school: School, year: AcademicYear) -> dict[int, CatalogueEntry]:
    """What `school` may buy in `year`, by service id: the catalogue, and the bespoke lines the
    council answered the school's requests with (ordering.bespoke)."""
    offer = {entry.service.id: entry for entry in catalogue_for(school.customer_type, year)}
    offer.update(bespoke.entries_for(school, year))
    return offer


def set_days(
    order: Order,
    service_id: int,
    half_days: int,
    offer: dict[int, CatalogueEntry] | None = None,
) -> None:
    """Set a draft line's days; 0 takes the service out of the order.

    `offer` is `offer_for(order)` when the caller already has it (it is worked out once per
    request, not once per step)."""
    if order.status != OrderStatus.DRAFT:
        raise OrderError("This order has been submitted and can no longer be changed")
    entry = (offer if offer is not None else offer_for(order)).get(service_id)
    if entry is None:
        raise OrderError("That service is not available to order")
    line = next((line for line in order.lines if line.service_id == service_id), None)
    service = entry.service
    if half_days != 0 and not service.min_half_days <= half_days <= service.max_half_days:
        low = pricing.days_text(service.min_half_days)
        high = pricing.days_text(service.max_half_days)
        raise OrderError(f"{service.name} can be ordered for {low} to {high} days")
    # Touching the order bumps its version, so a checkout made against the old basket is caught
    # (a refused change leaves it as it was).
    order.updated_at = utcnow()
    if half_days == 0:
        if line is not None:
            order.lines.remove(line)
        _save()
        return
    if line is None:
        order.lines.append(OrderLine(service_id=service_id, half_days=half_days))
    else:
        line.half_days = half_days
    _save()


def save_change(order: Order) -> None:
    """Flush a change to the draft other than its days (its quote), bumping its version."""
    order.updated_at = utcnow()
    _save()


def _save() -> None:
    """Flush a basket change; a version check that still finds it stale is a conflict for the
    caller to answer with the basket as it is now, never a server error."""
    try:
        db.session.flush()
    except StaleDataError:
        raise OrderConflict(CHANGED_ELSEWHERE) from None


def set_typed_days(
    order: Order, offer: dict[int, CatalogueEntry], service_id: int, typed: str
) -> str | None:
    """Set one line from the days a person typed ('' takes the service out): None when it was
    saved, else the message saying why not. A refused line changes nothing, and leaves the other
    lines of the same form to be saved."""
    text = (typed or "").strip()
    try:
        half_days = 0 if text == "" else pricing.parse_days(text, minimum=0)
        set_days(order, service_id, half_days, offer)
    except (pricing.DaysError, OrderError) as error:
        return str(error)
    return None


@dataclass(frozen=True)
class DraftLine:
    """The draft after one line was set, with its offer and the problem, if any."""

    order: Order
    offer: dict[int, CatalogueEntry]
    problem: str | None
    position: YearPosition | None = None  # the school's days, when read with the change


def days_read_with_change() -> bool:
    """Whether `set_draft_line` answers with the school's days in the year, read in the same
    statement as the change (PostgreSQL), so the caller need not read them first. On SQLite
    they are read before the change: its write lock is held for the write alone."""
    return draft_line.reads_position()


def set_draft_line(
    school: School,
    user: User,
    year: AcademicYear,
    service_id: int,
    typed: str,
    offer: dict[int, CatalogueEntry] | None = None,
) -> DraftLine:
    """`set_typed_days` on the school's draft, once more if a second tab changed the basket at the
    same moment (the first attempt is rolled back). `offer` is `offer_to(school, year)` when the
    caller has it already (read before the write, so the write does nothing else).

    Days that can be ordered, on a draft of `year` that exists already (every change but a
    basket's first), are written by `draft_line.set_line`; the rest (a refusal, a new draft, one
    left from last year) take the longer way through the ORM."""
    if offer is None:
        offer = offer_to(school, year)
    half_days = _orderable_half_days(offer, service_id, typed)
    if half_days is not None:
        done = draft_line.set_line(school, year, service_id, half_days)
        if done is not None:
            return DraftLine(done.order, offer, None, done.position)
    for _attempt in (1, 2):
        order = draft_for(school, user, year)
        try:
            return DraftLine(order, offer, set_typed_days(order, offer, service_id, typed))
        except IntegrityError:
            db.session.rollback()
    return DraftLine(draft_for(school, user, year), offer, CHANGED_ELSEWHERE)


def _orderable_half_days(
    offer: dict[int, CatalogueEntry], service_id: int, typed: str
) -> int | None:
    """The half-days `typed` asks for when `set_days` would take them (0 takes the line out),
    else None: the checks are the same, made before anything is written."""
    entry = offer.get(service_id)
    text = (typed or "").strip()
    if entry is None:
        return None
    try:
        half_days = 0 if text == "" else pricing.parse_days(text, minimum=0)
    except pricing.DaysError:
        return None
    service = entry.service
    if half_days != 0 and not service.min_half_days <= half_days <= service.max_half_days:
        return None
    return half_days


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


def summarise(
    order: Order, offer: dict[int, CatalogueEntry] | None = None, *, quoted: bool = True
) -> DraftSummary:
    """The draft's lines priced from the catalogue (or, while the draft's quote is valid and
    `quoted`, the quote's prices for what it quoted), and its totals, recomputed every time."""
    if offer is None:
        offer = offer_for(order)
    if quoted:
        offer = quote_prices.applied(order, offer)
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


# --- The approval limit ----------------------------------------------------------------------


def approval_limit_pence(school: School) -> int | None:
    """The school's own limit, else the council's default; None means no approval needed."""
    if school.approval_limit_pence is not None:
        return school.approval_limit_pence
    return approval_limit_pence_default()


def approval_limit_pence_default() -> int | None:
    settings = council_settings()
    return settings.default_approval_limit_pence if settings else None


def needs_approval(school: School, net_pence: int) -> bool:
    """Orders whose cost before VAT is over the limit go to the headteacher first."""
    return over_limit(approval_limit_pence(school), net_pence)


def over_limit(limit_pence: int | None, net_pence: int) -> bool:
    """`needs_approval` for a school whose limit (`approval_limit_pence`) is known already."""
    return limit_pence is not None and net_pence > limit_pence
