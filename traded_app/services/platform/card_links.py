"""Whether card payments are offered, and the link an invoice's PDF carries to pay it by card.

Documents need both when they issue an invoice, and they sit beside card_payments (which talks
to Stripe), so the two live here, below both, without `stripe`. Card payments exist only while
both Stripe keys are set (council settings, or the environment, which wins). The secret key is
never shown whole, logged or written to the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from traded_app.models import CouncilSettings
from traded_app.services.platform.settings import app_config, council_settings


@dataclass(frozen=True)
class StripeKeys:
    secret_key: str
    webhook_secret: str
    secret_key_from_environment: bool
    webhook_secret_from_environment: bool

    @property
    def enabled(self) -> bool:
        return bool(self.secret_key and self.webhook_secret)

    @property
    def test_mode(self) -> bool:
        return self.secret_key.startswith(("sk_test_", "rk_test_"))


def stripe_keys(settings: CouncilSettings | None = None) -> StripeKeys:
    """The keys in force: the environment's when set, otherwise the council settings'."""
    settings = settings if settings is not None else council_settings()
    env_secret = app_config("STRIPE_SECRET_KEY")
    env_webhook = app_config("STRIPE_WEBHOOK_SECRET")
    return StripeKeys(
        secret_key=env_secret or (settings.stripe_secret_key if settings else ""),
        webhook_secret=env_webhook or (settings.stripe_webhook_secret if settings else ""),
        secret_key_from_environment=bool(env_secret),
        webhook_secret_from_environment=bool(env_webhook),
    )


def card_payments_enabled() -> bool:
    """Whether card payments are offered: both keys set."""
    return stripe_keys().enabled


def payment_link_for(number: str) -> str:
    """The stable link a VAT invoice's PDF carries to pay it by card ("" when there is none:
    card payments off, or no https address for the app in APP_BASE_URL). It leads to the app,
    which starts a Checkout for whatever is left to pay when the school follows it."""
    base = app_config("APP_BASE_URL")
    if not base.startswith("https://") or not card_payments_enabled():
        return ""
    return f"{base}/invoices/{number}/pay"
