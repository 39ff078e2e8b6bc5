"""Stripe's webhook: an event is trusted only with a valid signature over the raw body, then
handed to the function that records what it tells (payments, refunds); events we do not use
are ignored.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe

from traded_app.services.card_payments.keys import client, plain
from traded_app.services.card_payments.recording import Outcome, settle_checkout_session
from traded_app.services.card_payments.refunds import record_refund
from traded_app.services.platform.card_links import stripe_keys
from traded_app.services.platform.settings import app_config

log = logging.getLogger(__name__)

PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})


class BadSignature(ValueError):
    """A webhook that is unsigned, signed with another secret, tampered with or stale."""


def verify_webhook(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, once its Stripe-Signature header is checked against the raw body and the
    timestamp is within the tolerance (STRIPE_WEBHOOK_TOLERANCE seconds, 300 by default)."""
    secret = stripe_keys().webhook_secret
    if not secret:
        raise BadSignature("Card payments are not set up")
    try:
        stripe.Webhook.construct_event(
            payload,
            signature,
            secret,
            tolerance=int(app_config("STRIPE_WEBHOOK_TOLERANCE")),
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise BadSignature(str(error).split("\n")[0][:200]) from None
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise BadSignature("Not a Stripe event")
    return event


def handle_event(event: dict[str, Any]) -> Outcome:
    """Act on a verified event; events we do not use are ignored (and answered 200)."""
    kind = str(event.get("type") or "")
    obj = event["data"].get("object") or {}
    if kind in PAID_EVENTS:
        return settle_checkout_session(obj, kind)
    if kind == "checkout.session.async_payment_failed":
        log.info(
            "Card payment for %s failed (Checkout %s)",
            obj.get("client_reference_id"),
            obj.get("id"),
        )
        return Outcome("failed", message="The bank did not confirm the payment")
    if kind in REFUND_EVENTS:
        return record_refund(obj, kind)
    if kind == "charge.refunded":
        outcomes = [record_refund(r, kind) for r in _refunds_of_charge(obj)]
        return outcomes[-1] if outcomes else Outcome("ignored")
    return Outcome("ignored", message=f"{kind} is not used")


def _refunds_of_charge(charge: dict[str, Any]) -> list[dict[str, Any]]:
    """A refunded charge's refunds: in the event when Stripe included them, else asked for."""
    listed = (charge.get("refunds") or {}).get("data")
    if listed:
        return list(listed)
    return [
        plain(r)
        for r in client().v1.refunds.list(params={"charge": charge["id"], "limit": 100}).data
    ]
