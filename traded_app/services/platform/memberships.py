"""School staff's memberships: the schools a person serves and their role at each.

The school a person works on is chosen in the header and kept in the session; every request
checks it against their memberships (`apply_choice`) and, for that request only, makes the
signed-in `User` read as that school and role. The row keeps the person's first school, and
nothing of the choice is ever written to it: the values are set as if loaded from the database
(so no flush writes them) and set again if the row is reloaded (after a commit or rollback).
Everything that reads `user.school_id`, `user.school` or `user.role` (lists, approval limits,
"headteacher of the school") therefore sees the chosen school's membership.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, event, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from traded_app.extensions import db
from traded_app.models import School, SchoolMembership, User
from traded_app.models.types import Role

_CHOSEN_ATTR = "_traded_chosen_membership"


@dataclass(frozen=True)
class Choice:
    school_id: int
    school_name: str
    urn: int
    role: Role


def memberships_of(user_id: int) -> list[SchoolMembership]:
    """A person's memberships with their schools, by school name."""
    return list(
        db.session.scalars(
            select(SchoolMembership)
            .join(School, School.id == SchoolMembership.school_id)
            .options(joinedload(SchoolMembership.school))
            .where(SchoolMembership.user_id == user_id)
            .order_by(School.name, School.id)
        )
    )


def choices_of(user: User) -> list[Choice]:
    return [
        Choice(m.school_id, m.school.name, m.school.urn, m.role) for m in memberships_of(user.id)
    ]


def membership(user_id: int, school_id: int) -> SchoolMembership | None:
    return db.session.scalars(
        select(SchoolMembership).where(
            SchoolMembership.user_id == user_id, SchoolMembership.school_id == school_id
        )
    ).one_or_none()


def apply_choice(user: User, school_id: int | None) -> int | None:
    """Make `user` read as their membership at `school_id` for this request. Returns the school
    applied, or None when `school_id` is not one of theirs (the user keeps their first school)."""
    if school_id is None or not user.is_school_user or school_id == _row_school_id(user):
        return None
    found = membership(user.id, school_id)
    if found is None:
        return None
    setattr(user, _CHOSEN_ATTR, (found.school_id, found.role, found.school))
    _set(user)
    return found.school_id


def _row_school_id(user: User) -> int | None:
    chosen = getattr(user, _CHOSEN_ATTR, None)
    return None if chosen is not None else user.school_id


def _set(user: User) -> None:
    school_id, role, school = getattr(user, _CHOSEN_ATTR)
    set_committed_value(user, "school_id", school_id)
    set_committed_value(user, "role", role)
    set_committed_value(user, "school", school)


@event.listens_for(User, "refresh")
def _keep_choice(user: User, _context: object, _attrs: object) -> None:
    """A reloaded row (after a commit or a rollback) reads as the chosen school again."""
    if getattr(user, _CHOSEN_ATTR, None) is not None:
        _set(user)


def add(user: User, school_id: int, role: Role, now: datetime | None = None) -> SchoolMembership:
    """Give `user` a role at a school (or change their role there)."""
    found = membership(user.id, school_id)
    if found is None:
        found = SchoolMembership(user_id=user.id, school_id=school_id, role=role)
        if now is not None:
            found.created_at = now
        db.session.add(found)
    else:
        found.role = role
    db.session.flush()
    return found


def user_ids_at(school_id: int, role: Role | None = None) -> Select[tuple[int]]:
    """A subquery of the ids of the people with a role (any, or `role`) at the school."""
    stmt = select(SchoolMembership.user_id).where(SchoolMembership.school_id == school_id)
    if role is not None:
        stmt = stmt.where(SchoolMembership.role == role)
    return stmt
