"""Academy conversions on their date (domain.conversions has the rules).

The GIAS import records each conversion (`record`) and opens the academy's record at once; the
maintained school stays open, ordering and recharged, until the academy's open date. On the date
the daily schedule (or the service manager's confirmation, whichever comes first) carries it out
(`transfer`): the maintained school closes, its open orders and the visits booked from the date
move to the academy, and its remaining days move too, as a days transfer on both records with
its reason. Issued documents stay with the school they were issued to. The staff's access moves
when the service manager confirms (`confirm`). Later orders are the academy's, charged by VAT
invoice (its billing route)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from traded_app.domain import conversions as rules
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    DaysTransfer,
    Order,
    OrderStatus,
    School,
    SchoolConversion,
    SchoolMembership,
    User,
    Visit,
    VisitStatus,
)
from traded_app.models.base import utcnow
from traded_app.models.jobs import ScheduledRun
from traded_app.models.orders import PENDING_STATUSES
from traded_app.models.types import SchoolStatus
from traded_app.services.days import ledger as days_ledger
from traded_app.services.platform import memberships, schedules
from traded_app.services.platform.errors import DomainError, NotFound
from traded_app.services.platform.settings import today

SCHEDULE_NAME = "academy_conversions"
RUNS_AT = time(0, 30)
# Orders not yet sold move with the school: the academy's staff carry them on.
OPEN_STATUSES = PENDING_STATUSES | {OrderStatus.DRAFT}


class ConversionError(DomainError, ValueError):
    pass


@dataclass(frozen=True)
class Moved:
    orders: int
    visits: int
    half_days: int

    @property
    def summary(self) -> str:
        return f"{self.orders} open orders, {self.visits} booked visits, {self.half_days} half-days"


def record(old: School | int, new_id: int, converts_on: date, closes_on: date | None) -> None:
    """A conversion the GIAS import found, to take effect on `converts_on`."""
    old_id = old if isinstance(old, int) else old.id
    db.session.add(
        SchoolConversion(
            old_school_id=old_id,
            new_school_id=new_id,
            converts_on=converts_on,
            old_closes_on=rules.old_closes_on(converts_on, closes_on),
        )
    )
    db.session.flush()


def pending_old_school_ids() -> set[int]:
    """Maintained schools whose conversion has not yet taken effect (a later GIAS import leaves
    them open until their date)."""
    return set(
        db.session.scalars(
            select(SchoolConversion.old_school_id).where(SchoolConversion.transferred_at.is_(None))
        )
    )


def conversion_by_id(conversion_id: int) -> SchoolConversion:
    found = db.session.get(SchoolConversion, conversion_id)
    if found is None:
        raise NotFound(f"No conversion {conversion_id}")
    return found


def stage_of(conversion: SchoolConversion, on: date | None = None) -> rules.Stage:
    return rules.stage(
        conversion.converts_on,
        on or today(),
        conversion.transferred_at is not None,
        conversion.confirmed_at is not None,
    )


def unconfirmed() -> list[SchoolConversion]:
    """Conversions whose staff have not yet moved, by date."""
    return list(
        db.session.scalars(
            select(SchoolConversion)
            .where(SchoolConversion.confirmed_at.is_(None))
            .options(
                joinedload(SchoolConversion.old_school), joinedload(SchoolConversion.new_school)
            )
            .order_by(SchoolConversion.converts_on, SchoolConversion.id)
        )
    )


def pending_for(school_id: int) -> SchoolConversion | None:
    """The school's conversion that has not yet taken effect, if any (for its pages)."""
    return db.session.scalars(
        select(SchoolConversion).where(
            SchoolConversion.old_school_id == school_id, SchoolConversion.transferred_at.is_(None)
        )
    ).one_or_none()


def transfer(conversion: SchoolConversion, now: datetime | None = None) -> Moved:
    """Carry the conversion out (once): close the maintained school and move its open orders,
    the visits booked from the date and its remaining days to the academy."""
    if conversion.transferred_at is not None:
        return Moved(0, 0, 0)
    old, new = conversion.old_school, conversion.new_school
    on = conversion.converts_on
    has_draft = db.session.scalar(
        select(Order.id).where(Order.school_id == new.id, Order.status == OrderStatus.DRAFT)
    )
    moving = [
        order
        for order in db.session.scalars(
            select(Order).where(Order.school_id == old.id, Order.status.in_(OPEN_STATUSES))
        )
        if not (order.status == OrderStatus.DRAFT and has_draft)
    ]
    for order in moving:
        order.school_id = new.id
    booked = db.session.scalars(
        select(Visit).where(
            Visit.school_id == old.id,
            Visit.status == VisitStatus.SCHEDULED,
            Visit.visit_date >= on,
        )
    ).all()
    for visit in booked:
        if rules.visit_moves(visit.visit_date, on):
            visit.school_id = new.id
    db.session.flush()
    orders, visits = len(moving), len(booked)
    half_days = _move_days(conversion, old, new)
    old.status = SchoolStatus.CLOSED
    old.closed_on = conversion.old_closes_on
    conversion.transferred_at = now or utcnow()
    db.session.flush()
    return Moved(orders, visits, half_days)


