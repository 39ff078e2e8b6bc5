"""Days as people type them: one parser, one message for anything that is not a whole or half
number of days."""

from __future__ import annotations

import re

import pytest

from traded_app.domain.days_input import DAYS_FORMAT_MESSAGE, DAYS_PATTERN, DaysError, parse_days


@pytest.mark.parametrize(
    ("typed", "half_days"),
    [
        ("2.5", 5),
        ("2½", 5),
        ("2 ½", 5),
        ("½", 1),
        ("2 days", 4),
        ("2.5 days", 5),
        ("1 day", 2),
        ("½ day", 1),
        ("2Days", 4),
        (" 3 ", 6),
        ("3.0", 6),
        ("0.50", 1),
        (".5", 1),
        ("0", 0),
    ],
)
def test_whole_and_half_days_written_the_usual_ways(typed: str, half_days: int) -> None:
    assert parse_days(typed, minimum=0) == half_days


@pytest.mark.parametrize(
    "typed",
    [
        "2,5",
        "abc",
        "two",
        "-1",
        "-0.5",
        "−1",
        "1.25",
        "0.3",
        "2½.5",
        "1e9",
        "nan",
        "inf",
        "２",
        "2 weeks",
        "½½",
    ],
)
def test_anything_else_gets_the_fields_message(typed: str) -> None:
    with pytest.raises(DaysError, match=f"^{re.escape(DAYS_FORMAT_MESSAGE)}$"):
        parse_days(typed, minimum=0)


def test_the_message_is_the_one_people_see() -> None:
    assert DAYS_FORMAT_MESSAGE == "Enter days as a whole or half number, like 1.5"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the number of days"),
        ("   ", "Enter the number of days"),
        ("0", "Days must be at least 0.5"),
        ("11", "Days must be 10 or fewer"),
        ("10½", "Days must be 10 or fewer"),
    ],
)
def test_bounds_are_stated_in_days(typed: str, message: str) -> None:
    with pytest.raises(DaysError, match=f"^{message}$"):
        parse_days(typed, minimum=1, maximum=20)


@pytest.mark.parametrize("typed", ["2", "2.5", "2½", "½", "2 days", "1 day", "0.5"])
def test_the_inputs_pattern_lets_accepted_values_through(typed: str) -> None:
    assert re.fullmatch(DAYS_PATTERN, typed)


@pytest.mark.parametrize("typed", ["2,5", "abc", "-1"])
def test_the_inputs_pattern_flags_refused_values(typed: str) -> None:
    assert re.fullmatch(DAYS_PATTERN, typed) is None
