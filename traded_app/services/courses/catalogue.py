"""The council's courses and sessions, and the list schools book from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from traded_app.extensions import db
from traded_app.models import (
    Audience,
    Course,
    CourseKind,
    CoursePlace,
    CoursePrice,
    CourseSession,
    User,
)
from traded_app.models.courses import HOLDING_STATUSES, PlaceStatus
from traded_app.models.types import CustomerType, Role, VatTreatment
from traded_app.services.courses import CourseError
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.settings import today

TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
CODE = re.compile(r"^[A-Z0-9-]{2,16}$")


@dataclass(frozen=True)
class PriceInput:
    customer_type: CustomerType
    price_per_place_pence: int
    vat_treatment: VatTreatment
    vat_rate_bp: int


@dataclass(frozen=True)
class CourseInput:
    code: str
    title: str
    kind: CourseKind
    audience: Audience
    description: str
    income_code: str
    free_until_days: int
    late_percent: int
    no_show_percent: int
    prices: tuple[PriceInput, ...]


@dataclass(frozen=True)
class SessionInput:
    session_date: date
    start_time: str
    end_time: str
    venue: str
    online_link: str
    places: int
    booking_deadline: date
    trainer_id: int | None


def create_course(details: CourseInput) -> Course:
    """A new course with a price for each type of customer."""
    code = details.code.strip().upper()
    if not CODE.match(code):
        raise CourseError("Enter a code of 2 to 16 capital letters, digits or hyphens", "code")
    if db.session.execute(select(Course.id).where(Course.code == code)).first() is not None:
        raise CourseError(f"There is already a course with the code {code}", "code")
    if not details.title.strip():
        raise CourseError("Enter the course's title", "title")
    if not details.income_code.strip():
        raise CourseError("Enter the income code the places are charged to", "income_code")
    for field, percent in (
        ("late_percent", details.late_percent),
        ("no_show_percent", details.no_show_percent),
    ):
        if not 0 <= percent <= 100:
            raise CourseError("Enter a percentage from 0 to 100", field)
    if details.free_until_days < 0:
        raise CourseError("Enter 0 or more days", "free_until_days")
    course = Course(
        code=code,
        title=details.title.strip(),
        kind=details.kind,
        audience=details.audience,
        description=details.description.strip(),
        income_code=details.income_code.strip(),
        free_until_days=details.free_until_days,
        late_percent=details.late_percent,
        no_show_percent=details.no_show_percent,
    )
    course.prices = [
        CoursePrice(
            customer_type=price.customer_type,
            price_per_place_pence=price.price_per_place_pence,
            vat_treatment=price.vat_treatment,
            vat_rate_bp=price.vat_rate_bp,
        )
        for price in details.prices
    ]
    db.session.add(course)
    db.session.flush()
    return course


def add_session(course: Course, details: SessionInput) -> CourseSession:
    """A session of `course`: in the future, with places and a deadline on or before its day."""
    for field, value in (("start_time", details.start_time), ("end_time", details.end_time)):
        if not TIME.match(value):
            raise CourseError("Enter a time as hours and minutes, like 09:30", field)
    if details.end_time <= details.start_time:
        raise CourseError("The session must end after it starts", "end_time")
    if details.session_date < today():
        raise CourseError("The session's date must be today or in the future", "session_date")
    if details.booking_deadline > details.session_date:
        raise CourseError(
            "The booking deadline must be on or before the session's date", "booking_deadline"
        )
    if details.places < 1 or details.places > 1000:
        raise CourseError("Enter a number of places from 1 to 1000", "places")
    if not details.venue.strip() and not details.online_link.strip():
        raise CourseError("Enter the venue, or the link for an online session", "venue")
    link = details.online_link.strip()
    if link and not link.startswith("https://"):
        raise CourseError("Enter an online link that starts with https://", "online_link")
    if details.trainer_id is not None and details.trainer_id not in dict(trainer_choices()):
        raise CourseError("Select a trainer from the list", "trainer_id")
    session = CourseSession(
        course=course,
        session_date=details.session_date,
        start_time=details.start_time,
        end_time=details.end_time,
        venue=details.venue.strip(),
        online_link=link,
        places=details.places,
        booking_deadline=details.booking_deadline,
        trainer_id=details.trainer_id,
    )
    db.session.add(session)
    db.session.flush()
    return session


def trainer_choices() -> list[tuple[int, str]]:
    """Council staff who may take a session's register: advisers and service managers."""
    rows = db.session.execute(
        select(User.id, User.name)
        .where(User.active.is_(True), User.role.in_([Role.ADVISER, Role.LA_ADMIN]))
        .order_by(User.name)
    ).tuples()
    return [(user_id, name) for user_id, name in rows]


