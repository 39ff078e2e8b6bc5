"""The service manager's changes to the council's settings and academic years."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import AcademicYear, CouncilSettings, Visit
from traded_app.models import council as models_council
from traded_app.services.platform.errors import DomainError, NotFound
from traded_app.services.platform.settings import (
    academic_start_year,
    academic_year_bounds,
    ensure_academic_year,
    today,
)

# Every setting the screen edits (demo_data and updated_at are the app's own).
EDITABLE = (
    "name",
    "service_name",
    "address",
    "postcode",
    "contact_email",
    "contact_phone",
    "vat_number",
    "la_code",
    "bank_name",
    "bank_account_name",
    "bank_sort_code",
    "bank_account_number",
    "invoice_prefix",
    "recharge_prefix",
    "credit_note_prefix",
    "payment_terms_days",
    "reminder_interval_days",
    "invoice_timing",
    "financial_year_start_month",
    "default_price_per_day_pence",
    "default_approval_limit_pence",
    "cancellation_notice_days",
    "visit_report_deadline_days",
    "core_partnership_base_half_days",
    "core_partnership_per_school_half_days",
    "core_unpartnered_half_days",
    "core_causing_concern_half_days",
    "core_special_or_pru_half_days",
    "core_enhanced_provision_half_days",
    "core_headteacher_recruitment_half_days",
    "reminders_on",
    "friendly_note_days",
    "reminders_before_final",
    "reminder_send_time",
    "final_notice_text",
    "backup_time",
    "backups_kept",
    "pdf_check_time",
)
# What the final notice says happens next, until the council says otherwise.
DEFAULT_FINAL_NOTICE_TEXT = models_council.DEFAULT_FINAL_NOTICE_TEXT


class SettingsError(DomainError, ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def update_settings(settings: CouncilSettings | None, values: dict[str, Any]) -> CouncilSettings:
    """Save the settings (creating the council's row the first time). Only changed values are
    written, so the audit trail shows exactly what changed."""
    prefixes = [values["invoice_prefix"], values["recharge_prefix"], values["credit_note_prefix"]]
    if len({p.upper() for p in prefixes}) < 3:
        raise SettingsError(
            "Invoices, recharges and credit notes each need their own prefix", "recharge_prefix"
        )
    if settings is None:
        settings = CouncilSettings(id=1, **{k: values[k] for k in EDITABLE})
        db.session.add(settings)
    else:
        for name in EDITABLE:
            if getattr(settings, name) != values[name]:
                setattr(settings, name, values[name])
    db.session.flush()
    return settings


def academic_years() -> list[AcademicYear]:
    return list(
        db.session.execute(select(AcademicYear).order_by(AcademicYear.start_year)).scalars()
    )


def academic_year_by_start(start_year: int) -> AcademicYear:
    """The academic year starting in `start_year` (2026 for 2026/27); NotFound if not set up."""
    year = db.session.execute(
        select(AcademicYear).where(AcademicYear.start_year == start_year)
    ).scalar_one_or_none()
    if year is None:
        raise NotFound(f"No academic year {start_year}")
    return year


def add_next_year() -> AcademicYear:
    latest = db.session.execute(select(func.max(AcademicYear.start_year))).scalar_one()
    if latest is None:
        return ensure_academic_year(academic_start_year(today()))
    return ensure_academic_year(latest + 1)


def update_academic_year(year: AcademicYear, starts_on: date, ends_on: date) -> None:
    """Move a year's boundaries (for example a term starting early). Years may not overlap, and
    a booked visit must stay inside its year."""
    if ends_on <= starts_on:
        raise SettingsError("The year must end after it starts", "ends_on")
    default_start, default_end = academic_year_bounds(year.start_year)
    if abs((starts_on - default_start).days) > 62 or abs((ends_on - default_end).days) > 62:
        raise SettingsError(
            f"The {year.label} year must start and end within two months of "
            f"1 September {year.start_year} and 31 August {year.start_year + 1}",
            "starts_on",
        )
    for other in academic_years():
        if other.id != year.id and other.starts_on <= ends_on and starts_on <= other.ends_on:
            raise SettingsError(f"The dates overlap the {other.label} year", "starts_on")
    outside = db.session.execute(
        select(func.count())
        .select_from(Visit)
        .where(
            Visit.academic_year_id == year.id,
            (Visit.visit_date < starts_on) | (Visit.visit_date > ends_on),
        )
    ).scalar_one()
    if outside:
        raise SettingsError(
            f"{outside} visits of {year.label} fall outside these dates: move them first",
            "starts_on",
        )
    if year.starts_on != starts_on:
        year.starts_on = starts_on
    if year.ends_on != ends_on:
        year.ends_on = ends_on
    db.session.flush()
