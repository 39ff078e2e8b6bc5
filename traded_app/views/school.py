from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app import formatting
from traded_app.access import ALL_ROLES, SCHOOL, roles_required
from traded_app.domain.types import Role
from traded_app.forms.orders import OrderingRulesForm
from traded_app.services.council import schools as school_service
from traded_app.services.ordering import basket, lists
from traded_app.services.platform.settings import academic_year_label, current_academic_year

bp = Blueprint("school", __name__)


@bp.route("/school")
@roles_required(SCHOOL)
def dashboard() -> str:
    school = current_user.school
    year = current_academic_year()
    allocations = school_service.core_allocations(school, year)
    return render_template(
        "school/dashboard.html",
        school=school,
        year_label=academic_year_label(),
        core_half_days=sum(a.half_days for a in allocations),
        order_counts=lists.order_counts(school),
    )


@bp.route("/schools/<int:urn>")
@roles_required(ALL_ROLES)
def school_detail(urn: int) -> str:
    try:
        school = school_service.school_visible_to(current_user, urn)
    except school_service.NotFound:
        abort(404)
    year = current_academic_year()
    allocations = school_service.core_allocations(school, year)
    return render_template(
        "school/detail.html",
        school=school,
        year_label=academic_year_label(),
        allocations=allocations,
        core_half_days=sum(a.half_days for a in allocations),
    )


@bp.route("/school/ordering-rules", methods=["GET", "POST"])
@roles_required(Role.HEADTEACHER)
def ordering_rules() -> str | Response:
    """The headteacher sets the approval limit and whether orders need a PO number."""
    school = current_user.school
    form = OrderingRulesForm()
    if request.method == "GET":
        limit = school.approval_limit_pence
        form.approval_limit.data = "" if limit is None else formatting.pounds(limit)[1:]
        form.po_required.data = "yes" if school.po_required else "no"
    elif form.validate_on_submit():
        school_service.set_ordering_rules(
            school, form.approval_limit_pence, form.po_required.data == "yes"
        )
        flash("Your school's ordering rules have been saved.", "success")
        return redirect(url_for("school.dashboard"))
    return render_template(
        "school/ordering_rules.html",
        school=school,
        form=form,
        council_default=basket.approval_limit_pence_default(),
    )
