"""Importing schools from GIAS: upload a file, check the preview, apply or discard it."""

from __future__ import annotations

from datetime import date

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.forms.admin import GiasUploadForm
from traded_app.forms.auth import EmptyForm
from traded_app.services.council import gias_import
from traded_app.services.council import quadrants as quadrant_admin
from traded_app.services.platform.settings import council_settings
from traded_app.views.admin.common import ADMIN, bp


@bp.route("/schools/import", methods=["GET", "POST"])
@roles_required(ADMIN)
def gias_upload() -> str | BaseResponse:
    form = GiasUploadForm()
    settings = council_settings()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            record = gias_import.preview(
                upload.stream,
                upload.filename or "",
                settings.la_code if settings else "",
                current_user,
                max_bytes=current_app.config.get("GIAS_MAX_BYTES", gias_import.MAX_BYTES),
            )
        except gias_import.GiasFileError as error:
            problems = error.problems
            form.file.errors = [problems[0]]
        else:
            return redirect(url_for("admin.gias_preview", import_id=record.id))
        finally:
            upload.close()  # the spooled temporary file, as soon as it is read
    return render_template(
        "admin/gias_upload.html",
        form=form,
        problems=problems,
        la_code=settings.la_code if settings else "",
        recent_imports=gias_import.recent_imports(10),
    )


@bp.route("/schools/import/<int:import_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def gias_preview(import_id: int) -> str | BaseResponse:
    record = gias_import.import_by_id(import_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            outcome = gias_import.apply(record, current_user)
        except gias_import.ImportStateError as error:
            flash(str(error), "info")
        else:
            flash(
                f"Import applied: {outcome['new']} new, {outcome['changed']} changed, "
                f"{outcome['closed']} closed and {outcome['converted']} converted schools.",
                "success",
            )
        return redirect(url_for("admin.gias_preview", import_id=record.id))
    summary = gias_import.summary_of(record)
    plan = gias_import.plan_of(record) if record.status.value == "previewed" else None
    return render_template(
        "admin/gias_preview.html",
        form=form,
        record=record,
        summary=summary,
        plan=plan,
        trust_plan=gias_import.trust_plan_of(record) if plan else None,
        limit=gias_import.PREVIEW_LIMIT,
        iso_date=date.fromisoformat,
        field_labels=gias_import.FIELD_LABELS,
        quadrant_names={q.id: q.name for q in quadrant_admin.quadrants(with_retired=True)},
    )


@bp.route("/schools/import/<int:import_id>/discard", methods=["POST"])
@roles_required(ADMIN)
def gias_discard(import_id: int) -> BaseResponse:
    record = gias_import.import_by_id(import_id)
    if EmptyForm().validate_on_submit():
        try:
            gias_import.discard(record)
        except gias_import.ImportStateError as error:
            flash(str(error), "info")
        else:
            flash("Import discarded: nothing was changed.", "success")
    return redirect(url_for("admin.gias_upload"))
