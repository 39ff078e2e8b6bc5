"""The council's rules for days over time: how many half-days a school can realistically use in
a teaching week (what makes days "at risk"), the warnings headteachers get, and what happens to
unused bought days at the end of the academic year (lapse, or carry over up to a limit; core
days only when the rule says so). One row, like the council's settings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.types import enum_column


class YearEndRule(StrEnum):
    LAPSE = "lapse"
    CARRY_OVER = "carry_over"

    @property
    def label(self) -> str:
        return {
            "lapse": "Unused bought days lapse",
            "carry_over": "Unused bought days carry over, up to a limit",
        }[self.value]


class DaysRules(Base):
    __tablename__ = "days_rules"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("usable_half_days_per_week BETWEEN 1 AND 20", name="pace_in_range"),
        CheckConstraint("carry_over_max_half_days >= 0", name="carry_not_negative"),
        CheckConstraint("lapse_warning_days BETWEEN 0 AND 120", name="warning_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    # Half-days a school can realistically use in one teaching week (2: a day a week).
    usable_half_days_per_week: Mapped[int] = mapped_column(Integer, default=2)
    # Headteachers are warned (Days page and e-mail, at most every four weeks) of days at risk.
    warn_at_risk: Mapped[bool] = mapped_column(default=True)
    # ... and, this many days before the year ends, of days that would lapse (0: no warning).
    lapse_warning_days: Mapped[int] = mapped_column(Integer, default=31)
    rule: Mapped[YearEndRule] = mapped_column(
        enum_column(YearEndRule, "year_end_rule"), default=YearEndRule.LAPSE
    )
    carry_over_max_half_days: Mapped[int] = mapped_column(Integer, default=0)
    core_carries_over: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class YearClose(Base):
    """An academic year closed by the service manager: its schools' unused days carried over
    into `to_year_id` or lapsed (the `DaysTransfer` rows that point here), by the rule as it was
    then. A year is closed once (the unique year)."""

    __tablename__ = "year_close"
    __table_args__ = (
        CheckConstraint("carried_half_days >= 0", name="carried_not_negative"),
        CheckConstraint("lapsed_half_days >= 0", name="lapsed_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), unique=True)
    to_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    rule: Mapped[YearEndRule] = mapped_column(enum_column(YearEndRule, "year_end_rule"))
    carry_over_max_half_days: Mapped[int] = mapped_column(Integer)
    core_carries_over: Mapped[bool] = mapped_column()
    schools: Mapped[int] = mapped_column(Integer)
    carried_half_days: Mapped[int] = mapped_column(Integer)
    lapsed_half_days: Mapped[int] = mapped_column(Integer)
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
