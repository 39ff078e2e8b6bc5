"""Feedback on delivered visits: the school's headteachers are asked once, by e-mail and on the
Days page, to rate the visit from 1 to 5 and say how it went; the service manager sees the
ratings by service, adviser or quadrant, month by month.

Asked once: `ask_for` marks the visit when it queues the e-mail and never asks again. Given
once: a visit has at most one rating (a unique key), from a headteacher of its school.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from traded_app import formatting
from traded_app.extensions import db
from traded_app.models import (
    OrderLine,
    Quadrant,
    School,
    Service,
    SharedVisit,
    User,
    Visit,
    VisitFeedback,
    VisitStatus,
)
from traded_app.models.base import utcnow
from traded_app.models.partnership_orders import PartnershipOrderLine
from traded_app.models.types import Role
from traded_app.services.platform import memberships, outbox
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.links import absolute_url

MAX_COMMENT_LENGTH = 2000
ASK_WITHIN_DAYS = 120  # older delivered visits are no longer put to the school
RATINGS = {
    5: "Excellent",
    4: "Good",
    3: "Satisfactory",
    2: "Poor",
    1: "Very poor",
}
GROUPINGS = {"service": "Service", "adviser": "Adviser", "quadrant": "Quadrant"}


class FeedbackError(DomainError, ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _headteachers(school_id: int) -> list[str]:
    return list(
        db.session.execute(
            select(User.email)
            .where(User.id.in_(memberships.user_ids_at(school_id, Role.HEADTEACHER)))
            .where(User.active.is_(True))
            .order_by(User.id)
        ).scalars()
    )


def ask_for(visit: Visit) -> None:
    """Ask the school's headteachers to rate a visit just delivered (once)."""
    if visit.status != VisitStatus.DELIVERED or visit.feedback_requested_at is not None:
        return
    visit.feedback_requested_at = utcnow()
    link = absolute_url("feedback.give_feedback", visit_id=visit.id)
    body = (
        f"{visit.adviser.name} visited {visit.school.name} on "
        f"{formatting.long_date(visit.visit_date)} ({visit.purpose}).\n\n"
        "How did it go? Rate the visit from 1 to 5 and tell us what worked and what could be "
        "better. It takes a minute, and it helps us plan next year's support.\n\n"
        + (f"{link}\n\n" if link else "Sign in and open Your days to answer.\n\n")
        + "You will be asked only once about this visit."
    )
    outbox.queue_email(
        _headteachers(visit.school_id),
        f"How was the visit on {formatting.long_date(visit.visit_date)}?",
        body,
        purpose="Feedback on a visit",
        school_id=visit.school_id,
        kind="visit_feedback",
        ref_id=visit.id,
    )


def waiting_for(school_id: int) -> list[Visit]:
    """The school's delivered visits it has been asked about and not yet rated, newest first."""
    since = utcnow() - timedelta(days=ASK_WITHIN_DAYS)
    return list(
        db.session.execute(
            select(Visit)
            .options(joinedload(Visit.adviser))
            .outerjoin(VisitFeedback, VisitFeedback.visit_id == Visit.id)
            .where(
                Visit.school_id == school_id,
                Visit.status == VisitStatus.DELIVERED,
                Visit.feedback_requested_at >= since,
                VisitFeedback.id.is_(None),
            )
            .order_by(Visit.visit_date.desc(), Visit.id.desc())
        ).scalars()
    )


class NoSuchVisit(DomainError):
    pass


def visit_to_rate(user: User, visit_id: int) -> Visit:
    """A delivered visit to the user's own school, else NoSuchVisit (shown as not found)."""
    visit = db.session.get(Visit, visit_id) if 0 < visit_id < 2**31 else None
    if visit is None or user.school_id is None or visit.school_id != user.school_id:
        raise NoSuchVisit
    if visit.status != VisitStatus.DELIVERED:
        raise NoSuchVisit
    return visit


def feedback_of(visit_id: int) -> VisitFeedback | None:
    return db.session.execute(
        select(VisitFeedback).where(VisitFeedback.visit_id == visit_id)
    ).scalar_one_or_none()


def may_give(visit: Visit, user: User) -> bool:
    return user.role == Role.HEADTEACHER and user.school_id == visit.school_id


