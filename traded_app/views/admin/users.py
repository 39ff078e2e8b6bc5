"""People's accounts: inviting, editing, deactivating and reactivating them."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import Role
from traded_app.forms.admin import MembershipForm, UserForm
from traded_app.services.council import quadrants as quadrant_admin
from traded_app.services.council import school_staff
from traded_app.services.council import users as users_admin
from traded_app.services.platform import audit, memberships
from traded_app.views.admin.common import ADMIN, bp, field_error, fragment_or_page, page_arg
from traded_app.views.admin.people import send_invitation
from traded_app.views.form_posts import button_action


@bp.route("/users")
@roles_required(ADMIN)
def users() -> str:
    query = request.args.get("q", "")[:100]
    role_arg = request.args.get("role", "")
    role = Role(role_arg) if role_arg in {r.value for r in Role} else None
    show = request.args.get("show", "active")
    if show not in ("active", "deactivated", "all"):
        show = "active"
    result = users_admin.search_users(query, role, show, page_arg())
    return fragment_or_page(
        "admin/_user_results.html",
        "admin/users.html",
        query=query,
        role=role,
        show=show,
        roles=list(Role),
        result=result,
        status_label=users_admin.status_label,
    )


def _user_details(form: UserForm) -> users_admin.UserDetails:
    role = Role(form.role.data)
    return users_admin.UserDetails(
        name=form.name.data or "",
        email=form.email.data or "",
        role=role,
        school_urn=int(form.school_urn.data)
        if role.is_school_role and form.school_urn.data
        else None,
        quadrant_id=whole_number(form.quadrant_id.data) if role == Role.ADVISER else None,
    )


def _with_quadrants(form: UserForm) -> UserForm:
    """An adviser belongs to a quadrant team: the choice of teams."""
    form.quadrant_id.choices = [("", "None")] + [
        (str(q.id), q.name) for q in quadrant_admin.quadrants()
    ]
    return form


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def invite_user() -> str | BaseResponse:
    form = _with_quadrants(UserForm())
    if form.validate_on_submit():
        try:
            user = users_admin.invite(_user_details(form), current_user)
        except users_admin.UserAdminError as error:
            field_error(form, error.field, str(error))
        else:
            flash(f"Invitation sent to {user.email}. The link works for 7 days.", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_user(user_id: int) -> str | BaseResponse:
    user = users_admin.user_by_id(user_id)
    if request.method == "POST":
        form = UserForm()
    else:
        form = UserForm(
            data={
                "name": user.name,
                "email": user.email,
                "role": user.role.value,
                "school_urn": str(user.school.urn) if user.school else "",
                "quadrant_id": str(user.quadrant_id or ""),
            }
        )
    _with_quadrants(form)
    if form.validate_on_submit():
        try:
            users_admin.update_user(user, _user_details(form), current_user)
        except users_admin.UserAdminError as error:
            field_error(form, error.field, str(error))
        else:
            flash(f"{user.name} saved.", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return _user_page(user, form, MembershipForm(formdata=None))


def _user_page(user: users_admin.User, form: UserForm, membership_form: MembershipForm) -> str:
    return render_template(
        "admin/user_form.html",
        form=form,
        membership_form=membership_form,
        second_form=membership_form,  # its errors in the page's error summary
        user=user,
        status=users_admin.status_label(user),
        has_password=users_admin.has_password(user),
        history=audit.history_of("user_account", user.id),
        schools=memberships.memberships_of(user.id) if user.is_school_user else [],
    )


def _user_form_of(user: users_admin.User) -> UserForm:
    return _with_quadrants(
        UserForm(
            formdata=None,
            data={
                "name": user.name,
                "email": user.email,
                "role": user.role.value,
                "school_urn": str(user.school.urn) if user.school else "",
                "quadrant_id": str(user.quadrant_id or ""),
            },
        )
    )


@bp.route("/users/<int:user_id>/schools", methods=["POST"])
@roles_required(ADMIN)
def add_user_school(user_id: int) -> str | BaseResponse:
    """Give an existing school user a role at another school too (one person, several
    schools)."""
    user = users_admin.user_by_id(user_id)
    form = MembershipForm()
    if form.validate_on_submit():
        try:
            added = school_staff.add_to_school(
                user,
                whole_number(form.membership_urn.data or ""),
                Role(form.membership_role.data),
                current_user,
            )
        except users_admin.UserAdminError as error:
            field_error(
                form, "membership_urn" if error.field != "role" else "membership_role", str(error)
            )
        else:
            flash(f"{user.name} now has a role at {added.school.name}.", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return _user_page(user, _user_form_of(user), form)


@bp.route("/users/<int:user_id>/schools/<int:school_id>/remove", methods=["POST"])
@roles_required(ADMIN)
def remove_user_school(user_id: int, school_id: int) -> BaseResponse:
    return _account_button(
        user_id,
        lambda user: school_staff.remove_from_school(user, school_id),
        "{} no longer has a role at that school.",
    )


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@roles_required(ADMIN)
def deactivate_user(user_id: int) -> BaseResponse:
    return _account_button(
        user_id,
        lambda user: users_admin.deactivate(user, current_user),
        "{} is deactivated and has been signed out.",
    )


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@roles_required(ADMIN)
def reactivate_user(user_id: int) -> BaseResponse:
    return _account_button(user_id, users_admin.reactivate, "{} can sign in again.")


@bp.route("/users/<int:user_id>/invite", methods=["POST"])
@roles_required(ADMIN)
def resend_invite(user_id: int) -> BaseResponse:
    user = users_admin.user_by_id(user_id)
    send_invitation(user)
    return redirect(url_for("admin.edit_user", user_id=user.id))


def _account_button(
    user_id: int, action: Callable[[users_admin.User], object], done: str
) -> BaseResponse:
    """A button on a person's page: `action` on their account, `done` (with their name) or the
    refusal flashed, back to the page."""
    user = users_admin.user_by_id(user_id)
    button_action(lambda: action(user), done.format(user.name), users_admin.UserAdminError)
    return redirect(url_for("admin.edit_user", user_id=user.id))
