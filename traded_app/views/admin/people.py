"""People in bulk: inviting school staff from a CSV file (upload, preview, confirm or discard)
and the invitations not yet accepted, each of which can be sent again."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.forms.auth import EmptyForm
from traded_app.services.council import staff_import
from traded_app.services.council import users as users_admin
from traded_app.services.platform import csv_upload
from traded_app.views.admin.common import ADMIN, bp, page_arg
from traded_app.views.csv_imports import CsvImportPages
from traded_app.views.form_posts import button_action

STAFF_IMPORT = CsvImportPages(
    staff_import,
    upload_template="admin/staff_upload.html",
    upload_endpoint="admin.staff_upload",
    preview_template="admin/staff_preview.html",
    preview_endpoint="admin.staff_preview",
    discarded="The file was discarded: nobody was invited.",
)


@bp.route("/users/import", methods=["GET", "POST"])
@roles_required(ADMIN)
def staff_upload() -> str | BaseResponse:
    return STAFF_IMPORT.upload()


def _invited(counts: dict[str, int]) -> str:
    return (
        f"{counts['create']} invited, {counts['change']} roles changed, "
        f"{counts['resend']} invitations sent again; {counts['refuse']} rows refused."
    )


def _checked_staff(record: staff_import.CsvImport) -> dict[str, Any]:
    rows = staff_import.check(csv_upload.rows_of(record))
    counts = {
        action: sum(1 for r in rows if r.action == action) for action in staff_import.ACTION_LABELS
    }
    return {"rows": rows, "counts": counts, "labels": staff_import.ACTION_LABELS}


@bp.route("/users/import/<int:import_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def staff_preview(import_id: int) -> str | BaseResponse:
    return STAFF_IMPORT.preview(import_id, _invited, _checked_staff)


@bp.route("/users/import/<int:import_id>/discard", methods=["POST"])
@roles_required(ADMIN)
def staff_discard(import_id: int) -> BaseResponse:
    return STAFF_IMPORT.discard(import_id)


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
    send_invitation(users_admin.user_by_id(user_id))
    return redirect(url_for("admin.invitations"))


def send_invitation(user: users_admin.User) -> None:
    """Send `user` a new invitation (the button on the invitations list and on their page)."""
    button_action(
        lambda: users_admin.send_invitation(user, current_user),
        f"A new invitation was sent to {user.email}.",
        users_admin.UserAdminError,
    )
