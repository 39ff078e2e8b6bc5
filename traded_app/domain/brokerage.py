"""The council's brokerage fee on school-to-school support it invoices as the provider's agent.

The fee is a percentage of what the buyer is charged before VAT, held in basis points (1% is
100) and worked out in whole pence, half a penny rounding up, as VAT is. The providing school
is owed the rest, so the fee and the provider's share always add up to the charge, to the penny.
VAT on the buyer's invoice is the council's to account for: it is neither fee nor share.
"""

from __future__ import annotations

from dataclasses import dataclass

from traded_app.domain.pricing import BASIS_POINTS

MAX_FEE_BP = 5_000  # a fee above half the charge would be the council's support, not a school's


class FeeError(ValueError):
    """A fee that cannot be a brokerage fee; the message is for the service manager."""


@dataclass(frozen=True)
class Split:
    charged_pence: int  # what the buyer is charged for the support, before VAT
    fee_pence: int  # the council's brokerage fee
    provider_pence: int  # owed to the providing school


def fee_pence(charged_pence: int, fee_bp: int) -> int:
    """The fee on a charge: charged × fee ÷ 10,000, half a penny rounding up."""
    if charged_pence < 0:
        raise ValueError("a charge is never negative")
    if not 0 <= fee_bp <= MAX_FEE_BP:
        raise ValueError("the fee is 0% to 50%")
    return (charged_pence * fee_bp * 2 + BASIS_POINTS) // (2 * BASIS_POINTS)


def split(charged_pence: int, fee_bp: int) -> Split:
    """The charge split between the council's fee and the providing school's share."""
    fee = fee_pence(charged_pence, fee_bp)
    return Split(charged_pence, fee, charged_pence - fee)


def parse_fee_percent(raw: str | None, *, maximum: int = MAX_FEE_BP) -> int:
    """'7.5' or '7.5%' -> 750 basis points, at most `maximum`, or FeeError with a GOV.UK
    message (never through a float)."""
    text = (raw or "").strip().removesuffix("%").strip()
    if not text:
        raise FeeError("Enter the brokerage fee as a percentage, like 5 or 7.5")
    whole, _, fraction = text.partition(".")
    if not text.isascii() or not (whole or fraction):
        raise FeeError("Enter the brokerage fee as a percentage, like 5 or 7.5")
    if not (whole or "0").isdigit() or (fraction and not fraction.isdigit()):
        raise FeeError("Enter the brokerage fee as a percentage, like 5 or 7.5")
    if len(fraction) > 2:
        raise FeeError("Enter the brokerage fee with no more than 2 decimal places")
    basis_points = int(whole or "0") * 100 + int(fraction.ljust(2, "0") or "0")
    if basis_points > maximum:
        raise FeeError(f"The brokerage fee must be {maximum // 100}% or less")
    return basis_points


def percent_text(fee_bp: int) -> str:
    """750 -> '7.5%', 500 -> '5%'."""
    whole, part = divmod(fee_bp, 100)
    return f"{whole}.{part:02d}".rstrip("0").rstrip(".") + "%"
