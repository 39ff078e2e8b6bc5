"""Card payments through Stripe: Checkout for an invoice's balance, the webhook's events, the one
idempotent function that records what Stripe says was paid, refunds against credit notes, and
reconciliation with Stripe's own lists.

Trust: Stripe's word reaches us two ways, a signed webhook and the school's return from
Checkout (where we ask Stripe ourselves). Both end in `settle_checkout_session`, keyed on the
PaymentIntent: the payment is recorded once (the unique `payment.stripe_payment_intent`, checked
again after the invoice's row is locked), whatever the order or number of deliveries. Anything
that does not match our records (amount, currency, invoice, an invoice already paid) is held as
a `CardPaymentReview` for finance, never applied.

Card payments exist only while both keys are set (council settings, or the environment, which
wins). The secret key is never shown whole, logged or written to the audit trail.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import stripe
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from traded_app.extensions import db
from traded_app.formatting import LONDON, pounds
from traded_app.models import (
    CardPaymentReview,
    CardRefund,
    CouncilSettings,
    Document,
    DocumentType,
    Payment,
    PaymentKind,
    ReviewKind,
    ReviewStatus,
    User,
)
from traded_app.models.base import utcnow
from traded_app.services.finance import balances, payments
from traded_app.services.platform.card_links import (  # noqa: F401 (payment_link_for, StripeKeys: this module's callers)
    StripeKeys,
    payment_link_for,
)
from traded_app.services.platform.card_links import card_payments_enabled as enabled
from traded_app.services.platform.card_links import stripe_keys as keys
from traded_app.services.platform.settings import council_settings, today

log = logging.getLogger(__name__)

# Stripe's refund states that mean the money is (or is about to be) on its way back.
REFUND_GOING = frozenset({"succeeded", "pending", "requires_action"})
REFUND_STOPPED = frozenset({"failed", "canceled"})
MAX_RECONCILE_DAYS = 366


class CardPaymentError(ValueError):
    """A card payment step that cannot go ahead; the message is for the person asking."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- Keys and the Stripe client --------------------------------------------------------------


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
        if secret_key:
            if not secret_key.startswith(("sk_live_", "sk_test_", "rk_live_", "rk_test_")):
                raise CardPaymentError(
                    "Enter a Stripe secret key, which starts sk_live_ or sk_test_ (or a "
                    "restricted key starting rk_)",
                    "secret_key",
                )
            settings.stripe_secret_key = secret_key
        if webhook_secret:
            if not webhook_secret.startswith("whsec_"):
                raise CardPaymentError(
                    "Enter the webhook's signing secret, which starts whsec_", "webhook_secret"
                )
            settings.stripe_webhook_secret = webhook_secret
    db.session.flush()
    return settings


def client() -> stripe.StripeClient:
    """The official client with our key. Tests replace its HTTP client through
    app.extensions["stripe_http_client"] or point it at a fake with STRIPE_API_BASE."""
    secret = keys().secret_key
    if not secret:
        raise CardPaymentError("Card payments are not set up")
    kwargs: dict[str, Any] = {"max_network_retries": 2}
    http_client = current_app.extensions.get("stripe_http_client")
    if http_client is not None:
        kwargs["http_client"] = http_client
    base = current_app.config.get("STRIPE_API_BASE", "")
    if base:
        kwargs["base_addresses"] = {"api": base}
    return stripe.StripeClient(secret, **kwargs)


def _plain(obj: Any) -> dict[str, Any]:
    """A Stripe object as plain JSON data (StripeObject is not a dict)."""
    if isinstance(obj, dict):
        return obj
    return json.loads(str(obj)) if not hasattr(obj, "to_dict") else obj.to_dict()


