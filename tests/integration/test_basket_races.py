"""The buy-back morning: several people change one school's basket at the same moment (two
staff, or two tabs). Every answer is a page, never a server error, and every change is kept.

Runs on the suite's database: an SQLite file, and PostgreSQL in CI (TRADED_TEST_DB=postgres),
where the version check on the order used to answer 500 when two changes crossed.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.factories import make_service
from traded_app.extensions import db
from traded_app.models import Order, OrderStatus
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
