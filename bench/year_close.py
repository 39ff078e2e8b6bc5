"""Closing a year for 600 schools (issue 15): the preview page and the close itself.

The scratch demo database is topped up to SCHOOLS open schools; every open school without days
last academic year (the demo's and the generated ones) gets a core allocation and an order of
one or two lines, three schools in four used some of them (delivered visits; some used a line's
days up), so every school has days left that carry over or lapse (the council's rule: carry over
up to 2 days) and the preview has a row for each. Visits still booked last year are recorded as
delivered (the close is refused while any is booked). Then:

- the service manager's preview (`/council/manage/year-close?year=<last>`: every school's
  figures computed, the county's totals, the first page of 50) is measured side by side with
  `/healthz` on the same gunicorn server, interleaved; goal: p50 at most 20x the baseline's;
- the close is applied in-process, in one transaction, with its time and the number of SQL
  statements it ran printed (goal: one transaction, a fixed number of statements whatever the
  number of schools).

A figure, not a test: the exit status is not 0 only when the benchmark failed or an answer was
wrong.

    .venv/bin/python bench/year_close.py [--seconds 3] [--rounds 3] [--concurrency 4]
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from run import (
    BASELINE,
    ROOT,
    Case,
    arguments,
    failures,
    fetch,
    measure,
    report,
    serving,
    sign_in,
)

sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, insert, select, update

from traded_app import create_app
from traded_app.extensions import db
from traded_app.models import (
    CoreAllocation,
    Order,
    OrderLine,
    OrderStatus,
    Quadrant,
    School,
    Service,
    User,
    Visit,
    VisitStatus,
)
from traded_app.models.types import (
    AllocationReason,
    BillingRoute,
    CustomerType,
    EstablishmentType,
    Phase,
    Role,
    SchoolStatus,
)
from traded_app.services.days import over_time, year_close
from traded_app.services.platform.settings import academic_start_year, ensure_academic_year, today

ACCOUNT = "admin@example.org"
SCHOOLS = 600
LATENCY_GOAL = 20.0  # preview p50 over the baseline's p50, at most


def _environment(database: Path) -> None:
    os.environ.update(
        {
            "APP_ENV": "development",
            "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": "bench-secret-" + "x" * 32,
        }
    )


def last_year_for(database: Path, wanted: int) -> tuple[int, int]:
    """Top up to `wanted` open schools with last year's days; returns (schools, start year).
    Long because it writes every kind of row a close reads, in bulk, in one place."""
    _environment(database)
    app = create_app()
    with app.app_context():
        last = ensure_academic_year(academic_start_year(today()) - 1)
        ensure_academic_year(last.start_year + 1)
        have = db.session.execute(
            select(func.count()).select_from(School).where(School.status == SchoolStatus.OPEN)
        ).scalar_one()
        quadrants = list(db.session.execute(select(Quadrant.id)).scalars())
        services = list(db.session.execute(select(Service.id).limit(3)).scalars())
        admin = db.session.execute(select(User).where(User.role == Role.LA_ADMIN)).scalars()
        admin_id = next(iter(admin)).id
        adviser_id = db.session.execute(
            select(User.id).where(User.role == Role.ADVISER).limit(1)
        ).scalar_one()
        new = max(0, wanted - have)
        db.session.execute(
            insert(School),
            [
                {
                    "urn": 800_000 + n,
                    "name": f"Bench Close School {n:04d}",
                    "phase": Phase.PRIMARY,
                    "establishment_type": EstablishmentType.LA_MAINTAINED,
                    "customer_type": CustomerType.MAINTAINED,
                    "billing_route": BillingRoute.RECHARGE,
                    "quadrant_id": quadrants[n % len(quadrants)],
                }
                for n in range(new)
            ],
        )
        # Every open school without days last year gets some (the demo's as well as the
        # generated ones), so the preview has a row for every one of them.
        with_days = select(CoreAllocation.school_id).where(
            CoreAllocation.academic_year_id == last.id
        )
        school_ids = list(
            db.session.execute(
                select(School.id)
                .where(School.status == SchoolStatus.OPEN, School.id.not_in(with_days))
                .order_by(School.id)
            ).scalars()
        )
        db.session.execute(
            insert(CoreAllocation),
            [
                {
                    "school_id": school_id,
                    "academic_year_id": last.id,
                    "reason": AllocationReason.PARTNERSHIP,
                    "half_days": 2 + n % 3,
                }
                for n, school_id in enumerate(school_ids)
            ],
        )
        delivered_on = last.starts_on + timedelta(days=45)
        for n, school_id in enumerate(school_ids):
            lines = [
                OrderLine(service_id=services[k % len(services)], half_days=2 + (n + k) % 5)
                for k in range(1 + n % 2)
            ]
            days = sum(line.half_days for line in lines)
            order = Order(
                school_id=school_id,
                academic_year_id=last.id,
                status=OrderStatus.IN_PROGRESS,
                created_by_id=admin_id,
                half_days=days,
                net_pence=days * 22_500,
                vat_pence=0,
                gross_pence=days * 22_500,
                quadrant_id=quadrants[n % len(quadrants)],
                lines=lines,
            )
            db.session.add(order)
            db.session.flush()
            # Used: none at one school in four, else a visit or two (a half or whole day each) of
            # the first line (its days all used at some); at one school in five half a core day too. What is
            # left carries over (up to 2 days) or lapses.
            uses: list[tuple[int | None, int]] = []
            left = lines[0].half_days
            for half_days in ([], [1], [2], [2, 2])[n % 4]:
                if half_days <= left:
                    uses.append((lines[0].id, half_days))
                    left -= half_days
            if n % 5 == 0:
                uses.append((None, 1))
            db.session.add_all(
                Visit(
                    school_id=school_id,
                    academic_year_id=last.id,
                    adviser_id=adviser_id,
                    order_line_id=line_id,
                    visit_date=delivered_on,
                    half_days=half_days,
                    purpose="Bench visit",
                    status=VisitStatus.DELIVERED,
                    scheduled_by_id=admin_id,
                    delivered_at=datetime.now(UTC),
                    delivered_by_id=adviser_id,
                )
                for line_id, half_days in uses
            )
        # The close is refused while visits are booked in the year: the demo's are delivered.
        db.session.execute(
            update(Visit)
            .where(Visit.academic_year_id == last.id, Visit.status == VisitStatus.SCHEDULED)
            .values(status=VisitStatus.DELIVERED, delivered_at=datetime.now(UTC))
        )
        over_time.save_rules(
            usable_half_days_per_week=2,
            warn_at_risk=True,
            lapse_warning_days=31,
            rule="carry_over",
            carry_over_max_half_days=4,
            core_carries_over=False,
        )
        db.session.commit()
        total = db.session.execute(
            select(func.count()).select_from(School).where(School.status == SchoolStatus.OPEN)
        ).scalar_one()
        start_year = last.start_year
        db.session.remove()
        db.engine.dispose()
    return int(total), start_year


def close_in_process(database: Path, start_year: int) -> tuple[float, int, Any]:
    """Close the year as the service manager, in one transaction: (seconds, statements, close)."""
    _environment(database)
    app = create_app()
    with app.app_context():
        statements = 0

        def count(*_args: Any) -> None:
            nonlocal statements
            statements += 1

        year = year_close.year_by_start(start_year)
        admin = db.session.execute(select(User).where(User.role == Role.LA_ADMIN)).scalars()
        user = next(iter(admin))
        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        started = time.perf_counter()
        assert year is not None
        closing = year_close.close_year(year, user, today())
        db.session.commit()
        seconds = time.perf_counter() - started
        event.remove(engine, "before_cursor_execute", count)
        summary = (closing.schools, closing.carried_half_days, closing.lapsed_half_days)
        db.session.remove()
        db.engine.dispose()
    return seconds, statements, summary


def main() -> int:
    args = arguments(__doc__)
    with serving() as server:
        database = server.log.parent / "bench.db"
        schools, start_year = last_year_for(database, SCHOOLS)
        cookie = sign_in(server.port, ACCOUNT)
        headers = {"Cookie": cookie}
        preview_path = f"/council/manage/year-close?year={start_year}"
        # The preview lists every open school (each has days left): 50 a page.
        pages = -(-schools // 50)
        caption = f"Schools ({schools}, page 1 of {pages})".encode()
        status, first, _cookie = fetch(server.port, preview_path, headers)
        if status != 200 or caption not in first:
            print(f"the preview does not list {schools} schools (status {status})")
            return 1
        middle = (pages + 1) // 2
        cases = [
            Case(BASELINE, "/healthz"),
            Case("year-close preview, page 1", preview_path, headers, expect=caption),
            Case(
                f"year-close preview, page {middle}",
                f"{preview_path}&page={middle}",
                headers,
                expect=f"page {middle} of {pages})".encode(),
            ),
        ]
        results, runs = measure(server.port, cases, args.rounds, args.seconds, args.concurrency)
        errors = server.errors()
        seconds, statements, (closed, carried, lapsed) = close_in_process(database, start_year)

    print(f"Closing {start_year}/{str(start_year + 1)[-2:]} as {ACCOUNT}: {schools} open schools")
    report(results, runs, args.rounds, args.seconds, args.concurrency, errors)
    base = results[BASELINE]
    for case in cases[1:]:
        preview = results[case.name]
        ratio = preview.pct(0.5) / base.pct(0.5) if base.latencies else 0.0
        met = ratio <= LATENCY_GOAL and not preview.failed
        print(
            f"goal: {case.name} p50 <= {LATENCY_GOAL:g}x the baseline's: "
            f"{'met' if met else 'NOT MET'} ({ratio:.2f}x, {preview.pct(0.5):.1f} ms)"
        )
    print(
        f"apply: one transaction, {statements} SQL statements, {seconds * 1000:.0f} ms: "
        f"{closed} schools, {carried / 2:g} days carried over, {lapsed / 2:g} lapsed"
    )
    return failures(results)


if __name__ == "__main__":
    sys.exit(main())
