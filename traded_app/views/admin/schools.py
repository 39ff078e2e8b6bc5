"""Schools as the service manager keeps them: billing, support flags, team and partnership."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.types import BillingRoute
from traded_app.formatting import pounds
from traded_app.forms.admin import SchoolForm
from traded_app.services.council import gias_import, partnerships
from traded_app.services.council import quadrants as quadrant_admin
from traded_app.services.council import schools as school_admin
from traded_app.services.platform import audit
from traded_app.views.admin.common import ADMIN, bp, field_error, fragment_or_page, page_arg


@bp.route("/schools")
@roles_required(ADMIN)
def schools() -> str:
    query = request.args.get("q", "")[:100]
    status = request.args.get("status", "open")
    if status not in ("open", "closed", "all"):
        status = "open"
    result = school_admin.search_all_schools(query, status, page_arg())
    return fragment_or_page(
        "admin/_school_results.html",
        "admin/schools.html",
        query=query,
        status=status,
        result=result,
        recent_imports=gias_import.recent_imports(5),
    )


def _school_form(school: school_admin.School) -> SchoolForm:
    """The form as posted, or filled from the school; with the teams and partnerships to choose."""
    if request.method == "POST":
        form = SchoolForm()
    else:
        form = SchoolForm(
            data={
                "billing_route": school.billing_route.value,
                "cost_centre": school.cost_centre or "",
                "billing_contact_name": school.billing_contact_name,
                "billing_contact_email": school.billing_contact_email,
                "causing_concern": school.causing_concern,
                "enhanced_provision": school.enhanced_provision,
                "recruiting_headteacher": school.recruiting_headteacher,
                "quadrant_id": str(school.quadrant_id or ""),
                "partnership_id": str(school.partnership_id or ""),
                "approval_limit": pounds(school.approval_limit_pence).lstrip("£")
                if school.approval_limit_pence is not None
                else "",
                "po_required": school.po_required,
            }
        )
    form.quadrant_id.choices = [("", "None")] + [
        (str(q.id), q.name) for q in quadrant_admin.quadrants()
    ]
    form.partnership_id.choices = [("", "None")] + [
        (str(p.id), f"{p.name} ({p.quadrant.name})") for p in partnerships.active_partnerships()
    ]
    if school.partnership and not school.partnership.active:
        form.partnership_id.choices.append((str(school.partnership_id), school.partnership.name))
    return form


def _school_edit(form: SchoolForm) -> school_admin.SchoolEdit:
    return school_admin.SchoolEdit(
        billing_route=BillingRoute(form.billing_route.data),
        cost_centre=form.cost_centre.data or "",
        billing_contact_name=form.billing_contact_name.data or "",
        billing_contact_email=form.billing_contact_email.data or "",
        causing_concern=bool(form.causing_concern.data),
        enhanced_provision=bool(form.enhanced_provision.data),
        recruiting_headteacher=bool(form.recruiting_headteacher.data),
        quadrant_id=int(form.quadrant_id.data) if form.quadrant_id.data else None,
        partnership_id=int(form.partnership_id.data) if form.partnership_id.data else None,
        approval_limit_pence=form.approval_limit_pence,
        po_required=bool(form.po_required.data),
    )


@bp.route("/schools/<int:urn>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_school(urn: int) -> str | BaseResponse:
    school = school_admin.school_visible_to(current_user, urn)
    form = _school_form(school)
    if form.validate_on_submit():
        try:
            school_admin.update_school(school, _school_edit(form))
        except school_admin.AdminError as error:
            field_error(form, error.field, str(error))
        else:
            flash(f"{school.name} saved.", "success")
            return redirect(url_for("admin.edit_school", urn=school.urn))
    return render_template(
        "admin/school_form.html",
        form=form,
        school=school,
        successor=school_admin.successor_of(school),
        history=audit.history_of("school", school.id),
    )
