"""Ordering benchmark: the catalogue's day-count htmx request against a bare endpoint, on SQLite
and on PostgreSQL.

Signed-in school business managers change one service's days the way the catalogue's days
control does: `POST /catalogue/services/<id>/days` with `days-<id>`, `HX-Request: true` and the
page's `X-CSRFToken`. The days alternate (1, 1.5, 2, ...) so every request really writes. It is
measured side by side with `/healthz` on the same gunicorn server, interleaving rounds: at 4
clients, each a business manager of their own school (the buy-back morning, which the goals
judge), and all on one school's basket (two staff or tabs at once, shown beside), and at 1
client, all five cases in each round. The answer's size is set against the full
catalogue page's (`GET /catalogue`).

SQLite is measured with gunicorn `-w 2`; PostgreSQL with `-w 4`, on the database that
BENCH_DATABASE_URL (the app's role) and BENCH_DATABASE_OWNER_URL (the owner) name, as
bench/finance_pages.py does: its public schema is emptied and seeded, so give it a database of
its own. Without them, PostgreSQL's goals are printed as not measured.

Goals (issue 12, part 2), for each database: the day-count request at least 0.4x the bare
endpoint's throughput at 4 clients, and its p95 at 4 clients at most 3x its p95 at 1 client;
(issue 3) its fragments under a tenth of the page's bytes. Each is printed as met or NOT MET: a
figure, not a test, so the exit status is not 0 only when the benchmark failed or some answers
were wrong.

    .venv/bin/python bench/ordering.py [--seconds 3] [--rounds 3] [--concurrency 4]
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from finance_pages import empty_postgres
from journeys import days_controls
from run import (
    BASELINE,
    Case,
    arguments,
    failures,
    fetch,
    measure,
    report,
    serving,
    sign_in,
    this_academic_year,
)

ACCOUNT = "sbm@example.org"
# The buy-back morning: business managers each changing their own school's basket at once.
SCHOOL_ACCOUNTS = ("sbm@example.org", "sbm2@example.org", "sbm3@example.org", "sbm4@example.org")
DAYS = ("1", "1.5", "2", "2.5")
CATALOGUE = f"/catalogue?year={this_academic_year()}"  # the demo's window is open: say which
THROUGHPUT_GOAL = 0.4  # the day-count request's req/s over the baseline's, at least
P95_GOAL = 3.0  # its p95 at 4 clients over its p95 at 1 client, at most
SQLITE_WORKERS, POSTGRES_WORKERS = 2, 4
BASELINE_ALONE = "baseline /healthz, 1 client"
BYTES_GOAL = 0.1  # the fragment's bytes over the page's, under
SAVED = b"Order updated:"  # the announcement the fragment carries when the days were saved


def csrf_token(page: str) -> str:
    """The token htmx sends, from `<body hx-headers='{"X-CSRFToken": "..."}'>`."""
    found = re.search(r"<body[^>]*\shx-headers=(?:'([^']*)'|\"([^\"]*)\")", page)
    assert found is not None, "no hx-headers on the page's body"
    headers = json.loads(html.unescape(found.group(1) or found.group(2)))
    return str(headers["X-CSRFToken"])


def _ready(port: int, account: str, wanted: list[float]) -> tuple[str, Any, dict[str, str]]:
    """Sign `account` in (once: sign-in is rate limited per account) and read its catalogue:
    its cookie, the days field of a service taking every day count in `wanted`, and the headers
    htmx sends."""
    cookie = sign_in(port, account)
    status, body, renewed = fetch(port, CATALOGUE, {"Cookie": cookie})
    assert status == 200, f"GET /catalogue as {account} answered {status}"
    # The page put its CSRF token in the session, so later requests need the cookie it set.
    cookie = renewed or cookie
    page = body.decode()
    control = next(
        (c for c in days_controls(page) if c.low <= min(wanted) and max(wanted) <= c.high),
        None,
    )
    assert control is not None, f"no service on {account}'s catalogue takes {DAYS} days"
    headers = {
        "Cookie": cookie,
        "HX-Request": "true",
        "X-CSRFToken": csrf_token(page),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return cookie, control, headers


@dataclass
class Measured:
    """One database's run: the results by case and the goals, each (goal, met, figure)."""

    name: str
    goals: list[tuple[str, bool, str]]
    failed: int


