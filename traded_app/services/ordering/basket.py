"""Ordering, from the school's side: the draft order (the basket) and its live figures.

The draft lives in the database, one per school, so it survives a reload, signing out and a
second tab. While it is a draft its lines carry no price: the catalogue's price for the order's
academic year applies, and is frozen on the lines when the order is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from traded_app.domain import pricing
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    QuadrantCapacity,
    School,
    User,
)
from traded_app.models.base import utcnow
from traded_app.models.orders import PENDING_STATUSES, SOLD_STATUSES
from traded_app.models.types import Role
from traded_app.services.ordering import notifications
from traded_app.services.ordering.offer import CatalogueEntry, catalogue_for


class OrderError(ValueError):
    """A change the order cannot take; the message is for the person making it."""


def draft_or_empty(school: School, year: AcademicYear) -> Order:
    """The school's draft, or an unsaved empty one to show: reading a page never writes."""
    existing = _current_draft(school)
    if existing is not None:
        return existing  # a basket left from last year moves to this year when next changed
    return Order(school=school, academic_year=year, status=OrderStatus.DRAFT, lines=[], version=0)


def draft_for(school: School, user: User, year: AcademicYear) -> Order:
    """The school's draft order, created on first use (safe when two tabs ask at once)."""
    existing = _current_draft(school)
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
    # Touching the order bumps its version, so a checkout made against the old basket is caught.
    order.updated_at = utcnow()
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


def summarise(order: Order, offer: dict[int, CatalogueEntry] | None = None) -> DraftSummary:
    """The draft's lines priced from the catalogue, and its totals, recomputed every time."""
    if offer is None:
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


# --- The order's life after the basket -------------------------------------------------------

TERMS = {
    "": "No preference",
    "autumn": "Autumn term",
    "spring": "Spring term",
    "summer": "Summer term",
}
MAX_PO_LENGTH = 40
MAX_PREFERRED_DATES_LENGTH = 500
MAX_NOTE_LENGTH = 2000
MAX_REASON_LENGTH = 1000

CHANGED_ELSEWHERE = (
    "This order was changed by someone else at the same time. Check it and try again"
)


class OrderNotFound(LookupError):
    """No such order, or one this user may not know exists."""


def order_visible_to(user: User, order_id: int) -> Order:
    """A submitted order `user` may see: council users see all, school users their school's.

    Drafts are not orders yet: they are reached through the catalogue, never by id.
    """
    order = db.session.get(Order, order_id)
    if order is None or order.status == OrderStatus.DRAFT:
        raise OrderNotFound
    if user.is_school_user and order.school_id != user.school_id:
        raise OrderNotFound
    return order


def approval_limit_pence(school: School) -> int | None:
    """The school's own limit, else the council's default; None means no approval needed."""
    if school.approval_limit_pence is not None:
        return school.approval_limit_pence
    return approval_limit_pence_default()


def approval_limit_pence_default() -> int | None:
    from traded_app.services.platform.settings import council_settings

    settings = council_settings()
    return settings.default_approval_limit_pence if settings else None


def needs_approval(school: School, net_pence: int) -> bool:
    """Orders whose cost before VAT is over the limit go to the headteacher first."""
    limit = approval_limit_pence(school)
    return limit is not None and net_pence > limit


@dataclass(frozen=True)
class Checkout:
    po_number: str = ""
    preferred_term: str = ""
    preferred_dates: str = ""
    adviser_note: str = ""


def checkout_problems(order: Order, details: Checkout) -> dict[str, str]:
    """What stops `details` being submitted with `order`, by field, in GOV.UK wording."""
    problems: dict[str, str] = {}
    po = details.po_number.strip()
    if order.school.po_required and not po:
        problems["po_number"] = "Enter your purchase order number"
    elif len(po) > MAX_PO_LENGTH:
        problems["po_number"] = f"Purchase order number must be {MAX_PO_LENGTH} characters or fewer"
    if details.preferred_term not in TERMS:
        problems["preferred_term"] = "Select a term from the list"
    if len(details.preferred_dates.strip()) > MAX_PREFERRED_DATES_LENGTH:
        problems["preferred_dates"] = (
            f"Preferred dates must be {MAX_PREFERRED_DATES_LENGTH} characters or fewer"
        )
    if len(details.adviser_note.strip()) > MAX_NOTE_LENGTH:
        problems["adviser_note"] = (
            f"Note for the adviser must be {MAX_NOTE_LENGTH} characters or fewer"
        )
    return problems