def give(visit: Visit, user: User, rating: int | None, comment: str) -> VisitFeedback:
    """Record the headteacher's rating; refused when already given or not theirs to give."""
    if not may_give(visit, user):
        raise FeedbackError("Only a headteacher of the school can rate its visits")
    if visit.status != VisitStatus.DELIVERED:
        raise FeedbackError(f"{visit.reference} has not been delivered, so it cannot be rated")
    if feedback_of(visit.id) is not None:
        raise FeedbackError(f"{visit.reference} has already been rated")
    if rating not in RATINGS:
        raise FeedbackError("Select how the visit went, from 1 to 5", "rating")
    text = comment.strip()
    if len(text) > MAX_COMMENT_LENGTH:
        raise FeedbackError(f"Comments must be {MAX_COMMENT_LENGTH} characters or fewer", "comment")
    row = VisitFeedback(
        visit_id=visit.id, rating=rating, comment=text, given_by_id=user.id, given_at=utcnow()
    )
    db.session.add(row)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise FeedbackError(f"{visit.reference} has already been rated") from None
    return row


# --- Ratings for the service manager ----------------------------------------------------------


def average(count: int, total: int) -> str:
    """The mean of `count` ratings adding up to `total`, to one decimal place, rounded half up
    in whole numbers (no float): "3.5"."""
    tenths = (total * 20 + count) // (count * 2)
    return f"{tenths // 10}.{tenths % 10}"


@dataclass(frozen=True)
class GroupRatings:
    """A group's ratings as whole numbers: how many, and what they add up to, overall and by
    month ("2026-11" -> (count, total)); averages are worked out only to be shown."""

    name: str
    count: int
    total: int
    by_month: dict[str, tuple[int, int]]

    @property
    def average(self) -> str:
        return average(self.count, self.total)

    def month_average(self, key: str) -> str:
        count, total = self.by_month.get(key, (0, 0))
        return average(count, total) if count else ""


@dataclass(frozen=True)
class Ratings:
    grouping: str
    months: list[str]  # "2026-11", oldest first
    groups: list[GroupRatings]
    recent: list[VisitFeedback]


def _group_column(grouping: str) -> Any:
    if grouping == "adviser":
        return User.name
    if grouping == "quadrant":
        return func.coalesce(Quadrant.name, "No quadrant")
    return case((Service.name.is_(None), "Core days"), else_=Service.name)


def month_keys(until: date, months: int) -> list[str]:
    keys: list[str] = []
    year, month = until.year, until.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return keys[::-1]


def ratings(grouping: str, months: int, today: date) -> Ratings:
    """Counts and average ratings per group, overall and per month, for the last `months`."""
    grouping = grouping if grouping in GROUPINGS else "service"
    keys = month_keys(today, months)
    start = datetime.fromisoformat(keys[0] + "-01T00:00:00+00:00")
    group = _group_column(grouping)
    month = func.substr(func.cast(VisitFeedback.given_at, db.String), 1, 7)
    query = (
        select(group, month, func.count(), func.sum(VisitFeedback.rating))
        .select_from(VisitFeedback)
        .join(Visit, Visit.id == VisitFeedback.visit_id)
        .join(User, User.id == Visit.adviser_id)
        .join(School, School.id == Visit.school_id)
        .outerjoin(Quadrant, Quadrant.id == School.quadrant_id)
        .outerjoin(OrderLine, OrderLine.id == Visit.order_line_id)
        # A visit against a partnership order: rated under the service the partnership bought.
        .outerjoin(SharedVisit, SharedVisit.id == Visit.shared_visit_id)
        .outerjoin(
            PartnershipOrderLine, PartnershipOrderLine.id == SharedVisit.partnership_order_line_id
        )
        .outerjoin(
            Service,
            Service.id == func.coalesce(OrderLine.service_id, PartnershipOrderLine.service_id),
        )
        .where(VisitFeedback.given_at >= start)
        .group_by(group, month)
    )
    table: dict[str, dict[str, tuple[int, int]]] = {}
    for name, key, count, total in db.session.execute(query).tuples().all():
        table.setdefault(str(name), {})[str(key)] = (int(count), int(total or 0))
    groups = [
        GroupRatings(
            name,
            sum(n for n, _ in by_month.values()),
            sum(t for _, t in by_month.values()),
            by_month,
        )
        for name, by_month in sorted(table.items())
    ]
    recent = list(
        db.session.execute(
            select(VisitFeedback)
            .options(joinedload(VisitFeedback.visit).joinedload(Visit.school))
            .where(VisitFeedback.given_at >= start)
            .order_by(VisitFeedback.given_at.desc())
            .limit(20)
        ).scalars()
    )
    return Ratings(grouping, keys, groups, recent)
