"""What the service does by itself, for finance and the service manager to see and put right:
e-mails that could not be sent after their last try (with Send again), the schedules with their
recent runs and outcomes, and what the latest check of the stored PDFs found wrong.

The schedules are registered by the modules that own their work, imported here so the web app
and the worker (which builds the same app) both know them."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from traded_app.access import roles_required
from traded_app.domain.types import Role
from traded_app.forms.auth import EmptyForm
from traded_app.services.council import backup
from traded_app.services.days import over_time
from traded_app.services.documents import pdf_check
from traded_app.services.finance import reminder_schedule
from traded_app.services.ordering import po_numbers
from traded_app.services.platform import outbox, schedules

# Each registers its schedule when imported (see the docstring).
REGISTERED = (
    reminder_schedule.NAME,
    backup.SCHEDULE_NAME,
    pdf_check.NAME,
    over_time.SCHEDULE_NAME,
    po_numbers.NAME,
)

bp = Blueprint("background", __name__, url_prefix="/council")

STAFF = (Role.LA_FINANCE, Role.LA_ADMIN)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(outbox.failed_count, "emails_not_sent")


@bp.route("/emails-not-sent")
@roles_required(*STAFF)
def emails_not_sent() -> str:
    return render_template(
        "background/emails_not_sent.html",
        emails=outbox.failed_emails(),
        counts=outbox.counts(),
        form=EmptyForm(),
    )


@bp.route("/emails-not-sent/<int:email_id>/send", methods=["POST"])
@roles_required(*STAFF)
def send_email_again(email_id: int) -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        email = outbox.send_again(email_id)
    except outbox.OutboxError as error:
        flash(f"{error}.", "info")
    else:
        flash(f"“{email.subject}” is being sent to {email.recipients} again.", "success")
    return redirect(url_for("background.emails_not_sent"))


@bp.route("/schedules")
@roles_required(*STAFF)
def schedule_runs() -> str:
    return render_template(
        "background/schedules.html",
        schedules=list(schedules.SCHEDULES.values()),
        titles={item.name: item.title for item in schedules.SCHEDULES.values()},
        runs=schedules.recent_runs(),
        on_sqlite=backup.on_sqlite(),
    )


@bp.route("/pdf-check")
@roles_required(*STAFF)
def pdf_check_page() -> str:
    return render_template(
        "background/pdf_check.html",
        check=pdf_check.latest_check(),
        schedule=schedules.SCHEDULES[pdf_check.NAME],
    )
