"""The academic year a school is ordering for, shared by the ordering pages: while next year's
offer can be bought both years can be ordered, and the year is the person's choice (?year=2027),
never a guess; and what the catalogue says about next year's offer."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, g, render_template, request

from traded_app.domain.numbers import whole_number
from traded_app.services.ordering import basket, buy_back


def chosen_year() -> basket.AcademicYear | None:
    """The year being ordered: the one asked for (?year=2027), or the only one that can be
    ordered; None when two can be (while next year's offer is open) and none was chosen: the
    year is the person's choice, never a guess. 404 for a year that cannot be ordered now."""
    raw = request.args.get("year")
    wanted = whole_number(raw)
    if raw and wanted is None:
        abort(404)
    shown = buy_back.years()
    year = shown.orderable_year(wanted)
    if year is None and (wanted is not None or not shown.choice_needed):
        abort(404)
    if year is not None and wanted is not None:
        g.ordering_year = year.start_year
    return year


def buying_back(year: basket.AcademicYear, school: basket.School) -> BuyingBack:
    shown = buy_back.years()
    upcoming = shown.next_year
    is_next = upcoming is not None and year.id == upcoming.id
    return BuyingBack(
        choice=shown.choice_needed,
        notice=buy_back.notice(upcoming) if upcoming is not None else "",
        is_next_year=is_next,
        this_year=shown.this_year,
        repeatable=bool(
            is_next
            and shown.this_year is not None
            and buy_back.confirmed_lines(school, shown.this_year)
        ),
    )


@dataclass(frozen=True)
class BuyingBack:
    """What the catalogue says about next year's offer."""

    choice: bool  # two years can be ordered: say which this is, and link to the other
    notice: str  # next year's offer and its window, as it stands
    is_next_year: bool
    this_year: basket.AcademicYear | None
    repeatable: bool  # "Order the same as this year" can start this basket


def choose_year_page(school: basket.School) -> str:
    shown = buy_back.years()
    error = "Select the year you are ordering for" if "year" in request.args else ""
    return render_template(
        "orders/choose_year.html",
        years=shown.orderable,
        this_year=shown.this_year,
        notice=buy_back.notice(shown.next_year) if shown.next_year else "",
        error=error,
        school=school,
    )
