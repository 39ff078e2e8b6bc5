"""The audit trail: who changed what and when, searched, paged and exported."""

from __future__ import annotations

from datetime import date

from flask import Response, request

from traded_app.access import roles_required
from traded_app.services.platform import audit
from traded_app.views.admin.common import ADMIN, bp, fragment_or_page, int_arg, page_arg


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _audit_filters() -> audit.AuditFilters:
    entity = request.args.get("entity", "")
    action = request.args.get("action", "")
    return audit.AuditFilters(
        entity=entity if entity in dict(audit.entity_choices()) else "",
        actor_id=int_arg("actor"),
        action=action if action in ("created", "updated", "deleted") else "",
        text=request.args.get("q", "").strip()[:100],
        date_from=_date_arg("from"),
        date_to=_date_arg("to"),
        page=page_arg(),
    )


@bp.route("/audit")
@roles_required(ADMIN)
def audit_trail() -> str:
    filters = _audit_filters()
    return fragment_or_page(
        "admin/_audit_results.html",
        "admin/audit.html",
        filters=filters,
        result=audit.search(filters),
        entities=audit.entity_choices(),
        actors=audit.actors(),
        entity_title=audit.entity_title,
        bad_dates=[
            name for name in ("from", "to") if request.args.get(name) and _date_arg(name) is None
        ],
    )


@bp.route("/audit.csv")
@roles_required(ADMIN)
def audit_csv() -> Response:
    filters = _audit_filters()
    body = "".join(audit.export_csv(filters))
    stamp = date.today().isoformat()  # noqa: DTZ011 - a file name
    return Response(
        "\ufeff" + body,  # a byte-order mark so Excel reads the file as UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="audit-trail-{stamp}.csv"'},
    )
