"""The brokerage fee: whole pence, half a penny rounding up, and the fee and the provider's
share always adding up to the charge, for any charge and any fee the setting allows."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traded_app.domain import brokerage

CHARGES = st.integers(min_value=0, max_value=10**9)
FEES = st.integers(min_value=0, max_value=brokerage.MAX_FEE_BP)


@given(CHARGES, FEES)
def test_the_fee_and_the_share_add_up_to_the_charge(charged: int, fee_bp: int) -> None:
    split = brokerage.split(charged, fee_bp)
    assert split.fee_pence + split.provider_pence == split.charged_pence == charged
    assert split.fee_pence >= 0 and split.provider_pence >= 0


@given(CHARGES, FEES)
def test_the_fee_is_the_percentage_to_the_nearest_penny_halves_up(
    charged: int, fee_bp: int
) -> None:
    exact = Fraction(charged * fee_bp, 10_000)
    fee = brokerage.fee_pence(charged, fee_bp)
    assert abs(fee - exact) <= Fraction(1, 2)
    if exact - int(exact) == Fraction(1, 2):
        assert fee == int(exact) + 1


@given(st.lists(CHARGES, min_size=1, max_size=20), FEES)
def test_charges_split_one_by_one_add_up_in_total(charges: list[int], fee_bp: int) -> None:
    splits = [brokerage.split(c, fee_bp) for c in charges]
    assert sum(s.fee_pence for s in splits) + sum(s.provider_pence for s in splits) == sum(charges)


@given(FEES)
def test_a_fee_reads_back_as_it_is_shown(fee_bp: int) -> None:
    assert brokerage.parse_fee_percent(brokerage.percent_text(fee_bp)) == fee_bp


@pytest.mark.parametrize(
    ("typed", "basis_points"), [("5", 500), ("7.5", 750), ("7.25%", 725), (" 0 ", 0), (".5", 50)]
)
def test_a_typed_fee_is_read_as_basis_points(typed: str, basis_points: int) -> None:
    assert brokerage.parse_fee_percent(typed) == basis_points


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the brokerage fee"),
        ("abc", "like 5 or 7.5"),
        ("-5", "like 5 or 7.5"),
        ("1e3", "like 5 or 7.5"),
        ("５", "like 5 or 7.5"),
        ("7.125", "no more than 2 decimal places"),
        ("50.01", "50% or less"),
        (".", "like 5 or 7.5"),
    ],
)
def test_a_fee_that_is_not_one_is_refused_with_a_message(typed: str, message: str) -> None:
    with pytest.raises(brokerage.FeeError, match=message):
        brokerage.parse_fee_percent(typed)


def test_a_fee_out_of_range_is_never_worked_out() -> None:
    with pytest.raises(ValueError):
        brokerage.fee_pence(100, brokerage.MAX_FEE_BP + 1)
    with pytest.raises(ValueError):
        brokerage.fee_pence(-1, 500)
