"""Access control: every route is denied unless it says who may reach it.

Views are decorated with `@public` or `@roles_required(...)`; `create_app` refuses to start if a
route has neither, and a before-request hook enforces the declaration. A school user reaches only
their own school's records: other schools' records answer 404, as if they did not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.domain.types import ALL_ROLES, COUNCIL_ROLES, SCHOOL_ROLES, TRUST_ROLES, Role

__all__ = [
    "ALL_ROLES",
    "COUNCIL",
    "PUBLIC",
    "SCHOOL",
    "TRUST",
    "access_of",
    "check_every_route_declares_access",
    "enforce_access",
    "public",
    "roles_required",
]

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
ACCESS_ATTR = "_traded_access"

SCHOOL = SCHOOL_ROLES
COUNCIL = COUNCIL_ROLES
TRUST = TRUST_ROLES


def public(view: F) -> F:
    """Anyone may reach this route, signed in or not."""
    setattr(view, ACCESS_ATTR, PUBLIC)
    return view


def roles_required(*roles: Role | Iterable[Role]) -> Callable[[F], F]:
    """Only signed-in users with one of `roles` may reach this route."""
    allowed: set[Role] = set()
    for item in roles:
        if isinstance(item, Role):
            allowed.add(item)
        else:
            allowed.update(item)
    if not allowed:
        raise ValueError("roles_required needs at least one role")

    def decorate(view: F) -> F:
        setattr(view, ACCESS_ATTR, frozenset(allowed))
        return view

    return decorate


def access_of(app: Flask, endpoint: str) -> str | frozenset[Role] | None:
    if endpoint == "static":
        return PUBLIC
    view = app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTR, None) if view else None


def check_every_route_declares_access(app: Flask) -> None:
    missing = [e for e in app.view_functions if access_of(app, e) is None]
    if missing:
        raise RuntimeError(f"routes without an access declaration: {', '.join(sorted(missing))}")


def enforce_access() -> Response | None:
    """before_request hook: deny by default, sign-in first, then the role check."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no route matched: Flask answers 404/405 itself
    access = access_of(current_app._get_current_object(), endpoint)  # type: ignore[attr-defined]
    if access == PUBLIC:
        return None
    if access is None:
        abort(403)
    if not current_user.is_authenticated:
        target = url_for("auth.sign_in", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request"):
            response = Response(status=401)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)
    if current_user.role not in access:
        abort(403)
    return None
