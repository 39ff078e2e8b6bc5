"""The school year's calendar: the council's term dates, INSET days and England's bank holidays."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from traded_app.models.base import Base, UTCDateTime, utcnow


class TermPeriod(Base):
    """One term of an academic year as the council publishes it (Autumn 1, Autumn 2, ...): its
    first and last teaching days. Days between terms are holidays."""

    __tablename__ = "term_period"
    __table_args__ = (
        CheckConstraint("first_day <= last_day", name="term_in_order"),
        UniqueConstraint("academic_year_id", "first_day", name="uq_term_period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    name: Mapped[str] = mapped_column(String(60))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class InsetDay(Base):
    """A training day with no pupils in school: the council's (school_id NULL, for every school
    that follows the council's term dates) or one school's own."""

    __tablename__ = "inset_day"
    __table_args__ = (Index("ix_inset_day_on", "inset_on", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inset_on: Mapped[date] = mapped_column(Date)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class BankHoliday(Base):
    """A bank holiday loaded by `flask update-bank-holidays` (GOV.UK's list); the app also ships
    the list as it stood on release (traded_app/data/bank_holidays.json)."""

    __tablename__ = "bank_holiday"

    holiday_on: Mapped[date] = mapped_column(Date, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
