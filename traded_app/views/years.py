"""The academic year or week a page is about, shared by the days, calendar and term-dates views."""

from __future__ import annotations

from datetime import date

from flask import abort, request

from traded_app.domain.numbers import whole_number
from traded_app.services.days import visits
from traded_app.services.platform.settings import academic_start_year, today


def chosen_year() -> tuple[visits.AcademicYear, list[visits.AcademicYear]]:
    """The academic year asked for (?year=2026), else this one; and every year to choose."""
    years = visits.academic_years()
    wanted = whole_number(request.args.get("year")) or academic_start_year(today())
    for year in years:
        if year.start_year == wanted:
            return year, years
    if request.args.get("year"):
        abort(404)
    # This year is not set up yet (the service manager or `flask academic-years ensure` sets
    # years up; looking never does): the latest year before it, else the first after.
    fallback = next((y for y in years if y.start_year < wanted), years[-1] if years else None)
    if fallback is None:
        abort(404)
    return fallback, years


def chosen_monday() -> date:
    """The Monday of the week asked for (?week=2026-11-30, any day of it), else of this week."""
    raw_week = request.args.get("week", "")
    try:
        shown = date.fromisoformat(raw_week) if raw_week else today()
    except ValueError:
        shown = today()
    return visits.week_start(shown)
