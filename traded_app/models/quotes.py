"""Each academic year's terms and conditions (versioned), and quotes a school downloads to raise
a purchase order: numbered, priced as they were, valid until a date. Both are kept for good."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.domain.pricing import line_net_pence
from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.council import AcademicYear
from traded_app.models.schools import School
from traded_app.models.types import VatTreatment, enum_column
from traded_app.models.users import User

# Rows kept as they were written: a new version of the terms or a new quote, never a change.
IMMUTABLE_QUOTE_TABLES = ("terms_version", "quote", "quote_line")


class TermsVersion(Base):
    """One version of an academic year's terms and conditions, as the service manager wrote it.
    A change is a new version: the orders that accepted an older one keep pointing at it."""

    __tablename__ = "terms_version"
    __table_args__ = (
        UniqueConstraint("academic_year_id", "version"),
        CheckConstraint("version > 0", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    academic_year: Mapped[AcademicYear] = relationship()
    published_by: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        return f"{self.academic_year.label} terms and conditions, version {self.version}"


class NumberSeries(Base):
    """The last number used in a series that is not an issued document's (quotes): like
    `DocumentCounter`, locked while a number is taken, so numbers never repeat."""

    __tablename__ = "number_series"
    __table_args__ = (
        UniqueConstraint("series", "financial_year"),
        CheckConstraint("last_number >= 0", name="last_number_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(16))
    financial_year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Quote(Base):
    """A quote for a school's basket: its prices are kept until `valid_until` (inclusive)."""

    __tablename__ = "quote"
    __table_args__ = (
        CheckConstraint("sequence > 0", name="sequence_positive"),
        CheckConstraint("valid_until >= issue_date", name="valid_after_issue"),
        CheckConstraint("gross_pence = net_pence + vat_pence", name="gross_is_net_plus_vat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    financial_year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issue_date: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    terms_version_id: Mapped[int | None] = mapped_column(ForeignKey("terms_version.id"))
    half_days: Mapped[int] = mapped_column(Integer)
    net_pence: Mapped[int] = mapped_column(Integer)
    vat_pence: Mapped[int] = mapped_column(Integer)
    gross_pence: Mapped[int] = mapped_column(Integer)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)

    school: Mapped[School] = relationship()
    academic_year: Mapped[AcademicYear] = relationship()
    created_by: Mapped[User | None] = relationship()
    terms_version: Mapped[TermsVersion | None] = relationship()
    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote", order_by="QuoteLine.id", cascade="save-update, merge"
    )


class QuoteLine(Base):
    """Days of one service at the price quoted."""

    __tablename__ = "quote_line"
    __table_args__ = (
        UniqueConstraint("quote_id", "service_id"),
        CheckConstraint("half_days > 0", name="half_days_positive"),
        CheckConstraint("price_per_day_pence >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quote.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    service_code: Mapped[str] = mapped_column(String(32))
    service_name: Mapped[str] = mapped_column(String(200))
    half_days: Mapped[int] = mapped_column(Integer)
    price_per_day_pence: Mapped[int] = mapped_column(Integer)
    vat_treatment: Mapped[VatTreatment] = mapped_column(enum_column(VatTreatment, "vat_treatment"))
    vat_rate_bp: Mapped[int] = mapped_column(Integer)

    quote: Mapped[Quote] = relationship(back_populates="lines")

    @property
    def net_pence(self) -> int:
        return line_net_pence(self.half_days, self.price_per_day_pence)
