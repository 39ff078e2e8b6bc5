from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from traded_app.access import ALL_ROLES, public, roles_required
from traded_app.forms.admin import ForgotPasswordForm, SetPasswordForm
from traded_app.forms.auth import EmptyForm, SignInForm
from traded_app.limits import limiter
from traded_app.services.council import users as users_admin
from traded_app.services.platform import audit
from traded_app.services.platform import auth as auth_service

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = "Enter a correct email address and password"


def _account_key() -> str:
    """Rate-limit key for the account being tried, whether or not it exists."""
    return "account:" + auth_service.normalise_email(request.form.get("email", ""))[:254]


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
@limiter.limit("20 per minute;100 per hour", methods=["POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"], key_func=_account_key)
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
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
        form.email.errors = [SIGN_IN_FAILED]
    return render_template("auth/sign_in.html", form=form)


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
@limiter.limit("10 per minute;50 per hour", methods=["POST"])
@limiter.limit("3 per hour", methods=["POST"], key_func=_reset_account_key)
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
