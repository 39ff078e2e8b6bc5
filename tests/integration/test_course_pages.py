"""Courses and events through the pages (issue 20): the council adds a course and a session, a
business manager books places and manages them, the trainer takes the register, the council
reads the session and downloads the delegate list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.conftest import text_of
from tests.course_factories import book, make_session
from traded_app.extensions import db
from traded_app.models import Course, CourseSession, PlaceStatus
from traded_app.models.types import Role
from traded_app.services.courses import reports
from traded_app.services.platform.settings import today


def _errors(response: Any) -> list[str]:
    return [a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")]


def test_the_service_manager_adds_a_course_and_a_session(as_role: Any, world: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    refused = admin.post_form(
        "/council/courses/new",
        {
            "code": "gb",
            "title": "Governor briefing",
            "kind": "briefing",
            "audience": "governors",
            "income_code": "",
            "free_until_days": "7",
            "late_percent": "150",
            "no_show_percent": "0",
            "vat_maintained": "outside_scope",
        },
    )
    assert refused.status_code == 200
    assert "Enter the ledger income code" in _errors(refused)
    assert "The percentage must be a whole number from 0 to 100" in _errors(refused)
    assert "Enter a price per place for at least one type of customer" not in _errors(refused)

    added = admin.post_form(
        "/council/courses/new",
        {
            "code": "gb",
            "title": "Governor briefing",
            "kind": "briefing",
            "audience": "governors",
            "income_code": "INC-GOV",
            "free_until_days": "7",
            "late_percent": "50",
            "no_show_percent": "0",
            "price_maintained": "40",
            "vat_maintained": "outside_scope",
            "rate_maintained": "",
            "price_academy": "40",
            "vat_academy": "standard",
            "rate_academy": "20",
            "price_other": "",
            "vat_other": "standard",
            "rate_other": "20",
        },
    )
    assert added.status_code == 302
    course = db.session.execute(select(Course)).scalar_one()
    assert (course.code, course.income_code, len(course.prices)) == ("GB", "INC-GOV", 2)

    on = today() + timedelta(days=20)
    session_form = {
        "session_date": [str(on.day), str(on.month), str(on.year)],
        "start_time": "18:00",
        "end_time": "17:00",
        "venue": "Council chamber",
        "online_link": "",
        "places": "40",
        "booking_deadline": [str(on.day), str(on.month), str(on.year)],
        "trainer_id": str(world.users[Role.ADVISER].id),
    }
    refused = admin.post_form(f"/council/courses/{course.id}/sessions/new", session_form)
    assert _errors(refused) == ["The session must end after it starts"]
    session_form["end_time"] = "19.30"
    assert (
        admin.post_form(f"/council/courses/{course.id}/sessions/new", session_form).status_code
        == 302
    )
    session = db.session.execute(select(CourseSession)).scalar_one()
    assert (session.places, session.end_time, session.trainer_id) == (
        40,
        "19:30",
        world.users[Role.ADVISER].id,
    )
    page = admin.get(f"/council/courses/{course.id}")
    assert "0 of 40" in page.get_data(as_text=True)


def test_a_business_manager_books_places_and_manages_them(as_role: Any, world: Any) -> None:
    session = make_session(world, places=2)
    sbm = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    listing = sbm.get("/courses?audience=headteachers")
    assert "Effective performance management" in text_of(listing.soup, "table")
    assert "Effective performance management" not in sbm.get(
        "/courses?audience=governors"
    ).get_data(as_text=True)

    url = f"/courses/sessions/{session.id}/book"
    refused = sbm.post_form(url, {"delegates-0-name": "Ann Lee", "delegates-0-email": "ann@"})
    assert _errors(refused) == ["Enter the delegate's e-mail address, like name@school.example"]
    nobody = sbm.post_form(url, {})
    assert _errors(nobody) == ["Enter the name and e-mail address of at least one delegate"]
    assert nobody.soup.title.get_text().startswith("Error: ")

    made = sbm.post_form(
        url,
        {
            "delegates-0-name": "Ann Lee",
            "delegates-0-role": "Teacher",
            "delegates-0-email": "ann@school.example",
            "delegates-0-needs": "Step-free access",
            "delegates-1-name": "Ben Ode",
            "delegates-1-email": "ben@school.example",
            "delegates-2-name": "Cat Day",
            "delegates-2-email": "cat@school.example",
            "po_number": "PO-99",
        },
    )
    assert made.status_code == 302
    page = sbm.get(made.location)
    places = text_of(page.soup, "#places")
    assert "Ann Lee" in places and "Waiting list" in places
    assert "Internal recharge RCH-" in text_of(page.soup, "main")

    ann = next(p for p in session_places(session) if p.name == "Ann Lee")
    assert (
        sbm.post_form(
            f"/courses/places/{ann.id}/substitute",
            {"name": "Dee Fox", "role": "Deputy", "email": "dee@school.example", "needs": ""},
        ).status_code
        == 302
    )
    cancel_page = sbm.get(f"/courses/places/{ann.id}/cancel")
    assert "Cancelling now costs nothing" in text_of(cancel_page.soup, "main")
    assert sbm.post_form(f"/courses/places/{ann.id}/cancel").status_code == 302
    cat = next(p for p in session_places(session) if p.name == "Cat Day")
    assert cat.status == PlaceStatus.OFFERED
    assert sbm.post_form(f"/courses/places/{cat.id}/accept").status_code == 302
    db.session.expire_all()
    assert cat.status == PlaceStatus.CONFIRMED
    bookings = sbm.get("/courses/bookings")
    assert "Dee Fox" in bookings.get_data(as_text=True)


def session_places(session: CourseSession) -> list[Any]:
    db.session.expire_all()
    return reports.session_places(session)


def test_the_trainer_takes_the_register_and_the_council_reads_the_session(
    as_role: Any, world: Any
) -> None:
    session = make_session(world, places=3, days_ahead=0)
    made = book(world, session, 2)
    came, absent = made.places
    trainer = as_role(Role.ADVISER)
    assert "Effective performance management" in trainer.get("/council/courses/training").get_data(
        as_text=True
    )
    register = trainer.get(f"/courses/sessions/{session.id}/register")
    assert len(register.soup.select("input[name=attended]")) == 2
    saved = trainer.post_form(
        f"/courses/sessions/{session.id}/register", {"attended": [str(came.id)]}
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert (came.status, absent.status) == (PlaceStatus.ATTENDED, PlaceStatus.NO_SHOW)

    admin = as_role(Role.LA_ADMIN)
    page = admin.get(f"/council/courses/sessions/{session.id}")
    assert "Attended 1" in text_of(page.soup, "#figures")
    assert "Did not attend 1" in text_of(page.soup, "#figures")
    csv = admin.get(f"/council/courses/sessions/{session.id}/delegates.csv")
    assert csv.mimetype == "text/csv"
    assert "Delegate 1" in csv.get_data(as_text=True)
    income = admin.get("/council/courses")
    assert "£240.00" in text_of(income.soup, "#income")  # two places charged on booking

    certificate = as_role(Role.SCHOOL_BUSINESS_MANAGER).get(
        f"/courses/places/{came.id}/certificate.pdf"
    )
    assert certificate.mimetype == "application/pdf"
    assert certificate.get_data().startswith(b"%PDF")
    assert (
        as_role(Role.SCHOOL_BUSINESS_MANAGER)
        .get(f"/courses/places/{absent.id}/certificate.pdf")
        .status_code
        == 404
    )


def test_another_school_cannot_see_a_booking(as_role: Any, world: Any) -> None:
    session = make_session(world)
    made = book(world, session, 1, academy=True)
    sbm = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert sbm.get(f"/courses/bookings/{made.id}").status_code == 404
    assert sbm.get(f"/courses/places/{made.places[0].id}/cancel").status_code == 404
    assert sbm.post_form(f"/courses/places/{made.places[0].id}/cancel").status_code == 404


def test_a_booking_that_cannot_be_invoiced_is_refused_with_the_reason(
    as_role: Any, world: Any
) -> None:
    world.academy.address, world.academy.postcode = "", ""  # a VAT invoice needs an address
    session = make_session(world)
    academy = as_role(None)
    academy.sign_in_as(world.academy_sbm)
    refused = academy.post_form(
        f"/courses/sessions/{session.id}/book",
        {"delegates-0-name": "Ann Lee", "delegates-0-email": "ann@academy.example"},
    )
    assert refused.status_code == 200, refused.location
    assert "has no billing address" in _errors(refused)[0]
    assert reports.session_places(session) == []  # nothing booked
