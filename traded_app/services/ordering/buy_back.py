"""Buying back: ordering next academic year's days from the council's published offer.

The service manager publishes next year's offer with a buy-back window (services/council/
offer_publishing.py). Before it is published schools see nothing of it; once published they
see when the window opens; from the day it opens they may order either year, the year always
chosen by the person ordering (one basket per school and year: basket.py); after it closes they
may still order next year's days, under the council's rule for late orders (`LateRule`), until
the year starts and is simply this year. Orders for next year go through the same approval and
confirmation as any other, against next year's prices and next year's traded capacity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import func, select

from traded_app.domain import pricing
from traded_app.extensions import db
from traded_app.formatting import LONDON, long_date
from traded_app.models import AcademicYear, Order, OrderLine, School, Service, User
from traded_app.models.orders import PENDING_STATUSES, SOLD_STATUSES
from traded_app.services.ordering import basket
from traded_app.services.platform.settings import (
    academic_start_year,
    council_settings,
    current_academic_year,
    today,
)


class WindowState(StrEnum):
    NOT_PUBLISHED = "not_published"
    BEFORE_OPENING = "before_opening"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            "not_published": "Not published",
            "before_opening": "Published: the window has not opened yet",
            "open": "Published: the buy-back window is open",
            "closed": "Published: the buy-back window has closed",
        }[self.value]


class LateRule(StrEnum):
    """What an order for next year placed after the window closed means (a council setting)."""

    ALLOWED = "allowed"
    SUBJECT_TO_CAPACITY = "subject_to_capacity"

    @property
    def label(self) -> str:
        if self == LateRule.ALLOWED:
            return "Allowed: late orders are treated like any other"
        return "Confirmed subject to capacity: orders placed in the window come first"


def window_state(year: AcademicYear, on: date | None = None) -> WindowState:
    """Where `year`'s offer stands on `on` (default today)."""
    if year.offer_published_at is None or year.buy_back_opens_on is None:
        return WindowState.NOT_PUBLISHED
    on = on or today()
    if on < year.buy_back_opens_on:
        return WindowState.BEFORE_OPENING
    if year.buy_back_closes_on is not None and on > year.buy_back_closes_on:
        return WindowState.CLOSED
    return WindowState.OPEN


def late_rule() -> LateRule:
    settings = council_settings()
    return LateRule(settings.late_buy_back_rule) if settings else LateRule.ALLOWED


def next_year(on: date | None = None) -> AcademicYear | None:
    """The academic year after the one holding `on`, if the council has set it up (read only)."""
    start = academic_start_year(on or today()) + 1
    return current_academic_year(date(start, 9, 1))


@dataclass(frozen=True)
class Years:
    """The years a school may order now, this year first, and next year's offer as it stands."""

    this_year: AcademicYear | None
    next_year: AcademicYear | None
    next_state: WindowState

    @property
    def orderable(self) -> list[AcademicYear]:
        years = [self.this_year] if self.this_year is not None else []
        if self.next_year is not None and self.next_state in (WindowState.OPEN, WindowState.CLOSED):
            years.append(self.next_year)
        return years

    @property
    def choice_needed(self) -> bool:
        """Two years can be ordered: the person ordering says which (never a guess)."""
        return len(self.orderable) > 1

    def orderable_year(self, start_year: int | None) -> AcademicYear | None:
        """The year asked for, if it can be ordered now; None when no year was asked for and
        there is only one to order, that one."""
        if start_year is None:
            return self.orderable[0] if len(self.orderable) == 1 else None
        return next((y for y in self.orderable if y.start_year == start_year), None)


def years(on: date | None = None) -> Years:
    """This year and next year's offer as a school sees them on `on` (default today)."""
    on = on or today()
    upcoming = next_year(on)
    state = window_state(upcoming, on) if upcoming is not None else WindowState.NOT_PUBLISHED
    return Years(current_academic_year(on), upcoming, state)


def notice(year: AcademicYear, on: date | None = None) -> str:
    """What ordering `year` means today, for the catalogue and check-answers pages ('' for a
    year with no published offer, that is this year)."""
    state = window_state(year, on)
    if state == WindowState.BEFORE_OPENING and year.buy_back_opens_on is not None:
        return (
            f"The council's offer for {year.label} is published. You can order it from "
            f"{long_date(year.buy_back_opens_on)}."
        )
    if state == WindowState.OPEN and year.buy_back_closes_on is not None:
        return (
            f"The buy-back window for {year.label} is open until "
            f"{long_date(year.buy_back_closes_on)}. Days ordered now are for {year.label}, at "
            f"{year.label} prices, and are delivered from {long_date(year.starts_on)}."
        )
    if state == WindowState.CLOSED and year.buy_back_closes_on is not None:
        closed = (
            f"The buy-back window for {year.label} closed on "
            f"{long_date(year.buy_back_closes_on)}. You can still order days for {year.label}"
        )
        if late_rule() == LateRule.SUBJECT_TO_CAPACITY:
            return (
                f"{closed}, but the council confirms a late order only if its team still has "
                "the days once the orders placed in the window have been decided."
            )
        return f"{closed}: your order goes to the council in the usual way."
    return ""


