"""Set up the service: the task list (GOV.UK pattern) and the pages of the tasks that had none:
council details and logo, local authority code and financial year, creating, renaming and
retiring quadrant teams, importing the catalogue from a CSV or copying a year's prices, and
document numbering. The other tasks lead to the pages that already manage them."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.forms.auth import EmptyForm
from traded_app.forms.setup import (
    CompleteForm,
    CouncilDetailsForm,
    LaFinanceForm,
    NumberingForm,
    QuadrantNameForm,
)
from traded_app.services.council import catalogue as catalogue_admin
from traded_app.services.council import quadrants as quadrant_admin
from traded_app.services.council import settings as settings_admin
from traded_app.services.council import setup, setup_state
from traded_app.services.council.schools import AdminError
from traded_app.services.platform.settings import council_settings
from traded_app.views.admin.common import ADMIN, bp, field_error

# Tasks whose page is the generic one: what is there now, links, and "Have you completed it?".
GENERIC = ("academic_years", "quadrants", "partnerships", "catalogue", "schools", "approvals")


@bp.route("/set-up")
@roles_required(ADMIN)
def setup_index() -> str:
    rows = setup_state.task_rows()
    return render_template(
        "admin/setup/index.html",
        rows=rows,
        done=sum(1 for row in rows if row.status == setup_state.Status.COMPLETED),
        invite_waiting=setup_state.invite_waiting_for(),
        endpoints=_task_endpoints(),
    )


def _task_endpoints() -> dict[str, str]:
    urls = {key: url_for("admin.setup_task", key=key) for key in GENERIC}
    urls["details"] = url_for("admin.setup_details")
    urls["la_finance"] = url_for("admin.setup_la_finance")
    urls["numbering"] = url_for("admin.setup_numbering")
    urls["payments"] = url_for("admin.setup_task", key="payments")
    return urls


def _completed_flash(key: str) -> BaseResponse:
    flash(f"{setup_state.task_def(key).title}: completed.", "success")
    return redirect(url_for("admin.setup_index"))


# --- Council details --------------------------------------------------------------------------


def _details_data() -> dict[str, Any]:
    settings = council_settings()
    if settings is None or not settings.details_set:
        return {}
    return {name: getattr(settings, name) for name in setup.DETAILS}


@bp.route("/set-up/details", methods=["GET", "POST"])
@roles_required(ADMIN)
def setup_details() -> str | BaseResponse:
    form = (
        CouncilDetailsForm()
        if request.method == "POST"
        else CouncilDetailsForm(data=_details_data())
    )
    if form.validate_on_submit():
        try:
            logo = None
            upload = form.logo.data
            if upload is not None and getattr(upload, "filename", None):
                try:
                    logo = setup.check_logo(upload.stream.read(setup.LOGO_MAX_BYTES + 1))
                finally:
                    upload.close()
            setup.save_details(
                form.values, logo, current_user, remove_logo=bool(form.remove_logo.data)
            )
        except setup_state.SetupError as error:
            field_error(form, error.field, str(error))
        else:
            return _completed_flash("details")
    settings = council_settings()
    return render_template(
        "admin/setup/details.html",
        form=form,
        has_logo=bool(settings and settings.logo_sha256),
        logo_max_kb=setup.LOGO_MAX_BYTES // 1024,
    )


@bp.route("/set-up/logo.png")
@roles_required(ADMIN)
def setup_logo() -> BaseResponse:
    settings = council_settings()
    png = setup.logo_png(settings.logo_sha256) if settings else None
    if png is None:
        abort(404)
    return BaseResponse(png, mimetype="image/png", headers={"Cache-Control": "private, no-cache"})


# --- Local authority code and financial year --------------------------------------------------


@bp.route("/set-up/la-code", methods=["GET", "POST"])
@roles_required(ADMIN)
def setup_la_finance() -> str | BaseResponse:
    settings = council_settings()
    if request.method == "POST":
        form = LaFinanceForm()
    else:
        form = LaFinanceForm(
            data={
                "la_code": settings.la_code if settings else "",
                "financial_year_start_month": str(
                    settings.financial_year_start_month if settings else 4
                ),
            }
        )
    if form.validate_on_submit():
        try:
            setup.save_la_finance(
                (form.la_code.data or "").strip(),
                int(form.financial_year_start_month.data or 4),
                current_user,
            )
        except setup_state.SetupError as error:
            field_error(form, error.field, str(error))
        else:
            return _completed_flash("la_finance")
    return render_template("admin/setup/la_finance.html", form=form)


# --- Document numbering -----------------------------------------------------------------------


@bp.route("/set-up/numbering", methods=["GET", "POST"])
@roles_required(ADMIN)
def setup_numbering() -> str | BaseResponse:
    row = _row("numbering")
    settings = council_settings()
    if settings is None or row.waiting_for:
        return _cannot_start(row)
    if request.method == "POST":
        form = NumberingForm()
    else:
        data: dict[str, Any] = {
            f"{field}_prefix": getattr(settings, f"{field}_prefix") for _type, field in setup.SERIES
        }
        for field, number in setup.next_numbers().items():
            data[f"{field}_first"] = str(number)
        form = NumberingForm(data=data)
    if form.validate_on_submit():
        try:
            setup.save_numbering(form.prefixes, form.first_numbers, current_user)
        except setup_state.SetupError as error:
            field_error(form, error.field, str(error))
        else:
            return _completed_flash("numbering")
    return render_template(
        "admin/setup/numbering.html",
        form=form,
        financial_year=setup.current_financial_year(),
    )


# --- The tasks that lead to existing pages ----------------------------------------------------


def _row(key: str) -> setup_state.TaskRow:
    for row in setup_state.task_rows():
        if row.task.key == key:
            return row
    abort(404)


def _cannot_start(row: setup_state.TaskRow) -> str:
    return render_template("admin/setup/cannot_start.html", row=row)


def _task_context(key: str) -> dict[str, Any]:
    years = settings_admin.academic_years()
    if key == "academic_years":
        return {"years": years}
    if key == "quadrants":
        return {
            "quadrants": quadrant_admin.quadrants(with_retired=True),
            "quadrant_form": QuadrantNameForm(formdata=None),
        }
    if key == "catalogue":
        return {"services": catalogue_admin.all_services(), "years": catalogue_admin.price_years()}
    return {"settings": council_settings()}


@bp.route("/set-up/tasks/<key>", methods=["GET", "POST"])
@roles_required(ADMIN)
def setup_task(key: str) -> str | BaseResponse:
    if key not in (*GENERIC, "payments"):
        abort(404)
    row = _row(key)
    if row.waiting_for:
        return _cannot_start(row)
    if request.method == "POST":
        form = CompleteForm()
    else:
        form = CompleteForm(
            data={"completed": "yes" if row.status == setup_state.Status.COMPLETED else None}
        )
    if form.validate_on_submit():
        try:
            setup_state.mark(key, form.completed.data == "yes", current_user)
        except setup_state.SetupError as error:
            field_error(form, "completed", str(error))
        else:
            if form.completed.data == "yes":
                return _completed_flash(key)
            return redirect(url_for("admin.setup_index"))
    return render_template(
        f"admin/setup/task_{key}.html",
        form=form,
        complete_form=form,
        row=row,
        **_task_context(key),
    )


@bp.route("/set-up/academic-years", methods=["POST"])
@roles_required(ADMIN)
def setup_academic_years() -> BaseResponse:
    if EmptyForm().validate_on_submit():
        years = catalogue_admin.set_up_price_years()
        flash(f"Academic years set up: {', '.join(y.label for y in years)}.", "success")
    return redirect(url_for("admin.setup_task", key="academic_years"))


# --- Quadrant teams: create, rename, retire --------------------------------------------------


@bp.route("/set-up/quadrants", methods=["POST"])
@roles_required(ADMIN)
def setup_add_quadrant() -> str | BaseResponse:
    quadrant_form = QuadrantNameForm()
    if quadrant_form.validate_on_submit():
        try:
            quadrant = quadrant_admin.save_quadrant(
                None, quadrant_form.name.data or "", quadrant_form.code.data or ""
            )
        except AdminError as error:
            field_error(quadrant_form, error.field, str(error))
        else:
            flash(f"{quadrant.name} team added. Now give it its districts.", "success")
            return redirect(url_for("admin.edit_quadrant", quadrant_id=quadrant.id))
    row = _row("quadrants")
    return render_template(
        "admin/setup/task_quadrants.html",
        form=quadrant_form,
        complete_form=CompleteForm(formdata=None),
        row=row,
        quadrants=quadrant_admin.quadrants(with_retired=True),
        quadrant_form=quadrant_form,
    )


@bp.route("/set-up/quadrants/<int:quadrant_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def setup_rename_quadrant(quadrant_id: int) -> str | BaseResponse:
    quadrant = quadrant_admin.quadrant_by_id(quadrant_id)
    if request.method == "POST":
        form = QuadrantNameForm()
    else:
        form = QuadrantNameForm(data={"name": quadrant.name, "code": quadrant.code})
    if form.validate_on_submit():
        try:
            quadrant_admin.save_quadrant(quadrant, form.name.data or "", form.code.data or "")
        except AdminError as error:
            field_error(form, error.field, str(error))
        else:
            flash(f"{quadrant.name} team saved.", "success")
            return redirect(url_for("admin.setup_task", key="quadrants"))
    return render_template(
        "admin/setup/quadrant_name.html", form=form, quadrant=quadrant, retire_form=EmptyForm()
    )


@bp.route("/set-up/quadrants/<int:quadrant_id>/<any(retire, reinstate):action>", methods=["POST"])
@roles_required(ADMIN)
def setup_retire_quadrant(quadrant_id: int, action: str) -> BaseResponse:
    quadrant = quadrant_admin.quadrant_by_id(quadrant_id)
    if EmptyForm().validate_on_submit():
        try:
            quadrant_admin.set_quadrant_active(quadrant, action == "reinstate")
        except AdminError as error:
            flash(str(error), "info")
        else:
            flash(f"{quadrant.name} team {action}d.", "success")
    return redirect(url_for("admin.setup_task", key="quadrants"))
