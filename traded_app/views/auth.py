from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from traded_app.access import ALL_ROLES, public, roles_required
from traded_app.forms.admin import ForgotPasswordForm, SetPasswordForm
from traded_app.forms.auth import EmptyForm, SignInForm
from traded_app.limits import limiter, seconds_until_reset, wait_text
from traded_app.services.council import school_details
from traded_app.services.council import users as users_admin
from traded_app.services.platform import audit
from traded_app.services.platform import auth as auth_service

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = "Enter a correct email address and password"

# Sign-in limits, counted in the limiter's storage (Redis when REDIS_URL is set, so shared by
# every worker and host). Per account: wrong passwords only, so a person who signs in and out
# all day is never locked out. Per address: every attempt, right or wrong, with room for the 50
# staff of a school behind one address all signing in within the same minute.
ACCOUNT_LIMITS = "5 per minute;30 per hour"
ADDRESS_LIMITS = "60 per minute;600 per hour"
TOO_MANY_WRONG_PASSWORDS = "A wrong password has been entered for this account too many times."
TOO_MANY_FROM_ADDRESS = "There have been too many attempts to sign in from your network."


def _account_key() -> str:
    """Rate-limit key for the account being tried, whether or not it exists."""
    return "account:" + auth_service.normalise_email(request.form.get("email", ""))[:254]


def _wrong_password(_response: Response) -> bool:
    """Count this attempt against the account (only when the password was checked and wrong)."""
    return bool(g.get("wrong_password"))


def safe_next(target: str | None) -> str | None:
    """Only follow `next` to a path on this site (no scheme, no host, no `//`)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(ADDRESS_LIMITS, methods=["POST"], error_message=TOO_MANY_FROM_ADDRESS)
@limiter.limit(
    ACCOUNT_LIMITS,
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_wrong_password,
    error_message=TOO_MANY_WRONG_PASSWORDS,
)
def sign_in() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    if form.validate_on_submit():
        user = auth_service.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            session.clear()  # a fresh session on sign-in (no fixation)
            login_user(user)
            session.permanent = True
            now = int(time.time())
            session["signed_in_at"] = now
            session["last_seen"] = now
            if school_details.check_due(user):
                # The first sign-in of the academic year: the business manager checks the
                # school's billing details before anything else.
                return redirect(url_for("school_details.check"))
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
        g.wrong_password = True
        form.email.errors = [SIGN_IN_FAILED]
    return render_template("auth/sign_in.html", form=form)


@bp.errorhandler(TooManyRequests)
def too_many_attempts(error: TooManyRequests) -> Response:
    """A limit on this blueprint refused the request: say which, and when to try again."""
    what = (
        error.description
        if isinstance(error, RateLimitExceeded) and error.limit.error_message
        else "You have tried too many times in a short period."
    )
    wait = seconds_until_reset()
    html = render_template(
        "errors/error.html",
        status=429,
        title="Too many attempts",
        body=f"{what} Try again in {wait_text()}.",
    )
    response = Response(html, status=429, mimetype="text/html")
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/sign-out", methods=["POST"])
@roles_required(ALL_ROLES)
def sign_out() -> Response:
    form = EmptyForm()
    if form.validate_on_submit():
        # Signing out ends this user's sessions in every browser (a copied cookie stops working).
        auth_service.end_sessions(current_user)
        logout_user()
        session.clear()
        flash("You have been signed out.", "success")
    return redirect(url_for("auth.sign_in"))


# --- Password reset and invitations -----------------------------------------------------------


def _reset_account_key() -> str:
    return "reset:" + auth_service.normalise_email(request.form.get("email", ""))[:254]


@bp.route("/reset-password", methods=["GET", "POST"])
@public
@limiter.limit(
    "10 per minute;50 per hour",
    methods=["POST"],
    error_message="There have been too many requests for reset links from your network.",
)
@limiter.limit(
    "3 per hour",
    methods=["POST"],
    key_func=_reset_account_key,
    error_message="A reset link has been asked for this email address too many times.",
)
def forgot_password() -> str | Response:
    """Ask for a reset link. The answer is the same whether or not the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        users_admin.request_password_reset(form.email.data or "")
        return render_template("auth/reset_requested.html", email=form.email.data)
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def reset_password(token: str) -> str | Response:
    return _set_password(token, invitation=False)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def accept_invite(token: str) -> str | Response:
    return _set_password(token, invitation=True)


def _set_password(token: str, *, invitation: bool) -> str | Response:
    salt = users_admin.INVITE_SALT if invitation else users_admin.RESET_SALT
    try:
        user = users_admin.user_for_token(token[:500], salt)
    except users_admin.TokenError as error:
        return render_template("auth/link_problem.html", problem=str(error), invitation=invitation)
    form = SetPasswordForm()
    if form.validate_on_submit():
        with audit.acting_as(user):
            users_admin.set_password(user, form.password.data or "")
        if current_user.is_authenticated:
            logout_user()
        session.clear()
        flash("Your password has been set. Sign in with it now.", "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/set_password.html", form=form, user=user, invitation=invitation)
