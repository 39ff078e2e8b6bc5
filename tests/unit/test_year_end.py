"""The year's end rule: unused bought days lapse or carry over up to the council's limit per
school (in half-days, filled in the ledger's order); core days lapse unless the rule says so."""

from __future__ import annotations

from traded_app.domain.year_end import Outcome, Rule, close_school, lapsing

LAPSE = Rule(carry_over=False, max_half_days=0, core_carries_over=False)


def carry(max_half_days: int, core: bool = False) -> Rule:
    return Rule(carry_over=True, max_half_days=max_half_days, core_carries_over=core)


def test_under_the_lapse_rule_every_unused_day_lapses() -> None:
    outcomes = close_school(LAPSE, [(11, 4), (12, 3)], core_unused=2)
    assert [(o.line, o.carried, o.lapsed) for o in outcomes] == [
        (11, 0, 4),
        (12, 0, 3),
        (None, 0, 2),
    ]


def test_the_limit_is_per_school_and_filled_in_the_order_of_the_lines() -> None:
    outcomes = close_school(carry(4), [(11, 3), (12, 3), (13, 2)], core_unused=0)
    assert [(o.line, o.carried, o.lapsed) for o in outcomes] == [
        (11, 3, 0),
        (12, 1, 2),
        (13, 0, 2),
    ]
    assert sum(o.carried for o in outcomes) == 4


def test_a_limit_in_half_days_carries_a_half_day() -> None:
    # Up to 1.5 days: a school with 2 days left carries 1.5 and loses half a day.
    [outcome] = close_school(carry(3), [(11, 4)], core_unused=0)
    assert (outcome.carried, outcome.lapsed) == (3, 1)


def test_fewer_days_left_than_the_limit_all_carry_over() -> None:
    [outcome] = close_school(carry(10), [(11, 1)], core_unused=0)
    assert outcome == Outcome(11, 1, 1) and outcome.lapsed == 0


def test_core_days_lapse_unless_the_rule_says_they_carry_over_and_then_in_full() -> None:
    [core] = close_school(carry(2), [], core_unused=6)
    assert (core.line, core.carried, core.lapsed) == (None, 0, 6)
    outcomes = close_school(carry(2, core=True), [(11, 4)], core_unused=6)
    assert [(o.line, o.carried, o.lapsed) for o in outcomes] == [(11, 2, 2), (None, 6, 0)]
    # The core setting stands apart from the bought days' rule.
    both = close_school(Rule(False, 0, core_carries_over=True), [(11, 4)], core_unused=6)
    assert [(o.carried, o.lapsed) for o in both] == [(0, 4), (6, 0)]


def test_lines_with_nothing_left_or_used_beyond_their_days_are_left_out() -> None:
    assert close_school(carry(4), [(11, 0), (12, -2)], core_unused=-1) == []
    # ... and an over-used line takes nothing from the limit.
    [outcome] = close_school(carry(2), [(12, -2), (13, 3)], core_unused=0)
    assert (outcome.line, outcome.carried) == (13, 2)


def test_what_would_lapse_if_nothing_more_is_used() -> None:
    assert lapsing(LAPSE, 6, 4) == 10
    assert lapsing(carry(4), 6, 4) == 6
    assert lapsing(carry(4, core=True), 6, 4) == 2
    assert lapsing(carry(4), 0, 0) == 0
