"""Trust finance staff ordering for one of their trust's academies, where the trust says so.

The order is the academy's: the same draft (one per school and year), the same check answers
and submission, the academy's approval limit and headteacher, ledger, documents and days. The
trust person is recorded as who placed it (`submitted_by`). Which academy they are ordering for
is their choice, kept outside the services (the session); it is checked here on every use
against the trust's setting and membership, so switching the setting off, or the academy
leaving the trust or closing, stops them at once, drafts included. A trust person never
approves: the workflow's steps are school staff's (workflow.refusal).
"""

from __future__ import annotations

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import School, Trust, User
from traded_app.services.ordering.basket import OrderError
from traded_app.services.platform.errors import DomainError

NOT_ALLOWED = (
    "Your trust has not asked the council to let its staff order for its academies. "
    "The council's service manager records the trust's decision"
)
NOT_A_MEMBER = "That school is not one of your trust's open academies, so you cannot order for it"
NONE_CHOSEN = "Choose the academy you are ordering for from your trust's academies"


class TrustOrderingRefused(DomainError):
    """A trust person may not order for that school now; the message says why."""

    # A lookup's answer as much as a refusal: it changes nothing to undo.
    rolls_back = False


def may_order(trust: Trust | None) -> bool:
    """Whether the trust lets its finance staff order for its academies."""
    return trust is not None and trust.staff_may_order


def refusal(user: User, school: School) -> str | None:
    """Why `user` (trust finance) may not order for `school` now, or None when they may."""
    if not user.is_trust_user or user.trust_id is None:
        return NOT_A_MEMBER
    trust = db.session.get(Trust, user.trust_id)
    if not may_order(trust):
        return NOT_ALLOWED
    if school.trust_id != user.trust_id or not school.is_open:
        return NOT_A_MEMBER
    return None


def check_submitter(user: User, school: School) -> None:
    """Refuse (OrderError) a trust person submitting an order for `school` they may not order
    for now: the trust stopped its staff, or the academy left the trust, since the draft began.
    Anyone else is checked by the pages that reach the draft."""
    if user.is_trust_user:
        problem = refusal(user, school)
        if problem is not None:
            raise OrderError(problem)


def academy_to_order_for(user: User, school_id: object) -> School:
    """The academy `user` is ordering for (`school_id` as kept between requests, never a
    posted value), or TrustOrderingRefused saying why not."""
    if not isinstance(school_id, int) or isinstance(school_id, bool):
        raise TrustOrderingRefused(NONE_CHOSEN)
    school = db.session.get(School, school_id)
    if school is None:
        raise TrustOrderingRefused(NOT_A_MEMBER)
    problem = refusal(user, school)
    if problem is not None:
        raise TrustOrderingRefused(problem)
    return school


def academy_by_urn(user: User, urn: int) -> School:
    """One of the user's trust's academies to start ordering for, by URN (TrustOrderingRefused
    otherwise)."""
    school = db.session.scalars(select(School).where(School.urn == urn)).one_or_none()
    if school is None:
        raise TrustOrderingRefused(NOT_A_MEMBER)
    problem = refusal(user, school)
    if problem is not None:
        raise TrustOrderingRefused(problem)
    return school
