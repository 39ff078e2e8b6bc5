"""The rules of an academy conversion on its date (domain.conversions)."""

from __future__ import annotations

from datetime import date

import pytest

from traded_app.domain import conversions as rules
from traded_app.domain.conversions import Stage

OPENS = date(2027, 4, 1)


def test_takes_effect_on_the_academys_open_date() -> None:
    assert rules.effective_date(OPENS, date(2027, 3, 31), date(2026, 12, 1)) == OPENS


def test_without_an_open_date_the_day_after_the_school_closes() -> None:
    assert rules.effective_date(None, date(2027, 3, 31), date(2026, 12, 1)) == OPENS


def test_without_any_date_the_day_of_the_import() -> None:
    assert rules.effective_date(None, None, date(2026, 12, 1)) == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("closes", "expected"),
    [
        (date(2027, 3, 31), date(2027, 3, 31)),
        (date(2027, 3, 20), date(2027, 3, 20)),  # closed earlier: kept
        (date(2027, 4, 5), date(2027, 3, 31)),  # not after the academy opens
        (None, date(2027, 3, 31)),
    ],
)
def test_the_maintained_school_closes_before_the_academy_opens(
    closes: date | None, expected: date
) -> None:
    assert rules.old_closes_on(OPENS, closes) == expected


@pytest.mark.parametrize(
    ("today", "moved", "confirmed", "stage"),
    [
        (date(2027, 3, 31), False, False, Stage.WAITING),
        (OPENS, False, False, Stage.DUE),
        (date(2027, 5, 1), False, False, Stage.DUE),
        (OPENS, True, False, Stage.MOVED),
        (OPENS, True, True, Stage.DONE),
    ],
)
def test_stages(today: date, moved: bool, confirmed: bool, stage: Stage) -> None:
    assert rules.stage(OPENS, today, moved, confirmed) == stage


def test_due_only_from_its_date_and_only_once() -> None:
    assert not rules.is_due(OPENS, date(2027, 3, 31), moved=False)
    assert rules.is_due(OPENS, OPENS, moved=False)
    assert not rules.is_due(OPENS, date(2027, 4, 2), moved=True)


def test_visits_from_the_date_move_earlier_ones_stay() -> None:
    assert rules.visit_moves(OPENS, OPENS)
    assert rules.visit_moves(date(2027, 6, 1), OPENS)
    assert not rules.visit_moves(date(2027, 3, 31), OPENS)


def test_staff_move_only_once_the_academy_is_open() -> None:
    refusal = rules.confirm_refusal(OPENS, date(2027, 3, 31))
    assert refusal is not None and "1 April 2027" in refusal
    assert rules.confirm_refusal(OPENS, OPENS) is None


def test_the_ledger_says_why_on_each_record() -> None:
    out = rules.reason(True, "Riverside Academy (400001)", OPENS)
    into = rules.reason(False, "Riverside Primary (100001)", OPENS)
    assert (
        out == "Moved to Riverside Academy (400001) on its conversion to an academy, 1 April 2027"
    )
    assert into.startswith("Moved from Riverside Primary (100001)")
