"""Pricing: pence and half-days in, pence out. The one place order and invoice figures come from.

Rounding, decided once: a line's net is its half-days × the price per day ÷ 2, half a penny
rounding up (only an odd price per day with an odd number of half-days gives one). VAT is worked
out per rate on the sum of the nets at that rate, half a penny rounding up, as the "VAT by rate"
on an invoice shows it; a document's VAT is the sum over its rates. Nothing here uses floats.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# The days parser lives in days_input; its names stay importable from here.
from traded_app.domain.days_input import MAX_HALF_DAYS, DaysError, days_text, parse_days  # noqa: F401
from traded_app.domain.types import VatTreatment

BASIS_POINTS = 10_000


def line_net_pence(half_days: int, price_per_day_pence: int) -> int:
    """Net of a line: half-days × price per day ÷ 2, half a penny rounding up."""
    if half_days < 0 or price_per_day_pence < 0:
        raise ValueError("days and prices are never negative")
    return (half_days * price_per_day_pence + 1) // 2


def vat_pence(net_pence: int, rate_bp: int) -> int:
    """VAT on a net amount at a rate in basis points, half a penny rounding up."""
    if net_pence < 0 or not 0 <= rate_bp <= BASIS_POINTS:
        raise ValueError("net must not be negative and the rate must be 0–100%")
    return (net_pence * rate_bp * 2 + BASIS_POINTS) // (2 * BASIS_POINTS)


@dataclass(frozen=True)
class Line:
    half_days: int
    price_per_day_pence: int
    vat_treatment: VatTreatment
    vat_rate_bp: int

    @property
    def net_pence(self) -> int:
        return line_net_pence(self.half_days, self.price_per_day_pence)


@dataclass(frozen=True)
class VatBand:
    treatment: VatTreatment
    rate_bp: int
    net_pence: int
    vat_pence: int


@dataclass(frozen=True)
class Totals:
    half_days: int
    net_pence: int
    vat_pence: int
    bands: tuple[VatBand, ...]

    @property
    def gross_pence(self) -> int:
        return self.net_pence + self.vat_pence


def totals(lines: Iterable[Line]) -> Totals:
    """Total days, net, VAT by rate and gross of a set of lines."""
    half_days = 0
    by_band: dict[tuple[VatTreatment, int], int] = {}
    for line in lines:
        half_days += line.half_days
        key = (line.vat_treatment, line.vat_rate_bp)
        by_band[key] = by_band.get(key, 0) + line.net_pence
    bands = tuple(
        VatBand(treatment, rate, net, vat_pence(net, rate))
        for (treatment, rate), net in sorted(
            by_band.items(), key=lambda item: (-item[0][1], item[0][0].value)
        )
    )
    return Totals(
        half_days=half_days,
        net_pence=sum(b.net_pence for b in bands),
        vat_pence=sum(b.vat_pence for b in bands),
        bands=bands,
    )


MAX_POUNDS_PENCE = 100_000_000  # £1,000,000: far above any order here


def parse_pounds(raw: str | None, *, maximum: int = MAX_POUNDS_PENCE) -> int:
    """'1,500.50' or '£1500.5' -> 150050 pence, or MoneyError with a GOV.UK message.

    Never goes through a float."""
    text = (raw or "").strip().replace(",", "").removeprefix("£").strip()
    if not text:
        raise MoneyError("Enter an amount in pounds")
    if not text.isascii():  # Decimal would read other scripts' digits ("１０") too
        raise MoneyError("Enter an amount in pounds, like 1500 or 1500.50")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise MoneyError("Enter an amount in pounds, like 1500 or 1500.50") from None
    if not value.is_finite():
        raise MoneyError("Enter an amount in pounds, like 1500 or 1500.50")
    pence = value * 100
    if pence != pence.to_integral_value():
        raise MoneyError("Enter an amount in pounds and pence, with no more than 2 decimal places")
    if pence < 0:
        raise MoneyError("Amount must be £0 or more")
    if pence > maximum:
        whole = maximum // 100
        raise MoneyError(f"Amount must be £{whole:,} or less")
    return int(pence)


class MoneyError(ValueError):
    """An amount a person typed that cannot be used; the message is for them."""
