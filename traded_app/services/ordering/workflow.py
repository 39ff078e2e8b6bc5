"""An order's life after the basket: submission, the headteacher's approval, the council's
confirmation, refusal or cancellation, the school's withdrawal or request to cancel, and the
quadrant team's traded capacity that a confirmation uses.

`TRANSITIONS` is the one table of the steps an order may take from each status, where each
step leads and who may take it. The services here refuse a step the table does not give the
order's status or the person, and the order page shows a button for exactly the steps it gives
that person (`steps_for`). Two steps are nobody's button: an order's first day delivered (or
charged) takes it into progress, its last completes it, both taken by days.visits (below ordering,
so it cannot read this table: the table's test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from traded_app.domain import pricing
from traded_app.extensions import db
from traded_app.models import Order, OrderEvent, OrderStatus, QuadrantCapacity, User
from traded_app.models.base import utcnow
from traded_app.models.orders import SOLD_STATUSES
from traded_app.models.types import SCHOOL_ROLES, Role
from traded_app.services.days import partnership_days
from traded_app.services.days.ledger import cancelled_orders_used_half_days, order_used_half_days
from traded_app.services.days.visits import cancel_open_visits
from traded_app.services.documents import instalments
from traded_app.services.documents import issuing as invoicing
from traded_app.services.ordering import buy_back, by_trust, notifications, quote_prices, terms
from traded_app.services.ordering.basket import (
    CHANGED_ELSEWHERE,
    OrderConflict,
    OrderError,
    needs_approval,
    save_change,
    summarise,
)

# --- The table of steps -----------------------------------------------------------------------

OWN_STAFF_ONLY = "Only the school's own staff can do that"
SERVICE_MANAGER_ONLY = "Only the council's service manager can do that"


@dataclass(frozen=True)
class Step:
    """A step an order may take.

    `name` is the service function here and the order page's button; `by` the roles that may
    take it (school roles at the order's own school only; none: no one's button, the days
    service takes it); `event` the action the order's history records; `refused` ends the
    message "ORD-… is <status>, so it cannot be …" when the order's status does not allow it;
    `who` the message when the person's role does not.
    """

    name: str
    by: frozenset[Role]
    event: str
    refused: str
    who: str
    others_only: bool = False  # never by the person who submitted the order


SCHOOL_STAFF = SCHOOL_ROLES
HEADTEACHER = frozenset({Role.HEADTEACHER})
SERVICE_MANAGER = frozenset({Role.LA_ADMIN})
DAYS_SERVICE: frozenset[Role] = frozenset()

SUBMIT = Step("submit", SCHOOL_STAFF, "submitted", "submitted", OWN_STAFF_ONLY)
# Only people authorised to commit the school's spending approve an order over its limit, and
# never their own order (a headteacher's own order is approved by submitting it).
APPROVE = Step(
    "approve",
    HEADTEACHER,
    "approved",
    "approved",
    "Only the headteacher can approve an order over the approval limit",
    others_only=True,
)
REJECT = Step(
    "reject",
    HEADTEACHER,
    "rejected",
    "rejected",
    "Only the headteacher can reject an order over the approval limit",
    others_only=True,
)
WITHDRAW = Step("withdraw", SCHOOL_STAFF, "withdrawn", "withdrawn", OWN_STAFF_ONLY)
REQUEST_CANCELLATION = Step(
    "request_cancellation",
    SCHOOL_STAFF,
    "cancellation_requested",
    "cancelled by request",
    OWN_STAFF_ONLY,
)
CONFIRM = Step("confirm", SERVICE_MANAGER, "confirmed", "confirmed", SERVICE_MANAGER_ONLY)
DECLINE = Step("decline", SERVICE_MANAGER, "declined", "declined", SERVICE_MANAGER_ONLY)
CANCEL = Step("cancel", SERVICE_MANAGER, "cancelled", "cancelled", SERVICE_MANAGER_ONLY)
KEEP = Step("keep", SERVICE_MANAGER, "cancellation_refused", "kept", SERVICE_MANAGER_ONLY)
DAYS_ONLY = "Only delivering or charging the order's days moves it on"
START = Step("start", DAYS_SERVICE, "in_progress", "started", DAYS_ONLY)
COMPLETE = Step("complete", DAYS_SERVICE, "completed", "completed", DAYS_ONLY)

# From each status, the steps allowed and where each leads, in the order of the page's buttons.
TRANSITIONS: dict[OrderStatus, tuple[tuple[Step, OrderStatus], ...]] = {
    OrderStatus.DRAFT: (
        (SUBMIT, OrderStatus.SUBMITTED),  # within the approval limit, or by the headteacher
        (SUBMIT, OrderStatus.AWAITING_APPROVAL),  # over the limit
    ),
    OrderStatus.AWAITING_APPROVAL: (
        (APPROVE, OrderStatus.SUBMITTED),
        (REJECT, OrderStatus.REJECTED),
        (WITHDRAW, OrderStatus.WITHDRAWN),
    ),
    OrderStatus.SUBMITTED: (
        (WITHDRAW, OrderStatus.WITHDRAWN),
        (CONFIRM, OrderStatus.CONFIRMED),
        (DECLINE, OrderStatus.DECLINED),
    ),
    OrderStatus.CONFIRMED: (
        (REQUEST_CANCELLATION, OrderStatus.CANCELLATION_REQUESTED),
        (CANCEL, OrderStatus.CANCELLED),
        (START, OrderStatus.IN_PROGRESS),
        (COMPLETE, OrderStatus.COMPLETED),  # every day used at once
    ),
    OrderStatus.IN_PROGRESS: (
        (REQUEST_CANCELLATION, OrderStatus.CANCELLATION_REQUESTED),
        (CANCEL, OrderStatus.CANCELLED),
        (COMPLETE, OrderStatus.COMPLETED),
    ),
    OrderStatus.CANCELLATION_REQUESTED: (
        (CANCEL, OrderStatus.CANCELLED),
        (KEEP, OrderStatus.CONFIRMED),  # no day used yet
        (KEEP, OrderStatus.IN_PROGRESS),  # some used
    ),
    OrderStatus.DECLINED: (),
    OrderStatus.REJECTED: (),
    OrderStatus.WITHDRAWN: (),
    OrderStatus.COMPLETED: (),
    OrderStatus.CANCELLED: (),
}


def refusal(order: Order, user: User, step: Step) -> str | None:
    """Why `user` may not take `step` with `order` now, or None when they may."""
    if step.by <= SCHOOL_ROLES and (not user.is_school_user or user.school_id != order.school_id):
        return OWN_STAFF_ONLY
    if user.role not in step.by:
        return step.who
    if all(allowed != step for allowed, _to in TRANSITIONS[order.status]):
        return _wrong_status(order, step)
    if step.others_only and order.submitted_by_id == user.id:
        return f"You cannot {step.name} an order you submitted yourself"
    return None


def steps_for(order: Order, user: User) -> list[Step]:
    """The steps `user` may take with `order` now, in the table's order (the page's buttons)."""
    steps: list[Step] = []
    for step, _to in TRANSITIONS[order.status]:
        if step.by and step not in steps and refusal(order, user, step) is None:
            steps.append(step)
    return steps


def _wrong_status(order: Order, step: Step) -> str:
    return f"{order.reference} is {order.status.label.lower()}, so it cannot be {step.refused}"


def _require(order: Order, user: User, step: Step) -> None:
    problem = refusal(order, user, step)
    if problem is not None:
        raise OrderError(problem)


def _move(order: Order, user: User, step: Step, to: OrderStatus, note: str = "") -> OrderEvent:
    if (step, to) not in TRANSITIONS[order.status]:
        raise OrderError(_wrong_status(order, step))
    event = OrderEvent(
        user_id=user.id,
        action=step.event,
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


def _move_and_tell(order: Order, user: User, step: Step, to: OrderStatus, note: str = "") -> Order:
    event = _move(order, user, step, to, note)
    notifications.order_changed(order, event)
    return order


# --- Submitting -------------------------------------------------------------------------------

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
# An order's figures, and the invoice's after it, are kept in INTEGER columns (PostgreSQL: 32
# bits). The catalogue allows up to £1,000,000 a day, so a big enough order did not fit.
MAX_ORDER_PENCE = pricing.MAX_POUNDS_PENCE


@dataclass(frozen=True)
class Checkout:
    po_number: str = ""
    preferred_term: str = ""
    preferred_dates: str = ""
    adviser_note: str = ""
    # The version of the year's terms the person submitting accepted (None: none published).
    terms_version_id: int | None = None


def checkout_problems(order: Order, details: Checkout) -> dict[str, str]:
    """What stops `details` being submitted with `order`, by field, in GOV.UK wording."""
    problems: dict[str, str] = {}
    po = details.po_number.strip()
    # No PO number yet is allowed, even where the school requires one: it can be added until
    # the order is charged, and the charge waits for it (add_po_number).
    if len(po) > MAX_PO_LENGTH:
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


def save_details(order: Order, details: Checkout) -> None:
    """Keep the details asked before check answers on the draft (refused if any is wrong)."""
    if order.status != OrderStatus.DRAFT:
        raise OrderError("This order has already been submitted")
    problems = checkout_problems(order, details)
    if problems:
        raise OrderError(next(iter(problems.values())))
    order.po_number = details.po_number.strip()
    order.preferred_term = details.preferred_term
    order.preferred_dates = details.preferred_dates.strip()
    order.adviser_note = details.adviser_note.strip()
    save_change(order)


def details_of(order: Order, terms_version_id: int | None = None) -> Checkout:
    """The details kept on the draft, to submit with it."""
    return Checkout(
        po_number=order.po_number or "",
        preferred_term=order.preferred_term or "",
        preferred_dates=order.preferred_dates or "",
        adviser_note=order.adviser_note or "",
        terms_version_id=terms_version_id,
    )


def submit(order: Order, user: User, details: Checkout, expected_version: int) -> Order:
    """Freeze the draft's prices and totals and send it on: to the headteacher when it is over
    the school's approval limit, otherwise to the council.

    `expected_version` is the draft's version when the person checked their answers: if the
    basket changed since (another tab), they must check again. A school's staff reach only
    their own school's draft (basket.draft_for); trust staff are checked again (by_trust)."""
    if order.status != OrderStatus.DRAFT:
        raise OrderError("This order has already been submitted")
    by_trust.check_submitter(user, order.school)
    if order.version != expected_version:
        raise OrderError(
            "Your order changed since you checked it (perhaps in another tab). "
            "Check the days and totals again before you submit"
        )
    problems = checkout_problems(order, details)
    if problems:
        raise OrderError(next(iter(problems.values())))
    accepted = _accepted_terms(order, details)
    quote = quote_prices.state_of(order)
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
    if summary.totals.gross_pence > MAX_ORDER_PENCE:
        raise OrderError(
            f"An order can be for £{MAX_ORDER_PENCE // 100:,} at most: choose fewer days"
        )
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
        if accepted is not None:
            order.terms_version_id = accepted
            order.terms_accepted_at = now
        if quote is not None and not quote.valid:
            order.quote_id = None  # expired: today's prices applied, not the quote's
        if not over_limit:
            _move(order, user, SUBMIT, OrderStatus.SUBMITTED)
        elif user.role == Role.HEADTEACHER:
            # The headteacher is the person authorised to commit the school's spending.
            order.approved_at = now
            order.approved_by_id = user.id
            _move(
                order,
                user,
                SUBMIT,
                OrderStatus.SUBMITTED,
                "Over the approval limit: approved by the headteacher who submitted it",
            )
        else:
            _move(order, user, SUBMIT, OrderStatus.AWAITING_APPROVAL)
    notifications.order_changed(order, order.events[-1])
    return order


