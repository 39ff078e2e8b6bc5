"""For the council: a session's bookings, waiting list and attendance; income per course from
the documents issued; the trainer's delegate list as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import case, func, select

from traded_app.extensions import db
from traded_app.models import (
    Course,
    CourseBooking,
    CoursePlace,
    CourseSession,
    Document,
    DocumentType,
)
from traded_app.models.courses import PlaceStatus
from traded_app.services.platform.audit import safe_cell


def session_places(session: CourseSession) -> list[CoursePlace]:
    """Every place on the session: the waiting list last, in its order; the rest by school."""
    places = list(
        db.session.execute(
            select(CoursePlace)
            .join(CourseBooking)
            .where(CoursePlace.session_id == session.id)
            .order_by(
                case((CoursePlace.status == PlaceStatus.WAITING, 1), else_=0),
                CoursePlace.waiting_since,  # NULL for every place never on the list
                CourseBooking.school_id,
                CoursePlace.id,
            )
        ).scalars()
    )
    return places


@dataclass(frozen=True)
class SessionFigures:
    places: int
    confirmed: int
    waiting: int
    offered: int
    attended: int
    no_show: int

    @property
    def left(self) -> int:
        return max(0, self.places - self.confirmed - self.offered - self.attended - self.no_show)


def figures(session: CourseSession, places: list[CoursePlace]) -> SessionFigures:
    def count(status: PlaceStatus) -> int:
        return sum(1 for p in places if p.status == status)

    return SessionFigures(
        session.places,
        count(PlaceStatus.CONFIRMED),
        count(PlaceStatus.WAITING),
        count(PlaceStatus.OFFERED),
        count(PlaceStatus.ATTENDED),
        count(PlaceStatus.NO_SHOW),
    )


@dataclass(frozen=True)
class CourseIncome:
    course: Course
    charged_pence: int
    credited_pence: int

    @property
    def net_pence(self) -> int:
        return self.charged_pence - self.credited_pence


def income_by_course() -> list[CourseIncome]:
    """Each course's income before VAT from its documents: charged, credited and the net."""
    credit = Document.document_type == DocumentType.CREDIT_NOTE
    rows = db.session.execute(
        select(
            CourseSession.course_id,
            func.coalesce(func.sum(case((credit, 0), else_=Document.net_pence)), 0),
            func.coalesce(func.sum(case((credit, Document.net_pence), else_=0)), 0),
        )
        .select_from(Document)
        .join(CourseBooking, CourseBooking.id == Document.course_booking_id)
        .join(CourseSession, CourseSession.id == CourseBooking.session_id)
        .group_by(CourseSession.course_id)
    ).tuples()
    sums = {course_id: (int(charged), int(credited)) for course_id, charged, credited in rows}
    courses = db.session.execute(select(Course).order_by(Course.title)).scalars()
    return [CourseIncome(c, *sums.get(c.id, (0, 0))) for c in courses]


CSV_HEADER = ("Name", "Role", "E-mail", "School", "Booking", "Status", "Access or dietary needs")


def delegates_csv(session: CourseSession) -> str:
    """The trainer's delegate list: the places held on the day and the waiting list."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    shown = {
        PlaceStatus.CONFIRMED,
        PlaceStatus.OFFERED,
        PlaceStatus.WAITING,
        PlaceStatus.ATTENDED,
        PlaceStatus.NO_SHOW,
    }
    for place in session_places(session):
        if place.status not in shown:
            continue
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    place.name,
                    place.role,
                    place.email,
                    place.booking.school.name,
                    place.booking.reference,
                    place.status.label,
                    place.needs,
                )
            ]
        )
    return out.getvalue()
