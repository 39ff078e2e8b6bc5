"""Term dates: the council's terms and INSET days (service manager), a school's own INSET days
(its staff), and term dates from a CSV or iCalendar file with a preview."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import SCHOOL, roles_required
from traded_app.domain.types import Role
from traded_app.forms.auth import EmptyForm
from traded_app.forms.calendar import ConfirmTermFileForm, InsetDayForm, TermFileForm, TermForm
from traded_app.services.days import school_calendar, term_files
from traded_app.services.days.school_calendar import CalendarError
from traded_app.services.platform.settings import academic_start_year
from traded_app.views.years import chosen_year

bp = Blueprint("term_dates", __name__)

MAX_UPLOAD_BYTES = 1_000_000


def _show_error(form: object, error: CalendarError, fallback: str) -> None:
    field = getattr(form, error.field, None) if error.field else None
    field = field if field is not None else getattr(form, fallback)
    field.errors = [*field.errors, str(error)]


def _council_page(**forms: object) -> str:
    year, years = chosen_year()
    return render_template(
        "council/term_dates.html",
        year=year,
        years=years,
        calendar=school_calendar.year_calendar(year),
        loaded_at=school_calendar.bank_holidays_loaded_at(),
        shipped=school_calendar.shipped_bank_holidays_updated(),
        term_form=forms.get("term_form") or TermForm(),
        inset_form=forms.get("inset_form") or InsetDayForm(),
        file_form=forms.get("file_form") or TermFileForm(),
        delete_form=EmptyForm(),
    )


def _back_to_year(start_year: int) -> BaseResponse:
    return redirect(url_for("term_dates.council_term_dates", year=start_year))


@bp.route("/council/term-dates", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def council_term_dates() -> str | BaseResponse:
    """The council's terms for a year, its INSET days and the bank holidays; add a term."""
    year, _ = chosen_year()
    form = TermForm()
    if form.validate_on_submit() and form.first_day.data and form.last_day.data:
        try:
            term = school_calendar.add_term(
                year,
                form.term_name.data or "",
                form.first_day.data,
                form.last_day.data,
                current_user,
            )
        except CalendarError as error:
            _show_error(form, error, "first_day")
        else:
            flash(f"{term.name} added to {year.label}'s term dates.", "success")
            return _back_to_year(year.start_year)
    return _council_page(term_form=form)


@bp.route("/council/term-dates/inset-days", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def add_council_inset_day() -> str | BaseResponse:
    year, _ = chosen_year()
    form = InsetDayForm()
    if form.validate_on_submit() and form.inset_on.data:
        try:
            day = school_calendar.add_inset_day(
                year, form.inset_on.data, form.inset_name.data or "", current_user
            )
        except CalendarError as error:
            _show_error(form, error, "inset_on")
        else:
            flash(f"{day.name} added as an INSET day for every school.", "success")
            return _back_to_year(year.start_year)
    return _council_page(inset_form=form)


@bp.route("/council/term-dates/terms/<int:term_id>/delete", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def delete_term(term_id: int) -> BaseResponse:
    if not EmptyForm().validate_on_submit():
        abort(400)
    term = school_calendar.remove_term(term_id, current_user)
    if term is None:
        abort(404)
    flash(f"{term.name} removed from the term dates.", "success")
    return _back_to_year(academic_start_year(term.first_day))


@bp.route("/council/term-dates/inset-days/<int:inset_id>/delete", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def delete_council_inset_day(inset_id: int) -> BaseResponse:
    if not EmptyForm().validate_on_submit():
        abort(400)
    day = school_calendar.remove_inset_day(inset_id, current_user)
    if day is None:
        abort(404)
    flash(f"{day.name} is no longer an INSET day.", "success")
    return _back_to_year(academic_start_year(day.inset_on))


@bp.route("/council/term-dates/upload", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def upload_term_dates() -> str | BaseResponse:
    """Preview a CSV or iCalendar file of terms and INSET days; nothing is saved yet."""
    year, _ = chosen_year()
    form = TermFileForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
        try:
            preview = term_files.preview(year, upload.filename or "", data)
        except CalendarError as error:
            _show_error(form, error, "file")
        else:
            return render_template(
                "council/term_dates_preview.html",
                year=year,
                filename=upload.filename,
                preview=preview,
                form=ConfirmTermFileForm(rows=preview.as_json()),
            )
    return _council_page(file_form=form)


@bp.route("/council/term-dates/upload/confirm", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def confirm_term_dates() -> BaseResponse:
    year, _ = chosen_year()
    form = ConfirmTermFileForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        terms, inset = term_files.confirm(year, form.rows.data or "", current_user)
    except CalendarError as error:
        flash(str(error), "error")
    else:
        flash(
            f"{terms} {'term' if terms == 1 else 'terms'} and {inset} INSET "
            f"{'day' if inset == 1 else 'days'} added to {year.label}.",
            "success",
        )
    return _back_to_year(year.start_year)


# --- A school's own INSET days ----------------------------------------------------------------


@bp.route("/days/inset-days", methods=["GET", "POST"])
@roles_required(SCHOOL)
def school_inset_days() -> str | BaseResponse:
    """The school's term dates (the council's) and its own INSET days, which no visit may fall on."""
    school = current_user.school
    year, years = chosen_year()
    form = InsetDayForm()
    if form.validate_on_submit() and form.inset_on.data:
        try:
            day = school_calendar.add_inset_day(
                year, form.inset_on.data, form.inset_name.data or "", current_user, school
            )
        except CalendarError as error:
            _show_error(form, error, "inset_on")
        else:
            flash(f"{day.name} added as one of {school.name}'s INSET days.", "success")
            return redirect(url_for("term_dates.school_inset_days", year=year.start_year))
    return render_template(
        "days/inset_days.html",
        school=school,
        year=year,
        years=years,
        calendar=school_calendar.year_calendar(year, school.id),
        form=form,
        delete_form=EmptyForm(),
    )


@bp.route("/days/inset-days/<int:inset_id>/delete", methods=["POST"])
@roles_required(SCHOOL)
def delete_school_inset_day(inset_id: int) -> BaseResponse:
    if not EmptyForm().validate_on_submit():
        abort(400)
    day = school_calendar.remove_inset_day(inset_id, current_user, current_user.school)
    if day is None:
        abort(404)
    flash(f"{day.name} is no longer one of the school's INSET days.", "success")
    return redirect(url_for("term_dates.school_inset_days", year=academic_start_year(day.inset_on)))
