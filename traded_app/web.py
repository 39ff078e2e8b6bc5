"""Request hooks, security headers, error pages and template helpers."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask import Request as FlaskRequest
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items
from werkzeug.exceptions import HTTPException
from werkzeug.local import LocalProxy
from werkzeug.wrappers import Response

from traded_app import formatting, static_assets
from traded_app.access import enforce_access
from traded_app.database import reset_read_only, set_read_only
from traded_app.domain.days_input import DAYS_PATTERN
from traded_app.domain.types import OrderStatus
from traded_app.extensions import db
from traded_app.limits import seconds_until_reset
from traded_app.services.platform import errors, memberships, transactions
from traded_app.services.platform.settings import council_display

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LATE_WRITE_LOCK_ATTR = "_traded_late_write_lock"
# The session's last-seen time is re-signed (a new cookie) at most this often, not on every
# request: idle expiry is to the minute, and a busy page's requests mostly send no cookie back.
LAST_SEEN_RESOLUTION_SECONDS = 60

ERROR_PAGES = {
    400: ("Sorry, there is a problem with that request", "The request could not be understood."),
    403: (
        "You do not have permission to see this page",
        "Your account does not give you access to this page.",
    ),
    404: ("Page not found", "If you typed the web address, check it is correct."),
    405: ("Sorry, that action is not allowed here", "Go back and try again from the page before."),
    429: (
        "Too many attempts",
        "You have tried too many times in a short period. Wait a few minutes and try again.",
    ),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. Nothing you entered has been saved unless you saw a confirmation.",
    ),
}

NUL = "\x00"
REPLACEMENT = "\ufffd"


class TextValues(ImmutableMultiDict[str, Any]):
    """Form fields and query-string values as views and forms read them. NUL (U+0000) is no
    character a person types, and PostgreSQL can neither store nor compare it (a search or a
    saved name with one was a 500): it becomes U+FFFD, as an HTML parser makes it, so it is
    shown back and checked like any other odd character. Uploaded files are left as sent."""

    def __init__(self, mapping: Any = None) -> None:
        super().__init__(
            [
                (key.replace(NUL, REPLACEMENT), _without_nul(value))
                for key, value in iter_multi_items(mapping or ())
            ]
        )


def _without_nul(value: Any) -> Any:
    return value.replace(NUL, REPLACEMENT) if isinstance(value, str) else value


class Request(FlaskRequest):
    parameter_storage_class = TextValues


def init_app(app: Flask) -> None:
    app.request_class = Request
    app.before_request(_begin_request)
    app.before_request(_refuse_nul_in_path)
    app.before_request(_expire_idle_session)
    app.before_request(_apply_chosen_school)
    app.before_request(enforce_access)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)
    app.context_processor(_template_context)
    app.add_template_global(id_url, "id_url")
    app.jinja_env.globals["days_pattern"] = DAYS_PATTERN  # every days input's `pattern`
    for name in ("pounds", "days", "days_number", "long_date", "date_time"):
        app.add_template_filter(getattr(formatting, name), name)

    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(errors.NotFound, _not_found)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    # Static files are answered in front of the app (hashed names, compressed, cached a year).
    static_assets.init_app(
        app, headers=security_headers(None, app.config["APP_ENV"] == "production")
    )


def _refuse_nul_in_path() -> None:
    """No address has a NUL in it (a document number, a token): not found, rather than a
    lookup PostgreSQL refuses."""
    if NUL in request.path:
        abort(404)


def late_write_lock(view: F) -> F:
    """This route reads as a reader and writes only through transactions.commit_write, so on
    SQLite it takes the database's write lock for its write alone, not from its first query
    (signing the user in from the session) to its answer's commit. Anything it wrote outside
    commit_write could fail "database is locked" when another writer got in first."""
    setattr(view, LATE_WRITE_LOCK_ATTR, True)
    return view


def _reads_first() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, LATE_WRITE_LOCK_ATTR, False))


def _begin_request() -> None:
    g.csp_nonce = secrets.token_urlsafe(16)
    reads_first = _reads_first()
    g.read_only_token = set_read_only(request.method in READ_ONLY_METHODS or reads_first)
    if reads_first:
        transactions.read_statement_by_statement()
    g.domain_errors_token = errors.watch()


def _end_request(_exc: BaseException | None) -> None:
    token = g.pop("read_only_token", None)
    if token is not None:
        reset_read_only(token)
    watching = g.pop("domain_errors_token", None)
    if watching is not None:
        errors.stop_watching(watching)


def _expire_idle_session() -> Response | None:
    """Sign out after SESSION_IDLE_MINUTES without a request, and after the session's maximum age."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    max_age = current_app.permanent_session_lifetime.total_seconds()
    last_seen = session.get("last_seen", 0)
    signed_in_at = session.get("signed_in_at", 0)
    if now - last_seen > idle or now - signed_in_at > max_age:
        logout_user()
        session.clear()
        flash("Your session expired, so you have been signed out. Sign in again.", "info")
        if request.headers.get("HX-Request"):
            response = Response(status=401)
            response.headers["HX-Redirect"] = url_for("auth.sign_in")
            return response
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    if now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
        session["last_seen"] = now
    return None


