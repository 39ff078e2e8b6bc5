"""Visits: advisers book time at schools, then record it delivered or cancelled.

A visit is a half or whole day against a bookable order line (a confirmed or in-progress
order) or the school's core allocation. Booking is refused when it would take more days than
are left unbooked, when the adviser already has a day's work on that date, on a past date, and
on a day the school's calendar refuses (calendar.refusal: weekends, bank holidays, closure days,
outside term, INSET days) unless the service manager gives a reason. Each refusal is a `VisitError` naming the form field it is about.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from traded_app import formatting
from traded_app.domain.numbers import whole_number
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    CancelledBy,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    School,
    User,
    Visit,
    VisitStatus,
)
from traded_app.models.base import utcnow
from traded_app.models.types import Role
from traded_app.services.days import feedback, partnership_days, school_calendar
from traded_app.services.days import ledger as days_ledger
from traded_app.services.days import transfers as days_transfers
from traded_app.services.platform.errors import DomainError, NotFound
from traded_app.services.platform.settings import academic_start_year, council_settings, today

MAX_PURPOSE_LENGTH = 500
MAX_NOTE_LENGTH = 2000
CORE = "core"
DEFAULT_NOTICE_DAYS = 10


class VisitError(DomainError, ValueError):
    """A visit change that cannot be made; the message is for the person making it."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class VisitNotFound(NotFound):
    pass


def _days(half_days: int) -> str:
    return formatting.days(half_days)


def _require_scheduler(user: User) -> None:
    if user.role not in (Role.ADVISER, Role.LA_ADMIN):
        raise VisitError("Only advisers and the service manager can do that")


def advisers() -> list[User]:
    return list(
        db.session.execute(
            select(User).where(User.role == Role.ADVISER, User.active.is_(True)).order_by(User.name)
        ).scalars()
    )


def school_by_urn(urn: int) -> School | None:
    return db.session.execute(select(School).where(School.urn == urn)).scalar_one_or_none()


def year_of(on: date) -> AcademicYear | None:
    return db.session.execute(
        select(AcademicYear).where(AcademicYear.start_year == academic_start_year(on))
    ).scalar_one_or_none()


def bookable_lines(school: School, year: AcademicYear) -> list[days_ledger.OrderLineFigures]:
    """The school's order lines a visit may be booked against now, with days left unbooked."""
    ledger = days_ledger.school_ledger(school.id, year.id)
    return [
        order_line
        for line in ledger.services
        for order_line in line.order_lines
        if order_line.order_status in days_ledger.BOOKABLE_STATUSES
        and order_line.figures.not_yet_booked > 0
    ]


def check_date(
    on: date, year: AcademicYear, school_id: int, override_reason: str = "", *, booked_on: date
) -> str:
    """Refuse a past date, a date outside `year`, and a day the school's calendar refuses
    (weekend, bank holiday, closure, outside term, INSET day) unless the service manager gave
    `override_reason`; the refusal overridden, or ''."""
    if on < booked_on:
        raise VisitError(
            f"{formatting.long_date(on)} has passed: visits cannot be booked for past dates. "
            "If the visit took place, record it as delivered",
            "visit_date",
        )
    if not year.starts_on <= on <= year.ends_on:
        raise VisitError(
            f"The visit date must be in the {year.label} academic year, "
            f"{formatting.long_date(year.starts_on)} to {formatting.long_date(year.ends_on)}",
            "visit_date",
        )
    refusal = school_calendar.refusal(on, year, school_id)
    if refusal is not None and not override_reason:
        raise VisitError(refusal, "visit_date")
    return refusal or ""


@dataclass(frozen=True)
class NewVisit:
    school: School
    adviser_id: int | None
    visit_date: date | None
    half_days: int | None
    against: str  # "core" or an order line id
    purpose: str
    # The service manager's reason for a day the calendar refuses (outside term, bank holiday,
    # INSET day); refused from anyone else.
    override_reason: str = ""


