"""A school pays an invoice's balance by card: whether it can, and the Stripe Checkout Session
that takes the payment (Stripe's hosted page); the return page asks Stripe how it went.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import Document, DocumentType, PaymentKind
from traded_app.services.card_payments.keys import CardPaymentError, client, id_of, plain
from traded_app.services.finance import balances, payments
from traded_app.services.platform.card_links import card_payments_enabled

log = logging.getLogger(__name__)


def card_payment_problem(document: Document, balance_pence: int | None = None) -> str:
    """Why `document` cannot be paid by card now ("" when it can)."""
    if not card_payments_enabled():
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
                        "description": f"{document.buyer_name}, order {document.order_reference}"
                        if document.order_reference
                        else f"{document.buyer_name}, invoice {document.number}",
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
    url = plain(session).get("url") or ""
    if not url:
        raise CardPaymentError("Card payments are not available just now. Try again later")
    log.info("Checkout %s started for %s (%s)", id_of(plain(session)), document.number, balance)
    return str(url)


def retrieve_session(session_id: str) -> dict[str, Any]:
    """Stripe's current view of a Checkout Session."""
    if not session_id.startswith("cs_") or len(session_id) > 255:
        raise CardPaymentError("That is not a Stripe Checkout Session")
    try:
        return plain(client().v1.checkout.sessions.retrieve(session_id))
    except stripe.StripeError as error:
        log.warning("Could not retrieve Checkout %s: %s", session_id, error)
        raise CardPaymentError("We could not check the payment with Stripe just now") from None
