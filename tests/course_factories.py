"""Courses and events for tests (issue 20): a course with prices for maintained schools and
academies, a session in the future, and places booked through the service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from traded_app.extensions import db
from traded_app.models import CourseBooking, CourseSession
from traded_app.models.types import CustomerType, Role, VatTreatment
from traded_app.services.courses import attendance, booking, catalogue
from traded_app.services.platform.settings import today

PRICE = 12_000  # £120 a place


def make_course(
    code: str = "PMTRAIN",
    *,
    price_pence: int = PRICE,
    free_until_days: int = 14,
    late_percent: int = 50,
    no_show_percent: int = 100,
) -> Any:
    return catalogue.create_course(
        catalogue.CourseInput(
            code=code,
            title="Effective performance management",
            kind=catalogue.CourseKind.COURSE,
            audience=catalogue.Audience.HEADTEACHERS,
            description="Setting objectives and reviewing them well.",
            income_code="INC-CPD",
            free_until_days=free_until_days,
            late_percent=late_percent,
            no_show_percent=no_show_percent,
            prices=(
                catalogue.PriceInput(
                    CustomerType.MAINTAINED, price_pence, VatTreatment.OUTSIDE_SCOPE, 0
                ),
                catalogue.PriceInput(
                    CustomerType.ACADEMY, price_pence, VatTreatment.STANDARD, 2000
                ),
            ),
        )
    )


def make_session(
    world: Any, *, places: int = 10, days_ahead: int = 30, course: Any = None
) -> CourseSession:
    course = course or make_course()
    on = today() + timedelta(days=days_ahead)
    session = catalogue.add_session(
        course,
        catalogue.SessionInput(
            session_date=on,
            start_time="09:30",
            end_time="15:30",
            venue="County Hall, Chelmsford",
            online_link="",
            places=places,
            booking_deadline=on,
            trainer_id=world.users[Role.ADVISER].id,
        ),
    )
    db.session.commit()
    return session


def delegates(count: int, prefix: str = "Delegate") -> list[booking.Delegate]:
    return [
        booking.Delegate(f"{prefix} {n}", "Teacher", f"{prefix.lower()}{n}@school.example")
        for n in range(1, count + 1)
    ]


def book(
    world: Any,
    session: CourseSession,
    count: int = 1,
    *,
    academy: bool = False,
    prefix: str = "Delegate",
) -> CourseBooking:
    school = world.academy if academy else world.school
    user = world.academy_sbm if academy else world.users[Role.SCHOOL_BUSINESS_MANAGER]
    made = booking.book(session.id, school, user, delegates(count, prefix), "PO-7")
    db.session.commit()
    return made


def courses_for_access(world: Any) -> tuple[CourseSession, CourseBooking, Any]:
    """A session today whose register is taken: one delegate of the school attended (the
    place every place URL names, with a certificate), one did not."""
    session = make_session(world, places=3, days_ahead=0, course=make_course("ACCESS"))
    made = book(world, session, 2, prefix="Access")
    attendance.take_register(session.id, world.users[Role.ADVISER], {made.places[0].id})
    db.session.commit()
    return session, made, made.places[0]
