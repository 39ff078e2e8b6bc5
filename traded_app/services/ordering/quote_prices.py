"""A draft priced by its quote: while the quote the school downloaded is valid, the services it
quoted keep the quote's price and VAT; once it has expired, today's catalogue prices apply.

Kept apart from quotes.py (which makes quotes from the basket) so that the basket can ask it
without a cycle. A draft with no quote costs nothing more: no query.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from traded_app.domain import quotes as rules
from traded_app.models import Order, Quote
from traded_app.services.ordering.offer import CatalogueEntry
from traded_app.services.platform.settings import today


@dataclass(frozen=True)
class QuoteState:
    """The quote a draft is priced by (or was), and whether its prices still hold."""

    quote: Quote
    valid: bool

    @property
    def valid_until(self) -> date:
        return self.quote.valid_until


def state_of(order: Order, on: date | None = None) -> QuoteState | None:
    """The draft's quote for its own year and school, if it has one."""
    quote = order.quote if order.quote_id is not None else None
    if (
        quote is None
        or quote.academic_year_id != order.academic_year_id
        or quote.school_id != order.school_id
    ):
        return None
    return QuoteState(quote, rules.is_valid(quote.valid_until, on or today()))


def applied(order: Order, offer: dict[int, CatalogueEntry]) -> dict[int, CatalogueEntry]:
    """`offer` with the quoted services at the quote's prices while the draft's quote is valid
    (a service no longer on offer stays off it)."""
    if order.quote_id is None:
        return offer
    state = state_of(order)
    if state is None or not state.valid:
        return offer
    priced = dict(offer)
    for line in state.quote.lines:
        entry = offer.get(line.service_id)
        if entry is not None:
            priced[line.service_id] = replace(
                entry,
                price_per_day_pence=line.price_per_day_pence,
                vat_treatment=line.vat_treatment,
                vat_rate_bp=line.vat_rate_bp,
            )
    return priced
