"""The pricing service: pence arithmetic, VAT per rate, rounding, and typed day counts."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traded_app.domain import pricing
from traded_app.domain.pricing import (
    DaysError,
    Line,
    line_net_pence,
    parse_days,
    totals,
    vat_pence,
)
from traded_app.formatting import pounds
from traded_app.models.types import VatTreatment as T


def test_two_and_a_half_days_at_450_pounds() -> None:
    assert line_net_pence(5, 45_000) == 112_500
    academy = totals([Line(5, 45_000, T.STANDARD, 2000)])
    assert (academy.net_pence, academy.vat_pence, academy.gross_pence) == (112_500, 22_500, 135_000)
    maintained = totals([Line(5, 45_000, T.OUTSIDE_SCOPE, 0)])
    assert (maintained.vat_pence, maintained.gross_pence) == (0, 112_500)


def test_half_pennies_round_up() -> None:
    assert line_net_pence(1, 45_001) == 22_501  # 22,500.5p
    assert vat_pence(1, 2000) == 0  # 0.2p
    assert vat_pence(3, 2000) == 1  # 0.6p
    assert vat_pence(25, 2000) == 5  # exactly 5p
    assert vat_pence(1_252, 2000) == 250  # 250.4p
    assert vat_pence(1_253, 2000) == 251  # 250.6p


def test_vat_is_worked_out_per_rate_on_the_sum_of_nets() -> None:
    lines = [
        Line(1, 3, T.STANDARD, 2000),
        Line(1, 3, T.STANDARD, 2000),
        Line(2, 100, T.OUTSIDE_SCOPE, 0),
    ]
    result = totals(lines)
    standard, outside = result.bands
    assert (standard.rate_bp, standard.net_pence, standard.vat_pence) == (2000, 4, 1)
    assert (outside.treatment, outside.net_pence, outside.vat_pence) == (T.OUTSIDE_SCOPE, 100, 0)
    assert result.half_days == 4 and result.net_pence == 104 and result.gross_pence == 105


money = st.integers(min_value=0, max_value=10_000_000)
rates = st.sampled_from([0, 500, 2000])


@given(st.integers(min_value=0, max_value=200), money)
def test_line_net_is_the_exact_amount_to_the_nearest_penny(half_days: int, price: int) -> None:
    exact = Fraction(half_days * price, 2)
    assert abs(line_net_pence(half_days, price) - exact) <= Fraction(1, 2)


@given(money, rates)
def test_vat_is_within_half_a_penny_of_exact(net: int, rate: int) -> None:
    exact = Fraction(net * rate, 10_000)
    assert abs(vat_pence(net, rate) - exact) <= Fraction(1, 2)


@given(st.lists(st.tuples(st.integers(1, 40), money, rates), max_size=12))
def test_totals_add_up(raw: list[tuple[int, int, int]]) -> None:
    lines = [Line(h, p, T.STANDARD if r else T.OUTSIDE_SCOPE, r) for h, p, r in raw]
    result = totals(lines)
    assert result.half_days == sum(h for h, _, _ in raw)
    assert result.net_pence == sum(line.net_pence for line in lines)
    assert result.vat_pence == sum(band.vat_pence for band in result.bands)
    assert result.gross_pence == result.net_pence + result.vat_pence
    assert all(isinstance(v, int) for v in (result.net_pence, result.vat_pence, result.gross_pence))


@pytest.mark.parametrize(
    ("text", "half_days"), [("2", 4), ("2.5", 5), (" 0.5 ", 1), ("3.0", 6), ("10", 20)]
)
def test_parse_days_accepts_whole_and_half_days(text: str, half_days: int) -> None:
    assert parse_days(text, minimum=1, maximum=20) == half_days


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter the number of days"),
        ("two", "Enter days as a whole or half number, like 1.5"),
        ("nan", "Enter days as a whole or half number, like 1.5"),
        ("inf", "Enter days as a whole or half number, like 1.5"),
        ("1.25", "Enter days as a whole or half number, like 1.5"),
        ("0", "Days must be at least 1"),
        ("-1", "Enter days as a whole or half number, like 1.5"),
        ("0.5", "Days must be at least 1"),
        ("10.5", "Days must be 10 or fewer"),
        ("1e9", "Enter days as a whole or half number, like 1.5"),
    ],
)
def test_parse_days_explains_what_is_wrong(text: str, message: str) -> None:
    """For a service bought in 1 to 10 days."""
    with pytest.raises(DaysError, match=f"^{message}$"):
        parse_days(text, minimum=2, maximum=20)


@given(st.integers(min_value=0, max_value=pricing.MAX_POUNDS_PENCE))
def test_pounds_typed_as_shown_read_back_to_the_same_pence(pence: int) -> None:
    shown = pounds(pence)  # '£12,345.67'
    assert pricing.parse_pounds(shown) == pence
    assert pricing.parse_pounds(shown[1:].replace(",", "")) == pence
