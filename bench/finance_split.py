"""Where a finance page's time goes, in one process (issue 12, part 3): each page asked for many
times through the app's test client as a finance officer, its CPU time (this thread's: SQLite runs in it) split into the
request (hooks, session, sign-in, the test client), the view before rendering (its services:
SQL, building statements and rows, Python sums), and the template (the page's table and the
layout: header, navigation, footer), with the SQL inside each counted apart. `/healthz` is
measured the same way, and each page is printed as a ratio to it.

    .venv/bin/python bench/finance_split.py DATABASE_URL [--repeat 200] [--profile PAGE]

DATABASE_URL is a migrated, seeded database topped up by bench/datasets.py (for example the
scratch file bench/finance_pages.py builds). `--profile` prints cProfile's top functions of
one page (its name as printed, e.g. "aged debt").
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from finance_queries import ACCOUNT, pages  # noqa: E402
from flask import before_render_template, template_rendered  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from traded_app import create_app  # noqa: E402
from traded_app.extensions import db  # noqa: E402
from traded_app.models import Document, School, User  # noqa: E402


class Clock:
    """Adds up SQL time (cursor execute to its end) and template time as the request runs."""

    def __init__(self) -> None:
        self.sql = 0.0
        self.sql_in_template = 0.0
        self.template = 0.0
        self.view = 0.0
        self.depth = 0
        self._sql_began = 0.0
        self._template_began = 0.0

    def reset(self) -> None:
        self.sql = self.sql_in_template = self.template = self.view = 0.0

    def sql_began(self, *_args: Any, **_kw: Any) -> None:
        self._sql_began = time.thread_time()

    def sql_ended(self, *_args: Any, **_kw: Any) -> None:
        spent = time.thread_time() - self._sql_began
        self.sql += spent
        if self.depth:
            self.sql_in_template += spent

    def template_began(self, *_args: Any, **_kw: Any) -> None:
        if not self.depth:
            self._template_began = time.thread_time()
        self.depth += 1

    def template_ended(self, *_args: Any, **_kw: Any) -> None:
        self.depth -= 1
        if not self.depth:
            self.template += time.thread_time() - self._template_began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--profile", help="a page's name: print its cProfile top functions")
    args = parser.parse_args()
    os.environ.update(
        {
            "APP_ENV": "development",
            "DATABASE_URL": args.database_url,
            "SECRET_KEY": "bench-secret-" + "x" * 32,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    app = create_app()
    clock = Clock()
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == ACCOUNT)).scalar_one()
        user_id = user.get_id()
        urn = db.session.execute(
            select(School.urn)
            .join(Document, Document.school_id == School.id)
            .group_by(School.urn)
            .order_by(func.count().desc(), School.urn)
            .limit(1)
        ).scalar_one()
        engine = db.engine
    event.listen(engine, "before_cursor_execute", clock.sql_began)
    event.listen(engine, "after_cursor_execute", clock.sql_ended)
    before_render_template.connect(clock.template_began, app)
    template_rendered.connect(clock.template_ended, app)
    # The view's own time: wrap every view function.
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = _timed(view, clock)

    client = app.test_client()
    now = int(time.time())
    with client.session_transaction() as session:
        session.update(_user_id=user_id, _fresh=True, signed_in_at=now, last_seen=now)
    measured = [("/healthz", "/healthz"), *pages(int(urn))]
    for _name, path in measured:
        for _ in range(5):
            assert client.get(path).status_code == 200, path
    keys = ("total", "view", "template", "sql", "sql_t")
    sums = {name: dict.fromkeys(keys, 0.0) for name, _path in measured}
    each: dict[str, list[float]] = {name: [] for name, _path in measured}
    rounds = 5  # interleaved, so the machine's other load falls on every page alike
    for _ in range(rounds):
        for name, path in measured:
            gc.collect()
            for _ in range(max(1, args.repeat // rounds)):
                clock.reset()
                began = time.thread_time()
                client.get(path)
                spent = time.thread_time() - began
                each[name].append(spent)
                totals = sums[name]
                totals["total"] += spent
                totals["view"] += clock.view
                totals["template"] += clock.template
                totals["sql"] += clock.sql
                totals["sql_t"] += clock.sql_in_template
    rows: dict[str, dict[str, float]] = {}
    for name, totals in sums.items():
        n = len(each[name])
        rows[name] = {k: v * 1000 / n for k, v in totals.items()}
        rows[name]["median"] = sorted(each[name])[n // 2] * 1000
    for name, path in measured:
        if args.profile == name:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.repeat):
                client.get(path)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    base = rows["/healthz"]["median"]
    print("CPU ms per request (means; the ratio is of medians to /healthz's median)")
    print(
        f"{'page':32} {'median':>7} {'ratio':>6} {'mean':>6} {'request':>8} {'view':>6} "
        f"{'(SQL)':>6} {'template':>8} {'(SQL)':>6}"
    )
    for name, r in rows.items():
        print(
            f"{name:32} {r['median']:7.2f} {r['median'] / base:6.1f} {r['total']:6.2f} "
            f"{r['total'] - r['view']:8.2f} "
            f"{r['view'] - r['template']:6.2f} {r['sql'] - r['sql_t']:6.2f} {r['template']:8.2f} "
            f"{r['sql_t']:6.2f}"
        )
    return 0


def _timed(view: Callable[..., Any], clock: Clock) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.thread_time()
        try:
            return view(*args, **kwargs)
        finally:
            clock.view += time.thread_time() - began

    timed.__name__ = view.__name__
    timed.__dict__.update(view.__dict__)
    return timed


if __name__ == "__main__":
    sys.exit(main())
