from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from traded_app.access import COUNCIL, roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import Role
from traded_app.services.card_payments import reviews as card_reviews
from traded_app.services.council import overview as council_service
from traded_app.services.council import quadrants as quadrant_admin
from traded_app.services.council import schools as school_service
from traded_app.services.council import setup_state
from traded_app.services.finance import glance
from traded_app.services.ordering import lists
from traded_app.services.platform.settings import academic_year_label, current_academic_year
from traded_app.web import is_htmx

bp = Blueprint("council", __name__, url_prefix="/council")


@bp.route("/")
@roles_required(COUNCIL)
def dashboard() -> str:
    year = current_academic_year()
    return render_template(
        "council/dashboard.html",
        year_label=academic_year_label(),
        summary=council_service.overview(year),
        order_counts=lists.order_counts(),
        # A council going live: the service manager is led to what is left to set up.
        setup_waiting=(
            setup_state.invite_waiting_for() if current_user.role == Role.LA_ADMIN else []
        ),
        # The service manager: set-up tasks not done, and each team's days sold of its capacity.
        setup_not_done=(
            [
                r.task.title
                for r in setup_state.task_rows()
                if r.status != setup_state.Status.COMPLETED
            ]
            if current_user.role == Role.LA_ADMIN
            else []
        ),
        capacity=(
            {row.quadrant.id: row.cells[0] for row in quadrant_admin.quadrant_rows([year])}
            if current_user.role == Role.LA_ADMIN and year is not None
            else {}
        ),
        # Finance lands on money first: owed, overdue by age, payments to review, not sent.
        money=glance.money_at_a_glance() if current_user.role == Role.LA_FINANCE else None,
        reviews_open=(
            card_reviews.count_open_reviews() if current_user.role == Role.LA_FINANCE else 0
        ),
    )


@bp.route("/schools")
@roles_required(COUNCIL)
def schools() -> str:
    query = request.args.get("q", "")[:100]
    page = whole_number(request.args.get("page"), max_digits=5) or 1
    result = school_service.search_schools(query, page)
    template = "council/_school_results.html" if is_htmx() else "council/schools.html"
    return render_template(template, query=query, result=result)


def _int_arg(name: str) -> int | None:
    return whole_number(request.args.get(name))


@bp.route("/orders")
@roles_required(COUNCIL)
def order_queue() -> str:
    """The service manager's queue: filter by status, quadrant, service and school."""
    status = request.args.get("status", lists.NEEDS_ACTION)
    if status not in lists.QUEUE_STATUSES:
        status = lists.NEEDS_ACTION
    filters = lists.QueueFilters(
        status=status,
        quadrant_id=_int_arg("quadrant"),
        service_id=_int_arg("service"),
        school=request.args.get("school", "")[:100],
        page=_int_arg("page") or 1,
    )
    result = lists.council_queue(filters)
    fragment = is_htmx()
    return render_template(
        "council/_order_results.html" if fragment else "council/orders.html",
        fragment=fragment,
        filters=filters,
        result=result,
        statuses=lists.QUEUE_STATUSES,
        quadrants=council_service.quadrants(),
        services=council_service.services(),
    )
