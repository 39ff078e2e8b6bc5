"""Quote validity, frozen prices and when a charge waits for a PO number (issue 15 part 3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from traded_app.domain import quotes
from traded_app.domain.types import BillingRoute, ServiceGroup, VatTreatment
from traded_app.models import Order, Quote, QuoteLine
from traded_app.services.ordering import quote_prices
from traded_app.services.ordering.offer import CatalogueEntry, OfferedService
from traded_app.services.platform.settings import today


def test_a_quote_is_valid_through_its_last_day_and_not_after() -> None:
    issued = date(2026, 11, 30)
    until = quotes.valid_until(issued, 30)
    assert until == date(2026, 12, 30)
    assert quotes.is_valid(until, issued)
    assert quotes.is_valid(until, date(2026, 12, 30))
    assert not quotes.is_valid(until, date(2026, 12, 31))
    assert quotes.days_left(until, date(2026, 12, 30)) == 0
    assert quotes.days_left(until, date(2026, 12, 31)) == -1


def test_validity_crosses_the_year_end_and_a_leap_day() -> None:
    assert quotes.valid_until(date(2027, 12, 15), 30) == date(2028, 1, 14)
    assert quotes.valid_until(date(2028, 2, 28), 1) == date(2028, 2, 29)


@pytest.mark.parametrize("days", [0, -1, 366])
def test_a_validity_outside_a_day_to_a_year_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="1 to 365 days"):
        quotes.valid_until(date(2026, 11, 30), days)


@pytest.mark.parametrize(
    ("required", "route", "po", "waits"),
    [
        (True, BillingRoute.INVOICE, "", True),
        (True, BillingRoute.INVOICE, "   ", True),
        (True, BillingRoute.INVOICE, "PO-1", False),
        (False, BillingRoute.INVOICE, "", False),
        # A maintained school's recharge is settled by journal: never held for a PO.
        (True, BillingRoute.RECHARGE, "", False),
    ],
)
def test_only_an_invoice_to_a_school_requiring_a_po_waits_for_it(
    required: bool, route: BillingRoute, po: str, waits: bool
) -> None:
    assert quotes.charge_waits_for_po(required, route, po) is waits


def entry(service_id: int, pence: int) -> CatalogueEntry:
    service = OfferedService(
        service_id, f"S{service_id}", f"Service {service_id}", "", ServiceGroup.LEADERSHIP, 2, 1, 20
    )
    return CatalogueEntry(service, pence, VatTreatment.STANDARD, 2000)


def draft_with_quote(valid_until: date) -> Order:
    quote = Quote(
        id=7,
        school_id=1,
        academic_year_id=1,
        valid_until=valid_until,
        lines=[
            QuoteLine(
                service_id=1,
                half_days=4,
                price_per_day_pence=40_000,
                vat_treatment=VatTreatment.EXEMPT,
                vat_rate_bp=0,
            )
        ],
    )
    return Order(school_id=1, academic_year_id=1, quote_id=7, quote=quote, lines=[])


def test_a_valid_quote_freezes_the_prices_of_what_it_quoted_only() -> None:
    offer = {1: entry(1, 50_000), 2: entry(2, 30_000)}
    priced = quote_prices.applied(draft_with_quote(today()), offer)
    assert (priced[1].price_per_day_pence, priced[1].vat_treatment) == (
        40_000,
        VatTreatment.EXEMPT,
    )
    assert priced[2] == offer[2]  # not quoted: today's price
    assert offer[1].price_per_day_pence == 50_000  # the offer itself is not changed


def test_an_expired_quote_leaves_todays_prices() -> None:
    offer = {1: entry(1, 50_000)}
    draft = draft_with_quote(today() - timedelta(days=1))
    assert quote_prices.applied(draft, offer) == offer
    state = quote_prices.state_of(draft)
    assert state is not None and not state.valid


def test_a_quote_for_another_year_or_school_never_prices_the_draft() -> None:
    offer = {1: entry(1, 50_000)}
    draft = draft_with_quote(today())
    draft.academic_year_id = 2
    assert quote_prices.applied(draft, offer) == offer
    assert quote_prices.state_of(draft) is None


def test_a_draft_without_a_quote_is_priced_by_the_catalogue() -> None:
    offer = {1: entry(1, 50_000)}
    assert quote_prices.applied(Order(school_id=1, academic_year_id=1, lines=[]), offer) is offer
