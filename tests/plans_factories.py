"""Partnership plans, shared visits and bespoke requests for tests: built through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.factories import World, core_allocation, make_school, make_user, weekday_in_year
from traded_app.extensions import db
from traded_app.models.types import Role
from traded_app.services.days import activities, plans, shared_visits
from traded_app.services.ordering import bespoke
from traded_app.services.platform.settings import today


def second_member(world: World, urn: int = 100004, name: str = "Riverside Junior School") -> Any:
    """A second school in the world's partnership, with a headteacher of its own."""
    school = make_school(urn, name, quadrant=world.quadrant, partnership_id=world.partnership.id)
    make_user(f"head{urn}@school.example", Role.HEADTEACHER, school)
    db.session.commit()
    return school


def started_plan(world: World, members: list[Any], half_days: int = 4) -> Any:
    """The partnership's plan with its adviser, each non-negotiable activity planned for
    `members` (the first `half_days`, the others 1 half-day each), committed."""
    activities.ensure_non_negotiable_activities()
    plan = plans.start_plan(
        world.partnership, world.year, world.users[Role.ADVISER].id, world.users[Role.LA_ADMIN]
    )
    for index, activity in enumerate(a for a in activities.activities() if a.non_negotiable):
        plans.save_item(
            plan,
            plans.ItemDetails(
                activity_id=activity.id,
                school_ids=[s.id for s in members],
                planned_half_days=half_days if index == 0 else 1,
                planned_when="Autumn term",
            ),
            world.users[Role.LA_ADMIN],
        )
    db.session.commit()
    return plan


def shared_visit(
    world: World, plan: Any, schools: list[Any], *, on: Any = None, half_days: int = 2
) -> Any:
    day = on or weekday_in_year(world)
    booked = shared_visits.book(
        plan,
        shared_visits.NewSharedVisit(
            adviser_id=world.users[Role.ADVISER].id,
            visit_date=day,
            half_days=half_days,
            school_ids=[s.id for s in schools],
            plan_item_id=plan.items[0].id,
        ),
        world.users[Role.LA_ADMIN],
        booked_on=min(day, today()),
    )
    db.session.commit()
    return booked


def plan_for_access(world: World) -> tuple[Any, Any]:
    """A plan for the world's partnership and a partnership visit booked against it."""
    other = second_member(world, 100009, "Riverside Nursery School")
    core_allocation(world, 2, school=other)
    plan = started_plan(world, [world.school, other], half_days=2)
    # In the term calendar_for_access adds (ends_on - 40 to ends_on - 30).
    day = world.year.ends_on - timedelta(days=35)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    # Half a day: drawn from the nursery, whose core days the other fixtures leave untouched.
    return plan, shared_visit(world, plan, [world.school, other], on=day, half_days=1)


def asked(world: World, what: str = "A review of our phonics teaching") -> Any:
    request = bespoke.ask(
        world.school, world.year, world.users[Role.SCHOOL_BUSINESS_MANAGER], what, "Spring term", 2
    )
    db.session.commit()
    return request
