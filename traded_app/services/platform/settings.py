"""Council settings and academic years, and the app's own configuration for services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, g, has_request_context
from sqlalchemy import bindparam, select

from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models import AcademicYear, CouncilSettings
from traded_app.models.base import utcnow
from traded_app.services.platform.stamped_cache import StampedCache, attach, detached_copy

ACADEMIC_YEAR_START_MONTH = 9


@dataclass(frozen=True)
class CouncilDisplay:
    """What every page shows of the council (header, footer, titles)."""

    name: str
    service_name: str
    contact_email: str


DEFAULT_DISPLAY = CouncilDisplay("Your council", "Traded services for schools", "")


def app_config(name: str) -> Any:
    """A value of the app's configuration (traded_app/config.py), for services that may not
    import flask themselves."""
    return current_app.config[name]


def app_extension(name: str) -> object | None:
    """An object the app holds under `name` in app.extensions (for example a test's stand-in
    for an outside API's HTTP client), or None."""
    return current_app.extensions.get(name)


def council_settings() -> CouncilSettings | None:
    """The council's settings row. Held for the request while it stays in the request's
    session: the session's identity map holds it only weakly, so a page that asks twice (the
    header's name and the reminder interval) would otherwise read it twice."""
    session = db.session()
    if not has_request_context():
        return session.get(CouncilSettings, 1)
    kept = g.get("council_settings")
    if kept is not None and kept in session:
        return kept  # type: ignore[no-any-return]
    row = session.get(CouncilSettings, 1)
    if row is not None:
        g.council_settings = row
    return row


def council_display() -> CouncilDisplay:
    """The council's name for headers, cached for the request."""
    if has_request_context() and "council_display" in g:
        return g.council_display  # type: ignore[no-any-return]
    row = council_settings()
    display = (
        CouncilDisplay(row.name, row.service_name, row.contact_email) if row else DEFAULT_DISPLAY
    )
    if has_request_context():
        g.council_display = display
    return display


def demo_data_loaded() -> bool:
    row = db.session.execute(select(CouncilSettings.demo_data)).scalar_one_or_none()
    return bool(row)


def today() -> date:
    """Today's date in Europe/London (the council's calendar)."""
    return utcnow().astimezone(LONDON).date()


def academic_start_year(on: date) -> int:
    """The calendar year in which the academic year holding `on` began."""
    return on.year if on.month >= ACADEMIC_YEAR_START_MONTH else on.year - 1


def academic_year_bounds(start_year: int) -> tuple[date, date]:
    return date(start_year, 9, 1), date(start_year + 1, 8, 31)


def ensure_academic_year(start_year: int) -> AcademicYear:
    """The academic year beginning in September of `start_year`, created if missing."""
    year = db.session.execute(
        select(AcademicYear).where(AcademicYear.start_year == start_year)
    ).scalar_one_or_none()
    if year is None:
        starts_on, ends_on = academic_year_bounds(start_year)
        year = AcademicYear(start_year=start_year, starts_on=starts_on, ends_on=ends_on)
        db.session.add(year)
        db.session.flush()
    return year


_YEARS: StampedCache[int, AcademicYear | None] = StampedCache()
_YEAR = select(AcademicYear).where(AcademicYear.start_year == bindparam("start_year"))


def current_academic_year(on: date | None = None) -> AcademicYear | None:
    """The academic year holding `on` (default today), if the council has set it up.

    Kept per process (stamped_cache: one small query to check it is current)."""
    start = academic_start_year(on or today())

    def load() -> AcademicYear | None:
        year = db.session.execute(_YEAR, {"start_year": start}).scalar_one_or_none()
        return None if year is None else detached_copy(year)

    kept = _YEARS.get(start, load)
    return None if kept is None else attach(kept)


def academic_year_label(on: date | None = None) -> str:
    start = academic_start_year(on or today())
    return f"{start}/{str(start + 1)[-2:]}"
