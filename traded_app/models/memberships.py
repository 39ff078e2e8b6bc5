"""A person's role at a school: school staff may hold one at each of several schools, and a
school has any number of staff. `User.school_id` and `User.role` stay as the person's first
(default) school and role; the school chosen in the header is kept in the session and checked
against these rows on every request."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import (
    CheckConstraint,
    Connection,
    ForeignKey,
    Table,
    UniqueConstraint,
    delete,
    event,
    insert,
    inspect,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.schools import School
from traded_app.models.types import SCHOOL_ROLES, Role, enum_column
from traded_app.models.users import User

_school_roles = ", ".join(f"'{r.value}'" for r in sorted(SCHOOL_ROLES))


class SchoolMembership(Base):
    __tablename__ = "school_membership"
    __table_args__ = (
        UniqueConstraint("user_id", "school_id"),
        CheckConstraint(f"role IN ({_school_roles})", name="school_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "membership_role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    school: Mapped[School] = relationship()

    def __repr__(self) -> str:
        return f"<SchoolMembership {self.user_id} {self.school_id} {self.role}>"


# Every school user has a membership for the school and role on their row (their first school):
# kept in step here, whoever creates or edits the account (invitations, the staff import, the
# admin pages, demo data and tests alike).
_MEMBERSHIP = cast(Table, SchoolMembership.__table__)


@event.listens_for(User, "after_insert")
def _first_membership(_mapper: object, connection: Connection, user: User) -> None:
    if user.school_id is not None:
        connection.execute(
            insert(_MEMBERSHIP).values(
                user_id=user.id, school_id=user.school_id, role=user.role, created_at=utcnow()
            )
        )


@event.listens_for(User, "after_update")
def _follow_first_school(_mapper: object, connection: Connection, user: User) -> None:
    state = inspect(user)
    school = state.attrs.school_id.history
    role = state.attrs.role.history
    if not school.has_changes() and not role.has_changes():
        return
    old_school = (school.deleted or [None])[0] if school.has_changes() else user.school_id
    table = _MEMBERSHIP
    if old_school is not None and old_school != user.school_id:
        connection.execute(
            delete(table).where(table.c.user_id == user.id, table.c.school_id == old_school)
        )
    if user.school_id is None:
        connection.execute(delete(table).where(table.c.user_id == user.id))
        return
    changed = connection.execute(
        update(table)
        .where(table.c.user_id == user.id, table.c.school_id == user.school_id)
        .values(role=user.role)
    )
    if changed.rowcount == 0:
        connection.execute(
            insert(table).values(
                user_id=user.id, school_id=user.school_id, role=user.role, created_at=utcnow()
            )
        )
