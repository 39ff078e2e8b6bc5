"""The council's invoice schedules: when orders on each billing route are charged.

A route with no plan, or a plan "when the council confirms the order", is charged as before
(at confirmation, or in finance's invoice runs: the council's `invoice_timing`). "At the start
of the academic year" charges the whole order on the year's first day; "in instalments" charges
it in parts, each a share in twelfths on a date relative to the academic year (domain.instalments
checks the plan). A plan changed later applies to orders confirmed after the change: schedules
already made keep their dates and shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from traded_app.domain.instalments import PlanError, PlanPart, check_plan
from traded_app.extensions import db
from traded_app.models import AcademicYear, User
from traded_app.models.instalments import WHOLE, ChargePlan, ChargePlanPart, ChargeTiming
from traded_app.models.types import BillingRoute
from traded_app.services.platform.errors import DomainError

# Plans a council can start from (the examples).
PRESETS: dict[str, tuple[str, tuple[PlanPart, ...]]] = {
    "april_september": (
        "April and September",
        (PlanPart(7, 1, 4, False), PlanPart(5, 1, 9, False)),
    ),
    "termly": (
        "Termly",
        (PlanPart(4, 1, 9, False), PlanPart(4, 1, 1, True), PlanPart(4, 15, 4, True)),
    ),
}


class ChargePlanError(DomainError):
    """A plan the council cannot save, and why."""


@dataclass(frozen=True)
class PlannedCharge:
    """One charge of a plan for one academic year: its share (in twelfths) and date."""

    share: int
    due_on: date


def plan_for(route: BillingRoute) -> ChargePlan | None:
    return db.session.execute(
        select(ChargePlan).where(ChargePlan.billing_route == route)
    ).scalar_one_or_none()


def plans() -> dict[BillingRoute, ChargePlan | None]:
    """Each billing route's plan (None: charged at confirmation, as before any plan)."""
    found = {plan.billing_route: plan for plan in db.session.execute(select(ChargePlan)).scalars()}
    return {route: found.get(route) for route in BillingRoute}


def plan_parts(plan: ChargePlan) -> list[PlanPart]:
    return [PlanPart(p.share, p.day, p.month, p.in_end_year) for p in plan.parts]


def charges_for(route: BillingRoute, year: AcademicYear) -> list[PlannedCharge] | None:
    """The charges an order on `route` for `year` gets, or None when it is charged at once."""
    plan = plan_for(route)
    if plan is None or plan.timing == ChargeTiming.ON_CONFIRMATION:
        return None
    if plan.timing == ChargeTiming.YEAR_START:
        return [PlannedCharge(WHOLE, year.starts_on)]
    return [PlannedCharge(p.share, p.date_in(year.start_year)) for p in plan_parts(plan)]


def when_charged(route: BillingRoute, year: AcademicYear) -> str:
    """When an order on `route` for `year` confirmed now will be charged, in words for its
    school ("in 3 instalments: 1 September 2026, …"); "" when it is charged at confirmation."""
    planned = charges_for(route, year)
    if planned is None:
        return ""
    dates = ", ".join(f"{charge.due_on:%-d %B %Y}" for charge in planned)
    if len(planned) == 1:
        return f"on {dates}, the start of the academic year"
    return f"in {len(planned)} instalments, each due on its own date: {dates}"


def describe(plan: ChargePlan | None) -> str:
    """The plan in words, for the settings page ("7/12 on 1 April before the year, …")."""
    if plan is None or plan.timing == ChargeTiming.ON_CONFIRMATION:
        return ChargeTiming.ON_CONFIRMATION.label
    if plan.timing == ChargeTiming.YEAR_START:
        return ChargeTiming.YEAR_START.label
    parts = ", ".join(
        f"{p.share}/{WHOLE} on {date(2026, p.month, p.day):%-d %B}"
        f" ({'in the year it ends' if p.in_end_year else 'in the year it starts'})"
        for p in plan.parts
    )
    return f"{plan.name or 'In instalments'}: {parts}"


def save_plan(
    route: BillingRoute,
    timing: ChargeTiming,
    name: str,
    parts: Sequence[PlanPart],
    user: User,
) -> ChargePlan:
    """Set the plan for `route` (flushed). Instalments must add up to the whole order, each on a
    real date after the one before, none after the academic year ends (ChargePlanError)."""
    name = name.strip()
    if timing == ChargeTiming.INSTALMENTS:
        if not name:
            raise ChargePlanError("Enter a name for the plan, like “April and September”", "name")
        if len(name) > 80:
            raise ChargePlanError("The plan's name must be 80 characters or fewer", "name")
        try:
            check_plan(parts, WHOLE)
        except PlanError as error:
            raise ChargePlanError(str(error), "parts") from None
    else:
        parts = []
    plan = plan_for(route)
    if plan is None:
        plan = ChargePlan(billing_route=route)
        db.session.add(plan)
    plan.timing = timing
    plan.name = name if timing == ChargeTiming.INSTALMENTS else ""
    plan.updated_by_id = user.id
    plan.parts.clear()
    db.session.flush()  # the old parts go before new ones take their positions
    plan.parts.extend(
        ChargePlanPart(
            position=position,
            share=part.share,
            day=part.day,
            month=part.month,
            in_end_year=part.in_end_year,
        )
        for position, part in enumerate(parts, start=1)
    )
    db.session.flush()
    return plan