CHOSEN_SCHOOL_KEY = "school_id"


def _apply_chosen_school() -> None:
    """School staff with several schools work on the one chosen in the header (kept in the
    session): checked against their memberships on every request. A choice that is no longer
    theirs is forgotten, and they are back at their first school."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return
    chosen = session.get(CHOSEN_SCHOOL_KEY)
    if chosen is None:
        return
    if not isinstance(chosen, int) or memberships.apply_choice(current_user, chosen) is None:
        if chosen != current_user.school_id:
            session.pop(CHOSEN_SCHOOL_KEY, None)


def _finish_request(response: Response) -> Response:
    # One commit point per request: views and services only flush. A request that was refused
    # (a service's DomainError reached the view) keeps nothing, whatever page it answers with.
    if (
        request.method not in READ_ONLY_METHODS
        and response.status_code < 400
        and not errors.refused()
    ):
        db.session.commit()
    else:
        db.session.rollback()
    _security_headers(response)
    return response


def _security_headers(response: Response) -> None:
    production = current_app.config["APP_ENV"] == "production"
    response.headers.update(security_headers(g.get("csp_nonce", ""), production))
    if request.endpoint != "static":
        response.vary.add("HX-Request")
        if current_user.is_authenticated:
            # Pages hold a school's or the council's figures: keep them out of shared caches.
            response.headers["Cache-Control"] = "no-store"


def security_headers(nonce: str | None, production: bool) -> dict[str, str]:
    """The headers every answer carries. Static files (served before the app sees the request)
    run no scripts of their own, so theirs has no nonce."""
    scripts = "script-src 'self'; " if nonce is None else f"script-src 'self' 'nonce-{nonce}'; "
    headers = {
        "Content-Security-Policy": (
            "default-src 'self'; "
            f"{scripts}"
            "style-src 'self'; "
            "img-src 'self' data:; "
            "font-src 'self'; "
            "connect-src 'self'; "
            "form-action 'self'; "
            "frame-ancestors 'none'; "
            "base-uri 'none'; "
            "object-src 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if production:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def _template_context() -> dict[str, Any]:
    return {
        "csp_nonce": g.get("csp_nonce", ""),
        # Looked up only if the template shows it (htmx fragments do not).
        "council": LocalProxy(council_display),
        "OrderStatus": OrderStatus,
        "school_choices": _school_choices,
    }


def _school_choices() -> list[memberships.Choice]:
    """The schools the signed-in person may switch between (the header's form: two or more)."""
    if not current_user.is_authenticated or not current_user.is_school_user:
        return []
    return memberships.choices_of(current_user)


# An id no table reaches, marking where each id goes in a URL built once by `id_url`.
_ID_MARK = 9_876_543_210_123


def id_url(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """`url_for(endpoint, **{key: id}, **values)` for many ids at the cost of one: the URL is
    built once with a marker for the id, and each id is put in its place (a table of 50 or 300
    rows otherwise spends much of its time in URL building)."""
    before, after = id_url_parts(endpoint, key, **values)
    return lambda value: f"{before}{int(value)}{after}"


def id_url_parts(endpoint: str, key: str, **values: Any) -> tuple[str, str]:
    """What comes before and after the id in `url_for(endpoint, **{key: id}, **values)`."""
    marked: dict[str, Any] = {key: _ID_MARK, **values}  # in url_for's order: the id first
    before, after = url_for(endpoint, **marked).split(str(_ID_MARK))
    return before, after


def is_htmx() -> bool:
    """An htmx request for a fragment. A history restore (Back after htmx pushed a URL) needs the
    whole page, though htmx marks it as its own request."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true" and headers.get("HX-History-Restore-Request") != "true"
    )


def _render_error(status: int, title: str | None = None, body: str | None = None) -> Response:
    default_title, default_body = ERROR_PAGES.get(status, ERROR_PAGES[400])
    html = render_template(
        "errors/error.html", status=status, title=title or default_title, body=body or default_body
    )
    return Response(html, status=status, mimetype="text/html")


def _csrf_error(error: CSRFError) -> Response:
    db.session.rollback()
    return _render_error(
        400,
        "Your form could not be sent",
        "The page you used had expired or was opened in another session. Go back, reload the "
        "page and try again. Nothing was saved.",
    )


def _not_found(error: errors.NotFound) -> Response:
    """A lookup no view turned into 404 itself: the same page as any unknown address."""
    db.session.rollback()
    return _render_error(404)


def _http_error(error: HTTPException) -> Response:
    db.session.rollback()
    status = error.code or 500
    if status < 400:
        return error.get_response()
    response = _render_error(status if status in ERROR_PAGES else 400)
    if status not in ERROR_PAGES:
        response.status_code = status
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    if status == 429:
        response.headers["Retry-After"] = str(seconds_until_reset())
    return response


def _unexpected_error(error: Exception) -> Response:
    db.session.rollback()
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return _render_error(500)
