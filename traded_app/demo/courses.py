"""Demo courses and events (issue 20): two courses with sessions this term, loaded through the
services. Effective performance management is full, with a place freed and offered to the
first of the waiting list; the governors' briefing was today, its register taken: one delegate
attended (a certificate to download), one did not come (charged by the terms).

Made once: when the courses' codes are already there, nothing is loaded again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import Course, User
from traded_app.models.types import CustomerType, VatTreatment
from traded_app.services.courses import attendance, booking, catalogue
from traded_app.services.platform.settings import today

TRAINER = "adviser@example.org"


def _course(code: str, title: str, audience: catalogue.Audience, price_pence: int) -> Course:
    return catalogue.create_course(
        catalogue.CourseInput(
            code=code,
            title=title,
            kind=catalogue.CourseKind.COURSE
            if audience == catalogue.Audience.HEADTEACHERS
            else catalogue.CourseKind.BRIEFING,
            audience=audience,
            description=f"{title}: the council's school improvement team.",
            income_code="T-CPD-" + code[:4],
            free_until_days=14,
            late_percent=50,
            no_show_percent=100,
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


def _user(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def _session(course: Course, days_ahead: int, places: int, trainer: User) -> int:
    on = today() + timedelta(days=days_ahead)
    return catalogue.add_session(
        course,
        catalogue.SessionInput(
            session_date=on,
            start_time="09:30",
            end_time="15:30",
            venue="County Hall, Market Road, Chelmsford",
            online_link="",
            places=places,
            booking_deadline=on,
            trainer_id=trainer.id,
        ),
    ).id


def _book(session_id: int, email: str, names: list[str]) -> booking.CourseBooking:
    user = _user(email)
    assert user.school is not None
    delegates = [
        booking.Delegate(name, "Teacher", name.lower().replace(" ", ".") + "@school.example")
        for name in names
    ]
    return booking.book(session_id, user.school, user, delegates, "DEMO-PO")


def load_courses() -> int:
    """Two courses, their sessions and bookings; returns the places booked."""
    if db.session.execute(select(Course.id).where(Course.code == "PMTRAIN")).first():
        return 0
    trainer = _user(TRAINER)
    management = _course(
        "PMTRAIN", "Effective performance management", catalogue.Audience.HEADTEACHERS, 15_000
    )
    full = _session(management, 21, 8, trainer)
    heads = ["head@example.org", "head2@example.org", "head3@example.org", "head4@example.org"]
    made = [
        _book(full, email, [f"Delegate {n}{letter}" for letter in "AB"])
        for n, email in enumerate(heads, start=1)
    ]
    _book(full, "head@example.org", ["Waiting One", "Waiting Two"])
    # One place freed: offered to the first of the waiting list, by e-mail, with a deadline.
    booking.cancel_place(made[-1].places[-1], _user(heads[-1]))
    governors = _course("GOVBRIEF", "Briefing for governors", catalogue.Audience.GOVERNORS, 4_000)
    briefing = _session(governors, 0, 30, trainer)
    held = _book(briefing, "head2@example.org", ["Gill Attended", "Max Absent"])
    attendance.take_register(briefing, trainer, {held.places[0].id})
    _session(governors, 35, 30, trainer)
    db.session.flush()
    return sum(len(b.places) for b in [*made, held]) + 2
