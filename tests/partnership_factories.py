"""Partnership orders for tests: the world's partnership with a maintained school and two
academies, its lead school and who may order, and orders placed and confirmed through the
services."""

from __future__ import annotations

from typing import Any

from tests.factories import make_school, make_user
from traded_app.domain.partnership_split import SplitRule
from traded_app.extensions import db
from traded_app.models.partnership_orders import PartnershipOrder, WhoOrders
from traded_app.models.types import Role
from traded_app.services.ordering import partnership_buying, partnership_orders


def partnership_members(world: Any, who: WhoOrders = WhoOrders.BUSINESS_MANAGERS) -> Any:
    """Riverside partnership: Riverside Primary (maintained, the lead, 210 pupils), Meadow
    Academy (420 pupils) and Brook Academy (630 pupils, with its own business manager).
    Hilltop Infant School stays outside. Idempotent within a test."""
    if getattr(world, "brook", None) is not None:
        return world
    world.school.partnership_id = world.partnership.id
    world.school.pupils = 210
    world.academy.partnership_id = world.partnership.id
    world.academy.pupils = 420
    world.brook = make_school(
        100004,
        "Brook Academy",
        quadrant=world.quadrant,
        academy=True,
        partnership_id=world.partnership.id,
        pupils=630,
        details_checked_year=world.school.details_checked_year,
    )
    world.brook_sbm = make_user("sbm@brook.example", Role.SCHOOL_BUSINESS_MANAGER, world.brook)
    world.brook_head = make_user("head@brook.example", Role.HEADTEACHER, world.brook)
    partnership_buying.set_buying(world.partnership, world.school.id, who)
    db.session.commit()
    return world


def placed_partnership_order(
    world: Any,
    rule: SplitRule = SplitRule.EQUAL,
    half_days: int = 6,
    *,
    by: Any = None,
    typed: dict[int, int] | None = None,
) -> PartnershipOrder:
    """An order for the partnership of `half_days` of the world's service, placed (by the lead's
    business manager unless `by` says), committed."""
    partnership_members(world)
    user = by or world.users[Role.SCHOOL_BUSINESS_MANAGER]
    school = user.school
    draft = partnership_buying.Draft({world.service.id: half_days}, rule, typed or {})
    order = partnership_orders.place(user, school, world.year, draft)
    db.session.commit()
    return order


def confirmed_partnership_order(world: Any, rule: SplitRule = SplitRule.EQUAL) -> Any:
    """A placed order, every waiting share approved, confirmed by the council: (order, docs)."""
    order = placed_partnership_order(world, rule)
    heads = {world.school.id: world.users[Role.HEADTEACHER], world.brook.id: world.brook_head}
    for share in order.shares:
        if share.approval.value == "waiting":
            partnership_orders.approve_share(order, heads[share.school_id])
    documents = partnership_orders.confirm(order, world.users[Role.LA_ADMIN])
    db.session.commit()
    return order, documents
