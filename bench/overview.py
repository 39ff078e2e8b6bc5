"""Council overview benchmark: every school's remaining days, with 1,000 schools.

The scratch demo database (291 Essex schools) is topped up to SCHOOLS open schools, each with
its core allocation generated from the council's rules, then the service manager's overview is
measured side by side with `/healthz` on the same gunicorn server: the first page, a later
page filtered to schools with unused days, and the htmx active search (results fragment).

Goal (issue 4): the overview's response time does not depend on the number of schools (the
query count is fixed; tests/integration/test_days.py counts it); here its p50 is printed as a
ratio to the baseline's, with a goal of at most 10x. A figure, not a test: the exit status is
not 0 only when the benchmark failed or an answer was wrong.

    .venv/bin/python bench/overview.py [--seconds 3] [--rounds 3] [--concurrency 4]
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

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

from sqlalchemy import func, insert, select

from traded_app import create_app
from traded_app.extensions import db
from traded_app.models import Partnership, Quadrant, School
from traded_app.models.types import (
    BillingRoute,
    CustomerType,
    EstablishmentType,
    Phase,
    SchoolStatus,
)
from traded_app.services.days.allocations import generate_core_allocations
from traded_app.services.platform.settings import (
    academic_start_year,
    council_settings,
    ensure_academic_year,
    today,
)

ACCOUNT = "admin@example.org"
SCHOOLS = 1_000
LATENCY_GOAL = 10.0  # overview p50 over the baseline's p50, at most


def top_up_schools(database: Path, wanted: int) -> int:
    """Add generated open schools until `wanted` are open, then generate core allocations."""
    os.environ.update(
        {
            "APP_ENV": "development",
            "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": "bench-secret-" + "x" * 32,
        }
    )
    app = create_app()
    with app.app_context():
        have = db.session.execute(
            select(func.count()).select_from(School).where(School.status == SchoolStatus.OPEN)
        ).scalar_one()
        quadrants = list(db.session.execute(select(Quadrant.id)).scalars())
        partnerships = list(db.session.execute(select(Partnership.id)).scalars())
        phases = [Phase.PRIMARY, Phase.PRIMARY, Phase.PRIMARY, Phase.SECONDARY, Phase.SPECIAL]
        rows = [
            {
                "urn": 900_000 + n,
                "name": f"Bench School {n:04d}",
                "phase": phases[n % len(phases)],
                "establishment_type": EstablishmentType.LA_MAINTAINED,
                "customer_type": CustomerType.MAINTAINED,
                "billing_route": BillingRoute.RECHARGE,
                "quadrant_id": quadrants[n % len(quadrants)],
                "partnership_id": partnerships[n % len(partnerships)] if n % 2 else None,
                "causing_concern": n % 17 == 0,
            }
            for n in range(max(0, wanted - have))
        ]
        if rows:
            db.session.execute(insert(School), rows)
        settings = council_settings()
        assert settings is not None
        generate_core_allocations(ensure_academic_year(academic_start_year(today())), settings)
        db.session.commit()
        total = db.session.execute(
            select(func.count()).select_from(School).where(School.status == SchoolStatus.OPEN)
        ).scalar_one()
        db.session.remove()
        db.engine.dispose()
    return int(total)


def main() -> int:
    args = arguments(__doc__)
    with serving() as server:
        port = server.port
        schools = top_up_schools(server.log.parent / "bench.db", SCHOOLS)
        cookie = sign_in(port, ACCOUNT)
        status, body, _renewed = fetch(port, "/council/days", {"Cookie": cookie})
        assert status == 200, f"GET /council/days answered {status}"
        count = re.search(rb'id="overview-count">(\d+) schools', body)
        assert count is not None and int(count.group(1)) >= SCHOOLS, (
            f"the overview lists {count.group(1) if count else None!r} schools"
        )
        headers = {"Cookie": cookie}
        cases = [
            Case(BASELINE, "/healthz"),
            Case("overview, first page", "/council/days", headers, expect=b"overview-schools"),
            Case(
                "overview, unused, page 5",
                "/council/days?unused=yes&page=5",
                headers,
                expect=b"overview-schools",
            ),
            Case(
                "overview search (htmx)",
                "/council/days?q=Bench+School+01",
                {**headers, "HX-Request": "true"},
                expect=b"Bench School 01",
            ),
        ]
        results, runs = measure(port, cases, args.rounds, args.seconds, args.concurrency)
        errors = server.errors()

    print(f"Council overview as {ACCOUNT} over {schools} open schools")
    report(results, runs, args.rounds, args.seconds, args.concurrency, errors)
    base = results[BASELINE]
    for case in cases[1:]:
        result = results[case.name]
        ratio = result.pct(0.5) / base.pct(0.5) if base.latencies else 0.0
        met = ratio <= LATENCY_GOAL and not result.failed
        print(
            f"goal: {case.name} p50 <= {LATENCY_GOAL:g}x the baseline's: "
            f"{'met' if met else 'NOT MET'} ({ratio:.2f}x, {result.pct(0.5):.1f} ms)"
        )
    return failures(results)


if __name__ == "__main__":
    sys.exit(main())
