"""Splitting a partnership order between its members, in whole pence.

A partnership order is priced once (its lines' net amounts); each member pays a share named by
a rule: equal, in proportion to pupil numbers, or amounts typed by the person ordering that add
up to the order. Two steps, both exact:

1. `member_totals`: the order's net total split by the rule. Every member but the lead gets its
   proportional share rounded down; the lead gets the rest, so the shares add up to the penny.
2. `split_lines`: each member's total spread across the order's lines (a line per service,
   each in one VAT band), so that every member's lines add up to its total *and* every line's
   shares add up to the line, hence every VAT band's shares add up to the band. Each line is
   first split in proportion, rounded down; the pennies left over (fewer than the number of
   lines for a member, fewer than the number of members for a line) are handed out lead first,
   line by line, each to the first member still owed pennies (the "north-west corner" of a
   transport table), which can never fail because what members are owed and what lines have
   left add up to the same amount.

VAT is not split here: each member's document works out its own VAT on its own lines, by its
own billing route (none on an internal recharge).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from enum import StrEnum


class SplitRule(StrEnum):
    EQUAL = "equal"
    PUPILS = "pupils"
    TYPED = "typed"

    @property
    def label(self) -> str:
        return {
            "equal": "Equally between the members",
            "pupils": "By pupil numbers",
            "typed": "Amounts you type",
        }[self.value]

    @property
    def short_label(self) -> str:
        return {"equal": "equal shares", "pupils": "by pupil numbers", "typed": "typed amounts"}[
            self.value
        ]


class SplitError(ValueError):
    """The split cannot be made as asked; the message says why, for the person ordering."""


def member_totals(total_pence: int, weights: Sequence[int], lead: int) -> list[int]:
    """`total_pence` in proportion to `weights` (one per member), every member but the lead
    rounded down, the lead taking the remainder. Weights are whole, not negative, and not all 0."""
    if total_pence < 0:
        raise SplitError("An order's total is never negative")
    if not 0 <= lead < len(weights):
        raise SplitError("The lead school must be one of the members")
    if any(weight < 0 for weight in weights):
        raise SplitError("A member's weight is never negative")
    whole = sum(weights)
    if whole == 0:
        raise SplitError("There is nothing to split the order by")
    shares = [total_pence * weight // whole for weight in weights]
    shares[lead] = 0
    shares[lead] = total_pence - sum(shares)
    return shares


def equal_totals(total_pence: int, members: int, lead: int) -> list[int]:
    return member_totals(total_pence, [1] * members, lead)


def check_typed(total_pence: int, typed: Sequence[int]) -> None:
    """Typed amounts must not be negative and must add up to the order's total."""
    if any(amount < 0 for amount in typed):
        raise SplitError("A member's share cannot be less than £0.00")
    given = sum(typed)
    if given != total_pence:
        difference = abs(total_pence - given)
        more_or_less = "more" if given > total_pence else "less"
        raise SplitError(
            f"The shares add up to {pounds(given)}, {pounds(difference)} {more_or_less} than "
            f"the order's {pounds(total_pence)} before VAT: make them add up to the order"
        )


def split_lines(line_pence: Sequence[int], totals: Sequence[int], lead: int) -> list[list[int]]:
    """Each member's total spread across the lines: `result[m][j]` is member m's part of line j.

    Rows add up to `totals`, columns to `line_pence`; `totals` must add up to the lines."""
    whole = sum(line_pence)
    if sum(totals) != whole:
        raise SplitError("The members' shares must add up to the order")
    if any(amount < 0 for amount in (*line_pence, *totals)):
        raise SplitError("Amounts are never negative")
    if not 0 <= lead < len(totals):
        raise SplitError("The lead school must be one of the members")
    if whole == 0:
        return [[0] * len(line_pence) for _ in totals]
    parts = [[total * line // whole for line in line_pence] for total in totals]
    owed = [total - sum(row) for total, row in zip(totals, parts, strict=True)]
    left = [line - sum(row[j] for row in parts) for j, line in enumerate(line_pence)]
    order = [lead, *(m for m in range(len(totals)) if m != lead)]
    position = 0
    for j in range(len(line_pence)):
        while left[j] > 0:
            m = order[position]
            if owed[m] == 0:
                position += 1
                continue
            given = min(owed[m], left[j])
            parts[m][j] += given
            owed[m] -= given
            left[j] -= given
    return parts


def by_band(parts: Sequence[int], bands: Sequence[Hashable]) -> dict[Hashable, int]:
    """One member's (or the order's) line amounts summed per VAT band (one key per line)."""
    sums: dict[Hashable, int] = {}
    for amount, band in zip(parts, bands, strict=True):
        sums[band] = sums.get(band, 0) + amount
    return sums


def pounds(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"