def _id_of(value: Any) -> str:
    """An id that Stripe may send bare or expanded into its object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


# --- Which documents can be paid by card ------------------------------------------------------


def card_payment_problem(document: Document, balance_pence: int | None = None) -> str:
    """Why `document` cannot be paid by card now ("" when it can)."""
    if not enabled():
        return "Card payments are not set up"
    if document.document_type != DocumentType.INVOICE:
        return payments.route_problem(document, PaymentKind.CARD) or (
            f"{document.number} is not a VAT invoice"
        )
    if balance_pence is None:
        balance_pence = balances.figures_of(document).balance_pence or 0
    if balance_pence <= 0:
        return f"{document.number} has nothing left to pay"
    return ""


def invoice_by_number(number: str) -> Document | None:
    return db.session.execute(
        select(Document).where(Document.number == number)
    ).scalar_one_or_none()


def start_checkout(document: Document, success_url: str, cancel_url: str) -> str:
    """A Stripe Checkout Session for the invoice's whole balance; the URL to send the school to.

    The idempotency key is the invoice and its balance: asking again for the same balance (a
    double click, Back and pay again) gets the same session, which Stripe will not take payment
    for twice; once a payment changes the balance, a new session is for what is left."""
    balance = balances.figures_of(document).balance_pence or 0
    problem = card_payment_problem(document, balance)
    if problem:
        raise CardPaymentError(problem)
    reference = {
        "document_id": str(document.id),
        "invoice_number": document.number,
        "amount_pence": str(balance),
    }
    email = (document.school.billing_contact_email or document.buyer_contact_email or "").strip()
    params: dict[str, Any] = {
        "mode": "payment",
        "payment_method_types": ["card"],
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": document.currency.lower(),
                    "unit_amount": balance,
                    "product_data": {
                        "name": f"{document.document_type.label} {document.number}",
                        "description": f"{document.buyer_name}, order {document.order_reference}",
                    },
                },
            }
        ],
        "client_reference_id": document.number,
        "metadata": reference,
        "payment_intent_data": {"description": document.number, "metadata": reference},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if email:
        params["customer_email"] = email
    try:
        session = client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": f"checkout-{document.id}-{balance}"},
        )
    except stripe.StripeError as error:
        log.error("Checkout for %s refused by Stripe: %s", document.number, error)
        raise CardPaymentError(
            "Card payments are not available just now. Try again later, or pay by bank transfer"
        ) from None
    url = _plain(session).get("url") or ""
    if not url:
        raise CardPaymentError("Card payments are not available just now. Try again later")
    log.info("Checkout %s started for %s (%s)", _id_of(_plain(session)), document.number, balance)
    return str(url)


def retrieve_session(session_id: str) -> dict[str, Any]:
    """Stripe's current view of a Checkout Session."""
    if not session_id.startswith("cs_") or len(session_id) > 255:
        raise CardPaymentError("That is not a Stripe Checkout Session")
    try:
        return _plain(client().v1.checkout.sessions.retrieve(session_id))
    except stripe.StripeError as error:
        log.warning("Could not retrieve Checkout %s: %s", session_id, error)
        raise CardPaymentError("We could not check the payment with Stripe just now") from None


# --- Recording what Stripe says was paid: one idempotent function ----------------------------


@dataclass(frozen=True)
class Outcome:
    """What became of something Stripe told us.

    status: recorded, already_recorded, held, not_paid, failed or ignored."""

    status: str
    payment: Payment | None = None
    review: CardPaymentReview | None = None
    refund: CardRefund | None = None
    message: str = ""


@dataclass(frozen=True)
class PaidFacts:
    """A payment as Stripe describes it (from a Checkout Session)."""

    payment_intent: str
    amount_pence: int
    currency: str
    document_id: str
    invoice_number: str
    asked_pence: str  # the balance we asked for when the session was created
    session_id: str = ""
    event_type: str = ""


def settle_checkout_session(session: dict[str, Any], event_type: str = "") -> Outcome:
    """Record a Checkout Session's payment if Stripe says it is paid (webhook and return page
    alike). Safe to call any number of times, at once, in any order."""
    if session.get("mode") != "payment":
        return Outcome("ignored", message="Not a payment")
    status = session.get("payment_status")
    if status != "paid":
        if session.get("status") == "expired":
            return Outcome("failed", message="The Checkout expired without a payment")
        return Outcome("not_paid", message="Stripe has not yet confirmed the payment")
    metadata = session.get("metadata") or {}
    facts = PaidFacts(
        payment_intent=_id_of(session.get("payment_intent")),
        amount_pence=int(session.get("amount_total") or 0),
        currency=str(session.get("currency") or ""),
        document_id=str(metadata.get("document_id") or ""),
        invoice_number=str(session.get("client_reference_id") or metadata.get("invoice_number")),
        asked_pence=str(metadata.get("amount_pence") or ""),
        session_id=str(session.get("id") or ""),
        event_type=event_type,
    )
    if not facts.payment_intent:
        return Outcome("not_paid", message="Stripe has not said which payment this is")
    return record_card_payment(facts)


