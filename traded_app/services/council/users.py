"""User accounts: invitations, roles, deactivation and password resets.

Invitations and resets are links carrying a token signed with the app's SECRET_KEY
(itsdangerous), which expire (an invitation after INVITE_DAYS, a reset after RESET_HOURS) and work
once: the token holds a fingerprint of the password hash, which setting a password changes. An
invited user has no usable password until they set one.

The council always keeps an active service manager: the last one cannot be deactivated or given
another role.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from traded_app.extensions import db
from traded_app.models import Quadrant, School, User
from traded_app.models.base import utcnow
from traded_app.models.types import SCHOOL_ROLES, Role
from traded_app.services.council import setup_state
from traded_app.services.ordering import notifications
from traded_app.services.platform.auth import (
    end_sessions,
    find_user_by_email,
    hash_password,
    normalise_email,
)
from traded_app.services.platform.errors import DomainError, NotFound
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.paging import Page, paginate
from traded_app.services.platform.settings import app_config, council_display

INVITE_DAYS = 7
RESET_HOURS = 1
INVITE_SALT = "traded-invite"
RESET_SALT = "traded-password-reset"
# Not an argon2 hash, so no password ever verifies against it (auth._verify answers False).
UNUSABLE_PREFIX = "!unset:"


class UserAdminError(DomainError, ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class TokenError(DomainError, ValueError):
    """The link is wrong, expired or already used; the message says which, for its holder."""


def _link(endpoint: str, token: str) -> str:
    """The link for an e-mail (APP_BASE_URL outside a request, as for every e-mail)."""
    return absolute_url(endpoint, token=token) or "(no link: the service's APP_BASE_URL is not set)"


def user_by_id(user_id: int) -> User:
    """The account with this id, active or not; NotFound if there is none."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}")
    return user


def has_password(user: User) -> bool:
    return not user.password_hash.startswith(UNUSABLE_PREFIX)


def invitation_expires_at(user: User) -> datetime | None:
    """When the latest invitation link stops working (None: no invitation on record)."""
    return user.invited_at + timedelta(days=INVITE_DAYS) if user.invited_at else None


def invitation_expired(user: User) -> bool:
    expires = invitation_expires_at(user)
    return expires is not None and expires <= utcnow()


def status_label(user: User) -> str:
    if not user.active:
        return "Deactivated"
    if not has_password(user):
        return "Invitation expired" if invitation_expired(user) else "Invited"
    return "Active"


def pending_invitations(page: int = 1, per_page: int = 50) -> Page[User]:
    """Active accounts whose person has not yet set a password (accepted the invitation), the
    longest waiting first."""
    stmt = (
        select(User)
        .where(User.active.is_(True), User.password_hash.startswith(UNUSABLE_PREFIX))
        .options(joinedload(User.school), joinedload(User.quadrant))
        .order_by(User.invited_at.is_(None).desc(), User.invited_at, User.id)
    )
    return paginate(stmt, page, per_page)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app_config("SECRET_KEY"), salt=salt)


def make_token(user: User, salt: str, hours: int | None = None) -> str:
    """A signed link token; `hours` makes it expire sooner than its kind's usual time (the
    first service manager's invitation: 24 hours)."""
    data: dict[str, object] = {"u": user.id, "f": _fingerprint(user)}
    if hours is not None:
        data["h"] = hours
    return _serializer(salt).dumps(data)


def user_for_token(token: str, salt: str) -> User:
    """The active user a valid, unused, unexpired link is for; TokenError otherwise."""
    max_age = INVITE_DAYS * 86400 if salt == INVITE_SALT else RESET_HOURS * 3600
    try:
        data, signed_at = _serializer(salt).loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired:
        raise TokenError("This link has expired") from None
    except BadSignature:
        raise TokenError("This link is not valid") from None
    hours = data.get("h") if isinstance(data, dict) else None
    if isinstance(hours, int) and utcnow() - signed_at > timedelta(hours=hours):
        raise TokenError("This link has expired")
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        raise TokenError("This link has already been used or is no longer valid")
    return user


def set_password(user: User, password: str) -> None:
    """Set the password from a link; ends every session the user had."""
    user.password_hash = hash_password(password)
    end_sessions(user)


@dataclass(frozen=True)
class UserDetails:
    name: str
    email: str
    role: Role
    school_urn: int | None
    quadrant_id: int | None = None  # an adviser's quadrant team
    trust_id: int | None = None  # a trust finance person's trust (invited from the trust's page)


def _school_for(details: UserDetails) -> School | None:
    if details.role not in SCHOOL_ROLES:
        return None
    if details.school_urn is None:
        raise UserAdminError("Enter the URN of the user's school", "school_urn")
    school = db.session.execute(
        select(School).where(School.urn == details.school_urn)
    ).scalar_one_or_none()
    if school is None:
        raise UserAdminError(f"There is no school with URN {details.school_urn}", "school_urn")
    if not school.is_open:
        raise UserAdminError(f"{school.name} is closed: choose an open school", "school_urn")
    return school


def _quadrant_for(details: UserDetails) -> int | None:
    if details.role != Role.ADVISER or details.quadrant_id is None:
        return None
    if db.session.get(Quadrant, details.quadrant_id) is None:
        raise UserAdminError("Select the adviser's quadrant from the list", "quadrant_id")
    return details.quadrant_id


def _check_trust(role: Role, trust_id: int | None) -> None:
    if role == Role.TRUST_FINANCE and trust_id is None:
        raise UserAdminError(
            "Trust finance staff belong to a trust: invite them from the trust's page "
            "(Manage the service, Trusts)",
            "role",
        )


