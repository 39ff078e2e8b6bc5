"""Demo invoice schedule: one academy's order charged termly, its first instalment issued.

Great Bentley Primary's business manager orders two days of headteacher performance
management, and the council confirms it while the academies' route is charged termly (thirds on
1 September, 1 January and 15 April): the autumn third is issued at once (its date has passed),
the spring and summer thirds are still to come on the order's page. The academies' route then
goes back to being charged at confirmation, as the demo's other journeys expect (an order keeps
the schedule it was confirmed under).

Safe to run again: nothing is done once the school has an order with a schedule.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from traded_app.demo.accounts import COUNCIL_ADMIN
from traded_app.extensions import db
from traded_app.models import AcademicYear, Order, ScheduledCharge, School, Service, User
from traded_app.models.instalments import ChargeTiming
from traded_app.models.types import BillingRoute
from traded_app.services.documents import charge_plans
from traded_app.services.ordering import basket, terms, workflow
from traded_app.services.platform.errors import DomainError

log = logging.getLogger(__name__)

SCHOOL = "greatbentley"
BUSINESS_MANAGER = "sbm10@example.org"
LINES = (("HTPM", 4),)


def load_instalments(
    demo_schools: dict[str, School], users: dict[str, User], year: AcademicYear
) -> int:
    """Make the demo's order on instalments; returns its instalments issued (0: none made)."""
    school = demo_schools.get(SCHOOL)
    if school is None or BUSINESS_MANAGER not in users or COUNCIL_ADMIN not in users:
        return 0
    scheduled = select(ScheduledCharge.id).join(Order).where(Order.school_id == school.id)
    if db.session.execute(scheduled.limit(1)).first() is not None:
        return 0
    admin = users[COUNCIL_ADMIN]
    before = charge_plans.plan_for(BillingRoute.INVOICE)
    kept = (
        (before.timing, before.name, charge_plans.plan_parts(before))
        if before is not None
        else (ChargeTiming.ON_CONFIRMATION, "", [])
    )
    name, parts = charge_plans.PRESETS["termly"]
    charge_plans.save_plan(BillingRoute.INVOICE, ChargeTiming.INSTALMENTS, name, parts, admin)
    try:
        with db.session.begin_nested():  # all of the order, or none of it
            order = _confirmed_order(school, users[BUSINESS_MANAGER], admin, year)
    except DomainError as error:  # the demo goes on without it, saying why
        log.warning("Demo order on instalments left out: %s", error)
        return 0
    finally:
        charge_plans.save_plan(BillingRoute.INVOICE, kept[0], kept[1], kept[2], admin)
    return sum(1 for row in _charges(order) if row.document_id is not None)


def _confirmed_order(school: School, buyer: User, admin: User, year: AcademicYear) -> Order:
    order = basket.draft_for(school, buyer, year)
    services = {s.code: s.id for s in db.session.execute(select(Service)).scalars()}
    for code, half_days in LINES:
        basket.set_days(order, services[code], half_days)
    current = terms.current_for(year.id)
    workflow.submit(
        order,
        buyer,
        workflow.Checkout(
            po_number="DEMO-149967-002",
            preferred_term="spring",
            terms_version_id=current.id if current else None,
        ),
        expected_version=order.version,
    )
    workflow.confirm(order, admin)
    return order


def _charges(order: Order) -> list[ScheduledCharge]:
    return list(
        db.session.execute(select(ScheduledCharge).where(ScheduledCharge.order_id == order.id))
        .scalars()
        .all()
    )
