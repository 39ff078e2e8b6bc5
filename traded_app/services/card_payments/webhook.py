"""Stripe's webhook: an event is trusted only with a valid signature over the raw body, made
within the tolerance of now (either side), then handed to the function that records what it
tells (payments, refunds); events we do not use are ignored.

What the view answers, so that Stripe retries only what may go through later: BadSignature and
UnexpectedShape are refused (400); StripeUnavailable, when answering the event needed Stripe's
API and it could not be asked, is 503 (Stripe delivers the event again).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import stripe

from traded_app.services.card_payments.keys import (
    CardPaymentError,
    UnexpectedShape,
    client,
    id_of,
    object_of,
    plain,
)
from traded_app.services.card_payments.recording import Outcome, settle_checkout_session
from traded_app.services.card_payments.refunds import record_refund
from traded_app.services.card_payments.trust_checkout import is_consolidated, settle
from traded_app.services.platform.card_links import stripe_keys
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import app_config

log = logging.getLogger(__name__)

PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})


class BadSignature(DomainError, ValueError):
    """A webhook that is unsigned, signed with another secret, tampered with, stale or dated in
    the future."""


class StripeUnavailable(DomainError):
    """Acting on an event needed Stripe's API, and Stripe could not be asked just now."""


def verify_webhook(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, once its Stripe-Signature header is checked against the raw body and its
    timestamp is within the tolerance of now, before or after (STRIPE_WEBHOOK_TOLERANCE
    seconds, 300 by default). UnexpectedShape when the signed body is not a Stripe event."""
    secret = stripe_keys().webhook_secret
    if not secret:
        raise BadSignature("Card payments are not set up")
    tolerance = int(app_config("STRIPE_WEBHOOK_TOLERANCE"))
    try:
        # The library's own check: signature, and not older than the tolerance.
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise BadSignature(str(error).split("\n")[0][:200]) from None
    # The library lets any time in the future through; a signature dated ahead of our clock
    # by more than the tolerance is refused like a stale one.
    if tolerance and _signed_at(signature or "") > time.time() + tolerance:
        raise BadSignature("Timestamp in the future, outside the tolerance zone")
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):
        raise UnexpectedShape("The body is not JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise UnexpectedShape("Not a Stripe event")
    return event


def _signed_at(signature: str) -> int:
    """The Stripe-Signature header's timestamp, read as the library reads it (its first t=)."""
    try:
        items = [item.split("=", 2) for item in signature.split(",")]
        return int(next(item[1] for item in items if item[0] == "t"))
    except (StopIteration, IndexError, ValueError):
        raise BadSignature("Unable to extract the timestamp") from None


def handle_event(event: dict[str, Any]) -> Outcome:
    """Act on a verified event; events we do not use are ignored (and answered 200).

    UnexpectedShape when its object (or what is read of it) is not in Stripe's shape;
    StripeUnavailable when Stripe had to be asked and could not be."""
    kind = str(event.get("type") or "")
    obj = object_of(event["data"].get("object"), "The event's object")
    if kind in PAID_EVENTS:
        if is_consolidated(obj):  # a trust paying a consolidated invoice's parts at once
            return settle(obj, kind)
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
    listed = object_of(charge.get("refunds"), "The charge's refunds").get("data")
    if listed:
        if not isinstance(listed, list) or not all(isinstance(r, dict) for r in listed):
            raise UnexpectedShape("The charge's refunds are not a list of refunds")
        return list(listed)
    charge_id = id_of(charge.get("id"))
    if not charge_id:
        raise UnexpectedShape("The refunded charge has no id")
    try:
        return [
            plain(r)
            for r in client().v1.refunds.list(params={"charge": charge_id, "limit": 100}).data
        ]
    except (stripe.StripeError, CardPaymentError) as error:
        raise StripeUnavailable(
            f"Could not ask Stripe for {charge_id}'s refunds: {error}"
        ) from None