def submit(order: Order, user: User, details: Checkout, expected_version: int) -> Order:
    """Freeze the draft's prices and totals and send it on: to the headteacher when it is over
    the school's approval limit, otherwise to the council.

    `expected_version` is the draft's version when the person checked their answers: if the
    basket changed since (another tab), they must check again.
    """
    if order.status != OrderStatus.DRAFT:
        raise OrderError("This order has already been submitted")
    if order.version != expected_version:
        raise OrderError(
            "Your order changed since you checked it (perhaps in another tab). "
            "Check the days and totals again before you submit"
        )
    problems = checkout_problems(order, details)
    if problems:
        raise OrderError(next(iter(problems.values())))
    summary = summarise(order)
    if summary.unavailable:
        names = ", ".join(line.service.name for line in summary.unavailable)
        raise OrderError(f"{names} can no longer be ordered: remove it from your order")
    if not summary.lines:
        raise OrderError("Add at least one service to your order")
    for priced in summary.lines:
        service = priced.entry.service
        if not service.min_half_days <= priced.half_days <= service.max_half_days:
            low = pricing.days_text(service.min_half_days)
            high = pricing.days_text(service.max_half_days)
            raise OrderError(f"{service.name} can be ordered for {low} to {high} days")
    over_limit = needs_approval(order.school, summary.totals.net_pence)
    by_service = {p.entry.service.id: p.entry for p in summary.lines}
    totals = summary.totals
    now = utcnow()
    # Everything is read; now the draft becomes an order in one step (no flush in between,
    # so the frozen-totals constraint sees totals and status change together).
    with db.session.no_autoflush:
        for line in order.lines:
            entry = by_service[line.service_id]
            line.price_per_day_pence = entry.price_per_day_pence
            line.vat_treatment = entry.vat_treatment
            line.vat_rate_bp = entry.vat_rate_bp
        order.half_days = totals.half_days
        order.net_pence = totals.net_pence
        order.vat_pence = totals.vat_pence
        order.gross_pence = totals.gross_pence
        order.po_number = details.po_number.strip()
        order.preferred_term = details.preferred_term
        order.preferred_dates = details.preferred_dates.strip()
        order.adviser_note = details.adviser_note.strip()
        order.submitted_at = now
        order.submitted_by_id = user.id
        if not over_limit:
            _move(order, user, "submitted", OrderStatus.SUBMITTED)
        elif user.role == Role.HEADTEACHER:
            # The headteacher is the person authorised to commit the school's spending.
            order.approved_at = now
            order.approved_by_id = user.id
            _move(
                order,
                user,
                "submitted",
                OrderStatus.SUBMITTED,
                "Over the approval limit: approved by the headteacher who submitted it",
            )
        else:
            _move(order, user, "submitted", OrderStatus.AWAITING_APPROVAL)
    notifications.order_changed(order, order.events[-1])
    return order


def approve(order: Order, user: User) -> Order:
    """The headteacher approves an order over the limit; it goes on to the council."""
    _require_school_user(order, user)
    if user.role != Role.HEADTEACHER:
        raise OrderError("Only the headteacher can approve an order over the approval limit")
    _require_status(order, {OrderStatus.AWAITING_APPROVAL}, "approved")
    if order.submitted_by_id == user.id:
        raise OrderError("You cannot approve an order you submitted yourself")
    order.approved_at = utcnow()
    order.approved_by_id = user.id
    return _move_and_tell(order, user, "approved", OrderStatus.SUBMITTED)


def reject(order: Order, user: User, reason: str) -> Order:
    """The headteacher turns down an order over the limit, saying why."""
    _require_school_user(order, user)
    if user.role != Role.HEADTEACHER:
        raise OrderError("Only the headteacher can reject an order over the approval limit")
    _require_status(order, {OrderStatus.AWAITING_APPROVAL}, "rejected")
    return _move_and_tell(order, user, "rejected", OrderStatus.REJECTED, _reason(reason))


def withdraw(order: Order, user: User, reason: str = "") -> Order:
    """The school takes back an order the council has not confirmed yet."""
    _require_school_user(order, user)
    _require_status(order, PENDING_STATUSES, "withdrawn")
    return _move_and_tell(order, user, "withdrawn", OrderStatus.WITHDRAWN, reason.strip())


def request_cancellation(order: Order, user: User, reason: str) -> Order:
    """The school asks the council to cancel a confirmed order (in progress too: what was
    delivered stays used, the rest is released)."""
    _require_school_user(order, user)
    _require_status(order, {OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS}, "cancelled by request")
    return _move_and_tell(
        order, user, "cancellation_requested", OrderStatus.CANCELLATION_REQUESTED, _reason(reason)
    )


@dataclass(frozen=True)
class CapacityPosition:
    """A quadrant team's traded days for a year, in half-days."""

    capacity_half_days: int
    sold_half_days: int

    @property
    def available_half_days(self) -> int:
        return max(0, self.capacity_half_days - self.sold_half_days)


