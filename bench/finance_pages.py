"""Finance pages benchmark: the register and aged debt over 10,000 documents, on SQLite and on
PostgreSQL.

A scratch demo database is topped up to DOCUMENTS documents by bench/datasets.py (bulk inserts:
invoices, recharges, credit notes, payments and reminders over 400 days), then a finance
officer's `/finance/invoices` (the register's first page, and overdue invoices sorted by
balance) and `/finance/aged-debt` are measured side by side with `/healthz` on the same gunicorn
server, interleaving rounds: first on a scratch SQLite file, then on PostgreSQL when
BENCH_DATABASE_URL (the app's role) and BENCH_DATABASE_OWNER_URL (the tables' owner) name a
database it may empty (its schema `public` is dropped and migrated afresh; never point them at
one whose data you want).

The statements page and the statement of the school with most documents are measured too.

Goal (issue 12, part 3): each page's p50 at most 10x the baseline's at 10,000 documents, on
each database, and the same queries per page at 10,000 and 100,000 documents: after measuring,
each page's queries are counted in one process (bench/finance_queries.py), then the database
is topped up to --large documents (100,000; 0 skips it) and counted again
(tests/integration/test_finance_query_counts.py holds them equal at 10 and 1,000). A figure,
not a test: the exit status is not 0 only when the benchmark failed or an answer was wrong.

    .venv/bin/python bench/finance_pages.py [--documents 10000] [--large 100000] [--seconds 3]
        [--rounds 3] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import sys
import time
from pathlib import Path

from datasets import engine_for, top_up
from finance_queries import count_in_subprocess, describe
from run import (
    BASELINE,
    Case,
    Result,
    Server,
    failures,
    fetch,
    hammer,
    merge,
    report,
    serving,
    sign_in,
)
from sqlalchemy import text

ACCOUNT = "finance@example.org"
DOCUMENTS = 10_000
LARGE = 100_000
LATENCY_GOAL = 10.0  # a page's p50 over the baseline's p50, at most


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=DOCUMENTS, help="documents to add")
    parser.add_argument(
        "--large", type=int, default=LARGE, help="documents to count queries at too (0: skip)"
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per round per case")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    return parser.parse_args()


def wait_until_answering(port: int, seconds: float = 60.0) -> None:
    """gunicorn takes connections before its workers have loaded the app, which on a loaded
    machine can take longer than one request's timeout: ask /healthz until it answers."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fetch(port, "/healthz")
            return
        except (OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise


PAGES = ("register /finance/invoices", "aged debt /finance/aged-debt")
STATEMENTS = ("statements /finance/statements", "a school's statement")


def empty_postgres(owner_url: str) -> None:
    """Drop and recreate the schema `public` of the database, as its owner."""
    engine = engine_for(owner_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def measure_with_cpu(
    server: Server, cases: list[Case], args: argparse.Namespace
) -> tuple[dict[str, Result], dict[str, list[Result]], dict[str, float]]:
    """`run.measure`'s interleaved rounds, also adding up the server's CPU time per answer of
    each case: a figure the machine's other load changes far less than latency."""
    for case in cases:  # every worker compiles each page's templates and statements once
        hammer(case, server.port, 1.0, args.concurrency)
    runs: dict[str, list[Result]] = {case.name: [] for case in cases}
    used = dict.fromkeys(runs, 0.0)
    for _ in range(args.rounds):
        for case in cases:
            before = server.cpu_seconds()
            runs[case.name].append(hammer(case, server.port, args.seconds, args.concurrency))
            used[case.name] += server.cpu_seconds() - before
    results = {name: merge(r) for name, r in runs.items()}
    cpu = {name: used[name] / max(1, len(results[name].latencies)) for name in runs}
    return results, runs, cpu


def measure_on(label: str, args: argparse.Namespace, database: dict[str, str] | None) -> int:
    """Seed, top up and measure on one database (SQLite when `database` is None); prints the
    table and a goal line for each page. Returns the exit status."""
    with serving(database) as server:
        port = server.port
        wait_until_answering(port)
        cookie = sign_in(port, ACCOUNT)  # once: sign-in is rate limited per account
        began = time.perf_counter()
        target: Path | str = server.log.parent / "bench.db"
        if database is not None:
            target = database["DATABASE_OWNER_URL"]
        counts = top_up(target, args.documents)
        built = time.perf_counter() - began
        app_url = f"sqlite:///{target}" if database is None else database["DATABASE_URL"]
        counted = [count_in_subprocess(app_url)]
        headers = {"Cookie": cookie}
        status, body, _renewed = fetch(port, "/finance/invoices", headers)
        assert status == 200, f"GET /finance/invoices answered {status}"
        shown = re.search(rb"(\d[\d,]*) documents?", body)
        assert shown is not None and int(shown.group(1).replace(b",", b"")) >= args.documents, (
            f"the register shows {shown.group(1) if shown else None!r} documents"
        )
        cases = [
            Case(BASELINE, "/healthz"),
            Case(PAGES[0], "/finance/invoices", headers, expect=b"INV-"),
            Case(
                "register, overdue by balance",
                "/finance/invoices?status=overdue&sort=balance",
                headers,
                expect=b"Overdue",
            ),
            Case(PAGES[1], "/finance/aged-debt", headers, expect=b"Total"),
            Case(STATEMENTS[0], "/finance/statements", headers, expect=b"Schools with a balance"),
            Case(
                STATEMENTS[1],
                f"/finance/schools/{counted[0]['school_urn']}/statement",
                headers,
                expect=b"Closing balance",
            ),
        ]
        results, runs, cpu = measure_with_cpu(server, cases, args)
        errors = server.errors()
        if args.large > args.documents:  # the scratch database goes with the server
            began = time.perf_counter()
            top_up(target, args.large - args.documents)
            print(
                f"\n{label}: topped up by {args.large - args.documents:,} documents in "
                f"{time.perf_counter() - began:.1f} s"
            )
            counted.append(count_in_subprocess(app_url))

    print(f"\n{label}: finance pages as {ACCOUNT}: added {counts} in {built:.1f} s")
    report(results, runs, args.rounds, args.seconds, args.concurrency, errors)
    if cpu[BASELINE]:
        print(
            "server CPU per request (the workers' user + system time over the answers): "
            + "; ".join(
                f"{name} {cpu[name] * 1000:.1f} ms ({cpu[name] / cpu[BASELINE]:.1f}x)"
                for name in cpu
            )
        )
    for result in counted:
        print(f"{label}: {describe(result)}")
    if len(counted) > 1:
        same = counted[0]["queries"] == counted[-1]["queries"]
        print(
            f"goal ({label}): the same queries per page at {counted[0]['documents']:,} and "
            f"{counted[-1]['documents']:,} documents: {'met' if same else 'NOT MET'}"
        )
    base = results[BASELINE]
    for case in cases[1:]:
        result = results[case.name]
        p50 = result.pct(0.5) / base.pct(0.5) if base.latencies else 0.0
        p95 = result.pct(0.95) / base.pct(0.95) if base.latencies else 0.0
        met = p50 <= LATENCY_GOAL and not result.failed
        print(
            f"goal ({label}): {case.name} p50 <= {LATENCY_GOAL:g}x the baseline's at "
            f"{args.documents:,} documents: {'met' if met else 'NOT MET'} "
            f"(p50 {p50:.2f}x, {result.pct(0.5):.1f} ms; p95 {p95:.2f}x, "
            f"{result.pct(0.95):.1f} ms; /healthz p50 {base.pct(0.5):.1f} ms)"
        )
    return failures(results)


def main() -> int:
    args = arguments()
    status = 0
    if args.only != "postgresql":
        status |= measure_on("SQLite", args, None)
    if args.only != "sqlite":
        app_url = os.environ.get("BENCH_DATABASE_URL", "")
        owner_url = os.environ.get("BENCH_DATABASE_OWNER_URL", "") or app_url
        if not app_url.startswith("postgresql"):
            for page in PAGES:
                print(
                    f"goal (PostgreSQL): {page} p50 <= {LATENCY_GOAL:g}x the baseline's: NOT "
                    "MEASURED (set BENCH_DATABASE_URL and BENCH_DATABASE_OWNER_URL)"
                )
        else:
            empty_postgres(owner_url)
            database = {"DATABASE_URL": app_url, "DATABASE_OWNER_URL": owner_url}
            status |= measure_on("PostgreSQL", args, database)
    return status


if __name__ == "__main__":
    sys.exit(main())
