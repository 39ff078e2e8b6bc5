"""The council's delivery activities: the list visit reports and partnership plans choose from."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.forms.activities import ActivityForm
from traded_app.forms.auth import EmptyForm
from traded_app.services.days import activities as activity_list
from traded_app.views.admin.common import ADMIN, bp, field_error


def _save(form: ActivityForm, activity: activity_list.DeliveryActivity | None) -> bool:
    try:
        activity_list.save_activity(
            activity,
            form.name.data or "",
            form.description.data or "",
            form.non_negotiable.data == "yes",
        )
    except activity_list.ActivityError as error:
        field_error(form, error.field, str(error))
        return False
    return True


@bp.route("/activities", methods=["GET", "POST"])
@roles_required(ADMIN)
def activities() -> str | BaseResponse:
    form = ActivityForm()
    if form.validate_on_submit() and _save(form, None):
        flash(f"{' '.join((form.name.data or '').split())} added.", "success")
        return redirect(url_for("admin.activities"))
    return render_template(
        "admin/activities.html",
        form=form,
        rows=activity_list.activities(with_retired=True),
        retire_form=EmptyForm(),
    )


@bp.route("/activities/<int:activity_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_activity(activity_id: int) -> str | BaseResponse:
    activity = activity_list.activity_by_id(activity_id)
    form = ActivityForm(
        data={
            "name": activity.name,
            "description": activity.description,
            "non_negotiable": "yes" if activity.non_negotiable else "no",
        }
    )
    if form.validate_on_submit() and _save(form, activity):
        flash(f"{activity.name} saved.", "success")
        return redirect(url_for("admin.activities"))
    return render_template("admin/activity.html", form=form, activity=activity)


@bp.route("/activities/<int:activity_id>/active", methods=["POST"])
@roles_required(ADMIN)
def set_activity_active(activity_id: int) -> BaseResponse:
    activity = activity_list.activity_by_id(activity_id)
    if EmptyForm().validate_on_submit():
        activity_list.set_activity_active(activity, not activity.active)
        flash(f"{activity.name} {'offered again' if activity.active else 'retired'}.", "success")
    return redirect(url_for("admin.activities"))