def _accepted_terms(order: Order, details: Checkout) -> int | None:
    """The id of the year's terms in force, which the person submitting must have accepted;
    None when the council has published none for the year."""
    current = terms.current_for(order.academic_year_id)
    if current is None:
        return None
    if details.terms_version_id is None:
        raise OrderError(
            f"Confirm that you accept the {order.academic_year.label} terms and conditions"
        )
    if details.terms_version_id != current.id:
        raise OrderError(
            f"The {order.academic_year.label} terms and conditions changed to version "
            f"{current.version} since you read them: read them and accept them again"
        )
    return current.id


# --- The school's steps -----------------------------------------------------------------------


def approve(order: Order, user: User) -> Order:
    """The headteacher approves an order over the limit; it goes on to the council."""
    _require(order, user, APPROVE)
    order.approved_at = utcnow()
    order.approved_by_id = user.id
    return _move_and_tell(order, user, APPROVE, OrderStatus.SUBMITTED)


def reject(order: Order, user: User, reason: str) -> Order:
    """The headteacher turns down an order over the limit, saying why."""
    _require(order, user, REJECT)
    return _move_and_tell(order, user, REJECT, OrderStatus.REJECTED, _reason(reason))


def withdraw(order: Order, user: User, reason: str = "") -> Order:
    """The school takes back an order the council has not confirmed yet."""
    _require(order, user, WITHDRAW)
    return _move_and_tell(order, user, WITHDRAW, OrderStatus.WITHDRAWN, reason.strip())


