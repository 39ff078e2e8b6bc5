"""Orders found and listed: one order as a person may see it, a school's orders, the council's
queue with its filters, and counts of orders by status."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from traded_app.domain.numbers import whole_number
from traded_app.extensions import db
from traded_app.models import Order, OrderLine, OrderStatus, School, User
from traded_app.services.ordering import po_numbers
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.paging import Page, paginate


class OrderNotFound(NotFound, LookupError):
    """No such order, or one this user may not know exists."""


def order_visible_to(user: User, order_id: int) -> Order:
    """A submitted order `user` may see: council users see all, school users their school's.

    Drafts are not orders yet: they are reached through the catalogue, never by id.
    """
    order = db.session.get(Order, order_id)
    if order is None or order.status == OrderStatus.DRAFT:
        raise OrderNotFound
    if not user.may_see(order.school):
        raise OrderNotFound
    return order


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


def orders_awaiting_approval(school_id: int) -> list[Order]:
    """The school's orders over its limit waiting for a headteacher's approval, oldest first."""
    return list(
        db.session.execute(
            select(Order)
            .where(Order.school_id == school_id, Order.status == OrderStatus.AWAITING_APPROVAL)
            .order_by(Order.submitted_at, Order.id)
        ).scalars()
    )


NEEDS_ACTION = "needs_action"
AWAITING_PO = "awaiting_po"
QUEUE_STATUSES = {
    NEEDS_ACTION: "Needs the council's action",
    AWAITING_PO: "Confirmed, invoice waiting for a PO number",
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
class OrderQueue:
    """A page of the queue, and the days and money of every order the filters match."""

    orders: Page[Order]
    half_days: int
    gross_pence: int


def council_queue(filters: QueueFilters, per_page: int = 25) -> OrderQueue:
    """Submitted orders for the council, filtered, oldest waiting first."""
    stmt = select(Order).join(School, School.id == Order.school_id)
    if filters.status == NEEDS_ACTION:
        stmt = stmt.where(
            Order.status.in_([OrderStatus.SUBMITTED, OrderStatus.CANCELLATION_REQUESTED])
        )
    elif filters.status == AWAITING_PO:
        stmt = stmt.where(po_numbers.WAITING)
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
        urn = whole_number(text)
        if urn is not None:
            conditions.append(School.urn == urn)
        stmt = stmt.where(or_(*conditions))
    counted = stmt.with_only_columns(
        func.count(),
        func.coalesce(func.sum(Order.half_days), 0),
        func.coalesce(func.sum(Order.gross_pence), 0),
    )
    total, half_days, gross = db.session.execute(counted).one()
    orders = paginate(
        stmt.options(
            joinedload(Order.school).joinedload(School.quadrant),
            selectinload(Order.lines).joinedload(OrderLine.service),
        ).order_by(Order.submitted_at, Order.id),
        filters.page,
        per_page,
        total=int(total),
    )
    return OrderQueue(orders, int(half_days), int(gross))


def order_counts(school: School | None = None) -> dict[OrderStatus, int]:
    """How many orders are in each status: one school's, or every school's."""
    stmt = select(Order.status, func.count()).group_by(Order.status)
    if school is not None:
        stmt = stmt.where(Order.school_id == school.id)
    return dict(db.session.execute(stmt).tuples().all())
