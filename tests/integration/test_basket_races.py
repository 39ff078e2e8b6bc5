"""The buy-back morning: several people change one school's basket at the same moment (two
staff, or two tabs). Every answer is a page, never a server error, and every change is kept.

Runs on the suite's database: an SQLite file, and PostgreSQL in CI (TRADED_TEST_DB=postgres),
where the version check on the order used to answer 500 when two changes crossed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask
from sqlalchemy import insert, select, text, update

from tests.conftest import text_of
from tests.factories import make_service
from traded_app.extensions import db
from traded_app.models import Order, OrderLine, OrderStatus
from traded_app.models.types import Role

HX = {"HX-Request": "true"}


def test_concurrent_day_count_changes_to_one_basket_are_all_kept(
    app: Flask, world: Any, as_role: Any
) -> None:
    services = [world.service] + [make_service(f"RACE{i}", world.year) for i in range(3)]
    db.session.commit()
    clients = [as_role(Role.SCHOOL_BUSINESS_MANAGER) for _ in range(2)] + [
        as_role(Role.HEADTEACHER) for _ in range(2)
    ]
    for client in clients:
        client.csrf = client.csrf_token()
    service_ids = [service.id for service in services]
    school_id = world.school.id
    start = threading.Barrier(len(clients))
    answers: list[int] = []
    problems: list[str] = []

    def change(client: Any, service_id: int) -> None:
        start.wait(timeout=30)
        for days in ("1", "2", "1.5"):
            try:
                response = client.post(
                    f"/catalogue/services/{service_id}/days",
                    data={"csrf_token": client.csrf, f"days-{service_id}": days},
                    headers=HX,
                )
                answers.append(response.status_code)
            except Exception as error:  # a 500 raises in the checked client
                problems.append(f"{type(error).__name__}: {error}")

    db.session.remove()
    threads = [
        threading.Thread(target=change, args=(client, service_id))
        for client, service_id in zip(clients, service_ids, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert problems == []
    assert answers and all(code == 200 for code in answers), answers
    draft = db.session.execute(
        select(Order).where(Order.school_id == school_id, Order.status == OrderStatus.DRAFT)
    ).scalar_one()
    assert {line.service_id: line.half_days for line in draft.lines} == {
        service_id: 3 for service_id in service_ids
    }


def _hold_the_basket_while(
    client: Any, service_id: int, days: str, change: Any, draft_id: int
) -> Any:
    """POST `days` for `service_id` while another connection holds the draft (its row lock on
    PostgreSQL, the write lock on SQLite) and makes `change` to it, committed only once the request
    is waiting: the request must answer with the basket as it is after both."""
    orders, answer = Order.__table__, {}
    holder = db.engine.connect()
    transaction = holder.begin()  # on SQLite: BEGIN IMMEDIATE, the database's write lock
    holder.execute(select(orders.c.id).where(orders.c.id == draft_id).with_for_update())

    def post() -> None:
        answer["response"] = _post_days(client, service_id, days)

    thread = threading.Thread(target=post)
    thread.start()
    if db.engine.dialect.name == "postgresql":  # the request is waiting for the row lock
        waiting = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        for _ in range(500):
            if db.session.execute(waiting).scalar_one():
                break
            time.sleep(0.01)
        else:
            raise AssertionError("the request never waited for the draft's row lock")
        db.session.rollback()
    else:
        time.sleep(0.3)
    change(holder)
    holder.execute(
        update(orders).where(orders.c.id == draft_id).values(version=orders.c.version + 1)
    )
    transaction.commit()
    holder.close()
    thread.join(timeout=60)
    return answer["response"]


def _post_days(client: Any, service_id: int, days: str) -> Any:
    return client.post(
        f"/catalogue/services/{service_id}/days",
        data={f"days-{service_id}": days},
        headers={**HX, "X-CSRFToken": client.csrf},
    )


def _manager(as_role: Any) -> Any:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    client.csrf = client.csrf_token()
    return client


def _draft_with(client: Any, service_id: int, days: str) -> int:
    assert _post_days(client, service_id, days).status_code == 200
    db.session.remove()
    draft_id = db.session.execute(
        select(Order.id).where(Order.status == OrderStatus.DRAFT)
    ).scalar_one()
    db.session.remove()  # the test's own transaction ended: on SQLite it holds the write lock
    return draft_id


def _add_line(order_id: int, service_id: int, half_days: int) -> Any:
    lines = OrderLine.__table__
    return lambda holder: holder.execute(
        insert(lines).values(order_id=order_id, service_id=service_id, half_days=half_days)
    )


def test_a_change_that_waited_for_the_basket_answers_with_what_was_added_meanwhile(
    app: Flask, world: Any, as_role: Any
) -> None:
    other = make_service("WAIT1", world.year)
    db.session.commit()
    client = _manager(as_role)
    service_id, other_id = world.service.id, other.id
    draft_id = _draft_with(client, service_id, "1")

    response = _hold_the_basket_while(
        client, service_id, "2", _add_line(draft_id, other_id, 4), draft_id
    )

    assert response.status_code == 200
    # Both lines: this change's 2 days and the 2 days added while it waited.
    assert "Order updated: 4 days" in text_of(response.soup, "#order-announcement")
    db.session.remove()
    assert _days_by_service(draft_id) == {service_id: 4, other_id: 4}


def test_a_line_added_by_someone_else_while_waiting_is_set_not_added_twice(
    app: Flask, world: Any, as_role: Any
) -> None:
    first = make_service("WAIT2", world.year)
    db.session.commit()
    client = _manager(as_role)
    first_id, service_id = first.id, world.service.id  # the second: both add it at once
    draft_id = _draft_with(client, first_id, "1")

    response = _hold_the_basket_while(
        client, service_id, "2", _add_line(draft_id, service_id, 3), draft_id
    )

    assert response.status_code == 200
    assert "Order updated: 3 days" in text_of(response.soup, "#order-announcement")
    db.session.remove()
    assert _days_by_service(draft_id) == {first_id: 2, service_id: 4}


def _days_by_service(order_id: int) -> dict[int, int]:
    rows = db.session.execute(
        select(OrderLine.service_id, OrderLine.half_days).where(OrderLine.order_id == order_id)
    )
    return dict(rows.tuples().all())
