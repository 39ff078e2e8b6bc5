"""Visits against a partnership order: one adviser's visit for one or more of the schools taking
part in a confirmed partnership order, booked against one of its lines (a service the
partnership bought together), delivered and cancelled as one.

A visit draws its half-days once from the line, however many schools it is for, and never more
than the line has left to book (bought − used − booked): the order's row is locked while the
line's days are counted, so two bookings at the same moment take turns (on SQLite every writing
transaction begins with the write lock), and a cancellation of the order cannot slip between
them. It is a `SharedVisit` naming the line, with one `Visit` row per school carrying 0
half-days: the days are the partnership's, not in any school's own totals (days/partnership_days),
while each school's Days page, visit report and feedback see its row, as for shared visits of
core days (days/shared_visits, whose delivery and cancellation these visits use). The adviser's
day and calendar count the visit's length once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from traded_app import formatting
from traded_app.domain.types import CancelledBy
from traded_app.extensions import db
from traded_app.models import School, SharedVisit, User, VisitStatus
from traded_app.models.base import utcnow
from traded_app.models.partnership_orders import (
    PartnershipOrder,
    PartnershipOrderLine,
    PartnershipOrderStatus,
)
from traded_app.models.types import Role
from traded_app.services.days import partnership_days, shared_visits, visits
from traded_app.services.days.visits import VisitError
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.settings import today

BOOKERS = (Role.ADVISER, Role.LA_ADMIN)


@dataclass(frozen=True)
class NewPartnershipVisit:
    adviser_id: int | None
    visit_date: date | None
    half_days: int | None
    school_ids: list[int]
    line_id: int | None
    purpose: str = ""
    override_reason: str = ""


@dataclass(frozen=True)
class LineFigures:
    """A line of the order with its visits' half-days (each visit counted once)."""

    line: PartnershipOrderLine
    use: partnership_days.LineUse

    @property
    def bought(self) -> int:
        return self.line.half_days

    @property
    def left(self) -> int:
        return self.line.half_days - self.use.used - self.use.scheduled


def order_for(user: User, order_id: int) -> PartnershipOrder:
    """A partnership order whose visits a council user who books visits may see."""
    order = db.session.get(PartnershipOrder, order_id) if order_id < 2**31 else None
    if order is None or user.role not in BOOKERS:
        raise NotFound("There is no such partnership order")
    return order


def members(order: PartnershipOrder) -> list[School]:
    """The schools taking part in the order (those with a share), by name."""
    return sorted((share.school for share in order.shares), key=lambda s: s.name)


def line_figures(order: PartnershipOrder) -> list[LineFigures]:
    uses = partnership_days.use_by_line([line.id for line in order.lines])
    return [
        LineFigures(line, uses.get(line.id, partnership_days.LineUse())) for line in order.lines
    ]


def visits_of(order: PartnershipOrder) -> list[SharedVisit]:
    """The order's visits, newest first."""
    return list(
        db.session.execute(
            select(SharedVisit)
            .join(
                PartnershipOrderLine,
                PartnershipOrderLine.id == SharedVisit.partnership_order_line_id,
            )
            .where(PartnershipOrderLine.order_id == order.id)
            .order_by(SharedVisit.visit_date.desc(), SharedVisit.id.desc())
        ).scalars()
    )


def book(
    order: PartnershipOrder,
    details: NewPartnershipVisit,
    user: User,
    *,
    booked_on: date | None = None,
) -> SharedVisit:
    """Book a visit against a line of a confirmed partnership order for some of its schools,
    after every check; nothing is written when one fails."""
    adviser, line, purpose, override = _checked(order, details, user)
    on, half_days = details.visit_date, details.half_days
    assert on is not None and half_days is not None  # (checked)
    schools = _schools(order, details.school_ids)
    year = order.academic_year
    overridden = ""
    for school in schools:
        overridden = (
            visits.check_date(on, year, school.id, override, booked_on=booked_on or today())
            or overridden
        )
    # The order's row is the lock: bookings of its lines, and its cancellation, take turns.
    db.session.refresh(order, with_for_update=True)
    if order.status != PartnershipOrderStatus.CONFIRMED:
        raise VisitError(
            f"{order.reference} is {order.status.label.lower()}: visits can be booked only "
            "against a confirmed partnership order"
        )
    left = LineFigures(line, partnership_days.use_by_line([line.id]).get(line.id, _NONE)).left
    if half_days > left:
        raise VisitError(
            f"{order.reference}'s {line.service.name} has "
            f"{formatting.days(left) if left > 0 else 'no days'} left to book, and this visit "
            f"needs {formatting.days(half_days)}",
            "half_days",
        )
    shared_visits.check_adviser_free(adviser, on, half_days)
    shared = SharedVisit(
        partnership_id=order.partnership_id,
        academic_year_id=year.id,
        plan_item_id=None,
        partnership_order_line_id=line.id,
        adviser_id=adviser.id,
        visit_date=details.visit_date,
        half_days=details.half_days,
        created_by_id=user.id,
        created_at=utcnow(),
    )
    # the days are the partnership's: drawn once, from the line, so each school's row has none
    return shared_visits.add_with_visits(
        shared,
        schools,
        dict.fromkeys((school.id for school in schools), 0),
        purpose,
        user,
        override if overridden else "",
    )


_NONE = partnership_days.LineUse()


def record_delivered(
    order: PartnershipOrder, details: NewPartnershipVisit, user: User, note: str, reason: str
) -> SharedVisit:
    """A visit that took place on a past date and was never booked: booked as of that day
    (every other check as booking) and delivered at once, with why it is recorded late."""
    why = shared_visits.recorded_after(reason, details.visit_date)
    shared = book(order, details, user, booked_on=details.visit_date)
    shared_visits.deliver(shared, user, note)
    for visit in shared.visits:
        visit.recorded_after_reason = why
    db.session.flush()
    return shared


def _checked(
    order: PartnershipOrder, details: NewPartnershipVisit, user: User
) -> tuple[User, PartnershipOrderLine, str, str]:
    """The booking's own details checked: the adviser, the line, the purpose and override."""
    adviser = shared_visits.checked_booker(
        user, details.adviser_id, details.visit_date, details.half_days
    )
    line = next((line for line in order.lines if line.id == details.line_id), None)
    if line is None:
        raise VisitError("Select the service the visit is for", "line_id")
    purpose, override = shared_visits.checked_words(
        user, details.purpose, line.service.name, details.override_reason
    )
    return adviser, line, purpose, override


def _schools(order: PartnershipOrder, school_ids: list[int]) -> list[School]:
    chosen = set(school_ids)
    if not chosen:
        raise VisitError("Select the schools the visit is for", "school_ids")
    found = [s for s in members(order) if s.id in chosen]
    if len(found) != len(chosen):
        raise VisitError(
            f"Select schools taking part in {order.reference}: its visits are for them only",
            "school_ids",
        )
    return found


def cancel_open(order: PartnershipOrder, user: User, reason: str) -> int:
    """Cancel the order's visits still booked (the council's decision, so nothing is charged):
    how many were cancelled."""
    cancelled = 0
    for shared in visits_of(order):
        if shared.visits and shared.visits[0].status == VisitStatus.SCHEDULED:
            shared_visits.cancel(shared, user, CancelledBy.COUNCIL, reason)
            cancelled += 1
    return cancelled
