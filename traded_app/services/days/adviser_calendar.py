"""Advisers' calendars: a month of visits with the free half-days, a private iCalendar feed for
the adviser's own calendar program, and every adviser's load by week and quadrant.

An adviser works at most a day (two half-days) on a date, so a weekday open for visits has
2 − booked half-days free; a day the council's calendar closes has none. The feed's address holds
a secret token (`User.calendar_token`): anyone with it can read that adviser's visits, nothing
else, and resetting it makes the old address answer 404.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from traded_app.domain.school_calendar import ics_escape
from traded_app.extensions import db
from traded_app.models import Quadrant, School, SharedVisit, User, Visit, VisitStatus
from traded_app.models.base import utcnow
from traded_app.models.partnership_orders import PartnershipOrder, PartnershipOrderLine
from traded_app.models.types import Role
from traded_app.services.days import school_calendar
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import today

FEED_DAYS_BEFORE = 90
FEED_DAYS_AFTER = 400
TOKEN_BYTES = 24
WHOLE_DAY = 2


class FeedError(DomainError):
    pass


def once(visits: list[Visit]) -> list[Visit]:
    """The visits with a visit against a partnership order once (its first school's row): one
    booking of the adviser's day, whatever the number of schools."""
    seen: set[int] = set()
    kept = []
    for visit in visits:
        if visit.for_partnership_order:
            if visit.shared_visit_id in seen:
                continue
            seen.add(visit.shared_visit_id or 0)
        kept.append(visit)
    return kept


@dataclass(frozen=True)
class CalendarDay:
    on: date
    visits: list[Visit]
    closed: str  # why no visits can be booked, or ''

    @property
    def booked(self) -> int:
        return sum(
            v.length_half_days for v in once(self.visits) if v.status != VisitStatus.CANCELLED
        )

    @property
    def free(self) -> int:
        """Half-days still free for a visit: 0 on a closed day or a full one."""
        if self.closed or self.on.weekday() >= 5:
            return 0
        return max(0, WHOLE_DAY - self.booked)


def _visits(adviser_id: int, first: date, last: date) -> list[Visit]:
    return list(
        db.session.execute(
            select(Visit)
            .options(joinedload(Visit.school))
            .where(Visit.adviser_id == adviser_id, Visit.visit_date.between(first, last))
            .order_by(Visit.visit_date, Visit.id)
        ).scalars()
    )


def days_between(adviser_id: int, first: date, last: date) -> list[CalendarDay]:
    """Every weekday between two dates with the adviser's visits and free half-days."""
    notes = school_calendar.council_day_notes(first, last)
    by_day: dict[date, list[Visit]] = {}
    for visit in _visits(adviser_id, first, last):
        by_day.setdefault(visit.visit_date, []).append(visit)
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            days.append(CalendarDay(day, by_day.get(day, []), notes.get(day, "")))
        day += timedelta(days=1)
    return days


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following - timedelta(days=1)


# --- The private feed -------------------------------------------------------------------------


def _require_adviser(user: User) -> None:
    if user.role not in (Role.ADVISER, Role.LA_ADMIN):
        raise FeedError("Only advisers and the service manager have a calendar feed")


def reset_feed(user: User) -> str:
    """A new token (the first, or one replacing the old, whose address stops working at once)."""
    _require_adviser(user)
    user.calendar_token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.flush()
    return user.calendar_token


def adviser_for_token(token: str) -> User | None:
    if not token or len(token) > 64:
        return None
    user = db.session.execute(
        select(User).where(User.calendar_token == token, User.active.is_(True))
    ).scalar_one_or_none()
    if user is None or not secrets.compare_digest(user.calendar_token or "", token):
        return None
    return user


def _fold(line: str) -> list[str]:
    """RFC 5545: lines longer than 75 octets continue on the next line after a space."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return [line]
    parts: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return [parts[0]] + [" " + part for part in parts[1:]]


def ics_feed(adviser: User, host: str) -> str:
    """The adviser's visits from three months ago to a year ahead as an iCalendar document:
    one all-day event each, cancelled visits marked CANCELLED so calendar programs drop them."""
    stamp = utcnow().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    now = today()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Traded services for schools//Visits//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ics_escape('Visits: ' + adviser.name)}",
    ]
    first = now - timedelta(days=FEED_DAYS_BEFORE)
    for visit in once(_visits(adviser.id, first, now + timedelta(days=FEED_DAYS_AFTER))):
        length = "Whole day" if visit.length_half_days == WHOLE_DAY else "Half day"
        where = visit.school.name
        if visit.for_partnership_order and visit.shared_visit is not None:
            where = ", ".join(v.school.name for v in visit.shared_visit.visits)
        status = {
            VisitStatus.CANCELLED: "CANCELLED",
            VisitStatus.DELIVERED: "CONFIRMED",
        }.get(visit.status, "CONFIRMED")
        lines += [
            "BEGIN:VEVENT",
            f"UID:visit-{visit.id}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{visit.visit_date:%Y%m%d}",
            f"DTEND;VALUE=DATE:{visit.visit_date + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{ics_escape(f'{length}: {where}')}",
            f"DESCRIPTION:{ics_escape(f'{visit.reference}: {visit.purpose}')}",
            f"LOCATION:{ics_escape(where)}",
            f"STATUS:{status}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))


# --- Every adviser's load ---------------------------------------------------------------------


@dataclass(frozen=True)
class AdviserLoad:
    adviser: User
    by_day: list[int]  # half-days booked or delivered, Monday to Friday
    by_quadrant: dict[str, int]  # quadrant name -> half-days this week

    @property
    def total(self) -> int:
        return sum(self.by_day)


def week_load(monday: date, quadrant_id: int | None = None) -> list[AdviserLoad]:
    """Every active adviser's half-days in the week (visits not cancelled), by weekday and by the
    quadrant of the schools visited; with a quadrant, only visits to its schools count."""
    friday = monday + timedelta(days=4)
    advisers = list(
        db.session.execute(
            select(User).where(User.role == Role.ADVISER, User.active.is_(True)).order_by(User.name)
        ).scalars()
    )
    query = (
        select(Visit.adviser_id, Visit.visit_date, Quadrant.name, func.sum(Visit.half_days))
        .join(School, School.id == Visit.school_id)
        .outerjoin(Quadrant, Quadrant.id == School.quadrant_id)
        .where(Visit.visit_date.between(monday, friday), Visit.status != VisitStatus.CANCELLED)
        .group_by(Visit.adviser_id, Visit.visit_date, Quadrant.name)
    )
    if quadrant_id is not None:
        query = query.where(School.quadrant_id == quadrant_id)
    days: dict[int, list[int]] = {a.id: [0] * 5 for a in advisers}
    quadrants: dict[int, dict[str, int]] = {a.id: {} for a in advisers}
    # Visits against a partnership order: their length once, in the order's quadrant.
    partnership = (
        select(
            SharedVisit.adviser_id,
            SharedVisit.visit_date,
            Quadrant.name,
            func.sum(SharedVisit.half_days),
        )
        .join(
            PartnershipOrderLine, PartnershipOrderLine.id == SharedVisit.partnership_order_line_id
        )
        .join(PartnershipOrder, PartnershipOrder.id == PartnershipOrderLine.order_id)
        .outerjoin(Quadrant, Quadrant.id == PartnershipOrder.quadrant_id)
        .where(
            SharedVisit.visit_date.between(monday, friday),
            select(Visit.id)
            .where(Visit.shared_visit_id == SharedVisit.id, Visit.status != VisitStatus.CANCELLED)
            .exists(),
        )
        .group_by(SharedVisit.adviser_id, SharedVisit.visit_date, Quadrant.name)
    )
    if quadrant_id is not None:
        partnership = partnership.where(PartnershipOrder.quadrant_id == quadrant_id)
    rows = [*db.session.execute(query).tuples().all(), *db.session.execute(partnership).tuples()]
    for adviser_id, on, quadrant, half_days in rows:
        if adviser_id not in days or not half_days:
            continue
        days[adviser_id][(on - monday).days] += int(half_days)
        name = quadrant or "No quadrant"
        quadrants[adviser_id][name] = quadrants[adviser_id].get(name, 0) + int(half_days)
    return [AdviserLoad(a, days[a.id], dict(sorted(quadrants[a.id].items()))) for a in advisers]


def quadrants() -> list[Quadrant]:
    return list(db.session.execute(select(Quadrant).order_by(Quadrant.name)).scalars())