def request_cancellation(order: Order, user: User, reason: str) -> Order:
    """The school asks the council to cancel a confirmed order (in progress too: what was
    delivered stays used, the rest is released)."""
    _require(order, user, REQUEST_CANCELLATION)
    return _move_and_tell(
        order, user, REQUEST_CANCELLATION, OrderStatus.CANCELLATION_REQUESTED, _reason(reason)
    )


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise OrderError("Enter a reason")
    if len(text) > MAX_REASON_LENGTH:
        raise OrderError(f"Reason must be {MAX_REASON_LENGTH} characters or fewer")
    return text


# --- The council's steps ----------------------------------------------------------------------


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
    sold = (sold or 0) + cancelled_orders_used_half_days(quadrant_id, year_id)
    sold += partnership_days.sold_half_days(quadrant_id, year_id)  # bought by partnerships
    return CapacityPosition(capacity.traded_capacity_half_days, sold)


def confirm(order: Order, user: User) -> Order:
    """The council confirms a submitted order, if its quadrant team has the days to sell.

    One transaction: the capacity row is locked, the days are counted, the order is confirmed,
    and (unless the council issues its documents in runs) its invoice or recharge is issued, so
    an order is never confirmed without its charge nor charged without being confirmed.
    """
    _require(order, user, CONFIRM)
    school = order.school
    if school.quadrant_id is None:
        raise OrderError(
            f"{school.name} is in no quadrant, so no team's capacity can be used: "
            "set its quadrant first"
        )
    missing = invoicing.missing_for_vat_invoice(school)
    if missing is not None:
        raise OrderError(f"{missing}. The order stays submitted until then")
    position = capacity_position(school.quadrant_id, order.academic_year_id, lock=True)
    quadrant_name = school.quadrant.name if school.quadrant else "this quadrant"
    if position is None:
        raise OrderError(
            f"No traded capacity is set for the {quadrant_name} team in "
            f"{order.academic_year.label}: set it before confirming orders"
        )
    db.session.refresh(order, with_for_update=True)
    _require(order, user, CONFIRM)
    needed = order.half_days or 0
    if needed > position.available_half_days:
        raise OrderError(
            f"The {quadrant_name} team has {pricing.days_text(position.available_half_days)} "
            f"days left to sell in {order.academic_year.label}, and this order needs "
            f"{pricing.days_text(needed)}: it cannot be confirmed"
        )
    late = buy_back.late_order_refusal(
        order, school.quadrant_id, position.available_half_days, quadrant_name
    )
    if late is not None:
        raise OrderError(late)
    order.quadrant_id = school.quadrant_id
    order.confirmed_at = utcnow()
    order.confirmed_by_id = user.id
    _move_and_tell(order, user, CONFIRM, OrderStatus.CONFIRMED)
    if instalments.schedule_order(order, user):
        return order  # charged on its dates (the council's invoice schedule for its route)
    if invoicing.issues_on_confirmation() and not invoicing.waits_for_po(order):
        invoicing.issue_for_order(order, user)
    return order


