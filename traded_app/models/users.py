"""People who sign in, with one role each and, for school roles, their school."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.council import Quadrant
from traded_app.models.schools import School
from traded_app.models.trusts import Trust
from traded_app.models.types import COUNCIL_ROLES, SCHOOL_ROLES, Role, enum_column


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


_school_roles = ", ".join(f"'{r.value}'" for r in sorted(SCHOOL_ROLES))


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (
        # School users belong to exactly one school; council users to none.
        CheckConstraint(
            f"(role IN ({_school_roles})) = (school_id IS NOT NULL)", name="school_matches_role"
        ),
        Index("ix_user_account_calendar_token", "calendar_token", unique=True),
        # Trust finance staff belong to exactly one trust; nobody else to any.
        CheckConstraint(
            f"(role = '{Role.TRUST_FINANCE.value}') = (trust_id IS NOT NULL)",
            name="trust_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Changing the token signs the user out everywhere (deactivation, password change).
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The secret in an adviser's private calendar feed address; reset to a new one on request.
    calendar_token: Mapped[str | None] = mapped_column(String(64))
    # When the latest invitation link was sent (its expiry counts from here).
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An adviser's quadrant team.
    quadrant_id: Mapped[int | None] = mapped_column(ForeignKey("quadrant.id"), index=True)
    # A trust finance person's trust.
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trust.id"), index=True)

    school: Mapped[School | None] = relationship()
    quadrant: Mapped[Quadrant | None] = relationship()
    trust: Mapped[Trust | None] = relationship()

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_school_user(self) -> bool:
        return self.role in SCHOOL_ROLES

    @property
    def is_council_user(self) -> bool:
        return self.role in COUNCIL_ROLES

    @property
    def is_trust_user(self) -> bool:
        return self.role == Role.TRUST_FINANCE

    def may_see(self, school: School) -> bool:
        """Whether this person may see the school's records: school staff their (chosen)
        school's, trust finance staff their trust's academies', council staff every school's."""
        if self.is_school_user:
            return self.school_id == school.id
        if self.is_trust_user:
            return self.trust_id is not None and school.trust_id == self.trust_id
        return True

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
