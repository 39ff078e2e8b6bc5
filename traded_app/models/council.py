"""The council running the service: its details and the rules it sets as data."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow

DEFAULT_FINAL_NOTICE_TEXT = (
    "If the invoice is not paid within 14 days of this notice, we will pass the debt to the "
    "council's debt recovery team."
)


class CouncilSettings(Base):
    """One row: who the council is, how it is paid, and the numbers its rules use."""

    __tablename__ = "council_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("payment_terms_days BETWEEN 0 AND 365", name="payment_terms_range"),
        CheckConstraint("reminder_interval_days BETWEEN 1 AND 365", name="reminder_interval_range"),
        CheckConstraint(
            "invoice_timing IN ('on_confirmation', 'invoice_run')", name="invoice_timing_known"
        ),
        CheckConstraint(
            "financial_year_start_month BETWEEN 1 AND 12", name="financial_year_month_range"
        ),
        CheckConstraint("friendly_note_days BETWEEN 0 AND 60", name="friendly_note_range"),
        CheckConstraint(
            "reminders_before_final BETWEEN 0 AND 10", name="reminders_before_final_range"
        ),
        CheckConstraint("backups_kept BETWEEN 1 AND 365", name="backups_kept_range"),
        CheckConstraint(
            "late_buy_back_rule IN ('allowed', 'subject_to_capacity')",
            name="late_buy_back_rule_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(200))
    service_name: Mapped[str] = mapped_column(String(200), default="Traded services for schools")
    address: Mapped[str] = mapped_column(Text, default="")
    postcode: Mapped[str] = mapped_column(String(16), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    # Where schools send remittance advice (finance's inbox); the contact e-mail when empty.
    remittance_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    # The current logo (a CouncilLogo's SHA-256), printed on documents issued from now on.
    logo_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # False while the details are the placeholders `create-service-manager` wrote: documents
    # cannot be issued until the service manager has entered the council's real details.
    details_set: Mapped[bool] = mapped_column(default=True, server_default=true())
    # True for a council set up from an empty database (`create-service-manager`): schools'
    # staff cannot be invited until the set-up tasks they depend on are complete.
    setup_in_progress: Mapped[bool] = mapped_column(default=False, server_default=false())
    vat_number: Mapped[str] = mapped_column(String(32), default="")
    # The DfE's three-digit local authority code (Essex: 881): a GIAS import keeps only its rows.
    la_code: Mapped[str] = mapped_column(String(3), default="")
    bank_name: Mapped[str] = mapped_column(String(120), default="")
    bank_account_name: Mapped[str] = mapped_column(String(120), default="")
    bank_sort_code: Mapped[str] = mapped_column(String(8), default="")
    bank_account_number: Mapped[str] = mapped_column(String(8), default="")
    invoice_prefix: Mapped[str] = mapped_column(String(12), default="INV")
    recharge_prefix: Mapped[str] = mapped_column(String(12), default="RCH")
    credit_note_prefix: Mapped[str] = mapped_column(String(12), default="CRN")
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    # Quotes: their number series' prefix, and how many days their prices hold.
    quote_prefix: Mapped[str] = mapped_column(String(12), default="QUO", server_default="QUO")
    quote_validity_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    # "on_confirmation": each confirmed order is invoiced at once; "invoice_run": confirmed
    # orders wait for finance to issue them together (for example monthly).
    invoice_timing: Mapped[str] = mapped_column(String(16), default="on_confirmation")
    # Course places: "on_booking" charged when confirmed, "after_session" once the register is
    # taken (services.courses.charging).
    course_charge_timing: Mapped[str] = mapped_column(
        String(16), default="on_booking", server_default="on_booking"
    )
    financial_year_start_month: Mapped[int] = mapped_column(Integer, default=4)
    default_price_per_day_pence: Mapped[int] = mapped_column(Integer, default=45000)
    default_approval_limit_pence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cancellation_notice_days: Mapped[int] = mapped_column(Integer, default=10)
    # A delivered visit's report is due within this many working days (weekends and bank
    # holidays skipped) of the visit.
    visit_report_deadline_days: Mapped[int] = mapped_column(
        Integer, default=10, server_default="10"
    )
    # An overdue invoice's reminder e-mail goes at most once in this many days.
    reminder_interval_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    # Payment reminders on the council's policy, sent by the daily schedule at a time of day
    # (Europe/London): a friendly note this many days before the due date (0: none), reminders
    # after it every `reminder_interval_days`, and after this many reminders a final notice that
    # says what happens next in the council's own words. Off until the council turns them on.
    reminders_on: Mapped[bool] = mapped_column(default=False, server_default=false())
    friendly_note_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    reminders_before_final: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    reminder_send_time: Mapped[time] = mapped_column(
        Time, default=time(9, 0), server_default="09:00:00"
    )
    final_notice_text: Mapped[str] = mapped_column(
        Text, default=DEFAULT_FINAL_NOTICE_TEXT, server_default=DEFAULT_FINAL_NOTICE_TEXT
    )
    # The nightly SQLite backup (into BACKUP_DIR, keeping the newest `backups_kept`) and the
    # daily check of the stored PDFs, each at its time of day (Europe/London).
    backup_time: Mapped[time] = mapped_column(Time, default=time(2, 0), server_default="02:00:00")
    backups_kept: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    pdf_check_time: Mapped[time] = mapped_column(
        Time, default=time(3, 0), server_default="03:00:00"
    )
    # Core allocation rules, all in half-day units (DOMAIN.md "Core allocation").
    core_partnership_base_half_days: Mapped[int] = mapped_column(Integer, default=4)
    core_partnership_per_school_half_days: Mapped[int] = mapped_column(Integer, default=2)
    core_unpartnered_half_days: Mapped[int] = mapped_column(Integer, default=1)
    core_causing_concern_half_days: Mapped[int] = mapped_column(Integer, default=6)
    core_special_or_pru_half_days: Mapped[int] = mapped_column(Integer, default=4)
    core_enhanced_provision_half_days: Mapped[int] = mapped_column(Integer, default=2)
    core_headteacher_recruitment_half_days: Mapped[int] = mapped_column(Integer, default=2)
    # The council's own Stripe account for card payments (council data, like its bank
    # details): both empty means no card payments. Environment variables of the same names
    # override them (config.py). Never shown whole, never audited.
    stripe_secret_key: Mapped[str] = mapped_column(String(255), default="", server_default="")
    stripe_webhook_secret: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # Orders for next year placed after its buy-back window closed: "allowed" (treated like
    # any other) or "subject_to_capacity" (confirmed only from the days left once the window's
    # orders still waiting for a decision are counted: services/ordering/buy_back.py).
    late_buy_back_rule: Mapped[str] = mapped_column(
        String(24), default="allowed", server_default="allowed"
    )
    # Set by `seed-demo`; production refuses to start while it is true.
    demo_data: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AcademicYear(Base):
    """1 September to 31 August; days are allocated, ordered and delivered per academic year."""

    __tablename__ = "academic_year"
    __table_args__ = (CheckConstraint("ends_on > starts_on", name="dates_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    start_year: Mapped[int] = mapped_column(Integer, unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # The year's offer (its catalogue and prices) as published to schools for buying back,
    # with the window in which they order it ahead of the year (services/council/
    # offer_publishing.py; who published it is in the audit trail). NULL: not published, and
    # schools see nothing of it. The three are set together, the window's dates in order, by
    # that service (a CHECK here would make SQLite rebuild this table and lose its triggers).
    offer_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    buy_back_opens_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    buy_back_closes_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    @property
    def label(self) -> str:
        return f"{self.start_year}/{str(self.start_year + 1)[-2:]}"

    def __repr__(self) -> str:
        return f"<AcademicYear {self.label}>"


class Quadrant(Base):
    """An area team with its own traded capacity (Essex: Mid, North East, South, West)."""

    __tablename__ = "quadrant"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # A retired team serves no districts and takes no new partnerships; its history stays.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())

    districts: Mapped[list[QuadrantDistrict]] = relationship(
        back_populates="quadrant", order_by="QuadrantDistrict.name", cascade="all, delete-orphan"
    )
    capacities: Mapped[list[QuadrantCapacity]] = relationship(back_populates="quadrant")

    def __repr__(self) -> str:
        return f"<Quadrant {self.name}>"


class QuadrantDistrict(Base):
    """Maps a GIAS administrative district to the quadrant that serves it."""

    __tablename__ = "quadrant_district"

    id: Mapped[int] = mapped_column(primary_key=True)
    quadrant_id: Mapped[int] = mapped_column(ForeignKey("quadrant.id"), index=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)

    quadrant: Mapped[Quadrant] = relationship(back_populates="districts")


class QuadrantCapacity(Base):
    """The days a quadrant team can sell in an academic year, in half-days.

    Confirming an order locks this row so two confirmations cannot oversell it together.
    """

    __tablename__ = "quadrant_capacity"
    __table_args__ = (
        UniqueConstraint("quadrant_id", "academic_year_id"),
        CheckConstraint("traded_capacity_half_days >= 0", name="capacity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quadrant_id: Mapped[int] = mapped_column(ForeignKey("quadrant.id"), index=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    traded_capacity_half_days: Mapped[int] = mapped_column(Integer)

    quadrant: Mapped[Quadrant] = relationship(back_populates="capacities")
    academic_year: Mapped[AcademicYear] = relationship()


class Partnership(Base):
    """A named group of schools in a quadrant; its core days depend on its size."""

    __tablename__ = "partnership"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    quadrant_id: Mapped[int] = mapped_column(ForeignKey("quadrant.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    quadrant: Mapped[Quadrant] = relationship()

    def __repr__(self) -> str:
        return f"<Partnership {self.name}>"
