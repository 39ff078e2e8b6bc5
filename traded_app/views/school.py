from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from traded_app.access import ALL_ROLES, SCHOOL, roles_required
from traded_app.services import ordering
from traded_app.services import schools as school_service
from traded_app.services.settings import academic_year_label, current_academic_year

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
        order_counts=ordering.order_counts(school),
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
