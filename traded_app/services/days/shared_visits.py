"""Shared visits: one adviser's visit for one or more of a partnership's schools at once, booked
against its plan, delivered and cancelled as one.

How a shared visit draws the partnership's core days (the decision the README records): the
partnership's days are given to its schools by the allocation rules (allocations.entitlements:
the pool shared equally in half-days, the half-days left over one each in URN order), so a
school's core days are its share of the pool. A shared visit of N half-days draws N half-days in
all, once, not N from each school: its half-days are shared among the schools involved the same
way (equally, the half-days left over one each), the leftover half-days going to the schools with
the most core days left to book (then URN order), so no school is drawn past its own days. Each
school has its own `Visit` row carrying its share (0 for a school that shares a half-day with
another): its days ledger, Days page, feedback and report see the visit, the adviser's calendar
counts the visit's length once, and cancelling returns every share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from traded_app import formatting
from traded_app.domain.types import CancelledBy
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    PartnershipPlan,
    School,
    SharedVisit,
    User,
    Visit,
    VisitStatus,
)
from traded_app.models.base import utcnow
from traded_app.models.types import Role
from traded_app.services.days import ledger as days_ledger
from traded_app.services.days import plans, visits
from traded_app.services.days.visits import VisitError
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.settings import today


@dataclass(frozen=True)
class Claimant:
    school_id: int
    urn: int
    left: int  # core half-days not yet booked


def split(half_days: int, schools: list[Claimant]) -> dict[int, int]:
    """Each school's share of a visit's half-days: equal, the half-days left over one each to the
    schools with the most core days left to book (ties in URN order). The shares add up to
    `half_days`."""
    share, extra = divmod(half_days, len(schools))
    order = sorted(schools, key=lambda s: (-s.left, s.urn))
    return {s.school_id: share + (1 if index < extra else 0) for index, s in enumerate(order)}


@dataclass(frozen=True)
class NewSharedVisit:
    adviser_id: int | None
    visit_date: date | None
    half_days: int | None
    school_ids: list[int]
    plan_item_id: int | None
    purpose: str = ""
    override_reason: str = ""


def checked_booker(
    user: User, adviser_id: int | None, visit_date: date | None, half_days: int | None
) -> User:
    """The checks every shared visit's booking makes first (the core days' plan's and a
    partnership order's): who books, the adviser, a date, half or whole day. The adviser."""
    if user.role not in (Role.ADVISER, Role.LA_ADMIN):
        raise VisitError("Only advisers and the service manager can book visits")
    adviser = adviser_of(adviser_id, user)
    if visit_date is None:
        raise VisitError("Enter the date of the visit", "visit_date")
    if half_days not in (1, 2):
        raise VisitError("Select half day or whole day", "half_days")
    return adviser


def checked_words(user: User, purpose: str, default: str, override_reason: str) -> tuple[str, str]:
    """The purpose (`default` when left empty) and the reason for overriding the calendar,
    tidied and checked: (purpose, override reason)."""
    tidy = " ".join(purpose.split()) or default
    if len(tidy) > visits.MAX_PURPOSE_LENGTH:
        raise VisitError(
            f"Purpose must be {visits.MAX_PURPOSE_LENGTH} characters or fewer", "purpose"
        )
    override = " ".join(override_reason.split())
    if override and user.role != Role.LA_ADMIN:
        raise VisitError(
            "Only the service manager can book a visit on a day the calendar refuses",
            "override_reason",
        )
    return tidy, override


def book(
    plan: PartnershipPlan, details: NewSharedVisit, user: User, *, booked_on: date | None = None
) -> SharedVisit:
    """Book a shared visit against the plan, after every check; nothing is written when one
    fails. Each school's calendar is checked (its own INSET days too); each school's share must
    fit its core days left to book; the adviser has at most one day's work a date."""
    adviser = checked_booker(user, details.adviser_id, details.visit_date, details.half_days)
    assert details.visit_date is not None and details.half_days is not None  # (checked)
    item = next((i for i in plan.items if i.id == details.plan_item_id), None)
    if item is None:
        raise VisitError("Select the planned activity the visit is for", "plan_item_id")
    purpose, override = checked_words(
        user, details.purpose, item.activity.name, details.override_reason
    )
    schools = _schools(plan, details.school_ids)
    year = plan.academic_year
    overridden = ""
    for school in schools:
        overridden = (
            visits.check_date(
                details.visit_date,
                year,
                school.id,
                override,
                booked_on=booked_on or today(),
            )
            or overridden
        )
    shares = _shares(schools, year, details.half_days)
    check_adviser_free(adviser, details.visit_date, details.half_days)
    shared = SharedVisit(
        partnership_id=plan.partnership_id,
        academic_year_id=year.id,
        plan_item_id=item.id,
        adviser_id=adviser.id,
        visit_date=details.visit_date,
        half_days=details.half_days,
        created_by_id=user.id,
        created_at=utcnow(),
    )
    return add_with_visits(shared, schools, shares, purpose, user, override if overridden else "")


