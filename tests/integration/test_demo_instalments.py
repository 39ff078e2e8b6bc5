"""The demo's order on instalments: one academy charged termly, its first third issued."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.integration.test_demo_data import school, seed
from traded_app.extensions import db
from traded_app.models import Order, ScheduledCharge, User
from traded_app.models.instalments import ScheduledChargeStatus
from traded_app.models.types import BillingRoute
from traded_app.services.documents import charge_plans


def test_one_demo_academy_is_on_instalments_with_its_first_issued(app: Any, client: Any) -> None:
    seed(app)
    great_bentley = school(149967)
    rows = list(
        db.session.execute(
            select(ScheduledCharge)
            .join(Order)
            .where(Order.school_id == great_bentley.id)
            .order_by(ScheduledCharge.number)
        ).scalars()
    )
    assert [(r.number, r.count, r.status) for r in rows] == [
        (1, 3, ScheduledChargeStatus.RAISED),
        (2, 3, ScheduledChargeStatus.SCHEDULED),
        (3, 3, ScheduledChargeStatus.SCHEDULED),
    ]
    first = rows[0].document
    assert first is not None and first.instalment_number == 1
    # The other journeys still see academies charged at confirmation.
    plan = charge_plans.plan_for(BillingRoute.INVOICE)
    assert plan is None or plan.timing.value == "on_confirmation"
    seed(app)  # again: nothing more
    assert (
        db.session.scalars(select(ScheduledCharge).order_by(ScheduledCharge.number)).all() == rows
    )

    buyer = db.session.execute(select(User).where(User.email == "sbm10@example.org")).scalar_one()
    client.sign_in_as(buyer)
    page = client.get(f"/orders/{rows[0].order_id}")
    assert "Still to come" in page.soup.select_one("main").get_text(" ", strip=True)
