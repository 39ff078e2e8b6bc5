"""The school-year calendar's rules and the term-date files, without a database."""

from __future__ import annotations

from datetime import date

import pytest

from traded_app.domain import school_calendar as rules
from traded_app.services.days.school_calendar import shipped_bank_holidays_by_year

TERMS = [
    rules.Term("Autumn 1", date(2026, 9, 2), date(2026, 10, 23)),
    rules.Term("Autumn 2", date(2026, 11, 2), date(2026, 12, 18)),
]
CLOSED = rules.Closed(
    bank_holidays={date(2026, 12, 25): "Christmas Day"},
    closures={date(2026, 12, 24): "Council Christmas closure"},
    council_inset={date(2026, 9, 2): "Staff training day"},
    school_inset={date(2026, 11, 2): "Whole-school training"},
)


@pytest.mark.parametrize(
    ("on", "words"),
    [
        (date(2026, 9, 5), "is a Saturday"),
        (date(2026, 12, 25), "bank holiday (Christmas Day)"),
        (date(2026, 12, 24), "council is closed"),
        (date(2026, 10, 27), "not in term time (in the holiday after Autumn 1)"),
        (date(2026, 9, 1), "not in term time (before the first term)"),
        (date(2026, 12, 21), "in the holiday after Autumn 2"),
        (date(2026, 9, 2), "is an INSET day (Staff training day)"),
        (date(2026, 11, 2), "one of the school's INSET days (Whole-school training)"),
    ],
)
def test_days_a_school_cannot_be_visited_say_why(on: date, words: str) -> None:
    refusal = rules.refusal(on, TERMS, CLOSED)
    assert refusal is not None and words in refusal


@pytest.mark.parametrize("on", [date(2026, 9, 3), date(2026, 10, 23), date(2026, 11, 3)])
def test_term_weekdays_are_open(on: date) -> None:
    assert rules.refusal(on, TERMS, CLOSED) is None


def test_without_terms_only_weekends_and_closed_days_are_refused() -> None:
    assert rules.refusal(date(2026, 8, 3), [], CLOSED) is None  # summer holiday, but no terms
    assert rules.refusal(date(2026, 12, 25), [], CLOSED) is not None


def test_teaching_days_count_open_weekdays_in_terms() -> None:
    one_week = [rules.Term("T", date(2026, 12, 21), date(2026, 12, 27))]
    # Mon 21 to Fri 25 are weekdays; the 24th is a closure and the 25th a bank holiday.
    assert rules.teaching_days(one_week, CLOSED) == 3


def test_a_csv_of_terms_and_inset_days_is_read_with_each_rows_problem() -> None:
    data = (
        b"Name,First day,Last day,Kind\n"
        b"Autumn 1,2026-09-02,2026-10-23,Term\n"
        b"Training,03/09/2026,,INSET day\n"
        b",2026-11-02,2026-12-18,term\n"
        b"Spring 1,5 Jan 2027,2026-12-01,term\n"
        b"Spring 2,tomorrow,2027-03-26,term\n"
        b"Summer,2027-04-12,2027-05-28,holiday\n"
    )
    rows = rules.read_terms_csv(data)
    assert [(r.line, r.kind, r.problem) for r in rows] == [
        (2, "term", ""),
        (3, "inset", ""),
        (4, "term", "The name is missing"),
        (5, "term", "The last day is before the first day"),
        (6, "term", "The first day 'tomorrow' is not a date like 2026-09-03"),
        (7, "term", "The kind must be term or INSET day"),
    ]
    assert rows[1].first_day == rows[1].last_day == date(2026, 9, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"Term,Start\nA,2026-09-01\n", "must name the columns"),
        ("Name,First day\nAutumn,2026-09-02\n".encode("utf-16"), "must be a CSV or an iCalendar"),
        (b"Name,First day\n\xff\xfeAutumn,2026\n", "UTF-8"),
        (b"x" * (rules.MAX_FILE_BYTES + 1), "smaller than 1 MB"),
    ],
)
def test_files_that_cannot_be_read_are_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(rules.FileRefused, match=message):
        rules.read_terms_csv(data)


def test_an_icalendar_file_gives_terms_and_inset_days() -> None:
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Terms//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Autumn term\\, first half\r\n"
        b"DTSTART;VALUE=DATE:20260902\r\nDTEND;VALUE=DATE:20261024\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:2\r\nSUMMARY:INSET day\r\n"
        b"DTSTART;VALUE=DATE:20261102\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:3\r\nSUMMARY:Spring 1 with a long name folded\r\n  over two lines\r\n"
        b"DTSTART;VALUE=DATE:20270105\r\nDTEND;VALUE=DATE:20270213\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    rows = rules.read_ics(data)
    assert [(r.kind, r.name, r.first_day, r.last_day) for r in rows] == [
        ("term", "Autumn term, first half", date(2026, 9, 2), date(2026, 10, 23)),
        ("inset", "INSET day", date(2026, 11, 2), date(2026, 11, 2)),
        (
            "term",
            "Spring 1 with a long name folded over two lines",
            date(2027, 1, 5),
            date(2027, 2, 12),
        ),
    ]


def test_a_file_that_is_not_icalendar_is_refused() -> None:
    with pytest.raises(rules.FileRefused, match="not an iCalendar file"):
        rules.read_ics(b"Name,First day\n")
    with pytest.raises(rules.FileRefused, match="no events"):
        rules.read_ics(b"BEGIN:VCALENDAR\nEND:VCALENDAR\n")


# --- Bank holidays past GOV.UK's list ---------------------------------------------------------


def test_the_standing_rules_give_every_year_of_the_shipped_list_exactly() -> None:
    """The shipped GOV.UK list (2024-2030, no one-off holidays in it) and the rules agree on
    every date and every name, substitute days included."""
    shipped = shipped_bank_holidays_by_year()
    assert len(shipped) >= 7
    for year, holidays in shipped.items():
        assert rules.standing_bank_holidays(year) == holidays, year


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2019, date(2019, 4, 21)), (2038, date(2038, 4, 25)), (2285, date(2285, 3, 22))],
)
def test_easter_is_right_in_early_late_and_ordinary_years(year: int, easter: date) -> None:
    assert rules.easter_sunday(year) == easter


def test_a_weekend_christmas_past_the_list_moves_to_the_next_weekdays() -> None:
    """2032: Christmas Day is a Saturday and Boxing Day a Sunday; 2033's New Year's Day a
    Saturday. The substitutes are the Monday and Tuesday, and the Monday after New Year."""
    holidays = rules.standing_bank_holidays(2032)
    assert holidays[date(2032, 12, 27)] == "Christmas Day (substitute day)"
    assert holidays[date(2032, 12, 28)] == "Boxing Day (substitute day)"
    assert date(2032, 12, 25) not in holidays and date(2032, 12, 26) not in holidays
    assert rules.standing_bank_holidays(2033)[date(2033, 1, 3)] == "New Year’s Day (substitute day)"
    assert len(holidays) == 8 and all(day.weekday() < 5 for day in holidays)