def record_card_payment(facts: PaidFacts) -> Outcome:
    """The one function that records a card payment, keyed on its PaymentIntent.

    Already recorded (or held): the same answer again. Otherwise the invoice's row is locked,
    the check repeated (a delivery running alongside may have recorded it while we waited), and
    the payment recorded only if amount, currency and invoice all match ours and the invoice
    still owes at least that much; anything else is held for finance."""
    known = _known_payment(facts.payment_intent)
    if known is not None:
        return known
    document = _document_named(facts)
    if document is None:
        return _hold_payment(facts, None, "It names no invoice of ours")
    payments.lock_document(document.id)
    known = _known_payment(facts.payment_intent)
    if known is not None:
        return known
    problem = _payment_mismatch(document, facts)
    if problem:
        return _hold_payment(facts, document, problem)
    try:
        payment = payments.record_payment(
            document,
            PaymentKind.CARD,
            facts.amount_pence,
            today(),
            facts.payment_intent,
            None,
            note=f"Paid by card through Stripe (Checkout {facts.session_id})"[:500],
            stripe_payment_intent=facts.payment_intent,
        )
    except payments.PaymentError as error:
        return _hold_payment(facts, document, str(error))
    log.info(
        "Card payment %s of %s recorded against %s",
        facts.payment_intent,
        pounds(facts.amount_pence),
        document.number,
    )
    return Outcome("recorded", payment=payment)


def _known_payment(payment_intent: str) -> Outcome | None:
    payment = db.session.execute(
        select(Payment).where(Payment.stripe_payment_intent == payment_intent)
    ).scalar_one_or_none()
    if payment is not None:
        return Outcome("already_recorded", payment=payment)
    review = _review_of(payment_intent)
    if review is not None:
        if review.payment_id is not None:
            return Outcome("already_recorded", payment=review.payment, review=review)
        return Outcome("held", review=review, message=review.problem)
    return None


def _review_of(stripe_object_id: str) -> CardPaymentReview | None:
    return db.session.execute(
        select(CardPaymentReview).where(CardPaymentReview.stripe_object_id == stripe_object_id)
    ).scalar_one_or_none()


def _document_named(facts: PaidFacts) -> Document | None:
    """Our invoice the payment names: its id and number must agree."""
    if not facts.document_id.isdigit() or len(facts.document_id) > 9:
        return None
    document = db.session.get(Document, int(facts.document_id))
    if document is None or document.number != facts.invoice_number:
        return None
    return document


def _payment_mismatch(document: Document, facts: PaidFacts) -> str:
    if document.document_type != DocumentType.INVOICE:
        return f"{document.number} is not a VAT invoice, so it is not paid by card"
    if facts.currency.lower() != document.currency.lower():
        return (
            f"It was paid in {facts.currency.upper() or 'an unknown currency'}, but "
            f"{document.number} is in {document.currency}"
        )
    if str(facts.amount_pence) != facts.asked_pence:
        asked = pounds(int(facts.asked_pence)) if facts.asked_pence.isdigit() else "nothing"
        return f"Stripe took {pounds(facts.amount_pence)}, but we asked for {asked}"
    balance = balances.figures_of(document).balance_pence or 0
    if balance <= 0:
        return f"{document.number} was already paid when this card payment arrived"
    if facts.amount_pence > balance:
        return (
            f"{pounds(facts.amount_pence)} is more than the {pounds(balance)} left to pay on "
            f"{document.number} when it arrived"
        )
    return ""


def _hold(review: CardPaymentReview) -> CardPaymentReview:
    """Insert the review once: a duplicate arriving at the same moment meets the unique index
    and reads the row that won."""
    try:
        with db.session.begin_nested():
            db.session.add(review)
    except IntegrityError:
        existing = _review_of(review.stripe_object_id)
        assert existing is not None
        return existing
    log.warning(
        "Card %s %s held for review: %s", review.kind.value, review.stripe_object_id, review.problem
    )
    return review


def _hold_payment(facts: PaidFacts, document: Document | None, problem: str) -> Outcome:
    review = _hold(
        CardPaymentReview(
            kind=ReviewKind.PAYMENT,
            stripe_object_id=facts.payment_intent,
            stripe_payment_intent=facts.payment_intent,
            checkout_session_id=facts.session_id[:255],
            event_type=facts.event_type[:80],
            document_id=document.id if document else None,
            invoice_reference=(facts.invoice_number or "")[:255],
            amount_pence=max(0, facts.amount_pence),
            currency=(facts.currency or "???")[:3].upper(),
            problem=problem,
        )
    )
    return Outcome("held", review=review, message=review.problem)


# --- Webhook events ---------------------------------------------------------------------------

PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})


class BadSignature(ValueError):
    """A webhook that is unsigned, signed with another secret, tampered with or stale."""


