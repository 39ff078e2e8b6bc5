"""Running the service (the service manager): catalogue and prices, schools and the GIAS import,
partnerships and quadrant teams, users, council settings and the audit trail.

One blueprint, "admin", under /council/manage; each module registers the pages of what it
manages. Also the per-request hook that tells the audit trail who is acting.
"""

from __future__ import annotations

from flask import g, render_template
from flask_login import current_user

from traded_app.access import roles_required
from traded_app.services.council import gias_import
from traded_app.services.platform import audit
from traded_app.services.platform.settings import council_settings
from traded_app.views.admin import (  # noqa: F401 - each registers its pages on bp
    activities,
    audit_trail,
    catalogue,
    conversions,
    days_rules,
    gias,
    next_year,
    partnerships,
    people,
    schools,
    settings,
    setup,
    setup_catalogue,
    users,
    year_close,
)
from traded_app.views.admin.common import ADMIN, bp

__all__ = ["bp"]


# --- Who is acting, for the audit trail -------------------------------------------------------


def _signed_in_actor() -> audit.Actor | None:
    if current_user and current_user.is_authenticated:
        return audit.actor_for(current_user._get_current_object())  # type: ignore[attr-defined]
    return None


@bp.before_app_request
def _set_audit_actor() -> None:
    g.audit_actor_token = audit.set_actor_resolver(_signed_in_actor)


@bp.teardown_app_request
def _reset_audit_actor(_exc: BaseException | None) -> None:
    token = g.pop("audit_actor_token", None)
    if token is not None:
        try:
            audit.reset_actor_resolver(token)
        except ValueError:  # torn down in another context: nothing of ours to reset
            pass


# --- Index ------------------------------------------------------------------------------------


@bp.route("")
@roles_required(ADMIN)
def index() -> str:
    return render_template(
        "admin/index.html",
        settings=council_settings(),
        recent_imports=gias_import.recent_imports(3),
    )
