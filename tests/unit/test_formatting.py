from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from traded_app.formatting import date_time, days, days_number, long_date, pounds


def test_pounds() -> None:
    assert pounds(0) == "£0.00"
    assert pounds(45000) == "£450.00"
    assert pounds(112550) == "£1,125.50"
    assert pounds(-500) == "-£5.00"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_pounds_round_trips_to_the_penny(pence: int) -> None:
    text = pounds(pence).replace("£", "").replace(",", "")
    whole, part = text.lstrip("-").split(".")
    assert (int(whole) * 100 + int(part)) * (-1 if text.startswith("-") else 1) == pence


def test_days_are_half_day_units() -> None:
    assert days(1) == "0.5 days"
    assert days(2) == "1 day"
    assert days(5) == "2.5 days"
    assert days_number(4) == "2"
    assert days_number(7) == "3.5"


def test_times_are_shown_in_london() -> None:
    summer = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in London (BST)
    assert long_date(summer) == "2 July 2026"
    assert date_time(summer) == "2 July 2026 at 12:30am"
    assert long_date(date(2026, 9, 1)) == "1 September 2026"
