"""What queueing an e-mail adds to the request that asks for it: with mail against without.

Issue 13's goal: enqueueing an e-mail adds at most 2 ms to the request (against the same request
with mail off), on the SQLite queue store and on Redis. The request is the council declining a
submitted order (`POST /orders/<id>/decline` with a reason), which e-mails the person who
submitted it: in one transaction the order changes and the e-mail's outbox row is written; once
that commits the job that sends it goes on the queue. "Mail off" is the same request with the
outbox queueing nothing (`outbox.queue_email` answering None at once: no row, no job); the
e-mail's wording is worked out in both.

Everything runs in this process through Flask's test client against a scratch SQLite database
file (the demo data and an order per request), so the figure is the request's own time with no
network in it. No worker runs: the jobs wait in the store, as they would for a busy worker.
Requests with and without mail alternate, one each in turn, and the medians are compared (the
machine is shared and noisy). The enqueue alone (the job put on the queue, nothing else) is
timed beside it.

    .venv/bin/python bench/queue_enqueue.py [--requests 200] [--stores sqlite,redis]
        [--redis redis://127.0.0.1:6379/6]

Printed as met or NOT MET: a figure, not a test (exit status 0 unless the benchmark failed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from redis import Redis  # noqa: E402
from sqlalchemy import select  # noqa: E402

from traded_app import create_app  # noqa: E402
from traded_app.demo import load_demo  # noqa: E402
from traded_app.extensions import db  # noqa: E402
from traded_app.models import School, User  # noqa: E402
from traded_app.models.types import Role  # noqa: E402
from traded_app.services.ordering import basket, workflow  # noqa: E402
from traded_app.services.platform import jobs, outbox  # noqa: E402
from traded_app.services.platform.after_commit import suppressed  # noqa: E402
from traded_app.services.platform.settings import current_academic_year  # noqa: E402

GOAL_MS = 2.0
SECRET = "bench-secret-key-long-enough-for-any-check"  # noqa: S105 (a scratch app)


def make_app(tmp: Path, store: str, redis_url: str) -> Flask:
    queue = {"REDIS_URL": redis_url} if store == "redis" else {"QUEUE_FILE": str(tmp / "q.db")}
    environ = {
        "APP_ENV": "development",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "INVOICE_DIR": str(tmp / "invoices"),
        "MAIL_OUTBOX_DIR": str(tmp / "outbox"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "QUEUE_IMMEDIATE": "0",
        **queue,
    }
    return create_app(environ, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)


def submitted_orders(count: int) -> tuple[list[int], str]:
    """`count` orders submitted to the council by the demo's schools, and an LA admin's id."""
    year = current_academic_year()
    admin = db.session.scalars(select(User).where(User.role == Role.LA_ADMIN)).first()
    assert year is not None and admin is not None
    buyers = [
        (school, user)
        for school, user in db.session.execute(
            select(School, User)
            .join(User, User.school_id == School.id)
            .where(School.quadrant_id.is_not(None), User.role == Role.SCHOOL_BUSINESS_MANAGER)
        ).tuples()
    ]
    made: list[int] = []
    with suppressed(db.session):
        while len(made) < count:
            for school, user in buyers:
                order = basket.draft_for(school, user, year)
                service_id = min(basket.offer_for(order))
                basket.set_days(order, service_id, 1)
                workflow.submit(
                    order, user, workflow.Checkout(po_number="PO-B"), expected_version=order.version
                )
                db.session.commit()
                if order.status.value == "submitted":
                    made.append(order.id)
                if len(made) == count:
                    break
    return made, admin.get_id()


def signed_in(app: Flask, user_id: str) -> FlaskClient:
    client = app.test_client()
    now = int(time.time())
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
        session["signed_in_at"] = now
        session["last_seen"] = now
    return client


def timed_decline(client: FlaskClient, order_id: int) -> tuple[float, float]:
    """The request's wall-clock time and the CPU time this thread spent on it."""
    started, cpu = time.perf_counter(), time.thread_time()
    response = client.post(f"/orders/{order_id}/decline", data={"reason": "Bench"})
    took = time.perf_counter() - started, time.thread_time() - cpu
    if (
        response.status_code != 302
        or "/decline" in (response.location or "")
        or ("sign-in" in (response.location or ""))
    ):
        raise SystemExit(f"decline answered {response.status_code} {response.location}")
    return took


def measure_store(tmp: Path, store: str, redis_url: str, requests: int) -> bool:
    if store == "redis":
        Redis.from_url(redis_url).flushdb()
    app = make_app(tmp, store, redis_url)
    with app.app_context():
        orders, admin_id = submitted_orders(2 * requests + 10)
    client = signed_in(app, admin_id)
    real_queue_email = outbox.queue_email

    def mail_off(*_args: Any, **_kwargs: Any) -> None:
        return None

    with_mail: list[tuple[float, float]] = []
    without: list[tuple[float, float]] = []
    for _warm in range(10):  # warm: templates, statements, the store's connection
        timed_decline(client, orders.pop())
    for index in range(requests):
        pair: list[tuple[list[tuple[float, float]], Callable[..., Any]]] = [
            (with_mail, real_queue_email),
            (without, mail_off),
        ]
        for into, queue_email in pair if index % 2 else reversed(pair):
            outbox.queue_email = queue_email  # type: ignore[assignment]
            try:
                into.append(timed_decline(client, orders.pop()))
            finally:
                outbox.queue_email = real_queue_email
    with app.app_context():
        queued = jobs.health().waiting
        enqueue = enqueue_alone(requests)
        jobs.huey.flush()
        db.session.remove()
        db.engine.dispose()
    on, off = (statistics.median(t[0] for t in each) * 1000 for each in (with_mail, without))
    cpu_on, cpu_off = (
        statistics.median(t[1] for t in each) * 1000 for each in (with_mail, without)
    )
    added = on - off
    met = added <= GOAL_MS
    print(
        f"  {store:6} decline with mail: p50 {on:.2f} ms ({cpu_on:.2f} ms of CPU), without: "
        f"p50 {off:.2f} ms ({cpu_off:.2f} ms of CPU); {requests} of each, {queued} jobs "
        f"queued; the enqueue alone p50 {enqueue:.3f} ms"
    )
    print(
        f"{store} store: queueing the e-mail adds {added:.2f} ms to the request "
        f"(goal <= {GOAL_MS} ms): {'met' if met else 'NOT MET'}; "
        f"of CPU time it adds {cpu_on - cpu_off:.2f} ms"
    )
    return met


def enqueue_alone(count: int) -> float:
    """The median time to put one e-mail's job on the queue (nothing else), in ms."""
    times = []
    for email_id in range(count):
        started = time.perf_counter()
        outbox.deliver_email(10_000_000 + email_id)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="of each kind, per store")
    parser.add_argument("--stores", default="sqlite,redis")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", ""))
    args = parser.parse_args()
    stores = [s for s in args.stores.split(",") if s != "redis" or args.redis]
    if "redis" in args.stores and not args.redis:
        print("Redis: skipped (give --redis redis://127.0.0.1:6379/N or BENCH_REDIS_URL)")
    print(
        "Queueing an e-mail in a request (the council declines an order) against the same "
        f"request with mail off (load average now {os.getloadavg()[0]:.1f})"
    )
    for store in stores:
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            app = make_app(tmp, store, args.redis)
            with app.app_context():
                upgrade()
                with suppressed(db.session):
                    load_demo()
                    db.session.commit()
                db.session.remove()
                db.engine.dispose()
            measure_store(tmp, store, args.redis, args.requests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