def schedule(details: NewVisit, user: User, *, booked_on: date | None = None) -> Visit:
    """Book a visit, after every check; nothing is written when one fails. `booked_on` is the
    day it is booked (today; the demo's history and tests book on earlier days)."""
    _require_scheduler(user)
    school = details.school
    adviser, visit_date, half_days, purpose = _checked_details(details, user)
    override = _override_reason(details, user)
    line, year = _booked_against(details, visit_date)
    overridden = check_date(visit_date, year, school.id, override, booked_on=booked_on or today())
    _check_days_left(school, year, line, half_days)
    _check_adviser_free(adviser, visit_date, half_days)
    visit = Visit(
        school_id=school.id,
        academic_year_id=year.id,
        adviser_id=adviser.id,
        order_line_id=line.id if line else None,
        visit_date=visit_date,
        half_days=half_days,
        purpose=purpose,
        status=VisitStatus.SCHEDULED,
        scheduled_by_id=user.id,
        created_at=utcnow(),
        date_override_reason=override if overridden else "",
    )
    db.session.add(visit)
    db.session.flush()
    return visit


def _override_reason(details: NewVisit, user: User) -> str:
    reason = " ".join(details.override_reason.split())
    if reason and user.role != Role.LA_ADMIN:
        raise VisitError(
            "Only the service manager can book a visit on a day the calendar refuses",
            "override_reason",
        )
    if len(reason) > MAX_PURPOSE_LENGTH:
        raise VisitError(
            f"The reason must be {MAX_PURPOSE_LENGTH} characters or fewer", "override_reason"
        )
    return reason


def record_delivered(details: NewVisit, user: User, note: str, reason: str) -> Visit:
    """Record a visit that took place on a past date and was never booked: booked as of that
    day (every other check as booking) and delivered at once, with why it was recorded late."""
    why = " ".join(reason.split())
    if not why:
        raise VisitError("Enter why the visit is recorded after the day", "recorded_after_reason")
    if len(why) > MAX_PURPOSE_LENGTH:
        raise VisitError(
            f"The reason must be {MAX_PURPOSE_LENGTH} characters or fewer",
            "recorded_after_reason",
        )
    if details.visit_date is not None and details.visit_date >= today():
        raise VisitError(
            "Only a visit on a past date is recorded here: book visits from today on",
            "visit_date",
        )
    visit = schedule(details, user, booked_on=details.visit_date)
    deliver(visit, user, note)
    visit.recorded_after_reason = why
    _flush()
    return visit


def _checked_details(details: NewVisit, user: User) -> tuple[User, date, int, str]:
    """The adviser, date, half-days and purpose of a visit to book, each checked."""
    if details.adviser_id is None:
        raise VisitError("Select the adviser", "adviser_id")
    adviser = db.session.get(User, details.adviser_id)
    if adviser is None or adviser.role != Role.ADVISER or not adviser.active:
        raise VisitError("Select the adviser", "adviser_id")
    if user.role == Role.ADVISER and adviser.id != user.id:
        raise VisitError("You can only book visits for yourself", "adviser_id")
    if details.visit_date is None:
        raise VisitError("Enter the date of the visit", "visit_date")
    if details.half_days not in (1, 2):
        raise VisitError("Select half day or whole day", "half_days")
    purpose = details.purpose.strip()
    if not purpose:
        raise VisitError("Enter the purpose of the visit", "purpose")
    if len(purpose) > MAX_PURPOSE_LENGTH:
        raise VisitError(f"Purpose must be {MAX_PURPOSE_LENGTH} characters or fewer", "purpose")
    return adviser, details.visit_date, details.half_days, purpose


def _booked_against(details: NewVisit, visit_date: date) -> tuple[OrderLine | None, AcademicYear]:
    """The order line the visit uses (None: the school's core days) and its academic year, with
    the rows locked that stop two bookings taking the same days."""
    school = details.school
    if details.against == CORE:
        year = year_of(visit_date)
        if year is None:
            raise VisitError(
                "The council has not set up the academic year of that date", "visit_date"
            )
        # Serialise bookings of this school's core days (SQLite: the write lock at BEGIN).
        db.session.execute(select(School.id).where(School.id == school.id).with_for_update())
        return None, year
    line_id = whole_number(details.against)
    if line_id is None:
        raise VisitError("Select what the visit is against", "against")
    line = db.session.get(OrderLine, line_id)
    if line is None or (
        line.order.school_id != school.id and not days_transfers.transferred_to(line.id, school.id)
    ):
        raise VisitError(f"That order is not {school.name}'s", "against")
    order = line.order
    db.session.refresh(order, with_for_update=True)
    if order.status not in days_ledger.BOOKABLE_STATUSES:
        raise VisitError(
            f"{order.reference} is {order.status.label.lower()}: visits can be booked "
            "only against confirmed orders",
            "against",
        )
    # Days carried over from an earlier year are booked in the year they were carried into.
    year = year_of(visit_date)
    if year is not None and days_transfers.carried_into(line.id, school.id, year.id):
        return line, year
    return line, order.academic_year


