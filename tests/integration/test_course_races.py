"""Bookings that arrive at the same moment never oversell a session (issue 20).

Runs on the suite's database: an SQLite file, and PostgreSQL in CI (TRADED_TEST_DB=postgres).
Each booking is a separate session in its own thread, as thirty business managers' requests are.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.course_factories import book, delegates, make_session
from traded_app.extensions import db
from traded_app.models import CourseBooking, CoursePlace, Document, PlaceStatus, School, User
from traded_app.models.types import Role
from traded_app.services.courses import booking
from traded_app.services.platform import jobs


@pytest.fixture(autouse=True)
def queue(app: Flask, tmp_path: Path) -> Iterator[None]:
    """E-mails wait on a queue with no worker: the race is about places, not the mail server."""
    jobs.configure({"QUEUE_FILE": str(tmp_path / "queue.db"), "QUEUE_IMMEDIATE": False})
    yield
    jobs.huey.flush()
    jobs.configure(app.config)


def race(app: Flask, jobs: list[Callable[[], object]]) -> list[str]:
    """Run each job in its own thread and session, released together; what each one says."""
    start = threading.Barrier(len(jobs))
    outcomes: list[str] = [""] * len(jobs)

    def run(index: int, job: Callable[[], object]) -> None:
        start.wait(timeout=30)
        with app.app_context():
            try:
                job()
                db.session.commit()
                outcomes[index] = "booked"
            except Exception as error:
                db.session.rollback()
                outcomes[index] = f"unexpected {type(error).__name__}: {error}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def booking_job(session_id: int, school_id: int, user_id: int, n: int) -> Callable[[], object]:
    def job() -> object:
        school = db.session.get(School, school_id)
        user = db.session.get(User, user_id)
        assert school is not None and user is not None
        return booking.book(session_id, school, user, delegates(1, f"Racer{n}"))

    return job


def test_thirty_bookings_for_the_last_ten_places_confirm_ten_and_wait_list_twenty(
    app: Flask, world: Any
) -> None:
    session = make_session(world, places=12)
    book(world, session, 2, prefix="Early")  # two places gone: ten left
    session_id, school_id = session.id, world.school.id
    user_id = world.users[Role.SCHOOL_BUSINESS_MANAGER].id
    db.session.remove()

    outcomes = race(app, [booking_job(session_id, school_id, user_id, n) for n in range(30)])

    assert outcomes == ["booked"] * 30, outcomes
    statuses = dict(
        db.session.execute(
            select(CoursePlace.status, func.count())
            .where(CoursePlace.session_id == session_id)
            .group_by(CoursePlace.status)
        ).all()
    )
    assert statuses == {PlaceStatus.CONFIRMED: 12, PlaceStatus.WAITING: 20}
    # The waiting list is in the order the bookings were made: each waiting booking came after
    # every confirmed one among the racers.
    racers = db.session.execute(
        select(CourseBooking.id, CoursePlace.status, CoursePlace.waiting_since)
        .join(CoursePlace)
        .where(CoursePlace.name.like("Racer%"))
        .order_by(CourseBooking.id)
    ).all()
    assert [row.status for row in racers] == [PlaceStatus.CONFIRMED] * 10 + [
        PlaceStatus.WAITING
    ] * 20
    # Each confirmed place was charged once, by a numbered document; nobody waiting was.
    charged = db.session.execute(
        select(func.coalesce(func.sum(Document.net_pence), 0)).where(
            Document.course_booking_id.is_not(None)
        )
    ).scalar_one()
    assert charged == 12 * 12_000
