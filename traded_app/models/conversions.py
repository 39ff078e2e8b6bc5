"""Academy conversions that take effect on the academy's open date, and the days they move.

A GIAS import that finds a conversion opens the academy's record at once (pointing back to the
maintained school) and records a `SchoolConversion` to happen on `converts_on`; until then the
maintained school keeps ordering and is recharged. On the date (the daily schedule, or the
service manager's confirmation) the remaining days, booked visits and open orders move
(`transferred_at`), each days figure moved recorded as a `DaysTransfer` on both records; the
staff's access moves when the service manager confirms (`confirmed_at`).

The same `DaysTransfer` rows record the year's end (`kind`): a closed year's unused days that
carry over (less on the old year, more on the next) or lapse (less on the old year), each with
the `YearClose` that made it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.schools import School
from traded_app.models.types import enum_column


class SchoolConversion(Base):
    __tablename__ = "school_conversion"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), unique=True)
    new_school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), unique=True)
    converts_on: Mapped[date] = mapped_column(Date, index=True)
    # The maintained school's last day (it closes when the conversion is carried out).
    old_closes_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    transferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    old_school: Mapped[School] = relationship(foreign_keys=[old_school_id])
    new_school: Mapped[School] = relationship(foreign_keys=[new_school_id])


class DaysTransferKind(StrEnum):
    CONVERSION = "conversion"
    CARRY_OVER = "carry_over"
    LAPSE = "lapse"


class DaysTransfer(Base):
    """Half-days moved in the days ledger. On a conversion, one row on each record: negative on
    the maintained school's, positive on the academy's. At the year's end, carried-over days are
    a negative row on the closed year and a positive one on the next; lapsed days a negative row
    on the closed year. `order_line_id` is the traded line the days were bought on (NULL for
    core days)."""

    __tablename__ = "days_transfer"
    __table_args__ = (
        CheckConstraint("half_days <> 0", name="not_zero"),
        CheckConstraint(
            "(kind = 'conversion') = (conversion_id IS NOT NULL)", name="conversion_has_id"
        ),
        CheckConstraint(
            "(kind = 'conversion') OR (year_close_id IS NOT NULL)", name="year_end_has_close"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DaysTransferKind] = mapped_column(
        enum_column(DaysTransferKind, "days_transfer_kind"), default=DaysTransferKind.CONVERSION
    )
    conversion_id: Mapped[int | None] = mapped_column(
        ForeignKey("school_conversion.id"), index=True
    )
    year_close_id: Mapped[int | None] = mapped_column(ForeignKey("year_close.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"))
    half_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