def courses() -> list[Course]:
    return list(
        db.session.execute(
            select(Course).options(selectinload(Course.prices)).order_by(Course.title)
        ).scalars()
    )


def course(course_id: int) -> Course:
    found = db.session.get(Course, course_id)
    if found is None:
        raise NotFound("No such course")
    return found


def session_of(session_id: int) -> CourseSession:
    found = db.session.get(CourseSession, session_id)
    if found is None:
        raise NotFound("No such session")
    return found


def places_taken(session_ids: list[int]) -> dict[int, int]:
    """Places held (confirmed, offered, attended or not) on each session."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(CoursePlace.session_id, func.count())
        .where(CoursePlace.session_id.in_(session_ids), CoursePlace.status.in_(HOLDING_STATUSES))
        .group_by(CoursePlace.session_id)
    ).tuples()
    return {session_id: int(count) for session_id, count in rows}


def waiting_counts(session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(CoursePlace.session_id, func.count())
        .where(CoursePlace.session_id.in_(session_ids), CoursePlace.status == PlaceStatus.WAITING)
        .group_by(CoursePlace.session_id)
    ).tuples()
    return {session_id: int(count) for session_id, count in rows}


@dataclass(frozen=True)
class Listed:
    session: CourseSession
    places_left: int
    waiting: int

    @property
    def full(self) -> bool:
        return self.places_left <= 0


def open_sessions(
    audience: Audience | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
    *,
    with_places_only: bool = False,
) -> list[Listed]:
    """Sessions schools can book now (not cancelled, before their booking deadline), soonest
    first, filtered by audience and dates; with the places left on each."""
    stmt = (
        select(CourseSession)
        .join(Course)
        .options(selectinload(CourseSession.course).selectinload(Course.prices))
        .where(CourseSession.cancelled_at.is_(None), CourseSession.booking_deadline >= today())
        .order_by(CourseSession.session_date, CourseSession.start_time, CourseSession.id)
    )
    if audience is not None:
        stmt = stmt.where(Course.audience == audience)
    if from_date is not None:
        stmt = stmt.where(CourseSession.session_date >= from_date)
    if to_date is not None:
        stmt = stmt.where(CourseSession.session_date <= to_date)
    sessions = list(db.session.execute(stmt).scalars())
    ids = [s.id for s in sessions]
    taken, waiting = places_taken(ids), waiting_counts(ids)
    listed = [
        Listed(s, max(0, s.places - taken.get(s.id, 0)), waiting.get(s.id, 0)) for s in sessions
    ]
    return [item for item in listed if item.places_left > 0] if with_places_only else listed


def sessions_to_train(user: User) -> list[CourseSession]:
    """Sessions from a week ago on, soonest first: the trainer's own (every session for a
    service manager), for the register and the delegate list."""
    stmt = (
        select(CourseSession)
        .options(selectinload(CourseSession.course))
        .where(CourseSession.session_date >= today() - timedelta(days=7))
        .order_by(CourseSession.session_date, CourseSession.start_time, CourseSession.id)
    )
    if user.role != Role.LA_ADMIN:
        stmt = stmt.where(CourseSession.trainer_id == user.id)
    return list(db.session.execute(stmt).scalars())
