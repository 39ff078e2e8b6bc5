"""CSV imports other than GIAS (staff to invite, opening balances): an uploaded file, checked
row by row and kept as JSON until the person who uploaded it confirms or discards it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.types import enum_column
from traded_app.models.users import User


class CsvImportKind(StrEnum):
    STAFF = "staff"
    OPENING_BALANCES = "opening_balances"


class CsvImportStatus(StrEnum):
    PREVIEWED = "previewed"  # checked; nothing changed yet
    APPLIED = "applied"
    DISCARDED = "discarded"


class CsvImport(Base):
    __tablename__ = "csv_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CsvImportKind] = mapped_column(enum_column(CsvImportKind, "csv_import_kind"))
    status: Mapped[CsvImportStatus] = mapped_column(
        enum_column(CsvImportStatus, "csv_import_status"), default=CsvImportStatus.PREVIEWED
    )
    filename: Mapped[str] = mapped_column(String(255), default="")
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The checked rows as JSON: each with its line number, values and what confirming does.
    rows: Mapped[str] = mapped_column(Text, default="[]")

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    applied_by: Mapped[User | None] = relationship(foreign_keys=[applied_by_id])
