from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import public
from traded_app.domain.types import Role

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def home() -> Response:
    """Send each person to their own starting page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    if current_user.role == Role.HEADTEACHER:
        # What a headteacher checks first: the days the school has left, before buying more.
        return redirect(url_for("days.my_days"))
    if current_user.is_school_user:
        return redirect(url_for("school.dashboard"))
    if current_user.is_trust_user:
        return redirect(url_for("trusts.trust_home"))
    return redirect(url_for("council.dashboard"))


@bp.route("/accessibility")
@public
def accessibility() -> str:
    return render_template("main/accessibility.html")
