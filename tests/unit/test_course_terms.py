"""What cancelling a course place costs, at each boundary of the course's terms (issue 20)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from traded_app.domain.courses import CancellationTerms, cancellation_percent, part_of

SESSION = date(2027, 3, 10)
TERMS = CancellationTerms(free_until_days=14, late_percent=50, no_show_percent=100)


@pytest.mark.parametrize(
    ("days_before", "percent"),
    [
        (30, 0),  # well ahead
        (15, 0),
        (14, 0),  # exactly N days before: still free
        (13, 50),  # the day after the free period ends
        (1, 50),
        (0, 50),  # on the day
    ],
)
def test_cancellation_costs_nothing_until_n_days_before_then_the_late_percent(
    days_before: int, percent: int
) -> None:
    assert cancellation_percent(TERMS, SESSION, SESSION - timedelta(days=days_before)) == percent


def test_free_until_the_day_means_free_the_day_before_and_charged_on_the_day() -> None:
    terms = CancellationTerms(free_until_days=0, late_percent=100)
    assert cancellation_percent(terms, SESSION, SESSION - timedelta(days=1)) == 0
    assert cancellation_percent(terms, SESSION, SESSION) == 100


def test_after_the_session_a_cancellation_is_charged_like_a_late_one() -> None:
    assert cancellation_percent(TERMS, SESSION, SESSION + timedelta(days=1)) == 50


@pytest.mark.parametrize(
    ("price", "percent", "pence"),
    [
        (12_000, 50, 6_000),
        (12_000, 0, 0),
        (12_000, 100, 12_000),
        (99, 50, 50),  # 49.5p: half a penny rounds up
        (101, 33, 33),  # 33.33p rounds down
        (0, 50, 0),
    ],
)
def test_part_of_a_price_in_whole_pence(price: int, percent: int, pence: int) -> None:
    assert part_of(price, percent) == pence


def test_terms_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError):
        CancellationTerms(free_until_days=-1, late_percent=50)
    with pytest.raises(ValueError):
        CancellationTerms(free_until_days=7, late_percent=101)
    with pytest.raises(ValueError):
        part_of(100, 120)


def test_terms_describe_themselves_for_schools() -> None:
    assert TERMS.describe() == (
        "Free to cancel until 14 days before the session; after that, 50% of the price. "
        "A delegate who does not come: 100%."
    )