def measure_on(label: str, database: dict[str, str] | None, workers: int, args: Any) -> Measured:
    """Seed and measure on one database (SQLite when `database` is None)."""
    with serving(database, workers) as server:
        port = server.port
        wanted = [float(d) for d in DAYS]
        people = [_ready(port, account, wanted) for account in SCHOOL_ACCOUNTS]
        cookie, control, headers = people[0]
        field = control.field
        bodies = [urlencode({field: days}) for days in DAYS]

        def day_count(name: str, clients: int, *, own_schools: bool = False) -> Case:
            return Case(
                name,
                control.path,
                headers,
                method="POST",
                bodies=bodies,
                expect=SAVED,
                concurrency=clients,
                clients=[(c.path, h) for _cookie, c, h in people] if own_schools else (),
            )

        schools = f"day-count POST, {args.concurrency} clients at {len(people)} schools"
        busy = f"day-count POST, {args.concurrency} clients on one basket"
        alone = "day-count POST, 1 client"
        cases = [
            Case(BASELINE, "/healthz"),
            day_count(schools, args.concurrency, own_schools=True),
            day_count(busy, args.concurrency),
            Case(BASELINE_ALONE, "/healthz", concurrency=1),
            day_count(alone, 1),
        ]
        results, runs = measure(port, cases, args.rounds, args.seconds, args.concurrency)

        # The last write must have stuck, and the page is weighed with the line in the basket.
        status, body, _cookie = fetch(port, CATALOGUE, {"Cookie": cookie})
        assert status == 200, f"GET /catalogue answered {status}"
        page = body.decode()
        shown = re.search(rf'<input[^>]*\sname="{field}"[^>]*>', page)
        value = re.search(r'\svalue="([^"]*)"', shown.group(0)) if shown else None
        assert value is not None and value.group(1) in DAYS, (
            f"{field} on the page is {value.group(1) if value else None!r} after the run"
        )
        page_bytes = len(body)
        errors = server.errors()

    print(
        f"\n{label}: {control.path} as {ACCOUNT} (one basket), and as {', '.join(SCHOOL_ACCOUNTS)}"
        f" (each their own school's), days {', '.join(DAYS)} in turn"
    )
    report(results, runs, args.rounds, args.seconds, args.concurrency, errors, workers=workers)
    fragment, shared, single = results[schools], results[busy], results[alone]
    base = results[BASELINE]
    throughput = fragment.rps / base.rps if base.rps else 0.0
    spread = fragment.pct(0.95) / single.pct(0.95) if single.latencies else 0.0
    print(
        f"one basket at {args.concurrency} clients (two staff or tabs at once): "
        f"{shared.rps / base.rps if base.rps else 0.0:.2f}x the bare endpoint's throughput, "
        f"p95 {shared.pct(0.95):.1f} ms"
    )
    share = fragment.size / page_bytes
    print(
        f"fragment {fragment.size} bytes, full catalogue page {page_bytes} bytes: "
        f"{share:.1%} of the page"
    )
    failed = fragment.failed + shared.failed + single.failed
    goals = [
        (
            f"{label} -w {workers}: day-count throughput >= {THROUGHPUT_GOAL}x the bare "
            f"endpoint's at {args.concurrency} clients, each at their own school",
            throughput >= THROUGHPUT_GOAL and not failed,
            f"{throughput:.2f}x",
        ),
        (
            f"{label} -w {workers}: day-count p95 at {args.concurrency} clients (own schools) "
            f"<= {P95_GOAL:g}x its p95 at 1 client",
            spread <= P95_GOAL and not failed,
            f"{fragment.pct(0.95):.1f} ms / {single.pct(0.95):.1f} ms = {spread:.2f}x",
        ),
        (
            f"{label}: fragment < {BYTES_GOAL:.0%} of the page's bytes",
            share < BYTES_GOAL and not failed,
            f"{share:.1%}",
        ),
    ]
    return Measured(label, goals, failures(results))


def main() -> int:
    args = arguments(__doc__)
    measured = [measure_on("SQLite", None, SQLITE_WORKERS, args)]
    app_url = os.environ.get("BENCH_DATABASE_URL", "")
    owner_url = os.environ.get("BENCH_DATABASE_OWNER_URL", "") or app_url
    postgres = app_url.startswith("postgresql")
    if postgres:
        empty_postgres(owner_url)
        database = {"DATABASE_URL": app_url, "DATABASE_OWNER_URL": owner_url}
        measured.append(measure_on("PostgreSQL", database, POSTGRES_WORKERS, args))
    print()
    for run in measured:
        for goal, met, figure in run.goals:
            print(f"goal: {goal}: {'met' if met else 'NOT MET'} ({figure})")
    if not postgres:
        print(
            "goal: PostgreSQL: NOT MEASURED (set BENCH_DATABASE_URL and BENCH_DATABASE_OWNER_URL)"
        )
    return max(run.failed for run in measured)


if __name__ == "__main__":
    sys.exit(main())