# --- A PO number given after submission --------------------------------------------------------

# Orders that will never be charged: a PO number is no use to them.
CLOSED_STATUSES = frozenset(
    {OrderStatus.DECLINED, OrderStatus.REJECTED, OrderStatus.WITHDRAWN, OrderStatus.CANCELLED}
)


def po_number_refusal(order: Order, user: User) -> str | None:
    """Why `user` may not add or change the order's PO number now, or None when they may."""
    if not user.is_school_user or user.school_id != order.school_id:
        return OWN_STAFF_ONLY
    if order.status == OrderStatus.DRAFT or order.status in CLOSED_STATUSES:
        return f"{order.reference} is {order.status.label.lower()}, so it needs no PO number"
    if invoicing.charge_document_for(order) is not None:
        return (
            f"{order.reference} has been charged already, so its PO number cannot change: "
            "contact the council"
        )
    return None


def add_po_number(order: Order, user: User, po_number: str) -> Order:
    """The school gives (or corrects) its PO number before the order is charged. A confirmed
    order whose charge waited for it is charged now (when the council charges on confirmation;
    otherwise the next invoice run takes it)."""
    problem = po_number_refusal(order, user)
    if problem is not None:
        raise OrderError(problem)
    po = po_number.strip()
    if not po:
        raise OrderError("Enter your purchase order number")
    if len(po) > MAX_PO_LENGTH:
        raise OrderError(f"Purchase order number must be {MAX_PO_LENGTH} characters or fewer")
    was_waiting = invoicing.waits_for_po(order)
    order.po_number = po
    order.events.append(
        OrderEvent(
            user_id=user.id,
            action="po_number_added",
            from_status=order.status.value,
            to_status=order.status.value,
            note=f"Purchase order number {po}",
            at=utcnow(),
        )
    )
    try:
        db.session.flush()
    except StaleDataError:
        raise OrderConflict(CHANGED_ELSEWHERE) from None
    if was_waiting and instalments.has_schedule(order):
        instalments.raise_due_for_order(order, user)  # those whose date has come
    elif (
        was_waiting
        and order.status in SOLD_STATUSES
        and order.confirmed_at is not None
        and invoicing.issues_on_confirmation()
    ):
        invoicing.issue_for_order(order, user)
    return order


