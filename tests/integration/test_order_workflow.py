"""The order workflow's one table of steps (ordering.workflow.TRANSITIONS), walked: every step it
allows succeeds and leads where it says, every other step is refused with a message that says
why, only the people it names may take a step, and an order's page shows a button for exactly
the steps the table gives the person looking."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import text_of
from tests.factories import book_visit, confirmed_order, submitted_order, weekday_in_year
from traded_app.extensions import db
from traded_app.models import Order, OrderStatus, User
from traded_app.models.types import SCHOOL_ROLES, Role
from traded_app.services.days import visits
from traded_app.services.ordering import basket, workflow
from traded_app.services.ordering.workflow import TRANSITIONS, Step
from traded_app.views.orders import ACTIONS

# The steps a person takes (the rest are the days service's), in the table's order.
PEOPLES_STEPS = list(
    dict.fromkeys(step for steps in TRANSITIONS.values() for step, _to in steps if step.by)
)
BUTTON_STEPS = [step for step in PEOPLES_STEPS if step is not workflow.SUBMIT]
REASON = "Agreed at the governors' meeting"


def leads_to(status: OrderStatus, step: Step) -> set[OrderStatus]:
    return {to for allowed, to in TRANSITIONS[status] if allowed == step}


def taker(world: Any, step: Step) -> User:
    """Someone the table lets take `step`: a school's step by its business manager (or, when
    only the headteacher may, the headteacher), a council's by the service manager."""
    for role in (Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER, Role.LA_ADMIN):
        if role in step.by:
            return world.users[role]  # type: ignore[no-any-return]
    raise AssertionError(f"no one takes {step.name}")


def take(step: Step, order: Order, user: User) -> None:
    run = getattr(workflow, step.name)
    if step in (workflow.APPROVE, workflow.CONFIRM):
        run(order, user)
    elif step is workflow.SUBMIT:
        run(order, user, workflow.Checkout(po_number="PO-9"), expected_version=order.version)
    else:
        run(order, user, REASON)


def order_in(world: Any, status: OrderStatus) -> Order:
    """An order of the world's school in `status`, submitted by its business manager."""
    if status == OrderStatus.DRAFT:
        order = basket.draft_for(
            world.school, world.users[Role.SCHOOL_BUSINESS_MANAGER], world.year
        )
        basket.set_days(order, world.service.id, 2)
    else:
        order = submitted_order(world)
        order.status = status
    db.session.commit()
    return order


@pytest.mark.parametrize("status", list(OrderStatus), ids=str)
def test_each_step_the_table_allows_succeeds_and_every_other_is_refused(
    world: Any, status: OrderStatus
) -> None:
    for step in PEOPLES_STEPS:
        order = order_in(world, status)
        allowed = leads_to(status, step)
        if allowed:
            take(step, order, taker(world, step))
            db.session.commit()
            assert order.status in allowed, (status, step.name)
            event = order.events[-1]
            assert (event.action, event.from_status) == (step.event, status.value)
            continue
        if step is workflow.SUBMIT:
            expected = "This order has already been submitted"
        else:
            expected = (
                f"{order.reference} is {status.label.lower()}, so it cannot be {step.refused}"
            )
        with pytest.raises(basket.OrderError) as refused:
            take(step, order, taker(world, step))
        assert str(refused.value) == expected, (status, step.name)
        db.session.rollback()
        db.session.refresh(order)
        assert order.status == status


@pytest.mark.parametrize("step", BUTTON_STEPS, ids=lambda step: step.name)
def test_only_the_people_the_table_names_may_take_a_step(world: Any, step: Step) -> None:
    status = next(s for s, steps in TRANSITIONS.items() if any(a == step for a, _to in steps))
    order = order_in(world, status)
    outsiders = [u for role, u in world.users.items() if role not in step.by]
    if step.by <= SCHOOL_ROLES:
        outsiders.append(world.academy_sbm)  # staff of another school
    for user in outsiders:
        with pytest.raises(basket.OrderError) as refused:
            take(step, order, user)
        school_step_by_outsider = step.by <= SCHOOL_ROLES and user.school_id != order.school_id
        assert str(refused.value) == (
            workflow.OWN_STAFF_ONLY if school_step_by_outsider else step.who
        ), (step.name, user.role)
        db.session.rollback()