def _check_days_left(
    school: School, year: AcademicYear, line: OrderLine | None, half_days: int
) -> None:
    """Refuse a visit that needs more days than are left to book on what it is against."""
    ledger = days_ledger.school_ledger(school.id, year.id)
    if line is None:
        figures = ledger.core
        what = f"{school.name}'s core allocation"
    else:
        found = ledger.order_line(line.id)
        figures = found.figures if found else days_ledger.Figures()
        what = f"{line.service.name} on {line.order.reference}"
    if half_days > figures.not_yet_booked:
        left = figures.not_yet_booked
        raise VisitError(
            f"{what} has {_days(left) if left > 0 else 'no days'} left to book, "
            f"and this visit needs {_days(half_days)}",
            "half_days",
        )


def _check_adviser_free(adviser: User, visit_date: date, half_days: int) -> None:
    """One adviser, at most one day's work a date: the adviser's row is locked while counting."""
    db.session.execute(select(User.id).where(User.id == adviser.id).with_for_update())
    booked = booked_half_days(adviser.id, visit_date)
    if booked + half_days > 2:
        raise VisitError(
            f"{adviser.name} already has {_days(booked)} booked on "
            f"{formatting.long_date(visit_date)}: an adviser can be booked for at most "
            "one day a date",
            "visit_date",
        )


def booked_half_days(adviser_id: int, on: date) -> int:
    own = db.session.execute(
        select(func.coalesce(func.sum(Visit.half_days), 0)).where(
            Visit.adviser_id == adviser_id,
            Visit.visit_date == on,
            Visit.status != VisitStatus.CANCELLED,
        )
    ).scalar_one()
    return int(own) + partnership_days.adviser_half_days(adviser_id, on)  # its length once


def visit_for(user: User, visit_id: int) -> Visit:
    """A visit a council user may see; school users see visits on their Days page only."""
    visit = db.session.get(Visit, visit_id) if visit_id < 2**31 else None
    if visit is None or not user.is_council_user:
        raise VisitNotFound
    return visit


def _require_own_or_manager(visit: Visit, user: User) -> None:
    _require_scheduler(user)
    if user.role == Role.ADVISER and visit.adviser_id != user.id:
        raise VisitError("Only the visit's adviser or the service manager can do that")


def deliver(
    visit: Visit, user: User, note: str, on: date | None = None, *, shared: bool = False
) -> Visit:
    """Record a scheduled visit as delivered, with a short note; never beyond the days bought
    or allocated. A school's part of a shared visit is delivered with the others (`shared`)."""
    _require_own_or_manager(visit, user)
    _refuse_part_of_shared(visit, shared)
    _lock(visit)
    if visit.status != VisitStatus.SCHEDULED:
        raise VisitError(
            f"{visit.reference} is {visit.status.label.lower()}, so it cannot be delivered"
        )
    if visit.visit_date > (on or today()):
        raise VisitError(
            f"{visit.reference} is on {formatting.long_date(visit.visit_date)}: "
            "record it as delivered on or after that day"
        )
    text = note.strip()
    if not text:
        raise VisitError("Enter a short note of what was done", "note")
    if len(text) > MAX_NOTE_LENGTH:
        raise VisitError(f"Note must be {MAX_NOTE_LENGTH} characters or fewer", "note")
    ledger = days_ledger.school_ledger(visit.school_id, visit.academic_year_id)
    if visit.order_line_id is None:
        figures = ledger.core
        what = "core days allocated"
    else:
        found = ledger.order_line(visit.order_line_id)
        figures = found.figures if found else days_ledger.Figures()
        what = "days bought on this order line"
    if visit.half_days and figures.used + visit.half_days > figures.allocated:
        raise VisitError(
            f"Delivering {visit.reference} would take the school past the "
            f"{_days(figures.allocated)} {what} ({_days(figures.used)} already used): "
            "it cannot be recorded as delivered"
        )
    visit.status = VisitStatus.DELIVERED
    visit.delivery_note = text
    visit.delivered_at = utcnow()
    visit.delivered_by_id = user.id
    feedback.ask_for(visit)  # in the same change, so the audit trail has one event
    _flush()
    if visit.order_line is not None:
        _advance_order(visit.order_line.order, user)
    return visit


