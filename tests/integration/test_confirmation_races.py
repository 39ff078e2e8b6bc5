"""Confirmations that happen at the same moment never oversell a team's traded capacity.

Runs on the suite's database: an SQLite file, and PostgreSQL in CI (TRADED_TEST_DB=postgres).
Each worker is a separate session in its own thread, as two service managers' requests are.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.factories import submitted_order
from traded_app.extensions import db
from traded_app.models import Order, OrderStatus, QuadrantCapacity, User
from traded_app.models.types import Role
from traded_app.services.ordering import basket, workflow


def race(app: Flask, jobs: list[Callable[[], object]]) -> list[str]:
    """Run each job in its own thread and session, released together; what each one says."""
    start = threading.Barrier(len(jobs))
    outcomes: list[str] = [""] * len(jobs)

    def run(index: int, job: Callable[[], object]) -> None:
        start.wait(timeout=30)  # before any database work, so no one holds a lock while waiting
        with app.app_context():
            try:
                job()
                db.session.commit()
                outcomes[index] = "confirmed"
            except basket.OrderError as error:
                db.session.rollback()
                outcomes[index] = str(error)
            except Exception as error:
                db.session.rollback()
                outcomes[index] = f"unexpected {type(error).__name__}: {error}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def confirm_job(order_id: int, admin_id: int) -> Callable[[], object]:
    def job() -> object:
        order = db.session.get(Order, order_id)
        admin = db.session.get(User, admin_id)
        assert order is not None and admin is not None
        return workflow.confirm(order, admin)

    return job


def test_two_confirmations_for_the_last_days_confirm_one(app: Flask, world: Any) -> None:
    capacity = db.session.execute(select(QuadrantCapacity)).scalar_one()
    capacity.traded_capacity_half_days = 4  # room for one of the two orders
    db.session.commit()
    first = submitted_order(world, {world.service: 3})
    second = submitted_order(world, {world.service: 3}, school=world.academy)
    admin_id = world.users[Role.LA_ADMIN].id
    first_id, second_id = first.id, second.id
    year_label, quadrant_id, year_id = world.year.label, world.quadrant.id, world.year.id
    db.session.remove()

    outcomes = race(app, [confirm_job(first_id, admin_id), confirm_job(second_id, admin_id)])

    assert sorted(o.split(":")[0] for o in outcomes) == [
        f"The Mid team has 0.5 days left to sell in {year_label}, and this order needs 1.5",
        "confirmed",
    ], outcomes
    statuses = sorted(db.session.get(Order, i).status.value for i in (first_id, second_id))
    assert statuses == ["confirmed", "submitted"]
    position = workflow.capacity_position(quadrant_id, year_id)
    assert position is not None and position.sold_half_days == 3 <= position.capacity_half_days


def test_the_same_order_confirmed_twice_at_once_is_confirmed_once(app: Flask, world: Any) -> None:
    order = submitted_order(world, {world.service: 2})
    admin_id, order_id = world.users[Role.LA_ADMIN].id, order.id
    db.session.remove()

    outcomes = race(app, [confirm_job(order_id, admin_id) for _ in range(3)])

    assert outcomes.count("confirmed") == 1, outcomes
    refused = [o for o in outcomes if o != "confirmed"]
    assert all("cannot be confirmed" in o or o == basket.CHANGED_ELSEWHERE for o in refused), (
        outcomes
    )
    confirmed = db.session.get(Order, order_id)
    assert confirmed.status == OrderStatus.CONFIRMED
    assert [e.action for e in confirmed.events].count("confirmed") == 1
