"""“Check your school’s details”: the billing details a school keeps true, checked by its
business manager once each academic year (sign-in leads there when it is due), changed by the
school or the service manager, with their history."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import SCHOOL, roles_required
from traded_app.domain.types import Role
from traded_app.forms.auth import EmptyForm
from traded_app.forms.school_details import BillingDetailsForm
from traded_app.services.council import school_details
from traded_app.services.council import schools as school_service

bp = Blueprint("school_details", __name__)


@bp.app_template_global()
def school_details_missing(school: school_service.School) -> list[str]:
    """What the school's documents need and it lacks, for its dashboard."""
    return school_details.missing(school)


def _page_context(school: school_service.School) -> dict[str, object]:
    return {
        "school": school,
        "missing": school_details.missing(school),
        "last_checked": school_details.last_checked(school),
        "checked_this_year": school.details_checked_year == school_details.this_year(),
        "history": school_details.history(school),
        "labels": school_details.LABELS,
    }


@bp.route("/school/details")
@roles_required(SCHOOL)
def check() -> str:
    return render_template(
        "school/details.html",
        form=EmptyForm(),
        can_confirm=current_user.role == Role.SCHOOL_BUSINESS_MANAGER,
        **_page_context(current_user.school),
    )


@bp.route("/school/details/confirm", methods=["POST"])
@roles_required(Role.SCHOOL_BUSINESS_MANAGER)
def confirm() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        school_details.confirm(current_user.school, current_user)
    except school_details.DetailsError as error:
        flash(f"{error}.", "info")
        return redirect(url_for("school_details.check"))
    flash("Thank you: your school’s details are confirmed for this academic year.", "success")
    return redirect(url_for("school.dashboard"))


def _edit(
    school: school_service.School, done: str, template: str, **context: object
) -> str | Response:
    if request.method == "POST":
        form = BillingDetailsForm()
    else:
        current = school_details.details_of(school)
        form = BillingDetailsForm(data=current.__dict__)
    if form.validate_on_submit():
        try:
            school_details.update(
                school,
                school_details.BillingDetails(
                    form.billing_address.data or "",
                    form.billing_contact_name.data or "",
                    form.billing_contact_email.data or "",
                    form.cost_centre.data or "",
                    form.chair_of_governors_name.data or "",
                    form.chair_of_governors_email.data or "",
                ),
            )
        except school_details.DetailsError as error:
            target = getattr(form, error.field or "", None) or form.billing_address
            target.errors = [str(error)]
        else:
            flash(f"{school.name}’s details are saved.", "success")
            return redirect(done)
    return render_template(template, form=form, school=school, **context)


@bp.route("/school/details/change", methods=["GET", "POST"])
@roles_required(SCHOOL)
def change() -> str | Response:
    return _edit(
        current_user.school,
        url_for("school_details.check"),
        "school/details_form.html",
        back=url_for("school_details.check"),
    )


@bp.route("/council/manage/schools/<int:urn>/billing", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def council_change(urn: int) -> str | Response:
    try:
        school = school_service.school_visible_to(current_user, urn)
    except school_service.NotFound:
        abort(404)
    return _edit(
        school,
        url_for("admin.edit_school", urn=school.urn),
        "school/details_form.html",
        back=url_for("admin.edit_school", urn=school.urn),
        history=school_details.history(school),
        labels=school_details.LABELS,
    )