def add_with_visits(
    shared: SharedVisit,
    schools: list[School],
    half_days_of: dict[int, int],
    purpose: str,
    user: User,
    override_reason: str,
) -> SharedVisit:
    """Record a shared visit and each school's own `Visit` row (its share of the half-days:
    `half_days_of[school.id]`), scheduled, as one; the core days' and a partnership order's
    bookings both end here."""
    db.session.add(shared)
    db.session.flush()
    for school in schools:
        db.session.add(
            Visit(
                school_id=school.id,
                academic_year_id=shared.academic_year_id,
                adviser_id=shared.adviser_id,
                order_line_id=None,
                shared_visit_id=shared.id,
                visit_date=shared.visit_date,
                half_days=half_days_of[school.id],
                purpose=purpose,
                status=VisitStatus.SCHEDULED,
                scheduled_by_id=user.id,
                created_at=utcnow(),
                date_override_reason=override_reason,
            )
        )
    db.session.flush()
    db.session.refresh(shared)
    return shared


def record_delivered(
    plan: PartnershipPlan, details: NewSharedVisit, user: User, note: str, reason: str
) -> SharedVisit:
    """A partnership visit that took place on a past date and was never booked: booked as of
    that day (every other check as booking) and delivered at once, with why it is recorded
    late."""
    why = recorded_after(reason, details.visit_date)
    shared = book(plan, details, user, booked_on=details.visit_date)
    deliver(shared, user, note)
    for visit in shared.visits:
        visit.recorded_after_reason = why
    db.session.flush()
    return shared


def recorded_after(reason: str, visit_date: date | None) -> str:
    """Why a past visit is recorded after the day, checked; the visit's date must be past."""
    why = " ".join(reason.split())
    if not why:
        raise VisitError("Enter why the visit is recorded after the day", "recorded_after_reason")
    if len(why) > visits.MAX_PURPOSE_LENGTH:
        raise VisitError(
            f"The reason must be {visits.MAX_PURPOSE_LENGTH} characters or fewer",
            "recorded_after_reason",
        )
    if visit_date is not None and visit_date >= today():
        raise VisitError(
            "Only a visit on a past date is recorded here: book visits from today on",
            "visit_date",
        )
    return why


def adviser_of(adviser_id: int | None, user: User) -> User:
    """The adviser chosen, refused unless active (an adviser books only for themself)."""
    if adviser_id is None:
        raise VisitError("Select the adviser", "adviser_id")
    adviser = db.session.get(User, adviser_id)
    if adviser is None or adviser.role != Role.ADVISER or not adviser.active:
        raise VisitError("Select the adviser", "adviser_id")
    if user.role == Role.ADVISER and adviser.id != user.id:
        raise VisitError("You can only book visits for yourself", "adviser_id")
    return adviser


def _schools(plan: PartnershipPlan, school_ids: list[int]) -> list[School]:
    """The partnership's schools chosen, their rows locked (in id order) so two bookings of their
    core days take turns."""
    chosen = set(school_ids)
    if not chosen:
        raise VisitError("Select the schools the visit is for", "school_ids")
    found = [s for s in plans.members(plan.partnership_id) if s.id in chosen]
    if len(found) != len(chosen):
        raise VisitError(
            f"Select schools of {plan.partnership.name}: a shared visit is for its schools only",
            "school_ids",
        )
    db.session.execute(
        select(School.id).where(School.id.in_(sorted(chosen))).order_by(School.id).with_for_update()
    )
    return found


def _shares(schools: list[School], year: AcademicYear, half_days: int) -> dict[int, int]:
    """Each school's share, refused when a share is more than the school's core days left."""
    claimants = [
        Claimant(s.id, s.urn, days_ledger.school_ledger(s.id, year.id).core.not_yet_booked)
        for s in schools
    ]
    shares = split(half_days, claimants)
    for claimant, school in zip(claimants, schools, strict=True):
        if shares[school.id] > claimant.left:
            left = claimant.left
            raise VisitError(
                f"{school.name}'s core allocation has "
                f"{formatting.days(left) if left > 0 else 'no days'} left to book, and its share "
                f"of this visit is {formatting.days(shares[school.id])}",
                "half_days",
            )
    return shares


def check_adviser_free(adviser: User, on: date, half_days: int) -> None:
    db.session.execute(select(User.id).where(User.id == adviser.id).with_for_update())
    booked = visits.booked_half_days(adviser.id, on)
    if booked + half_days > 2:
        raise VisitError(
            f"{adviser.name} already has {formatting.days(booked)} booked on "
            f"{formatting.long_date(on)}: an adviser can be booked for at most one day a date",
            "visit_date",
        )


def shared_visit_for(user: User, shared_id: int) -> SharedVisit:
    """A shared visit a council user may see."""
    shared = db.session.get(SharedVisit, shared_id) if shared_id < 2**31 else None
    if shared is None or not user.is_council_user:
        raise NotFound("There is no such visit")
    return shared


def deliver(shared: SharedVisit, user: User, note: str, on: date | None = None) -> SharedVisit:
    """Record the visit delivered at every school it was for (each school's visit as
    visits.deliver records it: the note, the feedback asked of its headteachers)."""
    for visit in list(shared.visits):
        visits.deliver(visit, user, note, on, shared=True)
    return shared


def cancel(
    shared: SharedVisit,
    user: User,
    party: CancelledBy | None,
    reason: str,
    on: date | None = None,
) -> SharedVisit:
    """Cancel the visit at every school: each school's share goes back to its core days (unless
    the school cancelled it late, when the notice policy charges it)."""
    for visit in list(shared.visits):
        visits.cancel(visit, user, party, reason, on, shared=True)
    return shared


def may_deliver(shared: SharedVisit, on: date | None = None) -> bool:
    return shared.visit_date <= (on or today())
