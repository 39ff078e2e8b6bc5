"""The buy-back window's states and the years a school may order in each (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from traded_app.models import AcademicYear
from traded_app.services.ordering.buy_back import WindowState, Years, window_state

THIS = AcademicYear(id=1, start_year=2026, starts_on=date(2026, 9, 1), ends_on=date(2027, 8, 31))


def next_year(opens: date | None = None, closes: date | None = None) -> AcademicYear:
    return AcademicYear(
        id=2,
        start_year=2027,
        starts_on=date(2027, 9, 1),
        ends_on=date(2028, 8, 31),
        offer_published_at=datetime(2027, 2, 1, tzinfo=UTC) if opens else None,
        buy_back_opens_on=opens,
        buy_back_closes_on=closes,
    )


@pytest.mark.parametrize(
    ("on", "state"),
    [
        (date(2027, 2, 28), WindowState.BEFORE_OPENING),
        (date(2027, 3, 1), WindowState.OPEN),  # the day it opens
        (date(2027, 4, 30), WindowState.OPEN),  # its last day
        (date(2027, 5, 1), WindowState.CLOSED),
    ],
)
def test_window_state_by_day(on: date, state: WindowState) -> None:
    assert window_state(next_year(date(2027, 3, 1), date(2027, 4, 30)), on) == state


def test_an_unpublished_offer_is_not_published_whatever_the_day() -> None:
    assert window_state(next_year(), date(2027, 3, 15)) == WindowState.NOT_PUBLISHED


@pytest.mark.parametrize(
    ("state", "orderable"),
    [
        (WindowState.NOT_PUBLISHED, [2026]),
        (WindowState.BEFORE_OPENING, [2026]),
        (WindowState.OPEN, [2026, 2027]),
        (WindowState.CLOSED, [2026, 2027]),
    ],
)
def test_next_year_can_be_ordered_once_the_window_opens(
    state: WindowState, orderable: list[int]
) -> None:
    years = Years(THIS, next_year(), state)
    assert [y.start_year for y in years.orderable] == orderable
    assert years.choice_needed == (len(orderable) == 2)


def test_the_year_is_chosen_never_guessed() -> None:
    years = Years(THIS, next_year(), WindowState.OPEN)
    assert years.orderable_year(None) is None  # two years: the person says which
    assert years.orderable_year(2027).start_year == 2027  # type: ignore[union-attr]
    assert years.orderable_year(2025) is None
    only_this = Years(THIS, next_year(), WindowState.BEFORE_OPENING)
    assert only_this.orderable_year(None) is THIS
    assert only_this.orderable_year(2027) is None
