"""Publishing next year's offer: the service manager prepares next year's catalogue and prices
(copy this year's with catalogue_csv.copy_prices, adjust each on the service's page, preview as
a school would see it) and publishes it with a buy-back window. Before it is published schools
see nothing of it (services/ordering/buy_back.py decides what they see and may order).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from traded_app.extensions import db
from traded_app.models import AcademicYear, Service
from traded_app.models.base import utcnow
from traded_app.models.types import CustomerType
from traded_app.services.council.catalogue import CatalogueError, all_services
from traded_app.services.ordering.buy_back import LateRule, WindowState, window_state
from traded_app.services.ordering.buy_back import years as buy_back_years
from traded_app.services.ordering.offer import CatalogueEntry, catalogue_for
from traded_app.services.platform.settings import council_settings, today


@dataclass(frozen=True)
class PriceRow:
    service: Service
    this_year_pence: int | None
    next_year_pence: int | None


@dataclass(frozen=True)
class Preparation:
    """Next year's offer as the service manager prepares it, beside this year's."""

    this_year: AcademicYear | None
    next_year: AcademicYear
    state: WindowState
    rows: list[PriceRow]  # active services
    late_rule: LateRule

    @property
    def priced(self) -> int:
        return sum(1 for row in self.rows if row.next_year_pence is not None)

    @property
    def unpriced(self) -> list[str]:
        """Active services that next year's offer will not include (no price for it)."""
        return [row.service.name for row in self.rows if row.next_year_pence is None]


def preparation() -> Preparation | None:
    """Next year's offer beside this year's prices; None when next year is not set up yet."""
    shown = buy_back_years()
    upcoming = shown.next_year
    if upcoming is None:
        return None
    rows = [
        PriceRow(
            row.service,
            row.prices.get(shown.this_year.id) if shown.this_year else None,
            row.prices.get(upcoming.id),
        )
        for row in all_services()
        if row.service.active
    ]
    settings = council_settings()
    rule = LateRule(settings.late_buy_back_rule) if settings else LateRule.ALLOWED
    return Preparation(shown.this_year, upcoming, shown.next_state, rows, rule)


def preview(year: AcademicYear, customer_type: CustomerType) -> list[CatalogueEntry]:
    """The catalogue exactly as a school of `customer_type` will see it in `year`."""
    return catalogue_for(customer_type, year)


def publish(year: AcademicYear, opens_on: date, closes_on: date, rule: LateRule) -> AcademicYear:
    """Publish `year`'s offer with its buy-back window (or change the window of an offer already
    published) and set the council's rule for orders placed after it closes. From the day the
    window opens schools may order `year`'s days at `year`'s prices."""
    if year.starts_on <= today():
        raise CatalogueError(f"{year.label} has started: its offer is this year's catalogue")
    if not any(catalogue_for(c, year) for c in CustomerType):
        raise CatalogueError(
            f"No service has a price for {year.label} yet: copy this year's prices or set them "
            "before publishing",
            "opens_on",
        )
    if closes_on < opens_on:
        raise CatalogueError("The window must close on or after the day it opens", "closes_on")
    if opens_on >= year.starts_on:
        raise CatalogueError(
            f"The window must open before {year.label} starts on {year.starts_on:%-d %B %Y}",
            "opens_on",
        )
    if closes_on > year.starts_on:
        raise CatalogueError(
            f"The window must close by the day {year.label} starts ({year.starts_on:%-d %B %Y})",
            "closes_on",
        )
    if year.offer_published_at is None:
        if closes_on < today():
            raise CatalogueError("The window must close today or later", "closes_on")
        year.offer_published_at = utcnow()
    if year.buy_back_opens_on != opens_on:
        year.buy_back_opens_on = opens_on
    if year.buy_back_closes_on != closes_on:
        year.buy_back_closes_on = closes_on
    settings = council_settings()
    if settings is not None and settings.late_buy_back_rule != rule.value:
        settings.late_buy_back_rule = rule.value
    db.session.flush()
    return year


def state_of(year: AcademicYear) -> WindowState:
    return window_state(year)
