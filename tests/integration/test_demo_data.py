"""`flask --app wsgi seed-demo`: what a newcomer finds after `make run`."""

from __future__ import annotations

import contextvars
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import func, select

from tests.conftest import TEST_SECRET, environ_for_tests
from tests.integration.test_auth import sign_in
from traded_app import create_app
from traded_app.extensions import db
from traded_app.models import CoreAllocation, School, Service, ServicePrice, User
from traded_app.models.types import BillingRoute, CustomerType, Phase, Role, SchoolStatus
from traded_app.services.demo import DEMO_PASSWORD


def counts() -> dict[str, int]:
    return {
        model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (School, Service, ServicePrice, User, CoreAllocation)
    }


def test_seed_demo_loads_essex_and_is_idempotent(app: Any) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Demo data ready: 291 schools" in first.output
    before = counts()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert counts() == before
    assert before["School"] == 291 and before["Service"] == 14 and before["User"] == 6

    prices = set(db.session.execute(select(ServicePrice.price_per_day_pence)).scalars())
    assert prices == {45_000}


def test_demo_accounts_are_where_the_issue_says(app: Any) -> None:
    app.test_cli_runner().invoke(args=["seed-demo"])
    users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    sbm, head, sbm2 = users["sbm@example.org"], users["head@example.org"], users["sbm2@example.org"]
    assert sbm.school_id == head.school_id
    assert sbm.school.customer_type == CustomerType.MAINTAINED
    assert sbm.school.phase == Phase.PRIMARY
    assert sbm.school.billing_route == BillingRoute.RECHARGE
    assert sbm2.school.customer_type == CustomerType.ACADEMY
    assert sbm2.school.billing_route == BillingRoute.INVOICE
    # The academy continues a maintained school, whose record (and history) stays closed.
    predecessor = sbm2.school.predecessor
    assert predecessor is not None and predecessor.status == SchoolStatus.CLOSED
    assert {u.role for u in users.values()} == set(Role)


def test_demo_accounts_sign_in_with_the_published_password(app: Any, client: Any) -> None:
    app.test_cli_runner().invoke(args=["seed-demo"])
    response = sign_in(client, "sbm@example.org", DEMO_PASSWORD)
    page = client.get(response.location, follow_redirects=True)
    assert page.soup.h1.get_text(strip=True) == "Hamilton Primary School"


def test_core_allocations_follow_the_rules(app: Any) -> None:
    app.test_cli_runner().invoke(args=["seed-demo"])
    specials = (
        db.session.execute(
            select(School).where(School.phase == Phase.SPECIAL, School.status == SchoolStatus.OPEN)
        )
        .scalars()
        .all()
    )
    assert specials
    for school in specials:
        reasons = {
            a.reason.value
            for a in db.session.execute(
                select(CoreAllocation).where(CoreAllocation.school_id == school.id)
            ).scalars()
        }
        assert "special_or_pru" in reasons and "unpartnered_visit" not in reasons


def test_demo_accounts_command_prints_the_accounts(app: Any) -> None:
    app.test_cli_runner().invoke(args=["seed-demo"])
    output = app.test_cli_runner().invoke(args=["demo-accounts"]).output
    for email in (
        "sbm@example.org",
        "head@example.org",
        "sbm2@example.org",
        "finance@example.org",
        "admin@example.org",
        "adviser@example.org",
    ):
        assert email in output
    assert "demo-password" in output


def test_seed_demo_is_refused_in_production(tmp_path: Path) -> None:
    environ = environ_for_tests(
        tmp_path, f"sqlite:///{tmp_path / 'prod.db'}", APP_ENV="production", SECRET_KEY=TEST_SECRET
    )
    app = create_app(environ)
    with app.app_context():
        upgrade()
    # As from a shell: no other app's context is active.
    result = contextvars.Context().run(app.test_cli_runner().invoke, args=["seed-demo"])
    assert result.exit_code != 0
    assert "refused in production" in result.output
