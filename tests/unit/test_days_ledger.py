"""The days ledger under many random sequences of orders, visits and cancellations.

After every step, for every line: remaining = allocated or bought − used, never negative, and
not yet booked never negative; the figures agree with a recount from the raw rows, and the
council overview's SQL agrees with the school's ledger.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from tests.factories import book_visit, confirmed_order, core_allocation, make_user, weekday_in_year
from traded_app.extensions import db
from traded_app.models import CancelledBy, CoreAllocation, Order, OrderStatus, Visit, VisitStatus
from traded_app.models.types import AllocationReason, Role
from traded_app.services.days import allocations, county_days, school_calendar, visits
from traded_app.services.days import ledger as days_ledger
from traded_app.services.days import position as days_position
from traded_app.services.days.ledger import Figures
from traded_app.services.ordering import basket, workflow
from traded_app.services.platform.settings import today


def _weekdays(world: Any) -> list[Any]:
    day, days = world.year.starts_on, []
    while day <= world.year.ends_on:
        if day.weekday() < 5 and day not in school_calendar.shipped_bank_holidays():
            days.append(day)
        day += timedelta(days=1)
    return days


def _recount(world: Any) -> dict[str, Figures]:
    """The ledger recomputed in Python from every visit and order line, independently."""
    result: dict[str, Figures] = {}
    core = sum(a.half_days for a in allocations_rows(world))
    result["core"] = Figures(core)
    for order in db.session.query(Order).filter(Order.school_id == world.school.id):
        for line in order.lines:
            used = sum(
                v.half_days
                for v in db.session.query(Visit).filter(Visit.order_line_id == line.id)
                if v.status == VisitStatus.DELIVERED or v.chargeable
            )
            if order.status in days_ledger.SOLD_STATUSES:
                result[f"line{line.id}"] = Figures(line.half_days)
            elif order.status == OrderStatus.CANCELLED:
                result[f"line{line.id}"] = Figures(used)
    for visit in db.session.query(Visit).filter(Visit.school_id == world.school.id):
        key = "core" if visit.order_line_id is None else f"line{visit.order_line_id}"
        if key not in result:
            continue
        f = result[key]
        result[key] = Figures(
            f.allocated,
            f.scheduled + (visit.half_days if visit.status == VisitStatus.SCHEDULED else 0),
            f.delivered + (visit.half_days if visit.status == VisitStatus.DELIVERED else 0),
            f.charged + (visit.half_days if visit.chargeable else 0),
        )
    return result


def allocations_rows(world: Any) -> list[Any]:
    return list(
        db.session.query(CoreAllocation).filter(
            CoreAllocation.school_id == world.school.id,
            CoreAllocation.academic_year_id == world.year.id,
        )
    )


def _check(world: Any) -> None:
    ledger = days_ledger.school_ledger(world.school.id, world.year.id)
    lines: dict[str, Figures] = {"core": ledger.core}
    for service in ledger.services:
        for order_line in service.order_lines:
            lines[f"line{order_line.order_line_id}"] = order_line.figures
    for key, figures in lines.items():
        assert figures.remaining == figures.allocated - figures.used, key
        assert figures.remaining >= 0, (key, figures)
        assert figures.not_yet_booked >= 0, (key, figures)
    assert lines == _recount(world)
    row = next(
        r
        for r in county_days.council_overview(
            county_days.OverviewFilters(year_id=world.year.id, q=str(world.school.urn))
        ).rows.items
    )
    assert row.total == ledger.total
    assert row.core == ledger.core
    # The catalogue's five figures, in one query, are the full ledger's summed up.
    position = days_position.year_position(world.school.id, world.year.id)
    assert position == days_position.YearPosition(
        core_half_days=ledger.core.allocated,
        purchased_half_days=ledger.traded.allocated,
        pending_half_days=ledger.pending_half_days,
        delivered_half_days=ledger.total.used,
        scheduled_half_days=ledger.total.scheduled,
    )
    assert position.remaining_half_days == ledger.total.remaining


@pytest.mark.parametrize("seed", range(8))
def test_random_sequences_keep_the_ledger_identity(world: Any, seed: int) -> None:
    rng = random.Random(seed)
    world.council.cancellation_notice_days = 10
    core_allocation(world, rng.randint(0, 6))
    advisers = [world.users[Role.ADVISER]] + [
        make_user(f"adviser{n}@council.example", Role.ADVISER) for n in range(3)
    ]
    db.session.commit()
    admin = world.users[Role.LA_ADMIN]
    sbm = world.users[Role.SCHOOL_BUSINESS_MANAGER]
    days = _weekdays(world)
    refused = 0

    for _step in range(45):
        action = rng.choice(
            [
                "order",
                "book",
                "book",
                "book",
                "deliver",
                "deliver",
                "cancel",
                "cancel_order",
                "adjust",
            ]
        )
        try:
            if action == "order":
                order = basket.draft_for(world.school, sbm, world.year)
                basket.set_days(order, world.service.id, rng.randint(1, 6))
                workflow.submit(
                    order, sbm, workflow.Checkout(po_number="PO"), expected_version=order.version
                )
                if rng.random() < 0.75:  # the rest stay pending: submitted, not yet decided
                    if order.status == OrderStatus.AWAITING_APPROVAL:
                        workflow.approve(order, world.users[Role.HEADTEACHER])
                    workflow.confirm(order, admin)
            elif action == "book":
                lines = visits.bookable_lines(world.school, world.year)
                against = rng.choice(["core"] + [str(line.order_line_id) for line in lines])
                adviser = rng.choice(advisers)
                on = rng.choice(days)
                visits.schedule(
                    visits.NewVisit(
                        school=world.school,
                        adviser_id=adviser.id,
                        visit_date=on,
                        half_days=rng.choice([1, 2, 2]),
                        against=against,
                        purpose="Visit",
                    ),
                    admin,
                    booked_on=min(on, today()),
                )
            elif action in ("deliver", "cancel"):
                open_visits = (
                    db.session.query(Visit).filter(Visit.status == VisitStatus.SCHEDULED).all()
                )
                if not open_visits:
                    continue
                visit = rng.choice(open_visits)
                if action == "deliver":
                    visits.deliver(visit, admin, "Done", on=world.year.ends_on)
                else:
                    visits.cancel(
                        visit,
                        admin,
                        rng.choice(list(CancelledBy)),
                        "Ill",
                        on=visit.visit_date - timedelta(days=rng.randint(0, 20)),
                    )
            elif action == "cancel_order":
                live = (
                    db.session.query(Order)
                    .filter(Order.status.in_([OrderStatus.CONFIRMED, OrderStatus.IN_PROGRESS]))
                    .all()
                )
                if not live:
                    continue
                order = rng.choice(live)
                if rng.random() < 0.5:
                    workflow.request_cancellation(order, sbm, "No longer needed")
                workflow.cancel(order, admin, "School asked")
            else:
                allocations.adjust(
                    world.school,
                    world.year,
                    rng.choice(list(AllocationReason)),
                    rng.randint(0, 6),
                    "Agreed at review",
                    admin,
                )
            db.session.commit()
        except (visits.VisitError, basket.OrderError, allocations.AllocationError):
            db.session.rollback()
            refused += 1
        _check(world)

    assert refused < 45  # the sequence did something
    assert db.session.query(Visit).count() > 0


def test_cancelling_an_order_releases_only_undelivered_days(world: Any) -> None:
    order = confirmed_order(world, 6)
    line = order.lines[0]
    delivered = book_visit(world, on=weekday_in_year(world, past=True), against=str(line.id))
    visits.deliver(delivered, world.users[Role.LA_ADMIN], "Reviewed targets")
    upcoming = book_visit(world, against=str(line.id))
    db.session.commit()
    assert order.status == OrderStatus.IN_PROGRESS
    capacity_before = workflow.capacity_position(world.quadrant.id, world.year.id)

    workflow.cancel(order, world.users[Role.LA_ADMIN], "Head left")
    db.session.commit()

    assert upcoming.status == VisitStatus.CANCELLED and not upcoming.chargeable
    ledger = days_ledger.school_ledger(world.school.id, world.year.id)
    assert ledger.traded == Figures(allocated=2, delivered=2)
    assert days_ledger.undelivered_by_line(order) == {line.id: 4}
    capacity_after = workflow.capacity_position(world.quadrant.id, world.year.id)
    assert capacity_before and capacity_after
    assert capacity_before.sold_half_days - capacity_after.sold_half_days == 4


def test_a_late_cancellation_by_the_school_is_charged_and_counts_as_used(world: Any) -> None:
    core_allocation(world, 4)
    visit = book_visit(world, half_days=2)
    visits.cancel(
        visit,
        world.users[Role.ADVISER],
        CancelledBy.SCHOOL,
        "Ofsted arrived",
        on=visit.visit_date - timedelta(days=3),
    )
    db.session.commit()
    assert visit.chargeable
    ledger = days_ledger.school_ledger(world.school.id, world.year.id)
    assert ledger.core == Figures(allocated=4, charged=2)
    assert ledger.core.remaining == 2


def test_the_councils_cancellation_is_never_charged(world: Any) -> None:
    core_allocation(world, 4)
    visit = book_visit(world)
    visits.cancel(
        visit, world.users[Role.LA_ADMIN], CancelledBy.COUNCIL, "Adviser ill", on=visit.visit_date
    )
    assert not visit.chargeable
    assert days_ledger.school_ledger(world.school.id, world.year.id).core.remaining == 4


def test_regeneration_keeps_adjustments_and_never_goes_below_used(world: Any) -> None:
    settings = world.council
    allocations.generate_core_allocations(world.year, settings)
    db.session.commit()
    # Riverside is the only partnership member: base 4 + 2 per school = 6 half-days.
    assert allocations.allocations_of(world.school, world.year) == {AllocationReason.PARTNERSHIP: 6}
    allocations.adjust(
        world.school,
        world.year,
        AllocationReason.PARTNERSHIP,
        8,
        "Extra for new head",
        world.users[Role.LA_ADMIN],
    )
    db.session.commit()
    allocations.generate_core_allocations(world.year, settings)
    assert allocations.allocations_of(world.school, world.year)[AllocationReason.PARTNERSHIP] == 8

    # Hilltop (no partnership) has its 1 half-day visit; book and deliver it, then the rule drops.
    book_visit(world, school=world.other_school, half_days=1)
    settings.core_unpartnered_half_days = 0
    allocations.generate_core_allocations(world.year, settings)
    assert allocations.allocations_of(world.other_school, world.year) == {
        AllocationReason.UNPARTNERED_VISIT: 1
    }
    history = allocations.history(world.school, world.year)
    assert [(c.source.value, c.from_half_days, c.to_half_days) for c in history] == [
        ("adjusted", 6, 8),
        ("rules", 0, 6),
    ]


def test_an_adjustment_below_what_is_used_or_booked_is_refused(world: Any) -> None:
    core_allocation(world, 4)
    book_visit(world, half_days=2)
    with pytest.raises(allocations.AllocationError, match="cannot be less than that"):
        allocations.adjust(
            world.school,
            world.year,
            AllocationReason.PARTNERSHIP,
            1,
            "Cut",
            world.users[Role.LA_ADMIN],
        )