def active_admins() -> int:
    return db.session.execute(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.LA_ADMIN, User.active.is_(True))
    ).scalar_one()


def invite(details: UserDetails, by: User) -> User:
    """Create the account without a password and e-mail a link to set one."""
    email = normalise_email(details.email)
    if find_user_by_email(email) is not None:
        raise UserAdminError("There is already an account with this email address", "email")
    if details.role in SCHOOL_ROLES:
        waiting = setup_state.invite_waiting_for()
        if waiting:
            raise UserAdminError(
                "Schools' staff cannot be invited until these set-up tasks are complete: "
                + ", ".join(waiting),
                "role",
            )
    school = _school_for(details)
    _check_trust(details.role, details.trust_id)
    user = User(
        name=details.name.strip(),
        email=email,
        role=details.role,
        school_id=school.id if school else None,
        quadrant_id=_quadrant_for(details),
        trust_id=details.trust_id if details.role == Role.TRUST_FINANCE else None,
        password_hash=UNUSABLE_PREFIX + secrets.token_urlsafe(16),
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    send_invitation(user, by)
    return user


def send_invitation(user: User, by: User) -> None:
    if has_password(user):
        raise UserAdminError(f"{user.name} has already set a password")
    council = council_display()
    # A new random placeholder changes the fingerprint the links carry, so sending the
    # invitation again cancels any earlier link (a forwarded or intercepted e-mail stops working).
    user.password_hash = UNUSABLE_PREFIX + secrets.token_urlsafe(16)
    link = _link("auth.accept_invite", make_token(user, INVITE_SALT))
    user.invited_at = utcnow()
    notifications.queue(
        notifications.Mail(
            to=(user.email,),
            subject=f"You have been invited to {council.service_name}",
            body=(
                f"Dear {user.name},\n\n"
                f"{by.name} has given you an account on {council.name}'s "
                f"{council.service_name} as {user.role.label.lower()}.\n\n"
                f"Set your password with this link (it works once, for {INVITE_DAYS} days):\n"
                f"{link}\n\n"
                "If you did not expect this e-mail, you can ignore it.\n"
            ),
        )
    )


def update_user(user: User, details: UserDetails, by: User) -> User:
    email = normalise_email(details.email)
    other = find_user_by_email(email)
    if other is not None and other.id != user.id:
        raise UserAdminError("There is already an account with this email address", "email")
    if (
        user.role == Role.LA_ADMIN
        and details.role != Role.LA_ADMIN
        and user.active
        and active_admins() <= 1
    ):
        raise UserAdminError(
            f"{user.name} is the only service manager: give another user that role first", "role"
        )
    school = _school_for(details)
    trust_id = (details.trust_id or user.trust_id) if details.role == Role.TRUST_FINANCE else None
    _check_trust(details.role, trust_id)
    role_changed = (
        details.role != user.role
        or (school.id if school else None) != user.school_id
        or trust_id != user.trust_id
    )
    user.name = details.name.strip()
    user.email = email
    user.role = details.role
    user.school_id = school.id if school else None
    user.quadrant_id = _quadrant_for(details)
    user.trust_id = trust_id
    if role_changed and user.id != by.id:
        # What they may see has changed: make them sign in again under the new role.
        end_sessions(user)
    db.session.flush()
    return user


def deactivate(user: User, by: User) -> None:
    """The user can no longer sign in; every session they have ends at once."""
    if user.id == by.id:
        raise UserAdminError("You cannot deactivate your own account")
    if user.role == Role.LA_ADMIN and user.active and active_admins() <= 1:
        raise UserAdminError(f"{user.name} is the only service manager and cannot be deactivated")
    user.active = False
    end_sessions(user)


def reactivate(user: User) -> None:
    user.active = True
    db.session.flush()


def request_password_reset(email: str) -> None:
    """E-mail a reset link if an active account has this address. Says nothing either way: the
    caller shows the same page whatever happens (no hint whether an account exists)."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    council = council_display()
    if not has_password(user):
        # Invited but never set a password: the invitation is what they need.
        link = _link("auth.accept_invite", make_token(user, INVITE_SALT))
        hours = f"{INVITE_DAYS} days"
    else:
        link = _link("auth.reset_password", make_token(user, RESET_SALT))
        hours = f"{RESET_HOURS} hour"
    notifications.queue(
        notifications.Mail(
            to=(user.email,),
            subject=f"Reset your password for {council.service_name}",
            body=(
                f"Dear {user.name},\n\n"
                f"Someone asked to reset the password of your account on {council.name}'s "
                f"{council.service_name}. Choose a new password with this link (it works once, "
                f"for {hours}):\n{link}\n\n"
                "If you did not ask for this, ignore this e-mail: your password has not changed.\n"
            ),
        )
    )


def search_users(
    query: str = "",
    role: Role | None = None,
    show: str = "active",
    page: int = 1,
    per_page: int = 50,
) -> Page[User]:
    stmt = select(User)
    if query.strip():
        needle = query.strip().lower()
        stmt = stmt.outerjoin(School, School.id == User.school_id).where(
            or_(
                func.lower(User.name).contains(needle, autoescape=True),
                func.lower(User.email).contains(needle, autoescape=True),
                func.lower(School.name).contains(needle, autoescape=True),
            )
        )
    if role is not None:
        stmt = stmt.where(User.role == role)
    if show == "active":
        stmt = stmt.where(User.active.is_(True))
    elif show == "deactivated":
        stmt = stmt.where(User.active.is_(False))
    return paginate(
        stmt.options(joinedload(User.school)).order_by(User.name, User.id), page, per_page
    )
