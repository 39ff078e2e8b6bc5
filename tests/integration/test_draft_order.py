"""The draft order (basket) on the server: one per school, priced from the catalogue."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_service
from traded_app.extensions import db
from traded_app.models import Order, OrderStatus
from traded_app.models.types import Role
from traded_app.services.ordering import basket


def test_one_draft_per_school_shared_by_its_users(world: Any) -> None:
    sbm, head = world.users[Role.SCHOOL_BUSINESS_MANAGER], world.users[Role.HEADTEACHER]
    first = basket.draft_for(world.school, sbm, world.year)
    db.session.commit()
    assert basket.draft_for(world.school, head, world.year).id == first.id
    assert first.status == OrderStatus.DRAFT and first.reference == f"ORD-{first.id:06d}"
    assert [e.action for e in first.events] == ["created"]


def test_days_priced_from_the_catalogue_with_vat_for_the_customer(world: Any) -> None:
    governance = make_service(
        "GOVREV", world.year, name="Review of governance", half_days=(4, 2, 6)
    )
    academy_order = basket.draft_for(world.academy, world.academy_sbm, world.year)
    basket.set_days(academy_order, world.service.id, 3)  # 1.5 days
    basket.set_days(academy_order, governance.id, 2)  # 1 day
    summary = basket.summarise(academy_order)
    assert summary.totals.half_days == 5
    assert (summary.totals.net_pence, summary.totals.vat_pence, summary.totals.gross_pence) == (
        112_500,
        22_500,
        135_000,
    )

    maintained = basket.draft_for(
        world.school, world.users[Role.SCHOOL_BUSINESS_MANAGER], world.year
    )
    basket.set_days(maintained, world.service.id, 3)
    assert basket.summarise(maintained).totals.gross_pence == 67_500  # no VAT on a recharge


def test_changing_and_removing_a_line(world: Any) -> None:
    order = basket.draft_for(world.school, world.users[Role.SCHOOL_BUSINESS_MANAGER], world.year)
    basket.set_days(order, world.service.id, 2)
    basket.set_days(order, world.service.id, 4)
    assert [(line.service_id, line.half_days) for line in order.lines] == [(world.service.id, 4)]
    basket.set_days(order, world.service.id, 0)
    db.session.commit()
    assert db.session.get(Order, order.id).lines == []


@pytest.mark.parametrize(
    ("half_days", "message"),
    [(7, "can be ordered for 0.5 to 3 days"), (-1, "can be ordered for 0.5 to 3 days")],
)
def test_days_outside_the_services_range_are_refused(
    world: Any, half_days: int, message: str
) -> None:
    order = basket.draft_for(world.school, world.users[Role.SCHOOL_BUSINESS_MANAGER], world.year)
    with pytest.raises(basket.OrderError, match=message):
        basket.set_days(order, world.service.id, half_days)
    assert order.lines == []


def test_retired_or_unknown_services_cannot_be_ordered(world: Any) -> None:
    order = basket.draft_for(world.school, world.users[Role.SCHOOL_BUSINESS_MANAGER], world.year)
    basket.set_days(order, world.service.id, 2)
    world.service.active = False
    db.session.flush()
    with pytest.raises(basket.OrderError, match="not available"):
        basket.set_days(order, world.service.id, 3)
    with pytest.raises(basket.OrderError, match="not available"):
        basket.set_days(order, 999_999, 2)
    summary = basket.summarise(order)
    assert summary.lines == [] and [line.service_id for line in summary.unavailable] == [
        world.service.id
    ]
    assert summary.totals.gross_pence == 0
