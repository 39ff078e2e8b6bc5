"""The council's settings and its academic years."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.pricing import days_text
from traded_app.formatting import pounds
from traded_app.forms.admin import CORE_FIELDS, AcademicYearForm, SettingsForm
from traded_app.forms.auth import EmptyForm
from traded_app.services.council import backup
from traded_app.services.council import settings as settings_admin
from traded_app.services.platform import audit
from traded_app.services.platform.settings import council_settings
from traded_app.views.admin.common import ADMIN, bp, field_error

# What the form starts with before the council has saved its settings.
FIRST_SETTINGS = {
    "invoice_prefix": "INV",
    "recharge_prefix": "RCH",
    "credit_note_prefix": "CRN",
    "payment_terms_days": "30",
    "reminder_interval_days": "14",
    "invoice_timing": "on_confirmation",
    "financial_year_start_month": "4",
    "default_price": "450",
    "cancellation_notice_days": "10",
    "visit_report_deadline_days": "10",
    **{name: "0" for name in CORE_FIELDS},
    "reminders_on": "no",
    "friendly_note_days": "7",
    "reminders_before_final": "2",
    "reminder_send_time": "09:00",
    "final_notice_text": settings_admin.DEFAULT_FINAL_NOTICE_TEXT,
    "backup_time": "02:00",
    "backups_kept": "14",
    "pdf_check_time": "03:00",
}


def _settings_data() -> dict[str, Any]:
    settings = council_settings()
    if settings is None:
        return dict(FIRST_SETTINGS)
    data: dict[str, Any] = {
        name: getattr(settings, name)
        for name in settings_admin.EDITABLE
        if not name.endswith(("_pence", "_half_days"))
    }
    data["payment_terms_days"] = str(settings.payment_terms_days)
    data["reminder_interval_days"] = str(settings.reminder_interval_days)
    data["cancellation_notice_days"] = str(settings.cancellation_notice_days)
    data["visit_report_deadline_days"] = str(settings.visit_report_deadline_days)
    data["financial_year_start_month"] = str(settings.financial_year_start_month)
    data["default_price"] = pounds(settings.default_price_per_day_pence).lstrip("£")
    data["default_approval_limit"] = (
        pounds(settings.default_approval_limit_pence).lstrip("£")
        if settings.default_approval_limit_pence is not None
        else ""
    )
    for name in CORE_FIELDS:
        data[name] = days_text(getattr(settings, f"{name}_half_days"))
    data["reminders_on"] = "yes" if settings.reminders_on else "no"
    for name in ("friendly_note_days", "reminders_before_final", "backups_kept"):
        data[name] = str(getattr(settings, name))
    for name in ("reminder_send_time", "backup_time", "pdf_check_time"):
        data[name] = getattr(settings, name).strftime("%H:%M")
    return data


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(ADMIN)
def settings() -> str | BaseResponse:
    form = SettingsForm() if request.method == "POST" else SettingsForm(data=_settings_data())
    if form.validate_on_submit():
        try:
            settings_admin.update_settings(council_settings(), form.values)
        except settings_admin.SettingsError as error:
            field_error(form, error.field, str(error))
        else:
            flash("Council settings saved.", "success")
            return redirect(url_for("admin.settings"))
    return render_template(
        "admin/settings.html",
        form=form,
        years=settings_admin.academic_years(),
        history=audit.history_of("council_settings", 1)[-10:],
        on_sqlite=backup.on_sqlite(),
    )


@bp.route("/academic-years", methods=["POST"])
@roles_required(ADMIN)
def add_academic_year() -> BaseResponse:
    if EmptyForm().validate_on_submit():
        year = settings_admin.add_next_year()
        flash(f"Academic year {year.label} added.", "success")
    return redirect(url_for("admin.settings") + "#academic-years")


@bp.route("/academic-years/<int:start_year>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_academic_year(start_year: int) -> str | BaseResponse:
    year = settings_admin.academic_year_by_start(start_year)
    if request.method == "POST":
        form = AcademicYearForm()
    else:
        form = AcademicYearForm(data={"starts_on": year.starts_on, "ends_on": year.ends_on})
    if form.validate_on_submit() and form.starts_on.data and form.ends_on.data:
        try:
            settings_admin.update_academic_year(year, form.starts_on.data, form.ends_on.data)
        except settings_admin.SettingsError as error:
            field_error(form, error.field, str(error))
        else:
            flash(f"Academic year {year.label} saved.", "success")
            return redirect(url_for("admin.settings") + "#academic-years")
    return render_template("admin/academic_year.html", form=form, year=year)
