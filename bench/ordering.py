"""Ordering benchmark: the catalogue's day-count htmx request against a bare endpoint.

A signed-in school business manager changes one service's days the way the catalogue's days
control does: `POST /catalogue/services/<id>/days` with `days-<id>`, `HX-Request: true` and the
page's `X-CSRFToken`. The days alternate (1, 1.5, 2, ...) so every request really writes. It is
measured side by side with `/healthz` on the same gunicorn server, interleaving rounds, and the
answer's size is set against the full catalogue page's (`GET /catalogue`).

Goals (issue 3): the day-count request at least 0.4x the bare endpoint's throughput, and its
fragments under a tenth of the page's bytes. Each is printed as met or not met: a figure, not a
test, so the exit status is not 0 only when the benchmark failed or some answers were wrong.

    .venv/bin/python bench/ordering.py [--seconds 3] [--rounds 3] [--concurrency 4]
"""

from __future__ import annotations

import html
import json
import re
import sys
from dataclasses import dataclass
from urllib.parse import urlencode

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
)

ACCOUNT = "sbm@example.org"
DAYS = ("1", "1.5", "2", "2.5")
THROUGHPUT_GOAL = 0.4  # the day-count request's req/s over the baseline's, at least
BYTES_GOAL = 0.1  # the fragment's bytes over the page's, under
SAVED = b"Order updated:"  # the announcement the fragment carries when the days were saved


@dataclass
class Control:
    """One days control on the catalogue page."""

    service_id: int
    path: str
    low: float
    high: float


def csrf_token(page: str) -> str:
    """The token htmx sends, from `<body hx-headers='{"X-CSRFToken": "..."}'>`."""
    found = re.search(r"<body[^>]*\shx-headers=(?:'([^']*)'|\"([^\"]*)\")", page)
    assert found is not None, "no hx-headers on the page's body"
    headers = json.loads(html.unescape(found.group(1) or found.group(2)))
    return str(headers["X-CSRFToken"])


def days_controls(page: str) -> list[Control]:
    controls = []
    for tag in re.findall(r'<input[^>]*\sname="days-\d+"[^>]*>', page, flags=re.S):
        attrs = dict(re.findall(r'\s([\w-]+)="([^"]*)"', tag))
        controls.append(
            Control(
                int(attrs["name"].removeprefix("days-")),
                html.unescape(attrs["hx-post"]),
                float(attrs["min"]),
                float(attrs["max"]),
            )
        )
    return controls


def main() -> int:
    args = arguments(__doc__)
    with serving() as server:
        port = server.port
        cookie = sign_in(port, ACCOUNT)  # once: sign-in is rate limited per account
        status, body, renewed = fetch(port, "/catalogue", {"Cookie": cookie})
        assert status == 200, f"GET /catalogue answered {status}"
        # The page put its CSRF token in the session, so later requests need the cookie it set.
        cookie = renewed or cookie
        page = body.decode()
        token = csrf_token(page)
        wanted = [float(d) for d in DAYS]
        control = next(
            (c for c in days_controls(page) if c.low <= min(wanted) and max(wanted) <= c.high),
            None,
        )
        assert control is not None, f"no service on the catalogue takes {', '.join(DAYS)} days"
        field = f"days-{control.service_id}"
        headers = {
            "Cookie": cookie,
            "HX-Request": "true",
            "X-CSRFToken": token,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        bodies = [urlencode({field: days}) for days in DAYS]
        day_count = Case(
            "day-count htmx POST",
            control.path,
            headers,
            method="POST",
            bodies=bodies,
            expect=SAVED,
        )
        cases = [Case(BASELINE, "/healthz"), day_count]
        results, runs = measure(port, cases, args.rounds, args.seconds, args.concurrency)

        # The last write must have stuck, and the page is weighed with the line in the basket.
        status, body, _cookie = fetch(port, "/catalogue", {"Cookie": cookie})
        assert status == 200, f"GET /catalogue answered {status}"
        page = body.decode()
        shown = re.search(rf'<input[^>]*\sname="{field}"[^>]*>', page)
        value = re.search(r'\svalue="([^"]*)"', shown.group(0)) if shown else None
        assert value is not None and value.group(1) in DAYS, (
            f"{field} on the page is {value.group(1) if value else None!r} after the run"
        )
        page_bytes = len(body)
        errors = server.errors()

    print(f"Day count: {control.path} as {ACCOUNT}, days {', '.join(DAYS)} in turn")
    report(results, runs, args.rounds, args.seconds, args.concurrency, errors)
    fragment = results[day_count.name]
    base = results[BASELINE]
    throughput = fragment.rps / base.rps if base.rps else 0.0
    share = fragment.size / page_bytes
    print(
        f"fragment {fragment.size} bytes, full catalogue page {page_bytes} bytes: "
        f"{share:.1%} of the page"
    )
    goals = [
        (
            f"day-count throughput >= {THROUGHPUT_GOAL}x the bare endpoint's",
            throughput >= THROUGHPUT_GOAL and not fragment.failed,
            f"{throughput:.2f}x",
        ),
        (
            f"fragment < {BYTES_GOAL:.0%} of the page's bytes",
            share < BYTES_GOAL and not fragment.failed,
            f"{share:.1%}",
        ),
    ]
    for goal, met, figure in goals:
        print(f"goal: {goal}: {'met' if met else 'NOT MET'} ({figure})")
    return failures(results)


if __name__ == "__main__":
    sys.exit(main())
