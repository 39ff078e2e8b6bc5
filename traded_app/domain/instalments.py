"""Instalments: an order's charge split into parts that add up to it exactly, in pence.

A plan is a list of shares (whole numbers, such as 7 and 5 twelfths): instalment k charges
share_k / sum(shares) of the order. Amounts are split with the largest-remainder rule, decided
once: each part first gets its share rounded down; the pence left over (fewer than the number
of parts) go one each to the parts with the largest remainders, the earlier part first when
remainders are equal. So the parts always add up to the whole, no part differs from its exact
share by a penny or more, and splitting is the same every time it is worked out.

What is split: each order line's net (so each instalment's lines add up to the order's lines),
and each VAT band's VAT, on its own (so an instalment's VAT is its share of the order's VAT,
not VAT worked out again on a rounded net, and the instalments' VAT adds up to the order's).
Nothing here uses floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from traded_app.domain import pricing
from traded_app.domain.types import VatTreatment

MAX_PARTS = 12


class PlanError(ValueError):
    """A plan that cannot be used; the message is for the person setting it."""


def split_pence(amount_pence: int, shares: Sequence[int]) -> list[int]:
    """`amount_pence` split by `shares` (largest remainder, earlier part first on a tie)."""
    if amount_pence < 0:
        raise ValueError("amounts split are never negative")
    if not shares or any(share < 0 for share in shares) or sum(shares) <= 0:
        raise ValueError("shares must be whole numbers, not negative, adding up to more than 0")
    whole = sum(shares)
    parts = [amount_pence * share // whole for share in shares]
    left = amount_pence - sum(parts)
    by_remainder = sorted(
        range(len(shares)), key=lambda i: (-(amount_pence * shares[i] % whole), i)
    )
    for index in by_remainder[:left]:
        parts[index] += 1
    return parts


@dataclass(frozen=True)
class LinePart:
    """One order line's part of one instalment."""

    position: int  # the order line's position among the order's lines (0 first)
    net_pence: int


@dataclass(frozen=True)
class Instalment:
    """One instalment's figures: its lines' nets and its VAT by band (the order's bands)."""

    number: int  # 1, 2, …
    lines: tuple[LinePart, ...]
    bands: tuple[pricing.VatBand, ...]

    @property
    def net_pence(self) -> int:
        return sum(band.net_pence for band in self.bands)

    @property
    def vat_pence(self) -> int:
        return sum(band.vat_pence for band in self.bands)

    @property
    def gross_pence(self) -> int:
        return self.net_pence + self.vat_pence

    def totals(self) -> pricing.Totals:
        """This instalment as document totals (the order's half-days: an instalment charges a
        share of every day)."""
        return pricing.Totals(0, self.net_pence, self.vat_pence, self.bands)


def split_order(lines: Sequence[pricing.Line], shares: Sequence[int]) -> list[Instalment]:
    """The order made of `lines`, split into one instalment per share."""
    order_totals = pricing.totals(lines)
    per_line = [split_pence(line.net_pence, shares) for line in lines]
    vat_by_band = {
        (band.treatment, band.rate_bp): split_pence(band.vat_pence, shares)
        for band in order_totals.bands
    }
    instalments = []
    for k in range(len(shares)):
        net_by_band: dict[tuple[VatTreatment, int], int] = {}
        for line, parts in zip(lines, per_line, strict=True):
            key = (line.vat_treatment, line.vat_rate_bp)
            net_by_band[key] = net_by_band.get(key, 0) + parts[k]
        bands = tuple(
            pricing.VatBand(band.treatment, band.rate_bp, net_by_band[key], vat_by_band[key][k])
            for band in order_totals.bands
            for key in [(band.treatment, band.rate_bp)]
        )
        instalments.append(
            Instalment(
                k + 1,
                tuple(LinePart(i, parts[k]) for i, parts in enumerate(per_line)),
                bands,
            )
        )
    return instalments


# --- Plans ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanPart:
    """One part of a plan: its share, and its date as a day and month in the calendar year in
    which the academic year starts (`in_end_year` False) or ends (True). For 2026/27, 1 April
    of the start year is 1 April 2026 (before the year), 1 January of the end year is 1 January
    2027 (in it)."""

    share: int
    day: int
    month: int
    in_end_year: bool

    def date_in(self, start_year: int) -> date:
        """The part's date for the academic year starting in September of `start_year`."""
        return date(start_year + (1 if self.in_end_year else 0), self.month, self.day)


def check_plan(parts: Sequence[PlanPart], whole: int, year_ends: tuple[int, int] = (8, 31)) -> None:
    """Refuse a plan whose shares do not make the whole, or whose dates are not in order or fall
    after the academic year ends (31 August by default); PlanError says what to change."""
    if not parts:
        raise PlanError("Enter at least one instalment")
    if len(parts) > MAX_PARTS:
        raise PlanError(f"A plan has at most {MAX_PARTS} instalments")
    if any(part.share <= 0 for part in parts):
        raise PlanError("Each instalment's share must be more than 0")
    total = sum(part.share for part in parts)
    if total != whole:
        raise PlanError(
            f"The instalments' shares add up to {total}/{whole}: they must add up to "
            f"{whole}/{whole}, the whole order"
        )
    # Checked against 2026/27, neither of whose calendar years is a leap year: a plan's dates
    # must exist every year, so 29 February is refused.
    dates = []
    for number, part in enumerate(parts, start=1):
        try:
            dates.append(part.date_in(2026))
        except ValueError:
            raise PlanError(
                f"Instalment {number}'s date must be a real date in every year (not 29 February)"
            ) from None
    end_month, end_day = year_ends
    for number, (part, on) in enumerate(zip(parts, dates, strict=True), start=1):
        if part.in_end_year and (part.month, part.day) > (end_month, end_day):
            raise PlanError(
                f"Instalment {number}'s date is after the academic year ends: choose a date "
                "inside or before the year"
            )
        if number > 1 and on <= dates[number - 2]:
            raise PlanError(f"Instalment {number}'s date must be after instalment {number - 1}'s")
