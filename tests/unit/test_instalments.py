"""Instalment amounts: whatever the split, the parts add up to the order in pence."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traded_app.domain import pricing
from traded_app.domain.instalments import PlanError, PlanPart, check_plan, split_order, split_pence
from traded_app.domain.types import VatTreatment

shares_st = st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=12).filter(
    lambda shares: sum(shares) > 0
)
line_st = st.builds(
    pricing.Line,
    st.integers(min_value=1, max_value=400),
    st.integers(min_value=0, max_value=200_000),
    st.sampled_from([VatTreatment.STANDARD, VatTreatment.OUTSIDE_SCOPE, VatTreatment.EXEMPT]),
    st.sampled_from([2000, 500, 0, 1750]),
)


@given(st.integers(min_value=0, max_value=10**9), shares_st)
def test_parts_add_up_and_stay_within_a_penny_of_their_share(amount: int, shares: list[int]):
    parts = split_pence(amount, shares)
    assert sum(parts) == amount
    whole = sum(shares)
    for part, share in zip(parts, shares, strict=True):
        assert abs(part * whole - amount * share) < whole  # less than a penny from exact
        assert part >= 0


@given(st.lists(line_st, min_size=1, max_size=6), shares_st)
def test_instalments_add_up_to_the_order_line_by_line_and_band_by_band(lines, shares):
    order = pricing.totals(lines)
    instalments = split_order(lines, shares)
    assert len(instalments) == len(shares)
    assert sum(i.gross_pence for i in instalments) == order.gross_pence
    assert sum(i.vat_pence for i in instalments) == order.vat_pence
    for position, line in enumerate(lines):
        assert sum(i.lines[position].net_pence for i in instalments) == line.net_pence
    for b, band in enumerate(order.bands):
        assert sum(i.bands[b].net_pence for i in instalments) == band.net_pence
        assert sum(i.bands[b].vat_pence for i in instalments) == band.vat_pence
    for instalment in instalments:
        assert instalment.net_pence == sum(part.net_pence for part in instalment.lines)


def test_seven_twelfths_and_five_twelfths_of_a_days_work():
    # 3 days at £450 with VAT at 20%: £1,350 + £270.
    lines = [pricing.Line(6, 45000, VatTreatment.STANDARD, 2000)]
    first, second = split_order(lines, [7, 5])
    assert (first.net_pence, first.vat_pence) == (78750, 15750)
    assert (second.net_pence, second.vat_pence) == (56250, 11250)


def test_the_odd_penny_goes_to_the_larger_remainder_then_the_earlier_part():
    assert split_pence(100, [1, 1, 1]) == [34, 33, 33]
    assert split_pence(101, [1, 1, 1]) == [34, 34, 33]
    assert split_pence(10, [7, 5]) == [6, 4]  # 5.83 and 4.17


def test_a_plan_must_add_up_to_the_whole():
    april_september = [PlanPart(7, 1, 4, False), PlanPart(5, 1, 9, False)]
    check_plan(april_september, 12)
    assert april_september[0].date_in(2026) == date(2026, 4, 1)
    with pytest.raises(PlanError, match="add up to 11/12"):
        check_plan([PlanPart(7, 1, 4, False), PlanPart(4, 1, 9, False)], 12)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([PlanPart(6, 1, 9, False), PlanPart(6, 1, 4, False)], "after instalment 1"),
        ([PlanPart(6, 1, 9, False), PlanPart(6, 1, 10, True)], "after the academic year ends"),
        ([PlanPart(12, 29, 2, True)], "29 February"),
        ([PlanPart(12, 31, 4, True)], "real date"),
        ([PlanPart(0, 1, 9, False), PlanPart(12, 1, 1, True)], "more than 0"),
        ([], "at least one"),
    ],
)
def test_plans_that_cannot_be_used_say_why(parts, message):
    with pytest.raises(PlanError, match=message):
        check_plan(parts, 12)


def test_termly_thirds_on_the_term_starts():
    termly = [PlanPart(4, 1, 9, False), PlanPart(4, 5, 1, True), PlanPart(4, 19, 4, True)]
    check_plan(termly, 12)
    assert [part.date_in(2026) for part in termly] == [
        date(2026, 9, 1),
        date(2027, 1, 5),
        date(2027, 4, 19),
    ]