def _move_days(conversion: SchoolConversion, old: School, new: School) -> int:
    """Each remaining figure of each year from the date on, moved as a pair of transfers."""
    years = db.session.scalars(
        select(AcademicYear)
        .where(AcademicYear.ends_on >= conversion.converts_on)
        .order_by(AcademicYear.start_year)
    )
    total = 0
    out_reason = rules.reason(True, f"{new.name} ({new.urn})", conversion.converts_on)
    in_reason = rules.reason(False, f"{old.name} ({old.urn})", conversion.converts_on)
    for year in years:
        ledger = days_ledger.school_ledger(old.id, year.id)
        moves: list[tuple[int | None, int]] = []
        if ledger.core.remaining > 0:
            moves.append((None, ledger.core.remaining))
        for line in ledger.services:
            for order_line in line.order_lines:
                bookable = order_line.order_status in days_ledger.BOOKABLE_STATUSES
                if bookable and order_line.figures.remaining > 0:
                    moves.append((order_line.order_line_id, order_line.figures.remaining))
        for line_id, half_days in moves:
            total += half_days
            db.session.add_all(
                [
                    DaysTransfer(
                        conversion_id=conversion.id,
                        school_id=old.id,
                        academic_year_id=year.id,
                        order_line_id=line_id,
                        half_days=-half_days,
                        reason=out_reason,
                    ),
                    DaysTransfer(
                        conversion_id=conversion.id,
                        school_id=new.id,
                        academic_year_id=year.id,
                        order_line_id=line_id,
                        half_days=half_days,
                        reason=in_reason,
                    ),
                ]
            )
    db.session.flush()
    return total


def carry_out_due(on: date, now: datetime | None = None) -> list[tuple[SchoolConversion, Moved]]:
    """Every conversion whose date has come and that has not yet been carried out."""
    due = db.session.scalars(
        select(SchoolConversion)
        .where(SchoolConversion.transferred_at.is_(None), SchoolConversion.converts_on <= on)
        .order_by(SchoolConversion.converts_on, SchoolConversion.id)
    ).all()
    return [(conversion, transfer(conversion, now)) for conversion in due]


def confirm(conversion: SchoolConversion, by: User, on: date | None = None) -> int:
    """The service manager confirms: carried out now if the daily job has not yet, and the
    maintained school's staff get the same roles at the academy instead. Returns how many
    people moved."""
    if conversion.confirmed_at is not None:
        raise ConversionError("This conversion was already confirmed")
    refusal = rules.confirm_refusal(conversion.converts_on, on or today())
    if refusal:
        raise ConversionError(refusal)
    transfer(conversion)
    old_id, new_id = conversion.old_school_id, conversion.new_school_id
    staff = db.session.scalars(
        select(SchoolMembership).where(SchoolMembership.school_id == old_id)
    ).all()
    people = 0
    for found in staff:
        user = db.session.get(User, found.user_id)
        assert user is not None
        role = found.role
        if user.school_id == old_id:
            user.school_id = new_id  # their first school (its membership follows)
            db.session.flush()
        else:
            db.session.delete(found)
            db.session.flush()
        memberships.add(user, new_id, role)
        people += 1
    conversion.confirmed_at = utcnow()
    conversion.confirmed_by_id = by.id
    db.session.flush()
    return people


def _period(now: datetime) -> str | None:
    return schedules.daily_at(now, RUNS_AT)


def _describe() -> str:
    return f"Every day from {RUNS_AT:%H:%M} (Europe/London)"


@schedules.schedule(SCHEDULE_NAME, "Academy conversions on their date", _period, _describe)
def run_due(run: ScheduledRun) -> str:
    """The schedule's work: carry out the conversions whose date has come."""
    done = carry_out_due(date.fromisoformat(run.period), run.started_at)
    if not done:
        return "No conversion due"
    return "; ".join(
        f"{c.old_school.name} to {c.new_school.name}: {moved.summary}" for c, moved in done
    )