# --- Order the same as this year ---------------------------------------------------------------


@dataclass(frozen=True)
class Repeated:
    """Next year's basket started from this year's confirmed lines."""

    order: Order
    lines: int  # services put in the basket
    not_offered: list[str]  # this year's services next year's offer does not include
    adjusted: list[str]  # services whose days were brought within next year's limits


def confirmed_lines(school: School, year: AcademicYear) -> list[tuple[int, str, int]]:
    """(service id, name, half-days) the council has sold `school` in `year`, per service."""
    rows = db.session.execute(
        select(OrderLine.service_id, Service.name, func.sum(OrderLine.half_days))
        .join(Order, Order.id == OrderLine.order_id)
        .join(Service, Service.id == OrderLine.service_id)
        .where(
            Order.school_id == school.id,
            Order.academic_year_id == year.id,
            Order.status.in_(SOLD_STATUSES),
        )
        .group_by(OrderLine.service_id, Service.name, Service.sort_order)
        .order_by(Service.sort_order, Service.name)
    ).tuples()
    return [(service_id, name, int(half_days)) for service_id, name, half_days in rows]


def same_as_this_year(school: School, user: User) -> Repeated:
    """Start next year's basket from this year's confirmed days at next year's prices (drafts
    carry no prices: the offer's apply). The basket's lines are replaced; a service next year's
    offer does not include is left out and named."""
    shown = years()
    this_year, upcoming = shown.this_year, shown.next_year
    if upcoming is None or upcoming not in shown.orderable or this_year is None:
        raise basket.OrderError("Next year's offer is not open for ordering")
    repeated = confirmed_lines(school, this_year)
    if not repeated:
        raise basket.OrderError(
            f"Your school has no confirmed orders in {this_year.label} to order again"
        )
    offer = basket.offer_to(school, upcoming)
    order = basket.draft_for(school, user, upcoming)
    for line in list(order.lines):
        basket.set_days(order, line.service_id, 0, offer)
    not_offered: list[str] = []
    adjusted: list[str] = []
    added = 0
    for service_id, name, half_days in repeated:
        entry = offer.get(service_id)
        if entry is None:
            not_offered.append(name)
            continue
        service = entry.service
        wanted = min(max(half_days, service.min_half_days), service.max_half_days)
        if wanted != half_days:
            adjusted.append(
                f"{service.name} ({pricing.days_text(half_days)} days this year, "
                f"{pricing.days_text(wanted)} next year)"
            )
        basket.set_days(order, service_id, wanted, offer)
        added += 1
    return Repeated(order, added, not_offered, adjusted)


# --- Late orders and capacity ------------------------------------------------------------------


def _window_end(year: AcademicYear) -> datetime | None:
    """The instant the window closed: the end of its last day in Europe/London, in UTC."""
    if year.buy_back_closes_on is None:
        return None
    end = datetime.combine(year.buy_back_closes_on + timedelta(days=1), time(0), tzinfo=LONDON)
    return end.astimezone(UTC)


def placed_late(order: Order) -> bool:
    """The order was submitted after its year's buy-back window closed."""
    end = _window_end(order.academic_year)
    return end is not None and order.submitted_at is not None and order.submitted_at >= end


def held_for_window_orders(order: Order, quadrant_id: int) -> int:
    """Half-days a late order may not take under the "subject to capacity" rule: those of the
    orders placed in the window for the same team and year still waiting for a decision."""
    if late_rule() != LateRule.SUBJECT_TO_CAPACITY or not placed_late(order):
        return 0
    end = _window_end(order.academic_year)
    held = db.session.execute(
        select(func.sum(Order.half_days))
        .join(School, School.id == Order.school_id)
        .where(
            School.quadrant_id == quadrant_id,
            Order.academic_year_id == order.academic_year_id,
            Order.status.in_(PENDING_STATUSES),
            Order.submitted_at < end,
            Order.id != order.id,
        )
    ).scalar_one()
    return int(held or 0)


def late_order_refusal(
    order: Order, quadrant_id: int, available_half_days: int, team: str
) -> str | None:
    """Why a late order cannot be confirmed yet under the council's rule, or None."""
    held = held_for_window_orders(order, quadrant_id)
    needed = order.half_days or 0
    if held == 0 or needed <= available_half_days - held:
        return None
    left = max(0, available_half_days - held)
    return (
        f"This order was placed after the {order.academic_year.label} buy-back window closed. "
        f"The {team} team has {pricing.days_text(available_half_days)} days left to sell, "
        f"{pricing.days_text(held)} of them held for orders placed in the window that wait for "
        f"a decision, so {pricing.days_text(left)} for late orders, and this order needs "
        f"{pricing.days_text(needed)}: decide the window's orders first"
    )
