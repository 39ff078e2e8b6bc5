"""On the day and after: the trainer's register (no-shows charged by the course's terms),
certificates of attendance, the council cancelling a session, and erasing delegates' access and
dietary needs once the session is over."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from traded_app.domain import courses as rules
from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models import CourseBooking, CoursePlace, CourseSession, ScheduledRun, User
from traded_app.models.base import utcnow
from traded_app.models.courses import PlaceStatus
from traded_app.models.types import Role
from traded_app.services.courses import CourseError, charging, notifications
from traded_app.services.courses.booking import OPEN_STATUSES, lock_session
from traded_app.services.documents import pdf
from traded_app.services.platform import schedules
from traded_app.services.platform.settings import council_settings, today

# Places the register lists: those holding a place on the day.
ON_THE_REGISTER = frozenset({PlaceStatus.CONFIRMED, PlaceStatus.ATTENDED, PlaceStatus.NO_SHOW})


def may_take_register(session: CourseSession, user: User) -> bool:
    return user.role == Role.LA_ADMIN or (
        user.role == Role.ADVISER and session.trainer_id == user.id
    )


def register_places(session: CourseSession) -> list[CoursePlace]:
    return list(
        db.session.execute(
            select(CoursePlace)
            .where(CoursePlace.session_id == session.id, CoursePlace.status.in_(ON_THE_REGISTER))
            .order_by(CoursePlace.name, CoursePlace.id)
        ).scalars()
    )


def take_register(session_id: int, user: User, attended_ids: set[int]) -> list[CoursePlace]:
    """Record who came: the places ticked attended, the rest did not attend (charged the
    course's no-show part). Offers still open on the day lapse. It may be taken again the same
    way to correct it; each booking's documents follow (charged or credited)."""
    session = lock_session(session_id)
    if not may_take_register(session, user):
        raise CourseError("Only the session's trainer or a service manager can take the register")
    if session.is_cancelled:
        raise CourseError("This session was cancelled")
    if session.session_date > today():
        raise CourseError(
            f"The register can be taken from the day of the session, {session.session_date:%d %B %Y}"
        )
    places = register_places(session)
    known = {p.id for p in places}
    if not attended_ids <= known:
        raise CourseError("Tick only delegates on this session's register")
    no_show = session.course.no_show_percent
    for place in places:
        if place.id in attended_ids:
            place.status = PlaceStatus.ATTENDED
            place.owed_pence = place.price_pence
        else:
            place.status = PlaceStatus.NO_SHOW
            place.owed_pence = rules.part_of(place.price_pence, no_show)
    for place in _offered(session):
        place.status = PlaceStatus.CANCELLED
        place.cancelled_at = utcnow()
        place.offer_expires_at = None
    session.register_taken_at = utcnow()
    db.session.flush()
    for booking in _bookings(session):
        charging.settle(booking, user, "Charged by the register: who attended and who did not")
    return places


def _offered(session: CourseSession) -> list[CoursePlace]:
    return list(
        db.session.execute(
            select(CoursePlace).where(
                CoursePlace.session_id == session.id, CoursePlace.status == PlaceStatus.OFFERED
            )
        ).scalars()
    )


def _bookings(session: CourseSession) -> list[CourseBooking]:
    return list(
        db.session.execute(
            select(CourseBooking)
            .where(CourseBooking.session_id == session.id)
            .order_by(CourseBooking.id)
        ).scalars()
    )


def cancel_session(session_id: int, user: User, reason: str) -> list[CoursePlace]:
    """The council cancels a session: every place is released and credited in full, and each
    school and delegate is told by e-mail."""
    reason = reason.strip()
    if not reason:
        raise CourseError("Enter why the session is cancelled", "reason")
    if len(reason) > 1000:
        raise CourseError("The reason must be 1000 characters or fewer", "reason")
    session = lock_session(session_id)
    if session.is_cancelled:
        raise CourseError("This session is already cancelled")
    if session.register_taken_at is not None:
        raise CourseError("The register has been taken: the session took place")
    now = utcnow()
    session.cancelled_at, session.cancel_reason = now, reason
    affected = list(
        db.session.execute(
            select(CoursePlace).where(
                CoursePlace.session_id == session.id, CoursePlace.status.in_(OPEN_STATUSES)
            )
        ).scalars()
    )
    for place in affected:
        place.status = PlaceStatus.SESSION_CANCELLED
        place.cancelled_at = now
        place.offer_expires_at = None
        place.owed_pence = 0
    db.session.flush()
    for booking in _bookings(session):
        charging.settle(booking, user, f"Session cancelled by the council: {reason}")
    notifications.session_cancelled(session, affected, reason)
    return affected


def certificate_pdf(place: CoursePlace) -> bytes:
    """A certificate of attendance for a delegate marked attended."""
    if place.status != PlaceStatus.ATTENDED:
        raise CourseError(f"{place.name} is not recorded as attending, so has no certificate")
    session = place.session
    settings = council_settings()
    return pdf.render_certificate(
        {
            "council": settings.name if settings else "",
            "name": place.name,
            "school": place.booking.school.name,
            "course": session.course.title,
            "date": f"{session.session_date:%A %d %B %Y}",
            "times": f"{session.start_time} to {session.end_time}",
            "venue": session.venue,
            "trainer": session.trainer.name if session.trainer else "",
            "reference": f"{place.booking.reference}-{place.id}",
        }
    )


def erase_needs(now: datetime | None = None) -> int:
    """Erase delegates' access and dietary needs on every session that is over (its day has
    passed, or it was cancelled); each session once. Returns the places erased."""
    now = now or utcnow()
    day = now.astimezone(LONDON).date()
    sessions = list(
        db.session.execute(
            select(CourseSession).where(
                CourseSession.needs_erased_at.is_(None),
                (CourseSession.session_date < day) | CourseSession.cancelled_at.is_not(None),
            )
        ).scalars()
    )
    erased = 0
    for session in sessions:
        places = db.session.execute(
            select(CoursePlace).where(CoursePlace.session_id == session.id, CoursePlace.needs != "")
        ).scalars()
        for place in places:
            place.needs = ""
            erased += 1
        session.needs_erased_at = now
    db.session.flush()
    return erased


ERASE_SCHEDULE = "courses.erase_needs"


def _daily(now: datetime) -> str | None:
    return schedules.daily_at(now, datetime.min.time())


@schedules.schedule(
    ERASE_SCHEDULE,
    "Delegates' access and dietary needs erased after sessions",
    _daily,
    lambda: "Every day after midnight",
)
def run_erase_needs(run: ScheduledRun) -> str:
    erased = erase_needs(run.started_at)
    return f"{erased} delegate{'' if erased == 1 else 's'}' needs erased"