def test_a_headteacher_approves_or_rejects_only_someone_elses_order(world: Any) -> None:
    head = world.users[Role.HEADTEACHER]
    order = order_in(world, OrderStatus.AWAITING_APPROVAL)
    order.submitted_by_id = head.id
    db.session.commit()
    for step in (workflow.APPROVE, workflow.REJECT):
        with pytest.raises(basket.OrderError, match="an order you submitted yourself"):
            take(step, order, head)
        db.session.rollback()


def test_delivering_days_takes_the_table_steps_of_the_days_service(world: Any) -> None:
    order = confirmed_order(world, half_days=2)
    line = order.lines[0]
    adviser = world.users[Role.ADVISER]
    statuses = []
    for _half_day in range(2):
        visit = book_visit(
            world, on=weekday_in_year(world, past=True), half_days=1, against=str(line.id)
        )
        visits.deliver(visit, adviser, "Reviewed the school's plan")
        db.session.commit()
        statuses.append(order.status)
    assert statuses == [OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED]
    for event in order.events[1:]:  # after "created"
        step = next(
            (
                allowed
                for allowed, to in TRANSITIONS[OrderStatus(event.from_status)]
                if allowed.event == event.action and to.value == event.to_status
            ),
            None,
        )
        assert step is not None, (event.action, event.from_status, event.to_status)
    assert [e.action for e in order.events[-2:]] == [workflow.START.event, workflow.COMPLETE.event]


@pytest.mark.parametrize(
    "status", [s for s in OrderStatus if s != OrderStatus.DRAFT], ids=str
)  # a draft has no order page: it is the catalogue's basket
def test_an_order_page_shows_a_button_for_exactly_the_tables_steps_for_that_role(
    as_role: Any, world: Any, status: OrderStatus
) -> None:
    order = order_in(world, status)
    for role in Role:
        steps = [step for step in BUTTON_STEPS if role in step.by and leads_to(status, step)]
        page = as_role(role).get(f"/orders/{order.id}").soup
        buttons = [
            " ".join(button.get_text(" ", strip=True).split())
            for button in page.select(".govuk-button-group .govuk-button")
        ]
        assert buttons == [ACTIONS[step.name].label for step in steps], (status, role)
        if not steps:
            assert "What you can do" not in text_of(page, "main")


def test_the_table_is_the_life_of_an_order_the_domain_describes() -> None:
    """DOMAIN.md: draft → awaiting headteacher approval (only over the limit) → submitted →
    confirmed (or declined) → in progress → completed; or withdrawn, or cancelled."""
    table = {
        status.value: [f"{step.name} by {_who(step)} → {to.value}" for step, to in steps]
        for status, steps in TRANSITIONS.items()
    }
    assert table == {
        "draft": [
            "submit by school staff → submitted",
            "submit by school staff → awaiting_approval",
        ],
        "awaiting_approval": [
            "approve by headteacher → submitted",
            "reject by headteacher → rejected",
            "withdraw by school staff → withdrawn",
        ],
        "submitted": [
            "withdraw by school staff → withdrawn",
            "confirm by service manager → confirmed",
            "decline by service manager → declined",
        ],
        "confirmed": [
            "request_cancellation by school staff → cancellation_requested",
            "cancel by service manager → cancelled",
            "start by days service → in_progress",
            "complete by days service → completed",
        ],
        "in_progress": [
            "request_cancellation by school staff → cancellation_requested",
            "cancel by service manager → cancelled",
            "complete by days service → completed",
        ],
        "cancellation_requested": [
            "cancel by service manager → cancelled",
            "keep by service manager → confirmed",
            "keep by service manager → in_progress",
        ],
        "declined": [],
        "rejected": [],
        "withdrawn": [],
        "completed": [],
        "cancelled": [],
    }


def _who(step: Step) -> str:
    return {
        SCHOOL_ROLES: "school staff",
        frozenset({Role.HEADTEACHER}): "headteacher",
        frozenset({Role.LA_ADMIN}): "service manager",
        frozenset(): "days service",
    }[step.by]


def test_every_button_is_a_step_of_the_table() -> None:
    assert set(ACTIONS) == {step.name for step in BUTTON_STEPS}
