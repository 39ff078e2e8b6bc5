"""Setting the service up from an empty database: which set-up tasks the service manager has
finished, and the council's logo (a PNG kept in the database, printed on documents)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from traded_app.models.base import Base, UTCDateTime, utcnow


class SetupTask(Base):
    """A task of "Set up the service" that the service manager said is complete."""

    __tablename__ = "setup_task"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class CouncilLogo(Base):
    """A logo the council uploaded, kept by its SHA-256: the council's settings name the current
    one, and each document the one it was issued with (so its PDF renders the same again)."""

    __tablename__ = "council_logo"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
