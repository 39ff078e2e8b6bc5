"""The demo's orders: orders in every status a newcomer can meet at the four demo schools, and a
confirmed, charged order at each of seven more academies (their charges' later history is
traded_app.demo.finance's). Each is made through the ordering services, as the people who would
make it in the app, so its history, frozen prices and totals are the real thing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from traded_app.demo import finance as demo_finance
from traded_app.demo.accounts import COUNCIL_ADMIN
from traded_app.extensions import db
from traded_app.models import AcademicYear, Order, OrderStatus, School, Service, User
from traded_app.services.ordering import basket, workflow
from traded_app.services.ordering.offer import catalogue_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoOrder:
    """One order: who builds and submits it, then what happens to it, as (action, by, reason)."""

    school: str  # a key of schools.DEMO_SCHOOLS
    lines: tuple[tuple[str, int], ...]  # (service code, half-days)
    submitted_by: str
    steps: tuple[tuple[str, str, str], ...] = ()
    po_number: str = ""
    preferred_term: str = ""
    adviser_note: str = ""
    # When a confirmed order was charged and what happened to its document since.
    charge: demo_finance.Charge | None = None

    @property
    def confirmed(self) -> bool:
        return any(action == "confirm" for action, _by, _reason in self.steps)

    @property
    def half_days(self) -> int:
        return sum(half_days for _code, half_days in self.lines)


# Orders in every status a newcomer can meet before visits exist (in progress and completed come
# with visits, so the demo has none yet). Hamilton Primary, where the browser tests start from an
# empty basket and confirm "the newest submitted order", has only finished business; the council's
# queue (submitted, awaiting approval, cancellation requested) is at the other schools.
# Totals before VAT at £450 a day: Hamilton's limit is £2,000, the academy's £1,500, Myland's
# £1,000 and De La Salle's £3,000.
DEMO_ORDERS = [
    # Hamilton Primary: 5 days (£2,250) is over the limit; the headteacher approved it and the
    # council confirmed it.
    DemoOrder(
        "maintained",
        (("COLPRI", 8), ("QASEF", 2)),
        "sbm@example.org",
        (("approve", "head@example.org", ""), ("confirm", COUNCIL_ADMIN, "")),
        po_number="DEMO-114706-001",
        preferred_term="autumn",
        adviser_note="Our priority this year is reading in Key Stage 2.",
        charge=demo_finance.Charge(84),
    ),
    DemoOrder(
        "maintained",
        (("PARENT", 2),),
        "sbm@example.org",
        (("withdraw", "sbm@example.org", "The governors resolved the complaint themselves."),),
        po_number="DEMO-114706-002",
    ),
    # de Vere Primary (academy: VAT at 20%).
    DemoOrder(
        "academy",
        (("GOVREV", 6),),
        "sbm2@example.org",
        po_number="DEMO-148139-001",
        preferred_term="spring",
    ),
    DemoOrder(
        "academy",
        (("CURRIC", 8),),
        "sbm2@example.org",
        po_number="DEMO-148139-002",
        preferred_term="summer",
        adviser_note="We would like the review to cover the wider curriculum in Years 5 and 6.",
    ),
    DemoOrder(
        "academy",
        (("SAFE", 4),),
        "sbm2@example.org",
        (
            ("confirm", COUNCIL_ADMIN, ""),
            (
                "request_cancellation",
                "sbm2@example.org",
                "Our trust is arranging a safeguarding audit for all its schools this year.",
            ),
        ),
        po_number="DEMO-148139-003",
        # 31 to 60 days overdue: half paid two weeks after issue, reminded once.
        charge=demo_finance.Charge(84, demo_finance.HALF_PAID, reminders=1),
    ),
    DemoOrder(
        "academy",
        (("SENPP", 6),),
        "sbm2@example.org",
        (
            (
                "decline",
                COUNCIL_ADMIN,
                "No SEN adviser is free in the summer term. Please order again for the autumn.",
            ),
        ),
        po_number="DEMO-148139-004",
        preferred_term="summer",
    ),
    # Myland Community Primary: 3 days (£1,350) is over its £1,000 limit.
    DemoOrder(
        "myland",
        (("COLNEW", 6),),
        "sbm3@example.org",
        (
            (
                "reject",
                "head3@example.org",
                "Not in this year's budget: we will look again in April.",
            ),
        ),
    ),
    DemoOrder("myland", (("HTPM", 2),), "sbm3@example.org", preferred_term="autumn"),
    DemoOrder(
        "myland",
        (("DHREC", 4),),
        "sbm3@example.org",
        (
            ("confirm", COUNCIL_ADMIN, ""),
            (
                "request_cancellation",
                "sbm3@example.org",
                "Our deputy headteacher has decided to stay, so we are not recruiting.",
            ),
            ("cancel", COUNCIL_ADMIN, "Cancelled at the school's request before any visit."),
        ),
    ),
    # De La Salle School.
    DemoOrder(
        "delasalle",
        (("COLPRI", 8), ("QASEF", 4)),
        "sbm4@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        po_number="DEMO-115237-001",
        charge=demo_finance.Charge(47),
    ),
    DemoOrder(
        "delasalle",
        (("PEER", 4),),
        "sbm4@example.org",
        (
            ("confirm", COUNCIL_ADMIN, ""),
            ("request_cancellation", "sbm4@example.org", "We have found training elsewhere."),
            (
                "keep",
                COUNCIL_ADMIN,
                "The trainer is booked and the partnership's other schools rely on these dates.",
            ),
        ),
        charge=demo_finance.Charge(19),  # the newest recharge: not yet in a journal
    ),
    # 8 days (£3,600) is over the £3,000 limit: waiting for the headteacher.
    DemoOrder(
        "delasalle",
        (("EVENTS", 10), ("GOVSUP", 6)),
        "sbm4@example.org",
        adviser_note="A conference for the partnership's subject leaders in June.",
    ),
    # Over the limit too, but submitted by the headteacher, who may commit the spending.
    DemoOrder(
        "delasalle",
        (("GOVREV", 6), ("SAFE", 4), ("HTPM", 4)),
        "head4@example.org",
        preferred_term="spring",
    ),
    # Seven academies, each with an order under its limit, confirmed by the council and charged
    # on an earlier date (payment terms 30 days), so aged debt has something in every column.
    # Over 90 days overdue: half paid, reminded three times.
    DemoOrder(
        "frinton",
        (("COLPRI", 6),),
        "sbm5@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        po_number="DEMO-149966-001",
        preferred_term="autumn",
        charge=demo_finance.Charge(150, demo_finance.HALF_PAID, paid_after=20, reminders=3),
    ),
    # 61 to 90 days overdue: nothing paid, reminded twice.
    DemoOrder(
        "langenhoe",
        (("GOVREV", 4),),
        "sbm6@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        preferred_term="autumn",
        charge=demo_finance.Charge(105, reminders=2),
    ),
    # Paid in full by bank transfer, a few days late.
    DemoOrder(
        "homefarm",
        (("QASEF", 2), ("HTPM", 2)),
        "sbm7@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        po_number="DEMO-147713-001",
        charge=demo_finance.Charge(98, demo_finance.PAID, paid_after=36),
    ),
    # 0 to 30 days overdue: a transfer recorded against it by mistake, then reversed.
    DemoOrder(
        "williamread",
        (("CURRIC", 6),),
        "sbm8@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        po_number="DEMO-149253-001",
        preferred_term="spring",
        charge=demo_finance.Charge(52, demo_finance.PAID_BY_MISTAKE, paid_after=40, reminders=1),
    ),
    # Paid in full by bank transfer within terms.
    DemoOrder(
        "bocking",
        (("SAFE", 4),),
        "sbm9@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        charge=demo_finance.Charge(40, demo_finance.PAID, paid_after=28),
    ),
    # Not yet due: half a day credited.
    DemoOrder(
        "greatbentley",
        (("SENPP", 4), ("PEER", 2)),
        "sbm10@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        po_number="DEMO-149967-001",
        preferred_term="spring",
        charge=demo_finance.Charge(12, credit_half_days=1),
    ),
    # Not yet due: half paid.
    DemoOrder(
        "lincewood",
        (("DHREC", 4),),
        "sbm11@example.org",
        (("confirm", COUNCIL_ADMIN, ""),),
        charge=demo_finance.Charge(26, demo_finance.HALF_PAID, paid_after=22),
    ),
]

ORDER_STEPS: dict[str, Callable[[Order, User, str], Order]] = {
    "approve": lambda order, user, _reason: workflow.approve(order, user),
    "reject": workflow.reject,
    "withdraw": workflow.withdraw,
    "request_cancellation": workflow.request_cancellation,
    "confirm": lambda order, user, _reason: workflow.confirm(order, user),
    "decline": workflow.decline,
    "cancel": workflow.cancel,
    "keep": workflow.keep,
}


def orders(demo_schools: dict[str, School], users: dict[str, User], year: AcademicYear) -> int:
    """Make the demo orders of each demo school that has none yet; returns how many orders the
    demo schools have afterwards.

    A school is left alone when it already has a submitted order (an earlier run, or someone
    trying the app) or a basket with something in it (someone's unfinished order). A school whose
    quadrant team has too few days left to confirm its orders is left out, with a warning, rather
    than half made.
    """
    for key, school in demo_schools.items():
        plan = [o for o in DEMO_ORDERS if o.school == key]
        if not plan or _has_orders(school):
            continue
        problem = _why_not(school, plan, year)
        if problem:
            log.warning("Demo orders for %s left out: %s", school.name, problem)
            continue
        for demo in plan:
            _make_order(demo, school, users, year)
    db.session.flush()
    return int(
        db.session.execute(
            select(func.count())
            .select_from(Order)
            .where(
                Order.school_id.in_([s.id for s in demo_schools.values()]),
                Order.status != OrderStatus.DRAFT,
            )
        ).scalar_one()
    )


def charges(demo_schools: dict[str, School]) -> dict[int, demo_finance.Charge]:
    """Each demo school's orders matched to the demo orders they were made from (by status and
    lines), with their charges, by order id."""
    result: dict[int, demo_finance.Charge] = {}
    for key, school in demo_schools.items():
        plan = [o for o in DEMO_ORDERS if o.school == key and o.charge is not None]
        orders = db.session.execute(
            select(Order)
            .where(Order.school_id == school.id, Order.confirmed_at.is_not(None))
            .order_by(Order.id)
        ).scalars()
        for order in orders:
            lines = sorted((line.service.code, line.half_days) for line in order.lines)
            demo = next((d for d in plan if sorted(d.lines) == lines), None)
            if demo is not None and demo.charge is not None:
                result[order.id] = demo.charge
                plan.remove(demo)
    return result


def _why_not(school: School, plan: list[DemoOrder], year: AcademicYear) -> str:
    """What would stop the school's demo orders being made in full ("" when nothing would)."""
    offered = {e.service.code for e in catalogue_for(school.customer_type, year)}
    missing = sorted({code for o in plan for code, _ in o.lines} - offered)
    if missing:
        return f"{', '.join(missing)} cannot be ordered in {year.label}"
    needed = sum(o.half_days for o in plan if o.confirmed)
    if not needed:
        return ""
    position = (
        workflow.capacity_position(school.quadrant_id, year.id) if school.quadrant_id else None
    )
    if position is None or position.available_half_days < needed:
        return f"its quadrant team cannot sell {needed / 2:g} more days in {year.label}"
    return ""


def _has_orders(school: School) -> bool:
    orders = db.session.execute(select(Order).where(Order.school_id == school.id)).scalars().all()
    return any(o.status != OrderStatus.DRAFT or o.lines for o in orders)


def _make_order(
    demo: DemoOrder, school: School, users: dict[str, User], year: AcademicYear
) -> Order:
    """Build, submit and move one order on, as the people who would do it in the app."""
    submitter = users[demo.submitted_by]
    order = basket.draft_for(school, submitter, year)
    services = {s.code: s.id for s in db.session.execute(select(Service)).scalars()}
    for code, half_days in demo.lines:
        basket.set_days(order, services[code], half_days)
    details = workflow.Checkout(
        po_number=demo.po_number,
        preferred_term=demo.preferred_term,
        adviser_note=demo.adviser_note,
    )
    workflow.submit(order, submitter, details, expected_version=order.version)
    for action, email, reason in demo.steps:
        ORDER_STEPS[action](order, users[email], reason)
    return order