def cancel(
    visit: Visit,
    user: User,
    party: CancelledBy | None,
    reason: str,
    on: date | None = None,
    *,
    shared: bool = False,
) -> Visit:
    """Cancel a scheduled visit. The school's cancellation with less notice than the council's
    policy is chargeable: its days count as used. A school's part of a shared visit is cancelled
    with the others (`shared`)."""
    _require_own_or_manager(visit, user)
    _refuse_part_of_shared(visit, shared)
    _lock(visit)
    if visit.status != VisitStatus.SCHEDULED:
        raise VisitError(
            f"{visit.reference} is {visit.status.label.lower()}, so it cannot be cancelled"
        )
    if party is None:
        raise VisitError("Select who cancelled the visit", "party")
    text = reason.strip()
    if not text:
        raise VisitError("Enter why the visit was cancelled", "reason")
    if len(text) > MAX_NOTE_LENGTH:
        raise VisitError(f"Reason must be {MAX_NOTE_LENGTH} characters or fewer", "reason")
    visit.status = VisitStatus.CANCELLED
    visit.cancelled_at = utcnow()
    visit.cancelled_by_id = user.id
    visit.cancelled_by_party = party
    visit.cancellation_reason = text
    visit.chargeable = party == CancelledBy.SCHOOL and is_late(visit.visit_date, on)
    _flush()
    if visit.chargeable and visit.order_line is not None:
        _advance_order(visit.order_line.order, user)
    return visit


def _refuse_part_of_shared(visit: Visit, shared: bool) -> None:
    if visit.shared_visit_id is not None and not shared:
        raise VisitError(
            f"{visit.reference} is one school's part of partnership visit "
            f"PV-{visit.shared_visit_id:06d}: deliver or cancel it there, for all its schools"
        )


def notice_days() -> int:
    settings = council_settings()
    return settings.cancellation_notice_days if settings else DEFAULT_NOTICE_DAYS


def is_late(visit_date: date, on: date | None = None) -> bool:
    """Less notice than the policy's days (calendar days before the visit)."""
    days = notice_days()
    return days > 0 and (visit_date - (on or today())).days < days


def cancel_open_visits(order: Order, user: User) -> int:
    """The council cancelled `order`: its scheduled visits are cancelled too, free of charge."""
    visits = db.session.execute(
        select(Visit)
        .join(OrderLine, OrderLine.id == Visit.order_line_id)
        .where(OrderLine.order_id == order.id, Visit.status == VisitStatus.SCHEDULED)
    ).scalars()
    count = 0
    for visit in visits:
        visit.status = VisitStatus.CANCELLED
        visit.cancelled_at = utcnow()
        visit.cancelled_by_id = user.id
        visit.cancelled_by_party = CancelledBy.COUNCIL
        visit.cancellation_reason = f"{order.reference} was cancelled"
        count += 1
    _flush()
    return count


def _advance_order(order: Order, user: User) -> None:
    """Confirmed → in progress at the first used day; → completed when every day is used.

    These are the two steps the order workflow's table (ordering.workflow.TRANSITIONS) gives
    the days service; ordering sits above days, so the table is not read here, and its test
    checks that what is recorded here is in it."""
    used = days_ledger.order_used_half_days(order.id)
    target = order.status
    if order.status == OrderStatus.CONFIRMED and used > 0:
        target = OrderStatus.IN_PROGRESS
    if used >= (order.half_days or 0) and order.status in days_ledger.BOOKABLE_STATUSES:
        target = OrderStatus.COMPLETED
    if target == order.status:
        return
    order.events.append(
        OrderEvent(
            user_id=user.id,
            action=target.value,
            from_status=order.status.value,
            to_status=target.value,
            note="",
            at=utcnow(),
        )
    )
    order.status = target
    _flush()


