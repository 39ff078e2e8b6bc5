"""The year's end rule: what happens to a school's unused days when the academic year closes.

Unused bought (traded) days lapse, or carry over into the next year up to the council's limit
per school (in half-days); the limit is filled from the school's lines in the order given (the
ledger's: by service, then by order). Core days lapse unless the council's separate setting says
they carry over, and then they carry over in full (the limit is for bought days). Pure rules in
half-day units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    carry_over: bool  # False: unused bought days lapse
    max_half_days: int  # the most bought half-days a school carries over
    core_carries_over: bool


@dataclass(frozen=True)
class Outcome:
    """What happens to one line's unused half-days (`line` None: the core allocation)."""

    line: int | None
    unused: int
    carried: int

    @property
    def lapsed(self) -> int:
        return self.unused - self.carried


def close_school(rule: Rule, traded: Sequence[tuple[int, int]], core_unused: int) -> list[Outcome]:
    """Each line with unused days and what happens to them: `traded` is (order line, unused
    half-days) in the order the limit is filled; a line used beyond its days counts as none
    unused."""
    outcomes = []
    room = rule.max_half_days if rule.carry_over else 0
    for line, unused in traded:
        if unused <= 0:
            continue
        carried = min(unused, max(0, room))
        room -= carried
        outcomes.append(Outcome(line, unused, carried))
    if core_unused > 0:
        outcomes.append(Outcome(None, core_unused, core_unused if rule.core_carries_over else 0))
    return outcomes


def lapsing(rule: Rule, traded_unused: int, core_unused: int) -> int:
    """Half-days that would lapse if nothing more were used."""
    outcomes = close_school(rule, [(0, traded_unused)], core_unused)
    return sum(outcome.lapsed for outcome in outcomes)
