"""The Stripe keys as the service manager saves them, the Stripe client built from the keys in
force, and what every card payment step shares: its error and the reading of Stripe's objects
(refusing, as UnexpectedShape, what is not in a shape Stripe sends).

Which keys are in force, and so whether card payments are offered at all, is decided in
platform.card_links (documents need it too). The secret key is never shown whole, logged or
written to the audit trail.
"""

from __future__ import annotations

import json
from typing import Any

import stripe

from traded_app.extensions import db
from traded_app.models import CouncilSettings
from traded_app.services.platform.card_links import stripe_keys
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import app_config, app_extension, council_settings

# Stripe's largest amount: eight digits (£999,999.99).
MAX_STRIPE_AMOUNT = 99_999_999
# Stripe's ids are far shorter; our columns for them hold 255 characters.
MAX_STRIPE_ID_LENGTH = 255


class UnexpectedShape(DomainError, ValueError):
    """Data from Stripe that is not in a shape Stripe sends (an object that is not one, an
    amount that is not a whole number of pence): refused, never guessed at."""


class CardPaymentError(DomainError, ValueError):
    """A card payment step that cannot go ahead; the message is for the person asking."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def last_four(secret: str) -> str:
    """How a secret is shown: its last four characters only."""
    return f"ending {secret[-4:]}" if secret else "not set"


def save_keys(
    secret_key: str | None, webhook_secret: str | None, *, remove: bool = False
) -> CouncilSettings:
    """Store new keys in the council settings (None or blank keeps the one there; `remove`
    clears both, which turns card payments off unless the environment sets them)."""
    settings = council_settings()
    if settings is None:
        raise CardPaymentError("Save the council's settings first")
    if remove:
        settings.stripe_secret_key = ""
        settings.stripe_webhook_secret = ""
    else:
        secret_key = (secret_key or "").strip()
        webhook_secret = (webhook_secret or "").strip()
        # Both checked before either is stored: a refused form leaves the settings as they were.
        if secret_key and not secret_key.startswith(
            ("sk_live_", "sk_test_", "rk_live_", "rk_test_")
        ):
            raise CardPaymentError(
                "Enter a Stripe secret key, which starts sk_live_ or sk_test_ (or a "
                "restricted key starting rk_)",
                "secret_key",
            )
        if webhook_secret and not webhook_secret.startswith("whsec_"):
            raise CardPaymentError(
                "Enter the webhook's signing secret, which starts whsec_", "webhook_secret"
            )
        if secret_key:
            settings.stripe_secret_key = secret_key
        if webhook_secret:
            settings.stripe_webhook_secret = webhook_secret
    db.session.flush()
    return settings


def client() -> stripe.StripeClient:
    """The official client with our key. Tests replace its HTTP client through
    app.extensions["stripe_http_client"] or point it at a fake with STRIPE_API_BASE."""
    secret = stripe_keys().secret_key
    if not secret:
        raise CardPaymentError("Card payments are not set up")
    kwargs: dict[str, Any] = {"max_network_retries": 2}
    http_client = app_extension("stripe_http_client")
    if http_client is not None:
        kwargs["http_client"] = http_client
    base = app_config("STRIPE_API_BASE")
    if base:
        kwargs["base_addresses"] = {"api": base}
    return stripe.StripeClient(secret, **kwargs)


def plain(obj: Any) -> dict[str, Any]:
    """A Stripe object as plain JSON data (StripeObject is not a dict)."""
    if isinstance(obj, dict):
        return obj
    return json.loads(str(obj)) if not hasattr(obj, "to_dict") else obj.to_dict()


def id_of(value: Any) -> str:
    """An id that Stripe may send bare or expanded into its object ("" for none)."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > MAX_STRIPE_ID_LENGTH:
        raise UnexpectedShape(f"An id that is not one: {str(value)[:40]!r}")
    return value


def object_of(value: Any, what: str) -> dict[str, Any]:
    """An object (a dict) inside Stripe's data; none at all reads as an empty one."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UnexpectedShape(f"{what} is not an object")
    return value


def amount_of(value: Any, what: str) -> int:
    """An amount in pence as Stripe sends it: a whole number no bigger than Stripe takes (none
    at all reads as 0)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnexpectedShape(f"{what} is not a whole number of pence")
    if not 0 <= value <= MAX_STRIPE_AMOUNT:
        raise UnexpectedShape(f"{what} is not an amount Stripe takes")
    return value


def whole_number(text: str, max_digits: int) -> int | None:
    """Our own id or amount written into Stripe's metadata (ASCII digits only), else None."""
    if text.isascii() and text.isdigit() and len(text) <= max_digits:
        return int(text)
    return None