def verify_webhook(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, once its Stripe-Signature header is checked against the raw body and the
    timestamp is within the tolerance (STRIPE_WEBHOOK_TOLERANCE seconds, 300 by default)."""
    secret = keys().webhook_secret
    if not secret:
        raise BadSignature("Card payments are not set up")
    try:
        stripe.Webhook.construct_event(
            payload,
            signature,
            secret,
            tolerance=int(current_app.config.get("STRIPE_WEBHOOK_TOLERANCE", 300)),
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
        _plain(r)
        for r in client().v1.refunds.list(params={"charge": charge["id"], "limit": 100}).data
    ]


# --- Refunds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundPlan:
    """What finance can refund by card for a credit note: how much, from which card payment."""

    credit_note: Document
    invoice: Document
    payment: Payment  # the card payment as it stands (what is kept of it)
    payment_intent: str
    amount_pence: int
    refunded_pence: int  # already refunded for this credit note


def refunded_for(credit_note: Document) -> int:
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(CardRefund.amount_pence), 0)).where(
                CardRefund.credit_note_id == credit_note.id,
                CardRefund.status.not_in(REFUND_STOPPED),
            )
        ).scalar_one()
    )


def refunds_of(document: Document) -> list[CardRefund]:
    """Card refunds made for a credit note, or from an invoice's card payments."""
    column = CardRefund.credit_note_id if document.is_credit_note else CardRefund.invoice_id
    return list(
        db.session.execute(
            select(CardRefund).where(column == document.id).order_by(CardRefund.id)
        ).scalars()
    )


def live_card_payments(invoice: Document) -> list[Payment]:
    """The invoice's card payments as they stand: not reversed, biggest first."""
    reversed_ids = select(Payment.reverses_payment_id).where(
        Payment.reverses_payment_id.is_not(None)
    )
    return list(
        db.session.execute(
            select(Payment)
            .where(
                Payment.document_id == invoice.id,
                Payment.kind == PaymentKind.CARD,
                Payment.amount_pence > 0,
                Payment.id.not_in(reversed_ids),
            )
            .order_by(Payment.amount_pence.desc(), Payment.id)
        ).scalars()
    )


def refund_plan(credit_note: Document) -> RefundPlan:
    """How much of `credit_note` can go back by card, or CardPaymentError saying why none."""
    if not credit_note.is_credit_note or credit_note.credits is None:
        raise CardPaymentError("Only a credit note is refunded")
    invoice = credit_note.credits
    if invoice.document_type != DocumentType.INVOICE:
        raise CardPaymentError(
            f"{invoice.number} is an internal recharge: its credit is settled by journal"
        )
    if not enabled():
        raise CardPaymentError("Card payments are not set up")
    balance = balances.figures_of(invoice).balance_pence or 0
    refunded = refunded_for(credit_note)
    left_to_refund = credit_note.gross_pence - refunded
    if left_to_refund <= 0:
        raise CardPaymentError(f"{credit_note.number} has been refunded in full")
    if balance >= 0:
        raise CardPaymentError(
            f"Nothing is due back on {invoice.number}: it has been paid no more than it now owes"
        )
    live = [p for p in live_card_payments(invoice) if _intent_of(p)]
    if not live:
        raise CardPaymentError(f"{invoice.number} was not paid by card")
    payment = live[0]
    amount = min(-balance, left_to_refund, payment.amount_pence)
    return RefundPlan(credit_note, invoice, payment, _intent_of(payment), amount, refunded)


def _intent_of(payment: Payment) -> str:
    """The PaymentIntent a card payment row belongs to (after a refund, what is kept of it is
    recorded again with the same reference)."""
    if payment.stripe_payment_intent:
        return payment.stripe_payment_intent
    return payment.reference if payment.reference.startswith("pi_") else ""


def refund_credit_note(credit_note: Document, user: User) -> CardRefund:
    """Refund by card what `credit_note` credits on its card-paid invoice (as much as is due
    back), through Stripe, and record it against the credit note."""
    invoice = credit_note.credits
    if invoice is None:
        raise CardPaymentError("Only a credit note is refunded")
    payments.lock_document(invoice.id)
    plan = refund_plan(credit_note)
    metadata = {
        "credit_note_id": str(credit_note.id),
        "credit_note_number": credit_note.number,
        "document_id": str(invoice.id),
        "invoice_number": invoice.number,
    }
    try:
        refund = _plain(
            client().v1.refunds.create(
                params={
                    "payment_intent": plan.payment_intent,
                    "amount": plan.amount_pence,
                    "reason": "requested_by_customer",
                    "metadata": metadata,
                },
                options={
                    "idempotency_key": (
                        f"refund-{credit_note.id}-{plan.refunded_pence}-{plan.amount_pence}"
                    )
                },
            )
        )
    except stripe.StripeError as error:
        log.error("Refund for %s refused by Stripe: %s", credit_note.number, error)
        message = getattr(error, "user_message", None) or "Stripe did not make the refund"
        raise CardPaymentError(f"{message}. Nothing has been refunded") from None
    if refund.get("status") in REFUND_STOPPED:
        raise CardPaymentError(
            f"Stripe says the refund {refund.get('status')}: nothing has been refunded"
        )
    outcome = record_refund(refund, "refund.created", user)
    if outcome.refund is None:
        raise CardPaymentError(outcome.message or "The refund could not be recorded")
    return outcome.refund


def record_refund(
    refund: dict[str, Any], event_type: str = "", user: User | None = None
) -> Outcome:
    """The one function that records a card refund, keyed on Stripe's refund id.

    A refund made here (its metadata names our credit note) is recorded against that credit
    note: on the invoice, the card payment is reversed and what is kept recorded again. A later
    failure is held for finance (the money did not go back). A refund made in Stripe's dashboard
    names no credit note: it is held for finance to raise one."""
    refund_id = str(refund.get("id") or "")
    status = str(refund.get("status") or "")
    if not refund_id.startswith("re_"):
        return Outcome("ignored", message="Not a refund")
    existing = _refund_by_id(refund_id)
    if existing is not None:
        return _refund_status_changed(existing, refund, status, event_type)
    metadata = refund.get("metadata") or {}
    credit_note_id = str(metadata.get("credit_note_id") or "")
    credit_note = (
        db.session.get(Document, int(credit_note_id))
        if credit_note_id.isdigit() and len(credit_note_id) < 10
        else None
    )
    amount = int(refund.get("amount") or 0)
    if credit_note is None or credit_note.credits is None:
        if status in REFUND_STOPPED:
            return Outcome("ignored", message="A refund that did not happen")
        return _hold_refund(
            refund, event_type, None, "A refund made in Stripe, not for a credit note raised here"
        )
    invoice = credit_note.credits
    payments.lock_document(invoice.id)
    existing = _refund_by_id(refund_id)  # recorded while we waited for the lock
    if existing is not None:
        return _refund_status_changed(existing, refund, status, event_type)
    if status in REFUND_STOPPED:
        return Outcome("ignored", message="A refund that did not happen")
    payment_intent = _id_of(refund.get("payment_intent"))
    live = [p for p in live_card_payments(invoice) if _intent_of(p) == payment_intent]
    problem = ""
    if str(refund.get("currency") or "").lower() != invoice.currency.lower():
        problem = f"It was refunded in {str(refund.get('currency')).upper()}"
    elif not live:
        problem = f"{invoice.number} has no card payment {payment_intent} left to refund"
    elif amount > live[0].amount_pence:
        problem = f"{pounds(amount)} is more than the card payment it refunds"
    elif refunded_for(credit_note) + amount > credit_note.gross_pence:
        problem = f"{pounds(amount)} is more than is left of {credit_note.number} to refund"
    if problem:
        return _hold_refund(refund, event_type, invoice, problem)
    reversal, kept = payments.record_card_refund(
        live[0],
        amount,
        f"Refunded {pounds(amount)} by card for {credit_note.number} ({refund_id})",
        user,
    )
    row = CardRefund(
        stripe_refund_id=refund_id,
        stripe_payment_intent=payment_intent,
        credit_note_id=credit_note.id,
        invoice_id=invoice.id,
        amount_pence=amount,
        status=status,
        requested_by_id=user.id if user else None,
        reversal_id=reversal.id,
        kept_payment_id=kept.id if kept else None,
    )
    db.session.add(row)
    db.session.flush()
    log.info("Card refund %s of %s recorded for %s", refund_id, pounds(amount), credit_note.number)
    return Outcome("recorded", refund=row)


def _refund_by_id(refund_id: str) -> CardRefund | None:
    return db.session.execute(
        select(CardRefund).where(CardRefund.stripe_refund_id == refund_id)
    ).scalar_one_or_none()


def _refund_status_changed(
    row: CardRefund, refund: dict[str, Any], status: str, event_type: str
) -> Outcome:
    if not status or status == row.status or row.status in REFUND_STOPPED:
        return Outcome("already_recorded", refund=row)
    row.status = status
    db.session.flush()
    if status in REFUND_STOPPED:
        review = _hold_refund(
            refund,
            event_type,
            row.invoice,
            f"Stripe says this refund {status} after it was recorded: the money did not go back, "
            f"so {row.invoice.number}'s payments show it refunded when it was not",
        ).review
        return Outcome("held", refund=row, review=review)
    return Outcome("already_recorded", refund=row)


def _hold_refund(
    refund: dict[str, Any], event_type: str, invoice: Document | None, problem: str
) -> Outcome:
    metadata = refund.get("metadata") or {}
    review = _hold(
        CardPaymentReview(
            kind=ReviewKind.REFUND,
            stripe_object_id=str(refund.get("id")),
            stripe_payment_intent=_id_of(refund.get("payment_intent")),
            event_type=event_type[:80],
            document_id=invoice.id if invoice else None,
            invoice_reference=str(metadata.get("invoice_number") or "")[:255],
            amount_pence=max(0, int(refund.get("amount") or 0)),
            currency=str(refund.get("currency") or "???")[:3].upper(),
            problem=problem,
        )
    )
    return Outcome("held", review=review, message=review.problem)


# --- Reviews: finance deals with what was held --------------------------------------------------


def open_reviews() -> list[CardPaymentReview]:
    return list(
        db.session.execute(
            select(CardPaymentReview)
            .where(CardPaymentReview.status == ReviewStatus.OPEN)
            .order_by(CardPaymentReview.created_at, CardPaymentReview.id)
        ).scalars()
    )


def count_open_reviews() -> int:
    return int(
        db.session.execute(
            select(func.count()).where(CardPaymentReview.status == ReviewStatus.OPEN)
        ).scalar_one()
    )


def closed_reviews(limit: int = 50) -> list[CardPaymentReview]:
    return list(
        db.session.execute(
            select(CardPaymentReview)
            .where(CardPaymentReview.status != ReviewStatus.OPEN)
            .order_by(CardPaymentReview.resolved_at.desc(), CardPaymentReview.id.desc())
            .limit(limit)
        ).scalars()
    )


def get_review(review_id: int) -> CardPaymentReview | None:
    return db.session.get(CardPaymentReview, review_id)


def recent_refunds(limit: int = 50) -> list[CardRefund]:
    return list(
        db.session.execute(select(CardRefund).order_by(CardRefund.id.desc()).limit(limit)).scalars()
    )


def _close(review: CardPaymentReview, status: ReviewStatus, note: str, user: User) -> None:
    review.status = status
    review.resolved_at = utcnow()
    review.resolved_by_id = user.id
    review.resolution_note = note


def _clean_note(note: str) -> str:
    note = " ".join((note or "").split())
    if not note:
        raise CardPaymentError("Enter what was done about it", "note")
    if len(note) > payments.MAX_NOTE_LENGTH:
        raise CardPaymentError(
            f"The note must be {payments.MAX_NOTE_LENGTH} characters or fewer", "note"
        )
    return note


def apply_review(review: CardPaymentReview, invoice_number: str, note: str, user: User) -> Payment:
    """Apply a held card payment to a VAT invoice finance names (for example the right invoice,
    or once the amount is understood): recorded like any card payment, keyed on its
    PaymentIntent, so it can never be recorded twice."""
    note = _clean_note(note)
    if review.status != ReviewStatus.OPEN:
        raise CardPaymentError("This has already been dealt with")
    if review.kind != ReviewKind.PAYMENT:
        raise CardPaymentError("Only a held card payment can be applied to an invoice")
    if review.currency != "GBP":
        raise CardPaymentError(
            f"A payment in {review.currency} cannot be applied: refund it in Stripe", "invoice"
        )
    document = invoice_by_number(" ".join((invoice_number or "").split()).upper())
    if document is None:
        raise CardPaymentError("Enter the number of a VAT invoice, like INV-2026-000123", "invoice")
    try:
        payment = payments.record_payment(
            document,
            PaymentKind.CARD,
            review.amount_pence,
            today(),
            review.stripe_payment_intent,
            user,
            note=f"Card payment held for review, applied by {user.name}: {note}"[:500],
            stripe_payment_intent=review.stripe_payment_intent,
        )
    except payments.PaymentError as error:
        raise CardPaymentError(str(error), "invoice") from None
    review.payment_id = payment.id
    _close(review, ReviewStatus.APPLIED, note, user)
    db.session.flush()
    return payment


def resolve_review(review: CardPaymentReview, note: str, user: User) -> None:
    """Close a held item dealt with outside the app (refunded in Stripe, a credit note raised)."""
    note = _clean_note(note)
    if review.status != ReviewStatus.OPEN:
        raise CardPaymentError("This has already been dealt with")
    _close(review, ReviewStatus.RESOLVED, note, user)
    db.session.flush()


# --- Reconciliation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    what: str  # "payment" or "refund"
    stripe_id: str
    reference: str  # our invoice or credit note number, or Stripe's
    stripe_pence: int | None
    ours_pence: int | None
    problem: str


@dataclass
class Reconciliation:
    date_from: date
    date_to: date
    stripe_payments: int = 0
    stripe_payments_pence: int = 0
    our_payments: int = 0
    our_payments_pence: int = 0
    stripe_refunds: int = 0
    stripe_refunds_pence: int = 0
    our_refunds: int = 0
    our_refunds_pence: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.differences


def check_range(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    if date_from is None or date_to is None:
        raise CardPaymentError("Enter both dates", "date_from")
    if date_to < date_from:
        raise CardPaymentError(
            "The end date must be the same as or after the start date", "date_to"
        )
    if (date_to - date_from).days >= MAX_RECONCILE_DAYS:
        raise CardPaymentError(f"Choose at most {MAX_RECONCILE_DAYS} days", "date_to")
    if date_from > today():
        raise CardPaymentError("The start date must be today or in the past", "date_from")
    return date_from, date_to


def _bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    start = datetime.combine(date_from, time.min, tzinfo=LONDON)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=LONDON)
    return start, end


def _stripe_list(resource: Any, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every object of a Stripe list, page after page (starting_after)."""
    for obj in resource.list(params=params).auto_paging_iter():
        yield _plain(obj)


def reconcile(date_from: date, date_to: date) -> Reconciliation:
    """Compare Stripe's successful card payments and refunds created between the dates (London
    days) with ours, and list every difference: missing either side, held for review, amounts,
    currencies or states that disagree."""
    date_from, date_to = check_range(date_from, date_to)
    start, end = _bounds(date_from, date_to)
    created = {"gte": int(start.timestamp()), "lt": int(end.timestamp())}
    stripe_client = client()
    try:
        stripe_payments = {
            p["id"]: p
            for p in _stripe_list(
                stripe_client.v1.payment_intents, {"created": created, "limit": 100}
            )
            if p.get("status") == "succeeded"
        }
        stripe_refunds = {
            r["id"]: r
            for r in _stripe_list(stripe_client.v1.refunds, {"created": created, "limit": 100})
            if r.get("status") in REFUND_GOING
        }
    except stripe.StripeError as error:
        log.error("Reconciliation could not list Stripe's payments: %s", error)
        raise CardPaymentError("Stripe could not be asked for its payments just now") from None
    result = Reconciliation(date_from, date_to)
    result.stripe_payments = len(stripe_payments)
    result.stripe_payments_pence = sum(_received(p) for p in stripe_payments.values())
    result.stripe_refunds = len(stripe_refunds)
    result.stripe_refunds_pence = sum(int(r.get("amount") or 0) for r in stripe_refunds.values())

    ours_in_range = list(
        db.session.execute(
            select(Payment).where(
                Payment.stripe_payment_intent.is_not(None),
                Payment.recorded_at >= start,
                Payment.recorded_at < end,
            )
        ).scalars()
    )
    result.our_payments = len(ours_in_range)
    result.our_payments_pence = sum(p.amount_pence for p in ours_in_range)
    ours_by_intent: dict[str, Payment] = {
        p.stripe_payment_intent: p for p in ours_in_range if p.stripe_payment_intent
    }
    ours_by_intent.update(_payments_by_intent(stripe_payments))
    reviews = _reviews_by_object([*stripe_payments, *stripe_refunds])
    differences = result.differences

    for intent, stripe_payment in sorted(stripe_payments.items()):
        ours = ours_by_intent.get(intent)
        received = _received(stripe_payment)
        reference = str((stripe_payment.get("metadata") or {}).get("invoice_number") or "")
        if ours is None:
            review = reviews.get(intent)
            problem = (
                f"Held for review: {review.problem}"
                if review is not None and review.status == ReviewStatus.OPEN
                else (
                    f"Held for review and {review.status.label.lower()}: {review.resolution_note}"
                    if review is not None
                    else "Paid in Stripe but not recorded here"
                )
            )
            differences.append(Difference("payment", intent, reference, received, None, problem))
            continue
        reference = ours.document.number
        if str(stripe_payment.get("currency") or "").upper() != ours.document.currency:
            differences.append(
                Difference(
                    "payment",
                    intent,
                    reference,
                    received,
                    ours.amount_pence,
                    f"Stripe's currency is {str(stripe_payment.get('currency')).upper()}",
                )
            )
        elif received != ours.amount_pence:
            differences.append(
                Difference(
                    "payment", intent, reference, received, ours.amount_pence, "Amounts differ"
                )
            )
        if payments.reversal_of(ours) is not None and not _refunded_here(ours):
            differences.append(
                Difference(
                    "payment",
                    intent,
                    reference,
                    received,
                    ours.amount_pence,
                    "Reversed here by finance, but Stripe still has the payment",
                )
            )
    for intent, ours in sorted(ours_by_intent.items()):
        if intent in stripe_payments or ours not in ours_in_range:
            continue
        # Recorded in these dates but not created in them at Stripe: ask Stripe about it.
        found = _retrieve_intent(stripe_client, intent)
        status = (found or {}).get("status")
        if found is None or status != "succeeded":
            differences.append(
                Difference(
                    "payment",
                    intent,
                    ours.document.number,
                    None,
                    ours.amount_pence,
                    "Recorded here, but Stripe "
                    + ("has no such payment" if found is None else f"says it is {status}"),
                )
            )
        elif _received(found) != ours.amount_pence:
            differences.append(
                Difference(
                    "payment",
                    intent,
                    ours.document.number,
                    _received(found),
                    ours.amount_pence,
                    "Amounts differ",
                )
            )

    our_refunds_in_range = list(
        db.session.execute(
            select(CardRefund).where(
                CardRefund.requested_at >= start, CardRefund.requested_at < end
            )
        ).scalars()
    )
    live_refunds = [r for r in our_refunds_in_range if r.status not in REFUND_STOPPED]
    result.our_refunds = len(live_refunds)
    result.our_refunds_pence = sum(r.amount_pence for r in live_refunds)
    refunds_by_id = {r.stripe_refund_id: r for r in our_refunds_in_range}
    if stripe_refunds:
        refunds_by_id.update(
            {
                r.stripe_refund_id: r
                for r in db.session.execute(
                    select(CardRefund).where(CardRefund.stripe_refund_id.in_(list(stripe_refunds)))
                ).scalars()
            }
        )
    for refund_id, stripe_refund in sorted(stripe_refunds.items()):
        amount = int(stripe_refund.get("amount") or 0)
        ours_refund = refunds_by_id.get(refund_id)
        if ours_refund is None:
            review = reviews.get(refund_id)
            differences.append(
                Difference(
                    "refund",
                    refund_id,
                    str((stripe_refund.get("metadata") or {}).get("credit_note_number") or ""),
                    amount,
                    None,
                    f"Held for review: {review.problem}"
                    if review is not None
                    else "Refunded in Stripe but not recorded here",
                )
            )
        elif ours_refund.amount_pence != amount or ours_refund.status in REFUND_STOPPED:
            differences.append(
                Difference(
                    "refund",
                    refund_id,
                    ours_refund.credit_note.number,
                    amount,
                    ours_refund.amount_pence,
                    "Amounts differ"
                    if ours_refund.amount_pence != amount
                    else f"Recorded here as {ours_refund.status}",
                )
            )
    for refund_id, ours_refund in sorted(refunds_by_id.items()):
        if refund_id in stripe_refunds or ours_refund.status in REFUND_STOPPED:
            continue
        differences.append(
            Difference(
                "refund",
                refund_id,
                ours_refund.credit_note.number,
                None,
                ours_refund.amount_pence,
                "Recorded here, but not among Stripe's refunds in these dates",
            )
        )
    return result


def _received(payment_intent: dict[str, Any]) -> int:
    return int(payment_intent.get("amount_received") or payment_intent.get("amount") or 0)


def _payments_by_intent(stripe_payments: dict[str, Any]) -> dict[str, Payment]:
    if not stripe_payments:
        return {}
    rows = db.session.execute(
        select(Payment).where(Payment.stripe_payment_intent.in_(list(stripe_payments)))
    ).scalars()
    return {p.stripe_payment_intent: p for p in rows if p.stripe_payment_intent}


def _reviews_by_object(ids: Iterable[str]) -> dict[str, CardPaymentReview]:
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(CardPaymentReview).where(CardPaymentReview.stripe_object_id.in_(ids))
    ).scalars()
    return {r.stripe_object_id: r for r in rows}


def _refunded_here(payment: Payment) -> bool:
    return (
        db.session.execute(
            select(func.count())
            .select_from(CardRefund)
            .where(CardRefund.stripe_payment_intent == payment.stripe_payment_intent)
        ).scalar_one()
        > 0
    )


def _retrieve_intent(stripe_client: stripe.StripeClient, intent: str) -> dict[str, Any] | None:
    try:
        return _plain(stripe_client.v1.payment_intents.retrieve(intent))
    except stripe.InvalidRequestError:
        return None
