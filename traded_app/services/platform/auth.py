"""Passwords and sign-in. Messages never reveal whether an e-mail address has an account."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from traded_app.extensions import db
from traded_app.models import User
from traded_app.models.base import utcnow
from traded_app.models.users import new_session_token
from traded_app.services.platform.stamped_cache import remember_stamp, stamp_column
from traded_app.services.platform.transactions import reading_only

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).scalar_one_or_none()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (same cost either way).

    The password is checked outside any writing transaction: on SQLite a POST's transaction
    holds the database's one write lock from its first statement, and checking an argon2 hash
    takes a fifth of a second of CPU (seconds on a busy machine), so every order, payment and
    other sign-in would wait behind it. The account is read in a reading-only stretch, the
    hash checked with no transaction open, and only then is the sign-in recorded."""
    with reading_only():
        user = find_user_by_email(email)
        found = (user.id, user.password_hash) if user is not None and user.active else None
    if found is None:
        _verify(_DUMMY_HASH, password)
        return None
    user_id, password_hash = found
    if not _verify(password_hash, password):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.password_hash != password_hash:
        return None  # deactivated, or the password changed, while it was being checked
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = utcnow()
    db.session.flush()
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session cookie issued to `user`, including copies of the current one.

    Sessions live in signed cookies, so clearing the browser's cookie alone would leave a copied
    cookie valid until it expires; changing the token makes the user loader refuse them all.
    """
    user.session_token = new_session_token()
    db.session.flush()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Every signed-in request loads its user, and most pages then want the school and the catalogue's
# stamp (the cached catalogue and years are checked against it): one query, built once.
_USER_WITH_SCHOOL = (
    select(User, stamp_column()).options(joinedload(User.school)).where(User.id == bindparam("id"))
)


def load_user_by_session_id(session_id: str) -> User | None:
    """Flask-Login's loader: the id is "<user id>:<session token>"."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    row = db.session.execute(_USER_WITH_SCHOOL, {"id": int(user_id)}).one_or_none()
    if row is None:
        return None
    user, stamp = row
    remember_stamp(stamp)
    if not user.active or user.session_token != token:
        return None
    return user
