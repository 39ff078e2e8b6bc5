"""Trust finance staff ordering for one of their trust's academies (where the trust says so),
through the school's own ordering pages.

"Order days" on an academy's trust page keeps the academy in the session; every request to an
ordering page checks it again against the trust's setting and membership
(services.ordering.by_trust) before the page runs, and the pages then use that academy
where a school's staff use their own school. A school id is never taken from a form.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import TRUST, roles_required
from traded_app.forms.auth import EmptyForm
from traded_app.services.ordering import by_trust
from traded_app.services.ordering.basket import School

bp = Blueprint("trust_ordering", __name__)

ACTING_FOR_KEY = "trust_ordering_school_id"
# The ordering pages a trust person reaches, each for the academy kept in the session.
TRUST_ORDERING_ENDPOINTS = frozenset(
    {
        "orders.catalogue",
        "orders.same_as_this_year",
        "orders.set_line_days",
        "orders.details",
        "orders.check_answers",
    }
)


def _refused_page(message: str) -> Response:
    html = render_template(
        "errors/error.html",
        status=403,
        title="You cannot order for that academy",
        body=f"{message}. Nothing has been ordered.",
    )
    return Response(html, status=403, mimetype="text/html")


@bp.route("/trust/academies/<int:urn>/order", methods=["POST"])
@roles_required(TRUST)
def start_order(urn: int) -> Response:
    """Start (or go back to) ordering for one of the trust's academies."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        school = by_trust.academy_by_urn(current_user, urn)
    except by_trust.TrustOrderingRefused as refused:
        session.pop(ACTING_FOR_KEY, None)
        return _refused_page(str(refused))
    session[ACTING_FOR_KEY] = school.id
    flash(f"You are ordering for {school.name}.", "success")
    return redirect(url_for("orders.catalogue"))


def check_acting_for() -> Response | None:
    """The orders blueprint's before-request hook: a trust person reaches an ordering page only
    for an academy they may order for now; anything else is a 403 page saying why."""
    if not current_user.is_authenticated or not current_user.is_trust_user:
        return None
    if request.endpoint not in TRUST_ORDERING_ENDPOINTS:
        return None
    try:
        g.trust_ordering_school = by_trust.academy_to_order_for(
            current_user, session.get(ACTING_FOR_KEY)
        )
    except by_trust.TrustOrderingRefused as refused:
        session.pop(ACTING_FOR_KEY, None)  # a stale choice is forgotten
        return _refused_page(str(refused))
    return None


def ordering_school() -> School:
    """The school the ordering pages are for: a school person's own (chosen) school, or the
    academy a trust person is ordering for (checked by `check_acting_for`)."""
    if current_user.is_trust_user:
        school: School = g.trust_ordering_school
        return school
    return current_user.school
