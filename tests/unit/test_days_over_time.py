"""Days against time: teaching days left, what the council's pace can still use, days at risk."""

from __future__ import annotations

from datetime import date

from traded_app.domain.days_over_time import (
    at_risk,
    teaching_days_from,
    usable_half_days,
    weekdays_from,
    weeks_text,
)
from traded_app.domain.school_calendar import Closed, Term

SUMMER_2 = Term("Summer 2", date(2027, 6, 7), date(2027, 7, 21))  # Mon 7 June to Wed 21 July


def test_teaching_days_count_from_today_within_the_terms_and_skip_closed_days() -> None:
    terms = [Term("Summer 1", date(2027, 4, 19), date(2027, 5, 28)), SUMMER_2]
    nothing = Closed()
    # From the first day of Summer 2: 7 weeks of five days, and Mon–Wed of the eighth.
    assert teaching_days_from(terms, nothing, date(2027, 6, 7)) == 33
    # Half term (the gap) counts nothing; a Saturday start counts from Monday.
    assert teaching_days_from(terms, nothing, date(2027, 5, 31)) == 33
    assert teaching_days_from(terms, nothing, date(2027, 6, 5)) == 33
    # An INSET day and a council closure day inside the term are not teaching days.
    closed = Closed(
        council_inset={date(2027, 6, 14): "Training"}, closures={date(2027, 7, 1): "Conference"}
    )
    assert teaching_days_from(terms, closed, date(2027, 6, 7)) == 31
    # A school's own INSET day too.
    own = Closed(school_inset={date(2027, 7, 21): "Staff day"})
    assert teaching_days_from(terms, own, date(2027, 6, 7)) == 32
    # After the last term: none.
    assert teaching_days_from(terms, nothing, date(2027, 7, 22)) == 0


def test_a_year_without_term_dates_counts_weekdays_but_bank_holidays() -> None:
    # Mon 23 to Tue 31 August 2027: seven weekdays, less the summer bank holiday on the 30th.
    assert weekdays_from(date(2027, 8, 23), date(2027, 8, 31), {date(2027, 8, 30)}) == 6
    assert weekdays_from(date(2027, 9, 1), date(2027, 8, 31), set()) == 0


def test_usable_days_follow_the_pace_rounded_down_to_a_half_day() -> None:
    assert usable_half_days(33, 2) == 13  # a day a week for 6.6 weeks: 6.5 days
    assert usable_half_days(5, 1) == 1  # half a day a week for one week
    assert usable_half_days(4, 1) == 0
    assert usable_half_days(0, 20) == 0


def test_at_risk_is_what_the_time_left_cannot_use() -> None:
    assert at_risk(10, 13) == 0
    assert at_risk(13, 13) == 0
    assert at_risk(14, 13) == 1
    assert at_risk(0, 0) == 0


def test_weeks_are_said_in_words() -> None:
    assert weeks_text(33) == "6 weeks and 3 days"
    assert weeks_text(5) == "1 week"
    assert weeks_text(1) == "1 day"
    assert weeks_text(0) == "no teaching days"
