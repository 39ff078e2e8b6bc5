"""A headteacher's rating of a delivered visit, asked for once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.users import User
from traded_app.models.visits import Visit


class VisitFeedback(Base):
    """How the school rated a delivered visit (1 to 5) and what it said. One per visit."""

    __tablename__ = "visit_feedback"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_one_to_five"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    given_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    visit: Mapped[Visit] = relationship()
    given_by: Mapped[User] = relationship()