def capacity_position(
    quadrant_id: int, year_id: int, *, lock: bool = False
) -> CapacityPosition | None:
    """The team's capacity and what it has sold; None when no capacity is set for the year.

    With `lock`, the capacity row is locked for the rest of the transaction (SELECT ... FOR
    UPDATE on PostgreSQL; on SQLite the write lock taken at BEGIN IMMEDIATE already serialises
    writers), so two confirmations cannot both take the last days.
    """
    stmt = select(QuadrantCapacity).where(
        QuadrantCapacity.quadrant_id == quadrant_id, QuadrantCapacity.academic_year_id == year_id
    )
    if lock:
        stmt = stmt.with_for_update()
    capacity = db.session.execute(stmt).scalar_one_or_none()
    if capacity is None:
        return None
    sold = db.session.execute(
        select(func.sum(Order.half_days)).where(
            Order.quadrant_id == quadrant_id,
            Order.academic_year_id == year_id,
            Order.status.in_(SOLD_STATUSES),
        )
    ).scalar_one()
    # A cancelled order's used days stay sold; only its undelivered days went back.
    from traded_app.services.days.ledger import cancelled_orders_used_half_days

    sold = (sold or 0) + cancelled_orders_used_half_days(quadrant_id, year_id)
    return CapacityPosition(capacity.traded_capacity_half_days, sold)


def confirm(order: Order, user: User) -> Order:
    """The council confirms a submitted order, if its quadrant team has the days to sell.

    One transaction: the capacity row is locked, the days are counted, the order is confirmed.
    This is the moment an invoice or recharge is raised (the invoicing issue hooks in here).
    """
    _require_council_admin(user)
    _require_status(order, {OrderStatus.SUBMITTED}, "confirmed")
    school = order.school
    if school.quadrant_id is None:
        raise OrderError(
            f"{school.name} is in no quadrant, so no team's capacity can be used: "
            "set its quadrant first"
        )
    position = capacity_position(school.quadrant_id, order.academic_year_id, lock=True)
    quadrant_name = school.quadrant.name if school.quadrant else "this quadrant"
    if position is None:
        raise OrderError(
            f"No traded capacity is set for the {quadrant_name} team in "
            f"{order.academic_year.label}: set it before confirming orders"
        )
    db.session.refresh(order, with_for_update=True)
    _require_status(order, {OrderStatus.SUBMITTED}, "confirmed")
    needed = order.half_days or 0
    if needed > position.available_half_days:
        raise OrderError(
            f"The {quadrant_name} team has {pricing.days_text(position.available_half_days)} "
            f"days left to sell in {order.academic_year.label}, and this order needs "
            f"{pricing.days_text(needed)}: it cannot be confirmed"
        )
    order.quadrant_id = school.quadrant_id
    order.confirmed_at = utcnow()
    order.confirmed_by_id = user.id
    _move_and_tell(order, user, "confirmed", OrderStatus.CONFIRMED)
    # Confirmation is when the order is charged, in this same transaction (unless the council
    # issues its documents in runs).
    from traded_app.services.documents import issuing as invoicing

    if invoicing.issues_on_confirmation():
        invoicing.issue_for_order(order, user)
    return order


def decline(order: Order, user: User, reason: str) -> Order:
    """The council declines a submitted order, saying why."""
    _require_council_admin(user)
    _require_status(order, {OrderStatus.SUBMITTED}, "declined")
    return _move_and_tell(order, user, "declined", OrderStatus.DECLINED, _reason(reason))


def cancel(order: Order, user: User, reason: str) -> Order:
    """The council cancels a confirmed order (usually at the school's request), releasing its
    undelivered days to the school's figures and the team's capacity: its scheduled visits are
    cancelled free of charge, and days already used stay used (days_ledger)."""
    from traded_app.services.days.visits import cancel_open_visits

    _require_council_admin(user)
    _require_status(
        order,
        {OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS, OrderStatus.CANCELLATION_REQUESTED},
        "cancelled",
    )
    note = _reason(reason)
    cancel_open_visits(order, user)
    _move_and_tell(order, user, "cancelled", OrderStatus.CANCELLED, note)
    # The days not used are credited (late cancellations charged under the notice policy are
    # used days, so they are not).
    from traded_app.services.documents import issuing as invoicing

    invoicing.credit_order(order, user, f"Order {order.reference} cancelled: {note}")
    return order


def keep(order: Order, user: User, reason: str) -> Order:
    """The council refuses a school's cancellation request: the order stands."""
    _require_council_admin(user)
    _require_status(order, {OrderStatus.CANCELLATION_REQUESTED}, "kept")
    from traded_app.services.days.ledger import order_used_half_days

    back = OrderStatus.IN_PROGRESS if order_used_half_days(order.id) else OrderStatus.CONFIRMED
    return _move_and_tell(order, user, "cancellation_refused", back, _reason(reason))


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise OrderError("Enter a reason")
    if len(text) > MAX_REASON_LENGTH:
        raise OrderError(f"Reason must be {MAX_REASON_LENGTH} characters or fewer")
    return text


