"""Setting the service up from an empty database: the first service manager, the council's
details and logo, its local authority code and financial year, and document numbering.

`create_service_manager` is what `flask create-service-manager` runs: on an empty database it
writes the council's row with placeholders (`details_set` False, so no document can be issued
until the real details are entered) and invites the service manager with a link that works once,
for FIRST_INVITE_HOURS.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import CouncilLogo, CouncilSettings, DocumentType, User
from traded_app.models.types import Role
from traded_app.services.council import users as users_admin
from traded_app.services.council.setup_state import SetupError, mark
from traded_app.services.documents.numbering import (
    InvoicingError,
    financial_year_of,
    next_number,
    set_next_number,
)
from traded_app.services.ordering import notifications
from traded_app.services.platform.auth import find_user_by_email, normalise_email
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.settings import council_settings, today

FIRST_INVITE_HOURS = 24
PLACEHOLDER_NAME = "Your council (details not set)"
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_SIDE = 2000
LOGO_MIN_SIDE = 16
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SERIES = (
    (DocumentType.INVOICE, "invoice"),
    (DocumentType.RECHARGE, "recharge"),
    (DocumentType.CREDIT_NOTE, "credit_note"),
)


@dataclass(frozen=True)
class FirstAccount:
    user: User
    link: str


def create_service_manager(email: str, name: str, *, another: bool = False) -> FirstAccount:
    """The council's row (placeholders, if there is none yet) and a service manager invited with
    a single-use link valid FIRST_INVITE_HOURS, e-mailed through the outbox and returned."""
    email = normalise_email(email)
    name = " ".join(name.split())
    if not name or len(name) > 120:
        raise SetupError("Give the service manager's name (at most 120 characters)", "name")
    if "@" not in email or len(email) > 254 or " " in email:
        raise SetupError(f"{email!r} is not an e-mail address", "email")
    existing = db.session.execute(
        select(User.email).where(User.role == Role.LA_ADMIN, User.active.is_(True)).limit(1)
    ).scalar_one_or_none()
    if existing is not None and not another:
        raise SetupError(
            f"There is already a service manager ({existing}). To add another, run the command "
            "again with --another, or invite them from Users in the service."
        )
    if find_user_by_email(email) is not None:
        raise SetupError(f"There is already an account with the address {email}", "email")
    settings = council_settings()
    if settings is None:
        settings = CouncilSettings(
            id=1, name=PLACEHOLDER_NAME, details_set=False, setup_in_progress=True
        )
        db.session.add(settings)
    user = User(
        name=name,
        email=email,
        role=Role.LA_ADMIN,
        password_hash=users_admin.UNUSABLE_PREFIX + secrets.token_urlsafe(16),
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    token = users_admin.make_token(user, users_admin.INVITE_SALT, hours=FIRST_INVITE_HOURS)
    link = absolute_url("auth.accept_invite", token=token)
    if link is None:
        raise SetupError(
            "APP_BASE_URL is not set: set it to the service's address (like "
            "https://traded.example.gov.uk) so the invitation can carry a link"
        )
    notifications.queue(
        notifications.Mail(
            to=(user.email,),
            subject=f"Set up {settings.service_name}",
            body=(
                f"Dear {user.name},\n\n"
                f"You are the service manager of {settings.service_name}. Set your password "
                f"with this link (it works once, for {FIRST_INVITE_HOURS} hours):\n{link}\n\n"
                'Then sign in and choose "Set up the service".\n'
            ),
        )
    )
    return FirstAccount(user, link)


# --- Council details and logo -----------------------------------------------------------------

DETAILS = (
    "name",
    "address",
    "postcode",
    "vat_number",
    "bank_name",
    "bank_account_name",
    "bank_sort_code",
    "bank_account_number",
    "remittance_email",
    "contact_email",
    "contact_phone",
)


@dataclass(frozen=True)
class Png:
    data: bytes
    width: int
    height: int


def check_logo(data: bytes) -> Png:
    """The logo if it is a PNG of a sensible size; SetupError saying what is wrong otherwise."""
    if len(data) > LOGO_MAX_BYTES:
        raise SetupError(
            f"The logo must be {LOGO_MAX_BYTES // 1024} KB or smaller: this file is "
            f"{len(data) // 1024} KB",
            "logo",
        )
    if not data.startswith(PNG_SIGNATURE) or len(data) < 33 or data[12:16] != b"IHDR":
        raise SetupError("The logo must be a PNG file", "logo")
    width, height = struct.unpack(">II", data[16:24])
    if b"IEND" not in data[-12:]:
        raise SetupError("The logo file is incomplete or damaged: save it as a PNG again", "logo")
    if not (LOGO_MIN_SIDE <= width <= LOGO_MAX_SIDE and LOGO_MIN_SIDE <= height <= LOGO_MAX_SIDE):
        raise SetupError(
            f"The logo must be between {LOGO_MIN_SIDE} and {LOGO_MAX_SIDE} pixels on each side: "
            f"this one is {width} by {height}",
            "logo",
        )
    return Png(data, width, height)


def store_logo(png: Png) -> str:
    """Keep the logo (once, by its SHA-256) and return its SHA-256."""
    digest = hashlib.sha256(png.data).hexdigest()
    known = db.session.execute(
        select(CouncilLogo.id).where(CouncilLogo.sha256 == digest)
    ).scalar_one_or_none()
    if known is None:
        db.session.add(CouncilLogo(sha256=digest, png=png.data, width=png.width, height=png.height))
    return digest


def logo_png(sha256: str) -> bytes | None:
    if not sha256:
        return None
    return db.session.execute(
        select(CouncilLogo.png).where(CouncilLogo.sha256 == sha256)
    ).scalar_one_or_none()


def _settings() -> CouncilSettings:
    settings = council_settings()
    if settings is None:
        raise SetupError("Run `flask create-service-manager` first: the council has no record")
    return settings


def _apply(settings: CouncilSettings, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if getattr(settings, name) != value:
            setattr(settings, name, value)


def save_details(
    values: dict[str, Any], logo: Png | None, by: User | None, *, remove_logo: bool = False
) -> CouncilSettings:
    """The council's details (every one of DETAILS) and, if given, a new logo; the details are
    then set (documents can be issued) and the task complete."""
    settings = _settings()
    _apply(settings, {name: values[name] for name in DETAILS})
    if logo is not None:
        settings.logo_sha256 = store_logo(logo)
    elif remove_logo and settings.logo_sha256:
        settings.logo_sha256 = ""
    if not settings.details_set:
        settings.details_set = True
    db.session.flush()
    mark("details", True, by)
    return settings


def save_la_finance(la_code: str, start_month: int, by: User | None) -> CouncilSettings:
    settings = _settings()
    _apply(settings, {"la_code": la_code, "financial_year_start_month": start_month})
    db.session.flush()
    mark("la_finance", True, by)
    return settings


# --- Document numbering -----------------------------------------------------------------------


def current_financial_year() -> int:
    settings = _settings()
    return financial_year_of(today(), settings.financial_year_start_month)


def save_numbering(
    prefixes: dict[str, str], first_numbers: dict[str, int], by: User | None
) -> CouncilSettings:
    """Each series' prefix and the number its next document takes this financial year (so a
    council continues its old sequence); never a number at or below one already issued."""
    settings = _settings()
    if len({p.upper() for p in prefixes.values()}) < len(SERIES):
        raise SetupError(
            "Invoices, recharges and credit notes each need their own prefix", "recharge_prefix"
        )
    financial_year = current_financial_year()
    for document_type, field in SERIES:
        try:
            set_next_number(document_type, financial_year, first_numbers[field])
        except InvoicingError as error:
            raise SetupError(str(error), f"{field}_first") from None
    _apply(settings, {f"{field}_prefix": prefixes[field] for _type, field in SERIES})
    db.session.flush()
    mark("numbering", True, by)
    return settings


def next_numbers() -> dict[str, int]:
    """Each series' next number this financial year, by SERIES field name."""
    financial_year = current_financial_year()
    return {field: next_number(document_type, financial_year) for document_type, field in SERIES}
