"""School staff with several schools: switching school from the header, and who else has
access to the chosen school."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import SCHOOL, roles_required
from traded_app.domain.numbers import whole_number
from traded_app.forms.auth import EmptyForm
from traded_app.services.council import school_staff
from traded_app.services.platform import memberships
from traded_app.web import CHOSEN_SCHOOL_KEY

bp = Blueprint("memberships", __name__)


@bp.route("/school/switch", methods=["POST"])
@roles_required(SCHOOL)
def switch_school() -> str | Response:
    """Work on another of the person's schools: checked against their memberships; any other
    school is refused and nothing changes."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("main.home"))
    chosen = request.form.get("school_id", "").strip()
    if not chosen:
        flash("Choose the school to work on.", "info")
        return redirect(url_for("school.dashboard"))
    school_id = whole_number(chosen)
    found = memberships.membership(current_user.id, school_id) if school_id else None
    if found is None:
        html = render_template(
            "errors/error.html",
            status=403,
            title="You cannot switch to that school",
            body="Your account has no role at that school, so nothing has changed. "
            "Ask the council's service manager if you need access to it.",
        )
        return Response(html, status=403, mimetype="text/html")
    session[CHOSEN_SCHOOL_KEY] = found.school_id
    flash(f"You are now working on {found.school.name}.", "success")
    # To the school's home page: the page the switch was made on may be a record of the other.
    return redirect(url_for("school.dashboard"))


@bp.route("/school/people")
@roles_required(SCHOOL)
def school_people() -> str:
    school = current_user.school
    return render_template(
        "school/people.html", school=school, people=school_staff.people_at(school.id)
    )