def decline(order: Order, user: User, reason: str) -> Order:
    """The council declines a submitted order, saying why."""
    _require(order, user, DECLINE)
    return _move_and_tell(order, user, DECLINE, OrderStatus.DECLINED, _reason(reason))


def cancel(order: Order, user: User, reason: str) -> Order:
    """The council cancels a confirmed order (usually at the school's request), releasing its
    undelivered days to the school's figures and the team's capacity: its scheduled visits are
    cancelled free of charge, and days already used stay used (days_ledger)."""
    _require(order, user, CANCEL)
    note = _reason(reason)
    cancel_open_visits(order, user)
    _move_and_tell(order, user, CANCEL, OrderStatus.CANCELLED, note)
    # Days not used are credited (late cancellations the notice policy charges are used days).
    reason = f"Order {order.reference} cancelled: {note}"
    if not instalments.cancel_schedule(order, user, reason):
        invoicing.credit_order(order, user, reason)
    return order


def keep(order: Order, user: User, reason: str) -> Order:
    """The council refuses a school's cancellation request: the order stands."""
    _require(order, user, KEEP)
    back = OrderStatus.IN_PROGRESS if order_used_half_days(order.id) else OrderStatus.CONFIRMED
    return _move_and_tell(order, user, KEEP, back, _reason(reason))
