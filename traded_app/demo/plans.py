"""Demo: this year's plan for the maintained demo school's partnership (every non-negotiable
activity, one left out with its reason, agreed with the headteachers), partnership visits for
several of its schools (one delivered, one booked), and an open request for a service the
catalogue does not list. Loaded once, through the services."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import AcademicYear, PartnershipPlan, School, ServiceRequest, User
from traded_app.models.types import Role
from traded_app.services.days import activities, plans, shared_visits
from traded_app.services.days import ledger as days_ledger
from traded_app.services.days.visits import VisitError
from traded_app.services.ordering import bespoke
from traded_app.services.platform.settings import today

log = logging.getLogger(__name__)

PLANNED_WHEN = ["Autumn term", "Before Ofsted's window, spring term", "Within a term of starting"]
LEFT_OUT = "No school in the partnership has vulnerable pupils' outcomes causing concern this year"
REQUEST = (
    "Training for our new SENCo and two teaching assistants on running the school's first "
    "resource base for pupils with speech and language needs",
    "Before Easter",
    4,
)


def load(year: AcademicYear, demo_schools: list[School]) -> int:
    """The plan, its visits and the request; returns the partnership visits made."""
    _request(year, demo_schools[0])
    school = next((s for s in demo_schools if s.partnership_id is not None), None)
    adviser = _user(email="adviser@example.org")
    admin = _user(role=Role.LA_ADMIN)
    if school is None or adviser is None or admin is None or school.partnership_id is None:
        return 0
    exists = db.session.execute(
        select(func.count())
        .select_from(PartnershipPlan)
        .where(
            PartnershipPlan.partnership_id == school.partnership_id,
            PartnershipPlan.academic_year_id == year.id,
        )
    ).scalar_one()
    if exists:
        return 0
    partnership = plans.partnership(school.partnership_id)
    members = [school, *_most_left(partnership.id, school, year)][:4]
    plan = plans.start_plan(partnership, year, adviser.id, admin)
    required = [a for a in activities.activities() if a.non_negotiable]
    for index, activity in enumerate(required):
        left_out = index == len(required) - 1
        plans.save_item(
            plan,
            plans.ItemDetails(
                activity_id=activity.id,
                school_ids=[] if left_out else [s.id for s in members[: 2 + index % 3]],
                planned_half_days=None if left_out else 4 - index,
                planned_when="" if left_out else PLANNED_WHEN[index % len(PLANNED_WHEN)],
                omitted_reason=LEFT_OUT if left_out else "",
            ),
            adviser,
        )
    plans.agree(plan, "Agreed at the partnership headteachers' meeting in September", adviser)
    made = 0
    delivered = _book(plan, adviser, admin, members[1:3], _past_days(year))
    if delivered is not None:
        shared_visits.deliver(
            delivered, adviser, "Went through each school's data with both headteachers."
        )
        made += 1
    # Two of the other schools with the most core days left (the demo school's are its own).
    later = _most_left(partnership.id, school, year)[:2]
    if _book(plan, adviser, admin, later, _future_days(year), item=1) is not None:
        made += 1
    db.session.flush()
    return made


def _most_left(partnership_id: int, school: School, year: AcademicYear) -> list[School]:
    """The partnership's other schools, those with the most core days left to book first."""
    return sorted(
        (s for s in plans.members(partnership_id) if s.id != school.id),
        key=lambda s: (-days_ledger.school_ledger(s.id, year.id).core.not_yet_booked, s.urn),
    )


def _user(*, email: str = "", role: Role | None = None) -> User | None:
    stmt = select(User).where(User.active.is_(True)).order_by(User.id)
    stmt = stmt.where(User.email == email) if email else stmt.where(User.role == role)
    return db.session.execute(stmt).scalars().first()


def _past_days(year: AcademicYear) -> Iterator[date]:
    day = today() - timedelta(days=10)
    while day >= year.starts_on:
        yield day
        day -= timedelta(days=1)


def _future_days(year: AcademicYear) -> Iterator[date]:
    day = today() + timedelta(days=14)
    while day <= year.ends_on:
        yield day
        day += timedelta(days=1)


def _book(
    plan: PartnershipPlan,
    adviser: User,
    admin: User,
    schools: list[School],
    days: Iterator[date],
    item: int = 0,
) -> plans.SharedVisit | None:
    """A whole-day partnership visit on the first of `days` every school's calendar, core days
    and the adviser's diary allow (tried 200 days at most)."""
    for _tries, day in zip(range(200), days, strict=False):
        try:
            with db.session.begin_nested():
                return shared_visits.book(
                    plan,
                    shared_visits.NewSharedVisit(
                        adviser_id=adviser.id,
                        visit_date=day,
                        half_days=2,
                        school_ids=[s.id for s in schools],
                        plan_item_id=plan.items[item].id,
                    ),
                    admin,
                    booked_on=min(day, today() - timedelta(days=14)),
                )
        except VisitError as error:
            log.debug("Demo partnership visit on %s left out: %s", day, error)
    return None


def _request(year: AcademicYear, school: School) -> None:
    """An open request from the demo school's business manager (once)."""
    if db.session.execute(select(func.count()).select_from(ServiceRequest)).scalar_one():
        return
    asker = (
        db.session.execute(
            select(User).where(
                User.school_id == school.id, User.role == Role.SCHOOL_BUSINESS_MANAGER
            )
        )
        .scalars()
        .first()
    )
    if asker is None:
        return
    what, when, half_days = REQUEST
    bespoke.ask(school, year, asker, what, when, half_days)
