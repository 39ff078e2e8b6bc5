"""Quotes: a school downloads one from its basket to raise a purchase order.

A quote copies the basket as it is priced today (the catalogue's prices, never an earlier
quote's), takes the next number of its own series (the council's quote prefix, by financial
year, like the documents'), is valid for the council's number of days, prints the year's terms
in force, and is rendered once, by the documents' PDF renderer, and kept as it was. The draft
then points at it, so while it is valid the order keeps its prices (quote_prices).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from traded_app.domain import quotes as rules
from traded_app.domain.types import VatTreatment
from traded_app.extensions import db
from traded_app.models import AcademicYear, Order, Quote, QuoteLine, School, User
from traded_app.services.documents import issuing, numbering, pdf
from traded_app.services.ordering import basket, terms
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.settings import today

SERIES = "quote"


class QuoteNotFound(NotFound, LookupError):
    """No such quote, or not one this user may see."""


@dataclass(frozen=True)
class Band:
    """A VAT band as the documents' template filters read it."""

    vat_treatment: VatTreatment
    vat_rate_bp: int
    net_pence: int
    vat_pence: int


def create(school: School, user: User, year: AcademicYear) -> Quote:
    """A quote for the school's basket, at today's prices; the draft is priced by it from now."""
    draft = basket.draft_for(school, user, year)
    summary = basket.summarise(draft, basket.offer_for(draft), quoted=False)
    if summary.unavailable:
        names = ", ".join(line.service.name for line in summary.unavailable)
        raise basket.OrderError(f"{names} can no longer be ordered: remove it before a quote")
    if not summary.lines:
        raise basket.OrderError("Choose the days you need before you ask for a quote")
    council = issuing.require_council_details()
    chosen = terms.quote_settings()
    issued_on = today()
    financial_year = numbering.financial_year_of(issued_on, council.financial_year_start_month)
    sequence = numbering.take_in_series(SERIES, financial_year)
    totals = summary.totals
    quote = Quote(
        number=numbering.format_number(chosen.prefix, financial_year, sequence),
        financial_year=financial_year,
        sequence=sequence,
        school_id=school.id,
        academic_year_id=year.id,
        academic_year=year,
        created_by_id=user.id,
        issue_date=issued_on,
        valid_until=rules.valid_until(issued_on, chosen.validity_days),
        terms_version=terms.current_for(year.id),
        half_days=totals.half_days,
        net_pence=totals.net_pence,
        vat_pence=totals.vat_pence,
        gross_pence=totals.gross_pence,
        lines=[
            QuoteLine(
                service_id=line.entry.service.id,
                service_code=line.entry.service.code,
                service_name=line.entry.service.name,
                half_days=line.half_days,
                price_per_day_pence=line.entry.price_per_day_pence,
                vat_treatment=line.entry.vat_treatment,
                vat_rate_bp=line.entry.vat_rate_bp,
            )
            for line in summary.lines
        ],
    )
    bands = [Band(b.treatment, b.rate_bp, b.net_pence, b.vat_pence) for b in totals.bands]
    quote.pdf = pdf.render_named(
        "quote.html",
        quote.number,
        quote=quote,
        seller=issuing.seller(council),
        buyer=issuing.buyer_details(school),
        bands=bands,
        terms=quote.terms_version,
    )
    db.session.add(quote)
    db.session.flush()
    draft.quote_id = quote.id
    basket.save_change(draft)
    return quote


def order_from(quote: Quote, user: User, year: AcademicYear) -> Order:
    """Make the school's basket the quote's lines, priced by the quote while it is valid."""
    if user.school_id != quote.school_id:
        raise QuoteNotFound
    if quote.academic_year_id != year.id:
        raise basket.OrderError(
            f"Quote {quote.number} is for {quote.academic_year.label}: it cannot be ordered now"
        )
    draft = basket.draft_for(quote.school, user, year)
    offer = basket.offer_for(draft)
    missing = [line.service_name for line in quote.lines if line.service_id not in offer]
    if missing:
        raise basket.OrderError(f"{', '.join(missing)} can no longer be ordered")
    wanted = {line.service_id: line.half_days for line in quote.lines}
    for line in list(draft.lines):
        if line.service_id not in wanted:
            basket.set_days(draft, line.service_id, 0, offer)
    for service_id, half_days in wanted.items():
        basket.set_days(draft, service_id, half_days, offer)
    draft.quote_id = quote.id
    basket.save_change(draft)
    return draft


def visible_to(user: User, quote_id: int) -> Quote:
    """A quote `user` may see: the council's staff any, a school's staff their own school's."""
    quote = db.session.get(Quote, quote_id)
    if quote is None or not user.may_see(quote.school):
        raise QuoteNotFound
    return quote


def of_school(school: School, limit: int = 20) -> list[Quote]:
    """The school's latest quotes, newest first."""
    return list(
        db.session.execute(
            select(Quote)
            .options(selectinload(Quote.academic_year))
            .where(Quote.school_id == school.id)
            .order_by(Quote.id.desc())
            .limit(limit)
        ).scalars()
    )


def is_valid(quote: Quote) -> bool:
    return rules.is_valid(quote.valid_until, today())