def _lock(visit: Visit) -> None:
    db.session.refresh(visit, with_for_update=True)


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()  # a failed flush leaves the session unusable until rolled back
        raise VisitError("Someone else changed this visit in the meantime: try again") from None


# --- Lists ------------------------------------------------------------------------------------


def week_start(on: date) -> date:
    return on - timedelta(days=on.weekday())


@dataclass(frozen=True)
class CalendarDay:
    on: date
    visits: list[Visit]
    closure: str | None


def adviser_week(adviser_id: int, monday: date) -> list[CalendarDay]:
    """Monday to Friday of one week: the adviser's visits (cancelled ones too), and why a day
    is closed to visits (bank holiday, closure, holiday, council INSET day)."""
    friday = monday + timedelta(days=4)
    visits = db.session.execute(
        select(Visit)
        .options(
            joinedload(Visit.school), joinedload(Visit.order_line).joinedload(OrderLine.service)
        )
        .where(
            Visit.adviser_id == adviser_id,
            Visit.visit_date >= monday,
            Visit.visit_date <= friday,
        )
        .order_by(Visit.visit_date, Visit.id)
    ).scalars()
    closures = school_calendar.council_day_notes(monday, friday)
    by_day: dict[date, list[Visit]] = {}
    for visit in visits:
        by_day.setdefault(visit.visit_date, []).append(visit)
    return [
        CalendarDay(day, by_day.get(day, []), closures.get(day))
        for day in (monday + timedelta(days=n) for n in range(5))
    ]


def school_visits(school_id: int, year_id: int) -> list[Visit]:
    """The school's visits in the year, newest first, with adviser and service loaded."""
    return list(
        db.session.execute(
            select(Visit)
            .options(
                joinedload(Visit.adviser),
                joinedload(Visit.order_line).joinedload(OrderLine.service),
                joinedload(Visit.order_line).joinedload(OrderLine.order),
                joinedload(Visit.cancelled_by),
            )
            .where(Visit.school_id == school_id, Visit.academic_year_id == year_id)
            .order_by(Visit.visit_date.desc(), Visit.id.desc())
        )
        .unique()
        .scalars()
    )


def against_label(visit: Visit) -> str:
    if visit.for_partnership_order:
        return partnership_days.label_of(visit)
    if visit.order_line is None:
        return "Core allocation"
    return f"{visit.order_line.service.name} ({visit.order_line.order.reference})"


CSV_HEADER = [
    "Visit",
    "Date",
    "Half or whole day",
    "Days",
    "Against",
    "Adviser",
    "Purpose",
    "Status",
    "Delivery note",
    "Cancelled by",
    "Cancellation reason",
    "Charged",
]


def _safe(value: str) -> str:
    # A cell starting with =, +, - or @ is a formula to a spreadsheet: neutralise it.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def visits_csv(visits: list[Visit]) -> str:
    """The visit history as CSV for a spreadsheet (dates ISO, days as decimal numbers)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for visit in sorted(visits, key=lambda v: (v.visit_date, v.id)):
        writer.writerow(
            [
                visit.reference,
                visit.visit_date.isoformat(),
                "Whole day" if visit.length_half_days == 2 else "Half day",
                formatting.days_number(visit.half_days),
                _safe(against_label(visit)),
                _safe(visit.adviser.name),
                _safe(visit.purpose),
                visit.status.label,
                _safe(visit.delivery_note),
                visit.cancelled_by_party.label if visit.cancelled_by_party else "",
                _safe(visit.cancellation_reason),
                "Yes" if visit.chargeable else "",
            ]
        )
    return out.getvalue()


def academic_years() -> list[AcademicYear]:
    return list(
        db.session.execute(select(AcademicYear).order_by(AcademicYear.start_year.desc())).scalars()
    )
