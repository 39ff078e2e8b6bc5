"""Splitting a partnership order: any split adds up to the order, per VAT band, in pence."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from traded_app.domain import partnership_split as split
from traded_app.domain.partnership_split import SplitError

BANDS = ("standard 20%", "exempt", "zero", "outside scope")
line_amounts = st.lists(
    st.tuples(st.integers(0, 5_000_000), st.sampled_from(BANDS)), min_size=1, max_size=8
)
members = st.integers(1, 12)


@st.composite
def orders_and_weights(draw: st.DrawFn) -> tuple[list[tuple[int, str]], list[int], int]:
    lines = draw(line_amounts)
    count = draw(members)
    weights = draw(st.lists(st.integers(0, 3000), min_size=count, max_size=count))
    assume(sum(weights) > 0)
    lead = draw(st.integers(0, count - 1))
    return lines, weights, lead


@st.composite
def orders_and_typed(draw: st.DrawFn) -> tuple[list[tuple[int, str]], list[int], int]:
    """Typed shares that add up: cut points in [0, total], so any split is possible."""
    lines = draw(line_amounts)
    total = sum(amount for amount, _band in lines)
    count = draw(members)
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=count - 1, max_size=count - 1)))
    edges = [0, *cuts, total]
    typed = [edges[i + 1] - edges[i] for i in range(count)]
    return lines, typed, draw(st.integers(0, count - 1))


def _check_adds_up(lines: list[tuple[int, str]], totals: list[int], lead: int) -> None:
    amounts = [amount for amount, _band in lines]
    bands = [band for _amount, band in lines]
    parts = split.split_lines(amounts, totals, lead)
    # Every member's lines add up to its share, every line's shares to the line.
    assert [sum(row) for row in parts] == totals
    assert [sum(row[j] for row in parts) for j in range(len(lines))] == amounts
    assert all(part >= 0 for row in parts for part in row)
    # Per VAT band: the members' parts of a band add up to the order's band, to the penny.
    order_bands = split.by_band(amounts, bands)
    member_bands = [split.by_band(row, bands) for row in parts]
    for band, band_total in order_bands.items():
        assert sum(member[band] for member in member_bands) == band_total


@given(orders_and_weights())
def test_a_split_by_weights_adds_up_per_band(case: tuple[list[tuple[int, str]], list[int], int]):
    lines, weights, lead = case
    total = sum(amount for amount, _band in lines)
    totals = split.member_totals(total, weights, lead)
    assert sum(totals) == total
    for member, (share, weight) in enumerate(zip(totals, weights, strict=True)):
        exact = total * weight / sum(weights)
        if member == lead:
            # The lead takes the remainder: never less than its own share, and less than a
            # penny more per other member.
            assert exact - 1 < share <= exact + len(weights)
        else:
            assert share == total * weight // sum(weights)
    _check_adds_up(lines, totals, lead)


@given(orders_and_typed())
def test_a_typed_split_adds_up_per_band(case: tuple[list[tuple[int, str]], list[int], int]):
    lines, typed, lead = case
    total = sum(amount for amount, _band in lines)
    split.check_typed(total, typed)
    _check_adds_up(lines, typed, lead)


@given(st.integers(0, 10_000_000), st.integers(1, 20), st.data())
def test_an_equal_split_differs_by_less_than_a_penny_per_member(
    total: int, count: int, data: st.DataObject
) -> None:
    lead = data.draw(st.integers(0, count - 1))
    totals = split.equal_totals(total, count, lead)
    others = [share for member, share in enumerate(totals) if member != lead]
    assert sum(totals) == total
    assert all(share == total // count for share in others)
    assert 0 <= totals[lead] - total // count < count


def test_the_remainder_of_an_equal_split_goes_to_the_lead() -> None:
    # £1,350.00 three ways is £450.00 each; £1,000.00 three ways leaves a penny for the lead.
    assert split.equal_totals(135_000, 3, 0) == [45_000, 45_000, 45_000]
    assert split.equal_totals(100_000, 3, 1) == [33_333, 33_334, 33_333]


def test_split_by_pupils() -> None:
    # 210, 420 and 630 pupils share £1,800.00 as 1 : 2 : 3.
    assert split.member_totals(180_000, [210, 420, 630], 2) == [30_000, 60_000, 90_000]


def test_typed_amounts_that_do_not_add_up_say_by_how_much() -> None:
    with pytest.raises(SplitError, match=r"add up to £1,000.00, £350.00 less than .*£1,350.00"):
        split.check_typed(135_000, [50_000, 50_000, 0])
    with pytest.raises(SplitError, match="more than"):
        split.check_typed(135_000, [135_000, 1])
    with pytest.raises(SplitError, match=r"less than £0\.00"):
        split.check_typed(0, [1, -1])


def test_a_split_with_nothing_to_go_by_is_refused() -> None:
    with pytest.raises(SplitError, match="nothing to split"):
        split.member_totals(100, [0, 0], 0)
    with pytest.raises(SplitError, match="add up"):
        split.split_lines([100, 200], [100, 100], 0)


def test_two_lines_split_three_ways_keep_each_line_whole() -> None:
    # £900.00 (standard-rated) and £225.00 (exempt) split equally: £375.00 each.
    parts = split.split_lines([90_000, 22_500], split.equal_totals(112_500, 3, 0), 0)
    assert [sum(row) for row in parts] == [37_500, 37_500, 37_500]
    assert [sum(col) for col in zip(*parts, strict=True)] == [90_000, 22_500]