def _require_status(
    order: Order, allowed: frozenset[OrderStatus] | set[OrderStatus], verb: str
) -> None:
    if order.status not in allowed:
        raise OrderError(
            f"{order.reference} is {order.status.label.lower()}, so it cannot be {verb}"
        )


def _require_school_user(order: Order, user: User) -> None:
    if not user.is_school_user or user.school_id != order.school_id:
        raise OrderError("Only the school's own staff can do that")


def _require_council_admin(user: User) -> None:
    if user.role != Role.LA_ADMIN:
        raise OrderError("Only the council's service manager can do that")


def _move(order: Order, user: User, action: str, to: OrderStatus, note: str = "") -> OrderEvent:
    event = OrderEvent(
        user_id=user.id,
        action=action,
        from_status=order.status.value,
        to_status=to.value,
        note=note,
        at=utcnow(),
    )
    order.status = to
    order.events.append(event)
    try:
        db.session.flush()
    except StaleDataError:
        raise OrderConflict(CHANGED_ELSEWHERE) from None
    return event


def _move_and_tell(order: Order, user: User, action: str, to: OrderStatus, note: str = "") -> Order:
    event = _move(order, user, action, to, note)
    notifications.order_changed(order, event)
    return order


class OrderConflict(OrderError):
    """Someone else changed the order in the meantime; the transaction must be rolled back."""


# --- Lists ------------------------------------------------------------------------------------


def orders_of_school(school: School) -> list[Order]:
    """The school's orders (not its draft), newest first."""
    return list(
        db.session.execute(
            select(Order)
            .options(selectinload(Order.submitted_by))
            .where(Order.school_id == school.id, Order.status != OrderStatus.DRAFT)
            .order_by(Order.submitted_at.desc(), Order.id.desc())
        ).scalars()
    )


NEEDS_ACTION = "needs_action"
QUEUE_STATUSES = {
    NEEDS_ACTION: "Needs the council's action",
    **{s.value: s.label for s in OrderStatus if s != OrderStatus.DRAFT},
    "all": "All orders",
}


@dataclass(frozen=True)
class QueueFilters:
    status: str = NEEDS_ACTION
    quadrant_id: int | None = None
    service_id: int | None = None
    school: str = ""  # part of a name, or a URN
    page: int = 1


@dataclass(frozen=True)
class QueuePage:
    orders: list[Order]
    total: int
    page: int
    per_page: int
    half_days: int
    gross_pence: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def council_queue(filters: QueueFilters, per_page: int = 25) -> QueuePage:
    """Submitted orders for the council, filtered, oldest waiting first."""
    stmt = select(Order).join(School, School.id == Order.school_id)
    if filters.status == NEEDS_ACTION:
        stmt = stmt.where(
            Order.status.in_([OrderStatus.SUBMITTED, OrderStatus.CANCELLATION_REQUESTED])
        )
    elif filters.status == "all":
        stmt = stmt.where(Order.status != OrderStatus.DRAFT)
    else:
        stmt = stmt.where(Order.status == OrderStatus(filters.status))
    if filters.quadrant_id is not None:
        stmt = stmt.where(School.quadrant_id == filters.quadrant_id)
    if filters.service_id is not None:
        stmt = stmt.where(
            Order.id.in_(
                select(OrderLine.order_id).where(OrderLine.service_id == filters.service_id)
            )
        )
    text = filters.school.strip()
    if text:
        conditions = [func.lower(School.name).contains(text.lower(), autoescape=True)]
        if text.isdigit():
            conditions.append(School.urn == int(text))
        stmt = stmt.where(or_(*conditions))
    counted = stmt.with_only_columns(
        func.count(),
        func.coalesce(func.sum(Order.half_days), 0),
        func.coalesce(func.sum(Order.gross_pence), 0),
    )
    total, half_days, gross = db.session.execute(counted).one()
    page = max(1, min(filters.page, max(1, -(-total // per_page))))
    orders = (
        db.session.execute(
            stmt.options(
                joinedload(Order.school).joinedload(School.quadrant),
                selectinload(Order.lines).joinedload(OrderLine.service),
            )
            .order_by(Order.submitted_at, Order.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        .unique()
        .scalars()
    )
    return QueuePage(list(orders), int(total), page, per_page, int(half_days), int(gross))


def order_counts(school: School | None = None) -> dict[OrderStatus, int]:
    """How many orders are in each status: one school's, or every school's."""
    stmt = select(Order.status, func.count()).group_by(Order.status)
    if school is not None:
        stmt = stmt.where(Order.school_id == school.id)
    return dict(db.session.execute(stmt).tuples().all())
