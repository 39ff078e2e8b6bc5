"""GIAS imports: an uploaded Get Information About Schools file, previewed, then applied."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.types import enum_column
from traded_app.models.users import User


class GiasImportStatus(StrEnum):
    PREVIEWED = "previewed"  # parsed and checked; nothing changed yet
    APPLIED = "applied"
    DISCARDED = "discarded"

    @property
    def label(self) -> str:
        return {"previewed": "Waiting for confirmation"}.get(self.value, self.value.capitalize())


class GiasImport(Base):
    __tablename__ = "gias_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[GiasImportStatus] = mapped_column(
        enum_column(GiasImportStatus, "gias_import_status"), default=GiasImportStatus.PREVIEWED
    )
    filename: Mapped[str] = mapped_column(String(255), default="")
    encoding: Mapped[str] = mapped_column(String(20), default="")
    la_code: Mapped[str] = mapped_column(String(3))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_in_la: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Counts of what applying it did (or would do), as JSON.
    summary: Mapped[str] = mapped_column(Text, default="{}")
    # The council's rows of the file, normalised, as JSON: what confirming applies.
    rows: Mapped[str] = deferred(mapped_column(Text, default="[]", nullable=False))

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    applied_by: Mapped[User | None] = relationship(foreign_keys=[applied_by_id])
