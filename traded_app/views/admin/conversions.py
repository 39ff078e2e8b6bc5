"""Academy conversions waiting for the service manager: the list, and Confirm (days and orders
move on the date if they have not already; the staff's access moves now)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.forms.auth import EmptyForm
from traded_app.services.council import conversions
from traded_app.services.platform.settings import today
from traded_app.views.admin.common import ADMIN, bp


@bp.route("/conversions")
@roles_required(ADMIN)
def conversions_page() -> str:
    on = today()
    waiting = conversions.unconfirmed()
    return render_template(
        "admin/conversions.html",
        rows=[(c, conversions.stage_of(c, on)) for c in waiting],
        today=on,
    )


@bp.route("/conversions/<int:conversion_id>/confirm", methods=["POST"])
@roles_required(ADMIN)
def confirm_conversion(conversion_id: int) -> BaseResponse:
    conversion = conversions.conversion_by_id(conversion_id)
    if EmptyForm().validate_on_submit():
        try:
            people = conversions.confirm(conversion, current_user)
        except conversions.ConversionError as error:
            flash(str(error), "info")
        else:
            flash(
                f"{conversion.old_school.name} is now {conversion.new_school.name}: "
                f"{people} {'person' if people == 1 else 'people'} moved to the academy.",
                "success",
            )
    return redirect(url_for("admin.conversions_page"))
