"""Booking places for named delegates, the waiting list and its offers, substitution and
cancellation.

Every change to a session's places locks the session's row first (SELECT ... FOR UPDATE on
PostgreSQL; on SQLite the write lock taken at BEGIN IMMEDIATE already serialises writers), then
counts the places held. So however many bookings arrive at once, each sees the places the
others took, and the session is never oversold: the places left are confirmed in turn and the
rest join the waiting list in the order they arrived.

A place freed (a cancellation, an offer turned down or lapsed, the council adding places) is
offered to the first delegate waiting, by e-mail, with a deadline to accept; a schedule lapses
offers not taken up in time and offers the place to the next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from traded_app.domain import courses as rules
from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models import (
    CourseBooking,
    CoursePlace,
    CourseSession,
    ScheduledRun,
    School,
    User,
)
from traded_app.models.base import utcnow
from traded_app.models.courses import HOLDING_STATUSES, PlaceStatus
from traded_app.models.types import Role
from traded_app.services.courses import CourseError, charging, notifications
from traded_app.services.ordering.basket import needs_approval
from traded_app.services.platform import schedules
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.settings import today

MAX_DELEGATES = 10
OFFER_HOURS = 48
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OPEN_STATUSES = frozenset(
    {
        PlaceStatus.AWAITING_APPROVAL,
        PlaceStatus.CONFIRMED,
        PlaceStatus.WAITING,
        PlaceStatus.OFFERED,
    }
)


@dataclass(frozen=True)
class Delegate:
    name: str
    role: str
    email: str
    needs: str = ""


def check_delegate(delegate: Delegate, prefix: str = "") -> Delegate:
    name, email = delegate.name.strip(), delegate.email.strip()
    if not name:
        raise CourseError("Enter the delegate's name", f"{prefix}name")
    if len(name) > 120:
        raise CourseError("The name must be 120 characters or fewer", f"{prefix}name")
    if not EMAIL.match(email) or len(email) > 254:
        raise CourseError(
            "Enter the delegate's e-mail address, like name@school.example", f"{prefix}email"
        )
    if len(delegate.role.strip()) > 120:
        raise CourseError("The role must be 120 characters or fewer", f"{prefix}role")
    if len(delegate.needs) > 1000:
        raise CourseError(
            "Access or dietary needs must be 1000 characters or fewer", f"{prefix}needs"
        )
    return Delegate(name, delegate.role.strip(), email, delegate.needs.strip())


def lock_session(session_id: int) -> CourseSession:
    """The session's row, locked for the rest of the transaction."""
    session = db.session.execute(
        select(CourseSession)
        .where(CourseSession.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if session is None:
        raise NotFound("No such session")
    return session


def _count(session_id: int, statuses: frozenset[PlaceStatus]) -> int:
    return int(
        db.session.execute(
            select(func.count()).where(
                CoursePlace.session_id == session_id, CoursePlace.status.in_(statuses)
            )
        ).scalar_one()
    )


def free_places(session: CourseSession) -> int:
    return session.places - _count(session.id, HOLDING_STATUSES)


def book(
    session_id: int, school: School, user: User, delegates: list[Delegate], po_number: str = ""
) -> CourseBooking:
    """Book places on a session for named delegates: confirmed at once while places remain,
    the rest on the waiting list in order; all of them wait for the headteacher first when the
    cost is over the school's approval limit and the booker is not the headteacher."""
    if user.school_id != school.id:
        raise NotFound("No such school")
    if not delegates:
        raise CourseError("Enter the name and e-mail address of at least one delegate")
    if len(delegates) > MAX_DELEGATES:
        raise CourseError(f"Book at most {MAX_DELEGATES} places at a time", "delegates-0-name")
    checked = [check_delegate(d, f"delegates-{i}-") for i, d in enumerate(delegates)]
    if len(po_number.strip()) > 40:
        raise CourseError("The purchase order number must be 40 characters or fewer", "po_number")
    session = lock_session(session_id)
    if session.is_cancelled:
        raise CourseError("This session has been cancelled")
    if today() > session.booking_deadline:
        raise CourseError(
            f"Bookings for this session closed on {session.booking_deadline:%d %B %Y}"
        )
    price = session.course.price_for(school.customer_type)
    if price is None:
        raise CourseError(
            f"{session.course.title} is not offered to {school.name}'s type of school"
        )
    booking = CourseBooking(
        session=session, school=school, booked_by=user, po_number=po_number.strip()
    )
    db.session.add(booking)
    places = [
        CoursePlace(
            booking=booking,
            session_id=session.id,
            status=PlaceStatus.AWAITING_APPROVAL,
            name=d.name,
            role=d.role,
            email=d.email,
            needs=d.needs,
            price_pence=price.price_per_place_pence,
            vat_treatment=price.vat_treatment,
            vat_rate_bp=price.vat_rate_bp,
        )
        for d in checked
    ]
    db.session.add_all(places)
    over_limit = needs_approval(school, price.price_per_place_pence * len(places))
    if over_limit and user.role != Role.HEADTEACHER:
        db.session.flush()
        notifications.needs_approval(booking)
        return booking
    if over_limit:
        booking.approved_by_id = user.id
    _allocate(session, places)
    charging.settle(booking, user)
    notifications.booked(booking, places)
    return booking


def _allocate(session: CourseSession, places: list[CoursePlace]) -> None:
    """Confirm the places while the session has room and no one is waiting ahead; the rest
    join the waiting list, in the order given."""
    db.session.flush()
    free = free_places(session)
    if _count(session.id, frozenset({PlaceStatus.WAITING})) > 0:
        free = 0  # nobody jumps the queue
    now = utcnow()
    for place in places:
        if free > 0:
            _confirm(place, now)
            free -= 1
        else:
            place.status = PlaceStatus.WAITING
            place.waiting_since = now
    db.session.flush()


def _confirm(place: CoursePlace, now: datetime) -> None:
    place.status = PlaceStatus.CONFIRMED
    place.confirmed_at = now
    place.offer_expires_at = None
    place.owed_pence = place.price_pence


def booking_for(user: User, booking_id: int) -> CourseBooking:
    """The booking, when `user` may see it: the school's own staff, or the council."""
    booking = db.session.get(CourseBooking, booking_id)
    if booking is None or (user.role.is_school_role and booking.school_id != user.school_id):
        raise NotFound("No such booking")
    return booking


def place_for(user: User, place_id: int) -> CoursePlace:
    place = db.session.get(CoursePlace, place_id)
    if place is None:
        raise NotFound("No such place")
    booking_for(user, place.booking_id)
    return place


def school_bookings(school_id: int) -> list[CourseBooking]:
    return list(
        db.session.execute(
            select(CourseBooking)
            .join(CourseSession)
            .where(CourseBooking.school_id == school_id)
            .order_by(CourseSession.session_date.desc(), CourseBooking.id.desc())
        ).scalars()
    )


def approve(booking: CourseBooking, user: User) -> None:
    """The headteacher approves places over the limit: they are booked as they would have been."""
    _require_headteacher(booking, user)
    waiting = [p for p in booking.places if p.status == PlaceStatus.AWAITING_APPROVAL]
    if not waiting:
        raise CourseError("This booking has nothing waiting for approval")
    session = lock_session(booking.session_id)
    if session.is_cancelled:
        raise CourseError("This session has been cancelled")
    booking.approved_by_id = user.id
    _allocate(session, waiting)
    charging.settle(booking, user)
    notifications.booked(booking, waiting)


def reject(booking: CourseBooking, user: User) -> None:
    _require_headteacher(booking, user)
    waiting = [p for p in booking.places if p.status == PlaceStatus.AWAITING_APPROVAL]
    if not waiting:
        raise CourseError("This booking has nothing waiting for approval")
    for place in waiting:
        place.status = PlaceStatus.REJECTED
        place.cancelled_at = utcnow()
    db.session.flush()


def _require_headteacher(booking: CourseBooking, user: User) -> None:
    if user.role != Role.HEADTEACHER or user.school_id != booking.school_id:
        raise CourseError("Only the school's headteacher can approve places over the limit")


def substitute(place: CoursePlace, user: User, delegate: Delegate) -> None:
    """Someone else takes the place (or the place on the waiting list), until the register."""
    if place.status not in OPEN_STATUSES or place.session.register_taken_at is not None:
        raise CourseError(f"{place.name}'s place can no longer be given to someone else")
    checked = check_delegate(delegate)
    place.name, place.role, place.email = checked.name, checked.role, checked.email
    place.needs = checked.needs
    db.session.flush()


@dataclass(frozen=True)
class Quote:
    percent: int
    pence: int


def cancellation_quote(place: CoursePlace, on: date | None = None) -> Quote:
    """What cancelling the place on `on` would cost, by the course's terms."""
    if place.status != PlaceStatus.CONFIRMED:
        return Quote(0, 0)
    session = place.session
    percent = rules.cancellation_percent(session.course.terms, session.session_date, on or today())
    return Quote(percent, rules.part_of(place.price_pence, percent))


def cancel_place(place: CoursePlace, user: User, on: date | None = None) -> Quote:
    """The school cancels a place (or leaves the waiting list), charged by the course's terms;
    a freed place is offered to the first delegate waiting."""
    session = lock_session(place.session_id)
    if place.status not in OPEN_STATUSES or session.register_taken_at is not None:
        raise CourseError(f"{place.name}'s place cannot be cancelled now")
    quote = cancellation_quote(place, on)
    freed = place.holds_a_place
    place.status = PlaceStatus.CANCELLED
    place.cancelled_at = utcnow()
    place.offer_expires_at = None
    place.owed_pence = quote.pence
    db.session.flush()
    charging.settle(
        place.booking,
        user,
        f"{place.name}'s place cancelled ({quote.percent}% charged by the course's terms)",
    )
    if freed:
        offer_next(session)
    return quote


def offer_deadline(session: CourseSession, now: datetime) -> datetime:
    """When an offer made now lapses: OFFER_HOURS later, but never after the session starts."""
    hours, minutes = (int(part) for part in session.start_time.split(":"))
    starts = datetime.combine(session.session_date, time(hours, minutes), LONDON)
    return min(now + timedelta(hours=OFFER_HOURS), starts)


def offer_next(session: CourseSession, now: datetime | None = None) -> list[CoursePlace]:
    """Offer each free place to the next delegate waiting, in order."""
    now = now or utcnow()
    if session.is_cancelled or session.register_taken_at is not None:
        return []
    deadline = offer_deadline(session, now)
    if deadline <= now:
        return []
    offered = []
    for _ in range(max(0, free_places(session))):
        place = db.session.execute(
            select(CoursePlace)
            .where(CoursePlace.session_id == session.id, CoursePlace.status == PlaceStatus.WAITING)
            .order_by(CoursePlace.waiting_since, CoursePlace.id)
            .limit(1)
        ).scalar_one_or_none()
        if place is None:
            break
        place.status = PlaceStatus.OFFERED
        place.offer_expires_at = deadline
        db.session.flush()
        notifications.offered(place)
        offered.append(place)
    return offered


def accept_offer(place: CoursePlace, user: User) -> None:
    lock_session(place.session_id)
    if place.status != PlaceStatus.OFFERED:
        raise CourseError(f"There is no place on offer to {place.name}")
    assert place.offer_expires_at is not None
    if place.offer_expires_at <= utcnow():
        raise CourseError("The time to accept this place has passed")
    _confirm(place, utcnow())
    db.session.flush()
    charging.settle(place.booking, user)


def decline_offer(place: CoursePlace, user: User) -> None:
    session = lock_session(place.session_id)
    if place.status != PlaceStatus.OFFERED:
        raise CourseError(f"There is no place on offer to {place.name}")
    place.status = PlaceStatus.CANCELLED
    place.cancelled_at = utcnow()
    place.offer_expires_at = None
    db.session.flush()
    offer_next(session)


def expire_offers(now: datetime | None = None) -> int:
    """Lapse the offers not accepted in time and offer those places to the next waiting."""
    now = now or utcnow()
    lapsed = list(
        db.session.execute(
            select(CoursePlace)
            .where(CoursePlace.status == PlaceStatus.OFFERED, CoursePlace.offer_expires_at <= now)
            .order_by(CoursePlace.session_id, CoursePlace.id)
        ).scalars()
    )
    sessions = {}
    for place in lapsed:
        sessions[place.session_id] = lock_session(place.session_id)
        place.status = PlaceStatus.CANCELLED
        place.cancelled_at = now
        place.offer_expires_at = None
        notifications.offer_lapsed(place)
    db.session.flush()
    for session in sessions.values():
        offer_next(session, now)
    return len(lapsed)


OFFERS_SCHEDULE = "courses.offers"


def _hourly(now: datetime) -> str | None:
    return now.astimezone(LONDON).strftime("%Y-%m-%dT%H")


@schedules.schedule(
    OFFERS_SCHEDULE, "Course place offers that lapse", _hourly, lambda: "Every hour"
)
def run_expire_offers(run: ScheduledRun) -> str:
    lapsed = expire_offers(run.started_at)
    return f"{lapsed} offer{'' if lapsed == 1 else 's'} lapsed"
