"""`seed-demo` (issue 18 parts 5 and 6): this year's partnership plan with partnership visits
booked and delivered for several schools, and an open request for a service not in the
catalogue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.integration.test_demo_data import seed
from traded_app.extensions import db
from traded_app.models import (
    PartnershipOrder,
    PartnershipPlan,
    ServiceRequest,
    ServiceRequestStatus,
    VisitStatus,
)
from traded_app.services.days import partnership_visits, plans
from traded_app.services.platform.settings import academic_start_year, today


def test_the_demo_has_an_agreed_plan_with_partnership_visits_and_an_open_request(
    app: Any,
) -> None:
    seed(app)
    seed(app)  # idempotent: nothing more the second time
    (plan,) = db.session.execute(select(PartnershipPlan)).scalars()
    assert plan.academic_year.start_year == academic_start_year(today())
    assert plan.agreed_at is not None and plans.missing_non_negotiables(plan) == []
    assert [i.omitted_reason != "" for i in plan.items].count(True) == 1
    shared = plans.shared_visits(plan.partnership_id, plan.academic_year_id)
    statuses = sorted(plans.status_of(s) for s in shared)
    assert statuses == [VisitStatus.DELIVERED, VisitStatus.SCHEDULED]
    assert all(len(s.visits) == 2 for s in shared)
    figures = plans.figures(plan, plan.partnership_id, plan.academic_year_id)
    assert figures.delivered == 2 and figures.booked == 2
    (request,) = db.session.execute(select(ServiceRequest)).scalars()
    assert request.status == ServiceRequestStatus.OPEN


def test_the_demo_partnership_order_has_a_visit_delivered_for_two_schools(app: Any) -> None:
    seed(app)
    (order,) = db.session.execute(select(PartnershipOrder)).scalars()
    (shared,) = partnership_visits.visits_of(order)
    assert plans.status_of(shared) == VisitStatus.DELIVERED
    assert len(shared.visits) == 2
    (line,) = partnership_visits.line_figures(order)
    assert (line.use.delivered, line.left) == (2, line.bought - 2)
    # The plan's shared visits of core days do not count it.
    assert shared not in plans.shared_visits(order.partnership_id, order.academic_year_id)
