"""The academic year a page is about, shared by the days and term-dates views."""

from __future__ import annotations

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
