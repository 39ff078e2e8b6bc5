"""Courses and events (issue 20): booking places, the waiting list and its offers, the approval
limit, cancellation terms, the register, certificates, charging through numbered documents, the
council cancelling a session and delegates' needs erased after it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.course_factories import PRICE, book, delegates, make_course, make_session
from traded_app.extensions import db
from traded_app.models import (
    CoursePlace,
    Document,
    DocumentFigures,
    DocumentType,
    OutgoingEmail,
    PlaceStatus,
)
from traded_app.models.base import utcnow
from traded_app.models.types import Role, VatTreatment
from traded_app.services.courses import CourseError, attendance, booking, charging, reports
from traded_app.services.platform import schedules


def documents() -> list[Document]:
    return list(
        db.session.execute(
            select(Document).where(Document.course_booking_id.is_not(None)).order_by(Document.id)
        ).scalars()
    )


def subjects() -> list[str]:
    return list(
        db.session.execute(select(OutgoingEmail.subject).order_by(OutgoingEmail.id)).scalars()
    )


def statuses(made: Any) -> list[str]:
    db.session.expire_all()
    return [p.status.value for p in made.places]


def test_places_confirm_while_they_remain_then_delegates_wait_in_order(world: Any) -> None:
    session = make_session(world, places=3)
    first = book(world, session, 2, prefix="First")
    second = book(world, session, 3, prefix="Second", academy=True)

    assert statuses(first) == ["confirmed", "confirmed"]
    assert statuses(second) == ["confirmed", "waiting", "waiting"]
    assert booking.free_places(session) == 0
    # A later booking joins the end of the list, even for one place.
    third = book(world, session, 1, prefix="Third")
    assert statuses(third) == ["waiting"]
    waiting = [p.name for p in reports.session_places(session) if p.status == PlaceStatus.WAITING]
    assert waiting == ["Second 2", "Second 3", "Third 1"]
    assert any(s.startswith(f"Booking {second.reference}") for s in subjects())


def test_places_are_charged_by_the_schools_route_with_vat_by_customer_type(world: Any) -> None:
    session = make_session(world)
    maintained = book(world, session, 2)
    academy = book(world, session, 1, academy=True)

    recharge, invoice = documents()
    assert recharge.document_type == DocumentType.RECHARGE
    assert recharge.course_booking_id == maintained.id
    assert recharge.order_reference == maintained.reference and recharge.order_id is None
    assert (recharge.net_pence, recharge.vat_pence) == (2 * PRICE, 0)
    (line,) = recharge.lines
    assert (line.places, line.price_per_day_pence, line.net_pence) == (2, PRICE, 2 * PRICE)
    assert line.income_code == "INC-CPD" and line.service_code == "PMTRAIN"
    assert "Delegate 1, Delegate 2" in line.description
    assert invoice.document_type == DocumentType.INVOICE
    assert invoice.course_booking_id == academy.id
    assert (invoice.net_pence, invoice.vat_pence) == (PRICE, PRICE // 5)
    assert invoice.lines[0].vat_treatment == VatTreatment.STANDARD
    assert invoice.po_number == "PO-7"
    # The documents count in the school's balance like any other (figures kept by the database).
    figures = db.session.get(DocumentFigures, invoice.id)
    assert figures is not None and figures.balance_pence == invoice.gross_pence


def test_places_over_the_approval_limit_wait_for_the_headteacher(world: Any) -> None:
    world.school.approval_limit_pence = PRICE  # one place is within it, two are not
    session = make_session(world)
    made = book(world, session, 2)

    assert statuses(made) == ["awaiting_approval", "awaiting_approval"]
    assert documents() == []
    assert f"Course places to approve: {made.reference}" in subjects()
    with pytest.raises(CourseError, match="Only the school's headteacher"):
        booking.approve(made, world.users[Role.SCHOOL_BUSINESS_MANAGER])

    booking.approve(made, world.users[Role.HEADTEACHER])
    db.session.commit()
    assert statuses(made) == ["confirmed", "confirmed"]
    assert [d.net_pence for d in documents()] == [2 * PRICE]
    # The headteacher's own booking over the limit needs nobody else.
    own = booking.book(
        session.id, world.school, world.users[Role.HEADTEACHER], delegates(2, "Head")
    )
    assert [p.status for p in own.places] == [PlaceStatus.CONFIRMED] * 2


def test_cancelling_charges_by_the_terms_and_credits_the_rest(world: Any) -> None:
    session = make_session(world, days_ahead=30)  # free until 14 days before, then 50%
    made = book(world, session, 3, academy=True)
    user = world.academy_sbm
    early, late, on_the_day = made.places

    free = booking.cancel_place(early, user, on=session.session_date - timedelta(days=14))
    half = booking.cancel_place(late, user, on=session.session_date - timedelta(days=13))
    day = booking.cancel_place(on_the_day, user, on=session.session_date)
    db.session.commit()

    assert (free.percent, free.pence) == (0, 0)
    assert (half.percent, half.pence) == (50, PRICE // 2)
    assert (day.percent, day.pence) == (50, PRICE // 2)
    invoice, *credits = documents()
    assert invoice.net_pence == 3 * PRICE
    assert [c.document_type for c in credits] == [DocumentType.CREDIT_NOTE] * 3
    assert [c.net_pence for c in credits] == [PRICE, PRICE // 2, PRICE // 2]
    assert all(c.credits_document_id == invoice.id for c in credits)
    assert "50% charged" in credits[1].reason
    figures = db.session.get(DocumentFigures, invoice.id)
    assert figures is not None
    assert figures.balance_pence == PRICE * 6 // 5  # one place's worth (2 × 50%) with VAT
    with pytest.raises(CourseError, match="cannot be cancelled now"):
        booking.cancel_place(early, user)


def test_a_freed_place_is_offered_by_email_and_accepted(world: Any) -> None:
    session = make_session(world, places=1)
    holder = book(world, session, 1, prefix="Holder")
    waiting = book(world, session, 2, prefix="Waiting", academy=True)
    first = waiting.places[0]

    booking.cancel_place(holder.places[0], world.users[Role.SCHOOL_BUSINESS_MANAGER])
    db.session.commit()

    assert statuses(waiting) == ["offered", "waiting"]
    assert first.offer_expires_at is not None
    assert first.offer_expires_at - utcnow() <= timedelta(hours=booking.OFFER_HOURS)
    offer = db.session.execute(
        select(OutgoingEmail).where(OutgoingEmail.subject.like("A place is free for Waiting 1%"))
    ).scalar_one()
    assert "waiting1@school.example" in offer.recipients
    assert "sbm@academy.example" in offer.recipients
    assert "Accept it by" in offer.body

    booking.accept_offer(first, world.academy_sbm)
    db.session.commit()
    assert statuses(waiting) == ["confirmed", "waiting"]
    assert documents()[-1].course_booking_id == waiting.id
    assert documents()[-1].net_pence == PRICE


def test_an_offer_not_taken_up_in_time_lapses_and_goes_to_the_next(world: Any) -> None:
    session = make_session(world, places=1)
    holder = book(world, session, 1, prefix="Holder")
    waiting = book(world, session, 2, prefix="Waiting")
    booking.cancel_place(holder.places[0], world.users[Role.SCHOOL_BUSINESS_MANAGER])
    db.session.commit()

    assert booking.expire_offers(utcnow() + timedelta(hours=1)) == 0
    assert booking.expire_offers(utcnow() + timedelta(hours=booking.OFFER_HOURS + 1)) == 1
    db.session.commit()
    assert statuses(waiting) == ["cancelled", "offered"]
    assert any(s.startswith("Place offer lapsed for Waiting 1") for s in subjects())
    with pytest.raises(CourseError, match="no place on offer"):
        booking.accept_offer(waiting.places[0], world.users[Role.SCHOOL_BUSINESS_MANAGER])


def test_the_register_charges_no_shows_after_the_session_when_the_council_says(
    world: Any,
) -> None:
    charging.set_charge_timing(charging.AFTER_SESSION)
    course = make_course("NOSHOW", no_show_percent=50)
    session = make_session(world, days_ahead=0, course=course)
    made = book(world, session, 2, academy=True)
    came, stayed_away = made.places
    assert documents() == []  # nothing charged on booking

    with pytest.raises(CourseError, match="trainer"):
        attendance.take_register(session.id, world.users[Role.SCHOOL_BUSINESS_MANAGER], set())
    attendance.take_register(session.id, world.users[Role.ADVISER], {came.id})
    db.session.commit()

    assert statuses(made) == ["attended", "no_show"]
    (invoice,) = documents()
    assert invoice.net_pence == PRICE + PRICE // 2
    assert sorted((line.places, line.price_per_day_pence) for line in invoice.lines) == [
        (1, PRICE // 2),
        (1, PRICE),
    ]
    assert attendance.certificate_pdf(came).startswith(b"%PDF")
    with pytest.raises(CourseError, match="not recorded as attending"):
        attendance.certificate_pdf(stayed_away)


def test_a_no_show_charged_on_booking_is_credited_down_to_the_no_show_part(world: Any) -> None:
    course = make_course("NOSHOW", no_show_percent=50)
    session = make_session(world, days_ahead=0, course=course)
    made = book(world, session, 2)
    attendance.take_register(session.id, world.users[Role.LA_ADMIN], {made.places[0].id})
    db.session.commit()

    charge, credit = documents()
    assert (charge.net_pence, credit.net_pence) == (2 * PRICE, PRICE // 2)
    assert credit.credits_document_id == charge.id
    # Correcting the register (the delegate did come after all) charges the difference again.
    attendance.take_register(session.id, world.users[Role.LA_ADMIN], {p.id for p in made.places})
    db.session.commit()
    assert [d.net_pence for d in documents()] == [2 * PRICE, PRICE // 2, PRICE // 2]


def test_the_council_cancelling_a_session_credits_everyone_and_tells_them(world: Any) -> None:
    session = make_session(world, places=2)
    made = book(world, session, 1)
    other = book(world, session, 2, academy=True)  # one confirmed, one waiting

    attendance.cancel_session(session.id, world.users[Role.LA_ADMIN], "The trainer is ill.")
    db.session.commit()

    assert statuses(made) == ["session_cancelled"]
    assert statuses(other) == ["session_cancelled", "session_cancelled"]
    credits = [d for d in documents() if d.document_type == DocumentType.CREDIT_NOTE]
    assert sorted(c.net_pence for c in credits) == [PRICE, PRICE]
    cancelled = (
        db.session.execute(select(OutgoingEmail).where(OutgoingEmail.subject.like("Cancelled:%")))
        .scalars()
        .all()
    )
    assert len(cancelled) == 2
    assert all("The trainer is ill." in e.body for e in cancelled)
    with pytest.raises(CourseError, match="cancelled"):
        book(world, session, 1)


def test_delegates_needs_are_erased_once_the_session_is_over(world: Any) -> None:
    session = make_session(world, days_ahead=0)
    made = booking.book(
        session.id,
        world.school,
        world.users[Role.SCHOOL_BUSINESS_MANAGER],
        [booking.Delegate("Ann Lee", "Teacher", "ann@school.example", "Wheelchair access")],
    )
    db.session.commit()

    assert attendance.erase_needs(utcnow()) == 0  # the session is today: kept
    assert attendance.erase_needs(utcnow() + timedelta(days=1)) == 1
    db.session.commit()
    db.session.expire_all()
    assert made.places[0].needs == ""
    assert session.needs_erased_at is not None
    assert attendance.erase_needs(utcnow() + timedelta(days=2)) == 0  # each session once


def test_a_school_can_substitute_a_delegate(world: Any) -> None:
    session = make_session(world)
    made = book(world, session, 1)
    booking.substitute(
        made.places[0],
        world.users[Role.HEADTEACHER],
        booking.Delegate("Bea Kay", "Deputy head", "bea@school.example"),
    )
    db.session.commit()
    assert (made.places[0].name, made.places[0].email) == ("Bea Kay", "bea@school.example")
    with pytest.raises(CourseError, match="e-mail address"):
        booking.substitute(
            made.places[0], world.users[Role.HEADTEACHER], booking.Delegate("X", "", "not-an-email")
        )


def test_bookings_close_at_the_deadline(world: Any) -> None:
    session = make_session(world)
    session.booking_deadline = session.session_date - timedelta(days=40)  # already passed
    db.session.commit()
    with pytest.raises(CourseError, match="Bookings for this session closed"):
        book(world, session, 1)


def test_delegate_list_csv_and_income_per_course(world: Any) -> None:
    session = make_session(world, places=1)
    booking.book(
        session.id,
        world.school,
        world.users[Role.SCHOOL_BUSINESS_MANAGER],
        [
            booking.Delegate("=HYPERLINK(1)", "Teacher", "a@school.example", "Vegan"),
            booking.Delegate("Ben Ode", "TA", "b@school.example"),
        ],
    )
    db.session.commit()

    rows = reports.delegates_csv(session).splitlines()
    assert rows[0] == "Name,Role,E-mail,School,Booking,Status,Access or dietary needs"
    assert rows[1].startswith("'=HYPERLINK(1),Teacher,a@school.example,Riverside Primary School")
    assert rows[1].endswith("Confirmed,Vegan")
    assert rows[2].startswith("Ben Ode,TA") and "Waiting list" in rows[2]
    (income,) = reports.income_by_course()
    assert (income.charged_pence, income.credited_pence, income.net_pence) == (PRICE, 0, PRICE)


def test_a_booking_larger_than_the_places_left_confirms_what_fits(world: Any) -> None:
    """One booking for more places than are left confirms those and lists the rest."""
    session = make_session(world, places=4)
    made = book(world, session, 6)
    assert statuses(made) == ["confirmed"] * 4 + ["waiting"] * 2
    confirmed = db.session.execute(
        select(CoursePlace).where(CoursePlace.status == PlaceStatus.CONFIRMED)
    ).scalars()
    assert len(list(confirmed)) == 4


def test_the_schedules_lapse_offers_and_erase_needs_once_a_period(world: Any) -> None:
    # The session is tomorrow, so the offer made now is still open whatever the time of day
    # (an offer never outlives the session's start); the schedules then run three days later.
    session = make_session(world, places=1, days_ahead=1)
    holder = book(world, session, 1, prefix="Holder")
    waiting = book(world, session, 1, prefix="Waiting")
    booking.cancel_place(holder.places[0], world.users[Role.SCHOOL_BUSINESS_MANAGER])
    db.session.commit()
    assert statuses(waiting) == ["offered"]
    later = utcnow() + timedelta(days=3)

    offers = schedules.SCHEDULES[booking.OFFERS_SCHEDULE]
    run = schedules.run_if_due(offers, later)
    assert run is not None and (run.outcome, run.detail) == ("ok", "1 offer lapsed")
    assert schedules.run_if_due(offers, later) is None  # this hour is done
    assert statuses(waiting) == ["cancelled"]
    erase = schedules.run_if_due(schedules.SCHEDULES[attendance.ERASE_SCHEDULE], later)
    assert erase is not None and erase.outcome == "ok"
