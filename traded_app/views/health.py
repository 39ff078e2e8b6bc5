from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from traded_app.access import public
from traded_app.limits import limiter
from traded_app.services.platform.health import database_reachable

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@public
@limiter.exempt
def healthz() -> tuple[Response, int]:
    """For load balancers: 200 when the app can reach its database, 503 when it cannot."""
    if not database_reachable():
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
