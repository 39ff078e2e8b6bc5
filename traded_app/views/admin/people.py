"""People in bulk: inviting school staff from a CSV file (upload, preview, confirm or discard)
and the invitations not yet accepted, each of which can be sent again."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.forms.auth import EmptyForm
from traded_app.forms.imports import CsvUploadForm
from traded_app.services.council import staff_import
from traded_app.services.council import users as users_admin
from traded_app.services.platform import csv_upload
from traded_app.services.platform.errors import NotFound
from traded_app.views.admin.common import ADMIN, bp, page_arg


def _max_bytes() -> int:
    return int(current_app.config.get("CSV_MAX_BYTES", csv_upload.MAX_BYTES))


@bp.route("/users/import", methods=["GET", "POST"])
@roles_required(ADMIN)
def staff_upload() -> str | BaseResponse:
    form = CsvUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            record = staff_import.preview(
                upload.stream, upload.filename or "", current_user, _max_bytes()
            )
        except csv_upload.CsvFileError as error:
            form.file.errors = [f"{error} Nothing was changed."]
        else:
            return redirect(url_for("admin.staff_preview", import_id=record.id))
        finally:
            upload.close()
    return render_template(
        "admin/staff_upload.html",
        form=form,
        columns=staff_import.COLUMNS,
        recent=csv_upload.recent(staff_import.KIND),
    )


def _staff_import(import_id: int) -> staff_import.CsvImport:
    try:
        return csv_upload.get(import_id, staff_import.KIND)
    except NotFound:
        abort(404)


@bp.route("/users/import/<int:import_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def staff_preview(import_id: int) -> str | BaseResponse:
    record = _staff_import(import_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            counts = staff_import.apply(record, current_user)
        except csv_upload.CsvImportStateError as error:
            flash(str(error), "info")
        else:
            flash(
                f"{counts['create']} invited, {counts['change']} roles changed, "
                f"{counts['resend']} invitations sent again; {counts['refuse']} rows refused.",
                "success",
            )
        return redirect(url_for("admin.staff_preview", import_id=record.id))
    rows = staff_import.check(csv_upload.rows_of(record))
    counts = {
        action: sum(1 for r in rows if r.action == action) for action in staff_import.ACTION_LABELS
    }
    return render_template(
        "admin/staff_preview.html",
        form=form,
        record=record,
        rows=rows,
        counts=counts,
        labels=staff_import.ACTION_LABELS,
    )


@bp.route("/users/import/<int:import_id>/discard", methods=["POST"])
@roles_required(ADMIN)
def staff_discard(import_id: int) -> BaseResponse:
    record = _staff_import(import_id)
    if EmptyForm().validate_on_submit():
        try:
            csv_upload.discard(record)
        except csv_upload.CsvImportStateError as error:
            flash(str(error), "info")
        else:
            flash("The file was discarded: nobody was invited.", "success")
    return redirect(url_for("admin.staff_upload"))


@bp.route("/users/invitations")
@roles_required(ADMIN)
def invitations() -> str:
    return render_template(
        "admin/invitations.html",
        result=users_admin.pending_invitations(page_arg()),
        expires_at=users_admin.invitation_expires_at,
        expired=users_admin.invitation_expired,
        invite_days=users_admin.INVITE_DAYS,
        form=EmptyForm(),
    )


@bp.route("/users/invitations/<int:user_id>/send-again", methods=["POST"])
@roles_required(ADMIN)
def send_invitation_again(user_id: int) -> BaseResponse:
    user = users_admin.user_by_id(user_id)
    if EmptyForm().validate_on_submit():
        try:
            users_admin.send_invitation(user, current_user)
        except users_admin.UserAdminError as error:
            flash(str(error), "info")
        else:
            flash(f"A new invitation was sent to {user.email}.", "success")
    return redirect(url_for("admin.invitations"))
