"""E-mails about course places, queued in the transaction they are about (platform.outbox)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models import CourseBooking, CoursePlace, CourseSession, User
from traded_app.models.types import Role
from traded_app.services.platform import outbox
from traded_app.services.platform.links import absolute_url


def _unique(addresses: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for address in addresses:
        if address and address.strip():
            seen.setdefault(address.strip().lower(), None)
    return list(seen)


def _booker(booking: CourseBooking) -> list[str]:
    user = booking.booked_by
    return [user.email] if user is not None and user.active else []


def _booking_link(booking: CourseBooking) -> str:
    link = absolute_url("courses.booking_detail", booking_id=booking.id)
    return f"\n\nSee the booking: {link}\n" if link else "\n"


def describe(session: CourseSession) -> str:
    where = session.venue or "online"
    return (
        f"{session.course.title} on {session.session_date:%A %d %B %Y}, "
        f"{session.start_time} to {session.end_time} ({where})"
    )


def _send(to: list[str], subject: str, body: str, booking: CourseBooking) -> None:
    outbox.queue_email(_unique(to), subject, body, purpose=subject, school_id=booking.school_id)


def needs_approval(booking: CourseBooking) -> None:
    heads = db.session.execute(
        select(User.email).where(
            User.school_id == booking.school_id,
            User.role == Role.HEADTEACHER,
            User.active.is_(True),
        )
    ).scalars()
    names = ", ".join(p.name for p in booking.places)
    _send(
        list(heads),
        f"Course places to approve: {booking.reference}",
        f"{booking.booked_by.name} has booked places on {describe(booking.session)} for "
        f"{names}. The cost is over your school's approval limit, so the places wait for your "
        f"approval." + _booking_link(booking),
        booking,
    )


def booked(booking: CourseBooking, places: list[CoursePlace]) -> None:
    confirmed = [p.name for p in places if p.status.value == "confirmed"]
    waiting = [p.name for p in places if p.status.value == "waiting"]
    lines = []
    if confirmed:
        lines.append("Confirmed places: " + ", ".join(confirmed) + ".")
    if waiting:
        lines.append(
            "On the waiting list, in order: " + ", ".join(waiting) + ". We will e-mail you if "
            "a place is freed."
        )
    _send(
        _booker(booking) + [p.email for p in places],
        f"Booking {booking.reference}: {booking.session.course.title}",
        f"Your booking on {describe(booking.session)}.\n\n"
        + "\n".join(lines)
        + _booking_link(booking),
        booking,
    )


def offered(place: CoursePlace) -> None:
    booking = place.booking
    assert place.offer_expires_at is not None
    deadline = place.offer_expires_at.astimezone(LONDON)
    _send(
        [*_booker(booking), place.email],
        f"A place is free for {place.name}: {booking.session.course.title}",
        f"A place has been freed on {describe(booking.session)}, and {place.name} is next on "
        f"the waiting list. Accept it by {deadline:%H:%M on %A %d %B %Y}, or it goes to the "
        f"next person waiting." + _booking_link(booking),
        booking,
    )


def offer_lapsed(place: CoursePlace) -> None:
    booking = place.booking
    _send(
        [*_booker(booking), place.email],
        f"Place offer lapsed for {place.name}: {booking.session.course.title}",
        f"The place offered to {place.name} on {describe(booking.session)} was not accepted "
        f"in time, so it has gone to the next person waiting." + _booking_link(booking),
        booking,
    )


def session_cancelled(session: CourseSession, places: list[CoursePlace], reason: str) -> None:
    by_booking: dict[int, list[CoursePlace]] = {}
    for place in places:
        by_booking.setdefault(place.booking_id, []).append(place)
    for booked_places in by_booking.values():
        booking = booked_places[0].booking
        _send(
            _booker(booking) + [p.email for p in booked_places],
            f"Cancelled: {session.course.title} on {session.session_date:%d %B %Y}",
            f"We are sorry: the council has cancelled {describe(session)}. {reason}\n\n"
            "Any charge for these places is credited in full." + _booking_link(booking),
            booking,
        )
