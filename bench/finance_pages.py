"""Finance pages benchmark: the register and aged debt over 10,000 documents.

The scratch demo database is topped up to DOCUMENTS documents by bench/datasets.py (bulk
inserts: invoices, recharges, credit notes, payments and reminders over 400 days), then a
finance officer's `/finance/invoices` (the register's first page, and overdue invoices sorted
by balance) and `/finance/aged-debt` are measured side by side with `/healthz` on the same
gunicorn server, interleaving rounds.

Goal (issue 12, part 3): each page's p50 at most 10x the baseline's at 10,000 documents (the
query count does not grow with the documents; tests/integration/test_register.py and
test_aged_debt.py count it). A figure, not a test: the exit status is not 0 only when the
benchmark failed or an answer was wrong.

    .venv/bin/python bench/finance_pages.py [--documents 10000] [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import http.client
import re
import sys
import time

from datasets import top_up
from run import (
    BASELINE,
    Case,
    failures,
    fetch,
    measure,
    report,
    serving,
    sign_in,
)

ACCOUNT = "finance@example.org"
DOCUMENTS = 10_000
LATENCY_GOAL = 10.0  # a page's p50 over the baseline's p50, at most


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=DOCUMENTS, help="documents to add")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per round per case")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
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


def main() -> int:
    args = arguments()
    with serving() as server:
        port = server.port
        wait_until_answering(port)
        cookie = sign_in(port, ACCOUNT)  # once: sign-in is rate limited per account
        began = time.perf_counter()
        counts = top_up(server.log.parent / "bench.db", args.documents)
        built = time.perf_counter() - began
        headers = {"Cookie": cookie}
        status, body, _renewed = fetch(port, "/finance/invoices", headers)
        assert status == 200, f"GET /finance/invoices answered {status}"
        shown = re.search(rb"(\d[\d,]*) documents?", body)
        assert shown is not None and int(shown.group(1).replace(b",", b"")) >= args.documents, (
            f"the register shows {shown.group(1) if shown else None!r} documents"
        )
        cases = [
            Case(BASELINE, "/healthz"),
            Case("register /finance/invoices", "/finance/invoices", headers, expect=b"INV-"),
            Case(
                "register, overdue by balance",
                "/finance/invoices?status=overdue&sort=balance",
                headers,
                expect=b"Overdue",
            ),
            Case("aged debt /finance/aged-debt", "/finance/aged-debt", headers, expect=b"Total"),
        ]
        results, runs = measure(port, cases, args.rounds, args.seconds, args.concurrency)
        errors = server.errors()

    print(f"Finance pages as {ACCOUNT}: added {counts} in {built:.1f} s")
    report(results, runs, args.rounds, args.seconds, args.concurrency, errors)
    base = results[BASELINE]
    for case in cases[1:]:
        result = results[case.name]
        p50 = result.pct(0.5) / base.pct(0.5) if base.latencies else 0.0
        p95 = result.pct(0.95) / base.pct(0.95) if base.latencies else 0.0
        met = p50 <= LATENCY_GOAL and not result.failed
        print(
            f"goal: {case.name} p50 <= {LATENCY_GOAL:g}x the baseline's at "
            f"{args.documents:,} documents: {'met' if met else 'NOT MET'} "
            f"(p50 {p50:.2f}x, {result.pct(0.5):.1f} ms; p95 {p95:.2f}x, "
            f"{result.pct(0.95):.1f} ms)"
        )
    return failures(results)


if __name__ == "__main__":
    sys.exit(main())
