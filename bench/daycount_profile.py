"""The catalogue's day-count request in one process: its CPU time against `/healthz`'s, and the
statements it runs.

What bench/ordering.py measures under gunicorn depends on the machine's load; this is the steady
part of it. Through Flask's test client (no network, no server), over a scratch SQLite file of
the demo data (or the PostgreSQL database BENCH_DATABASE_URL and BENCH_DATABASE_OWNER_URL name,
whose public schema is emptied and seeded, as bench/ordering.py does), the demo's school business
manager changes one service's days the way the catalogue's control does (htmx, with the page's
CSRF token, days alternating so every request writes), alternating with `/healthz`. Printed: the
median CPU time of this thread per request for both, their ratio, the statements per request (a
COMMIT counted as one) and, with --profile, the functions the request spends most time in.

    .venv/bin/python bench/daycount_profile.py [--requests 400] [--profile 25 [--save FILE]]
        [--seeded FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from finance_pages import empty_postgres  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from journeys import days_controls  # noqa: E402
from ordering import ACCOUNT, CATALOGUE, DAYS, SAVED, csrf_token  # noqa: E402
from sqlalchemy import event, select  # noqa: E402

from traded_app import create_app  # noqa: E402
from traded_app.demo import load_demo  # noqa: E402
from traded_app.extensions import db  # noqa: E402
from traded_app.models import User  # noqa: E402
from traded_app.services.platform.after_commit import suppressed  # noqa: E402

SECRET = "bench-secret-key-long-enough-for-any-check"  # noqa: S105 (a scratch app)


def make_app(tmp: Path) -> Flask:
    app_url = os.environ.get("BENCH_DATABASE_URL", "")
    if app_url.startswith("postgresql"):
        owner_url = os.environ.get("BENCH_DATABASE_OWNER_URL", "") or app_url
        empty_postgres(owner_url)
        database = {"DATABASE_URL": app_url, "DATABASE_OWNER_URL": owner_url}
    else:
        database = {"DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}"}
    environ = {
        "APP_ENV": "development",
        "SECRET_KEY": SECRET,
        "INVOICE_DIR": str(tmp / "invoices"),
        "MAIL_OUTBOX_DIR": str(tmp / "outbox"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "QUEUE_FILE": str(tmp / "q.db"),
        **database,
    }
    return create_app(environ, RATELIMIT_ENABLED=False)


def signed_in(app: Flask) -> FlaskClient:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == ACCOUNT)).one()
        user_id = user.get_id()
        db.session.remove()
    client = app.test_client()
    now = int(time.time())
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
        session["signed_in_at"] = now
        session["last_seen"] = now
    return client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="of each kind")
    parser.add_argument("--profile", type=int, default=0, help="print this many functions")
    parser.add_argument("--save", default="", help="and save the profile in this file")
    parser.add_argument(
        "--seeded", default="", help="SQLite: a copy of the seeded database kept here, reused"
    )
    args = parser.parse_args()
    seeded = Path(args.seeded) if args.seeded else None
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if seeded is not None and seeded.exists():
            shutil.copyfile(seeded, tmp / "bench.db")
        copied = (tmp / "bench.db").exists()
        app = make_app(tmp)
        with app.app_context():
            if not copied:
                upgrade()
                with suppressed(db.session):
                    load_demo()
                    db.session.commit()
            db.session.remove()
            if seeded is not None and not seeded.exists() and db.engine.dialect.name == "sqlite":
                db.engine.dispose()  # the WAL checkpointed into the file
                shutil.copyfile(tmp / "bench.db", seeded)
        client = signed_in(app)
        page = client.get(CATALOGUE)
        assert page.status_code == 200, f"GET {CATALOGUE} answered {page.status_code}"
        text = page.get_data(as_text=True)
        token = csrf_token(text)
        wanted = [float(d) for d in DAYS]
        control = next(
            c for c in days_controls(text) if c.low <= min(wanted) and max(wanted) <= c.high
        )
        headers = {"HX-Request": "true", "X-CSRFToken": token}
        turn = iter(range(10**9))

        cookies_set: list[bool] = []

        def day_count() -> None:
            days = DAYS[next(turn) % len(DAYS)]
            response = client.post(control.path, data={control.field: days}, headers=headers)
            assert response.status_code == 200 and SAVED in response.data, response.status
            cookies_set.append("Set-Cookie" in response.headers)

        def healthz() -> None:
            assert client.get("/healthz").status_code == 200

        seen: list[str] = []
        with app.app_context():
            engine = db.engine

        def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        def commit(_conn: Any) -> None:
            seen.append("COMMIT")

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "commit", commit)

        def statements(request: Callable[[], None]) -> list[str]:
            seen.clear()
            request()
            return list(seen)

        for _warm in range(30):  # templates compiled, statements cached, connections open
            day_count()
            healthz()
        day_statements, healthz_statements = statements(day_count), statements(healthz)

        times: dict[str, list[float]] = {"day-count": [], "healthz": []}
        cases = (("day-count", day_count), ("healthz", healthz))
        for index in range(args.requests):
            for label, request in cases if index % 2 else reversed(cases):
                started = time.thread_time()
                request()
                times[label].append(time.thread_time() - started)
        day_ms, base_ms = (statistics.median(times[k]) * 1000 for k in ("day-count", "healthz"))
        database = engine.dialect.name
        print(
            f"{database}, {args.requests} of each in turn, load average "
            f"{os.getloadavg()[0]:.1f}: POST {control.path} {day_ms:.2f} ms CPU, /healthz "
            f"{base_ms:.2f} ms CPU: {day_ms / base_ms:.2f}x; statements per request "
            f"{len(day_statements)} against {len(healthz_statements)}; "
            f"{sum(cookies_set)} of {len(cookies_set)} answers set a cookie"
        )
        for statement in day_statements:
            print("   ", " ".join(statement.split())[:150])
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _each in range(args.requests):
                day_count()
            profiler.disable()
            if args.save:
                profiler.dump_stats(args.save)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", commit)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
