from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response

from traded_app.access import public
from traded_app.limits import limiter
from traded_app.services.platform import jobs
from traded_app.services.platform.health import database_reachable

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@public
@limiter.exempt
def healthz() -> tuple[Response, int]:
    """For load balancers and monitoring: 200 when the app reaches its database and its job
    queue and no job has waited longer than QUEUE_MAX_WAIT_SECONDS; otherwise 503 with the
    reason (no worker running, the queue's store down, the database down)."""
    database_ok = database_reachable()
    queue = jobs.health()
    limit = current_app.config["QUEUE_MAX_WAIT_SECONDS"]
    reasons = []
    if not database_ok:
        reasons.append("the database cannot be reached")
    if not queue.reachable:
        reasons.append(f"the job queue cannot be reached ({queue.reason})")
    elif queue.oldest_waiting_seconds is not None and queue.oldest_waiting_seconds > limit:
        reasons.append(
            f"the oldest job has waited {queue.oldest_waiting_seconds:.0f} s (more than "
            f"{limit} s): is a queue worker running?"
        )
    body = {
        "status": "error" if reasons else "ok",
        "database": "ok" if database_ok else "unreachable",
        "queue": {
            "status": "ok" if queue.reachable else "unreachable",
            "waiting": queue.waiting,
            "oldest_waiting_seconds": (
                round(queue.oldest_waiting_seconds, 1)
                if queue.oldest_waiting_seconds is not None
                else None
            ),
        },
    }
    if reasons:
        body["reason"] = "; ".join(reasons)
    return jsonify(body), 503 if reasons else 200
