"""Crediting a member's share of a partnership order: pence and half-days in, pence out.

A member's share document charges, for each line of the partnership's order, the member's part
of that line (its pence before VAT, frozen when ordered) for all of the line's days. Crediting
some of those days credits the same fraction of the member's part, worked out on the running
total, so that crediting every day credits the part exactly and no sequence of credits can
ever come to more:

    credited net after c half-days of H = part × c ÷ H, rounded down;
    a credit of k more half-days = credited(c + k) − credited(c).

VAT is credited the same way per VAT band of the charge (treatment and rate): the band's VAT
charged × net credited in the band ÷ net charged in the band, rounded down, on the running total;
so the credits' VAT adds up, band by band, to what was charged once everything is credited.
Nothing here uses floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from traded_app.domain.types import VatTreatment

Band = tuple[VatTreatment, int]


class ShareCreditError(ValueError):
    """A credit that cannot be given; `key` names the line it is about, if any."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class SharePart:
    """A member's part of one order line as its share document charged it."""

    key: str  # the service's code: an order has one line per service
    line_half_days: int  # the partnership's days on the line, which the part pays for
    net_pence: int  # the member's part, before VAT
    vat_treatment: VatTreatment
    vat_rate_bp: int

    @property
    def band(self) -> Band:
        return (self.vat_treatment, self.vat_rate_bp)


@dataclass(frozen=True)
class ChargedBand:
    net_pence: int
    vat_pence: int


@dataclass(frozen=True)
class CreditLine:
    part: SharePart
    half_days: int
    net_pence: int


@dataclass(frozen=True)
class CreditBand:
    vat_treatment: VatTreatment
    vat_rate_bp: int
    net_pence: int
    vat_pence: int


@dataclass(frozen=True)
class Credit:
    lines: tuple[CreditLine, ...]
    bands: tuple[CreditBand, ...]

    @property
    def net_pence(self) -> int:
        return sum(band.net_pence for band in self.bands)

    @property
    def vat_pence(self) -> int:
        return sum(band.vat_pence for band in self.bands)

    @property
    def gross_pence(self) -> int:
        return self.net_pence + self.vat_pence


def credited_net(part: SharePart, half_days: int) -> int:
    """The part's net credited once `half_days` of its line's days are credited in all."""
    if not 0 <= half_days <= part.line_half_days:
        raise ValueError("credited days are between none and the line's days")
    return part.net_pence * half_days // part.line_half_days


def credited_vat(band: ChargedBand, net_pence: int) -> int:
    """The band's VAT credited once `net_pence` of its net is credited in all."""
    if not band.net_pence:
        return 0
    return band.vat_pence * net_pence // band.net_pence


def left_half_days(part: SharePart, credited: Mapping[str, int]) -> int:
    return part.line_half_days - credited.get(part.key, 0)


def credit(
    parts: list[SharePart],
    charged: Mapping[Band, ChargedBand],
    credited: Mapping[str, int],
    crediting: Mapping[str, int],
) -> Credit:
    """The credit of `crediting` more half-days (by line key) of a share whose lines have had
    `credited` half-days credited already. ShareCreditError when a line is unknown, a number is
    negative, more than is left is asked for, or nothing at all."""
    by_key = {part.key: part for part in parts}
    unknown = sorted(set(crediting) - set(by_key))
    if unknown:
        raise ShareCreditError(f"{unknown[0]} is not a line of this share", unknown[0])
    lines = []
    before: dict[Band, int] = {}
    after: dict[Band, int] = {}
    for part in parts:
        done = credited.get(part.key, 0)
        more = crediting.get(part.key, 0)
        if more < 0:
            raise ShareCreditError("Days to credit cannot be negative", part.key)
        if more > part.line_half_days - done:
            raise ShareCreditError("More days than are left to credit", part.key)
        was, now = credited_net(part, done), credited_net(part, done + more)
        before[part.band] = before.get(part.band, 0) + was
        after[part.band] = after.get(part.band, 0) + now
        if more:
            lines.append(CreditLine(part, more, now - was))
    if not lines:
        raise ShareCreditError("Enter the days to credit")
    bands = []
    for band in sorted(after, key=lambda b: (-b[1], b[0].value)):
        net = after[band] - before[band]
        if not any(line.part.band == band for line in lines):
            continue
        figures = charged.get(band, ChargedBand(0, 0))
        vat = credited_vat(figures, after[band]) - credited_vat(figures, before[band])
        bands.append(CreditBand(band[0], band[1], net, vat))
    return Credit(tuple(lines), tuple(bands))
