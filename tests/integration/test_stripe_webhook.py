"""Stripe's webhook at /payments/stripe/webhook: only correctly signed, fresh payloads are
trusted; each card payment is recorded once however often, in whatever order and however
concurrently Stripe sends it; what does not match our invoice is held for finance, not applied.

No network: the real `stripe` library answers from tests/stripe_fake.py, and payloads are
signed with Stripe's scheme here."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from flask import Flask
from sqlalchemy import func, select

from tests.factories import issue_document
from tests.stripe_fake import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, sign, signed
from traded_app.extensions import db
from traded_app.models import CardPaymentReview, Document, Payment, PaymentKind, ReviewKind
from traded_app.models.types import Role, VatTreatment
from traded_app.services.card_payments.checkout import start_checkout
from traded_app.services.card_payments.keys import CardPaymentError
from traded_app.services.card_payments.recording import settle_checkout_session
from traded_app.services.finance import balances, payments
from traded_app.services.finance.balances import DocumentStatus
from traded_app.services.platform.settings import today

URL = "/payments/stripe/webhook"


@pytest.fixture()
def fake(app: Flask, world: Any) -> Iterator[FakeStripe]:
    """Stripe keys in the council settings and the Stripe library answered by the fake."""
    world.council.stripe_secret_key = SECRET_KEY
    world.council.stripe_webhook_secret = WEBHOOK_SECRET
    db.session.commit()
    stripe_fake = FakeStripe()
    app.extensions["stripe_http_client"] = stripe_fake.http_client()
    yield stripe_fake
    app.extensions.pop("stripe_http_client", None)


@pytest.fixture()
def invoice(world: Any) -> Document:
    """A £1,080.00 VAT invoice to the academy."""
    document = issue_document(world, lines=[(4, 45_000, VatTreatment.STANDARD, 2000)])
    db.session.commit()
    return document


def checkout(fake: FakeStripe, invoice: Document) -> str:
    """A Checkout Session for the invoice's balance, created through the app's service."""
    with_request = start_checkout(
        invoice, "https://app.test/done?session_id={CHECKOUT_SESSION_ID}", "https://app.test/c"
    )
    return with_request.rsplit("/", 1)[1]


def post_event(client: Any, event: dict[str, Any], **kwargs: Any) -> Any:
    payload, headers = signed(event, **kwargs)
    return client.post(URL, data=payload, headers=headers, content_type="application/json")


def card_payments_of(invoice: Document) -> list[Payment]:
    return list(
        db.session.execute(
            select(Payment).where(
                Payment.document_id == invoice.id, Payment.kind == PaymentKind.CARD
            )
        ).scalars()
    )


def reviews() -> list[CardPaymentReview]:
    return list(db.session.execute(select(CardPaymentReview)).scalars())


# --- Signatures -------------------------------------------------------------------------------


def test_paid_checkout_is_recorded_once(client: Any, fake: FakeStripe, invoice: Document) -> None:
    session_id = checkout(fake, invoice)
    event = fake.event("checkout.session.completed", fake.pay(session_id))
    response = post_event(client, event)
    assert response.status_code == 200
    [payment] = card_payments_of(invoice)
    assert payment.amount_pence == 108_000
    assert payment.stripe_payment_intent == fake.sessions[session_id]["payment_intent"]
    assert payment.reference == payment.stripe_payment_intent
    assert payment.recorded_by_id is None
    assert balances.figures_of(invoice).status() == DocumentStatus.PAID
    assert post_event(client, event).status_code == 200  # Stripe retries: nothing more
    assert len(card_payments_of(invoice)) == 1


def test_unsigned_stale_and_tampered_payloads_are_refused(
    client: Any, fake: FakeStripe, invoice: Document
) -> None:
    event = fake.event("checkout.session.completed", fake.pay(checkout(fake, invoice)))
    payload, headers = signed(event)
    # Unsigned.
    assert client.post(URL, data=payload, content_type="application/json").status_code == 400
    assert (
        client.post(URL, data=payload, headers={"Stripe-Signature": "garbage"}).status_code == 400
    )
    # Another secret.
    other = signed(event, secret="whsec_someone_else")[1]
    assert client.post(URL, data=payload, headers=other).status_code == 400
    # One byte changed after signing (the amount 108000 -> 908000).
    tampered = payload.replace(b'"amount_total":108000', b'"amount_total":908000')
    assert tampered != payload
    assert client.post(URL, data=tampered, headers=headers).status_code == 400
    flipped = bytearray(payload)
    flipped[len(flipped) // 2] ^= 0x01
    assert client.post(URL, data=bytes(flipped), headers=headers).status_code == 400
    # Outside the tolerance (five minutes), and a timestamp from the future beyond it.
    stale = signed(event, timestamp=int(time.time()) - 301)[1]
    assert client.post(URL, data=payload, headers=stale).status_code == 400
    assert card_payments_of(invoice) == []
    # Inside the tolerance it is good.
    fresh = signed(event, timestamp=int(time.time()) - 200)[1]
    assert client.post(URL, data=payload, headers=fresh).status_code == 200
    assert len(card_payments_of(invoice)) == 1


def test_without_keys_every_webhook_is_refused(client: Any, world: Any, invoice: Document) -> None:
    payload, headers = signed({"id": "evt_1", "type": "ping", "data": {"object": {}}})
    assert client.post(URL, data=payload, headers=headers).status_code == 400


def test_events_not_used_are_answered_200(client: Any, fake: FakeStripe) -> None:
    for kind in ("customer.created", "payment_intent.succeeded", "invoice.paid"):
        response = post_event(client, fake.event(kind, {"id": "x_1", "object": "thing"}))
        assert response.status_code == 200
    assert db.session.execute(select(func.count()).select_from(Payment)).scalar_one() == 0


def test_the_webhook_needs_no_csrf_token_but_a_form_post_does(
    client: Any, as_role: Any, world: Any, fake: FakeStripe, invoice: Document
) -> None:
    """The webhook is the only POST the CSRF check lets through without a token."""
    event = fake.event("checkout.session.completed", fake.pay(checkout(fake, invoice)))
    assert post_event(client, event).status_code == 200
    academy = as_role(None).sign_in_as(world.academy_sbm)
    refused = academy.post(f"/documents/{invoice.id}/pay")
    assert refused.status_code == 400
    assert "Your form could not be sent" in refused.get_data(as_text=True)


# --- Concurrency and order --------------------------------------------------------------------


def test_the_same_event_five_times_at_once_gives_one_payment(
    app: Flask, fake: FakeStripe, invoice: Document
) -> None:
    """Five deliveries race (SQLite's write lock or PostgreSQL's row lock and unique index,
    whichever backend the suite runs on): one payment, five 200s."""
    session_id = checkout(fake, invoice)
    payload, headers = signed(fake.event("checkout.session.completed", fake.pay(session_id)))
    db.session.remove()
    start = threading.Barrier(5)
    statuses: list[int] = []

    def deliver() -> None:
        client = app.test_client()
        start.wait(timeout=30)
        response = client.post(URL, data=payload, headers=headers)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 5
    assert len(card_payments_of(invoice)) == 1
    assert reviews() == []


def test_the_same_payment_by_webhook_and_return_page_at_once_is_one_payment(
    app: Flask, fake: FakeStripe, invoice: Document
) -> None:
    session_id = checkout(fake, invoice)
    session = fake.pay(session_id)
    invoice_id = invoice.id
    db.session.remove()
    start = threading.Barrier(6)
    errors: list[str] = []

    def settle() -> None:
        with app.app_context():
            start.wait(timeout=30)
            try:
                settle_checkout_session(dict(session))
                db.session.commit()
            except Exception as error:  # reported below
                db.session.rollback()
                errors.append(f"{type(error).__name__}: {error}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=settle) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    document = db.session.get(Document, invoice_id)
    assert document is not None and len(card_payments_of(document)) == 1


def test_events_out_of_order(client: Any, fake: FakeStripe, invoice: Document) -> None:
    """A delayed payment (Bacs Direct Debit and the like): `completed` arrives unpaid, the
    success after it; and when they come the other way round, the late `completed` (unpaid in
    its snapshot) changes nothing."""
    session_id = checkout(fake, invoice)
    unpaid = dict(fake.public(fake.sessions[session_id]), status="complete")
    paid = fake.pay(session_id)
    succeeded = fake.event("checkout.session.async_payment_succeeded", paid)
    completed = fake.event("checkout.session.completed", unpaid)
    assert post_event(client, succeeded).status_code == 200
    assert post_event(client, completed).status_code == 200
    assert len(card_payments_of(invoice)) == 1
    # And a paid `completed` arriving after the success is the same payment.
    assert post_event(client, fake.event("checkout.session.completed", paid)).status_code == 200
    assert len(card_payments_of(invoice)) == 1
    assert balances.figures_of(invoice).status() == DocumentStatus.PAID


def test_async_payment_failed_records_nothing(
    client: Any, fake: FakeStripe, invoice: Document
) -> None:
    session_id = checkout(fake, invoice)
    session = fake.pay(session_id, paid=False)
    for kind in ("checkout.session.completed", "checkout.session.async_payment_failed"):
        assert post_event(client, fake.event(kind, session)).status_code == 200
    assert card_payments_of(invoice) == []
    assert reviews() == []


# --- What does not match is held for finance ---------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"amount": 100_000}, "Stripe took £1,000.00, but we asked for £1,080.00"),
        ({"currency": "eur"}, "It was paid in EUR, but"),
    ],
    ids=["wrong amount", "wrong currency"],
)
def test_wrong_amount_or_currency_is_held_not_applied(
    client: Any, fake: FakeStripe, invoice: Document, change: dict[str, Any], problem: str
) -> None:
    session = fake.pay(checkout(fake, invoice), **change)
    event = fake.event("checkout.session.completed", session)
    for _ in range(3):
        assert post_event(client, event).status_code == 200
    assert card_payments_of(invoice) == []
    [review] = reviews()
    assert review.kind == ReviewKind.PAYMENT and review.document_id == invoice.id
    assert problem in review.problem
    assert review.stripe_object_id == session["payment_intent"]
    assert balances.figures_of(invoice).balance_pence == 108_000


def test_unknown_invoice_is_held(client: Any, fake: FakeStripe, invoice: Document) -> None:
    session = fake.pay(checkout(fake, invoice))
    for metadata, reference in (
        ({"document_id": "999999", "invoice_number": "INV-NOPE", "amount_pence": "108000"}, "INV-NOPE"),
        ({"document_id": str(invoice.id), "invoice_number": "INV-OTHER", "amount_pence": "108000"}, "INV-OTHER"),
    ):  # fmt: skip
        wrong = dict(session, metadata=metadata, client_reference_id=reference)
        wrong["payment_intent"] = fake.new_id("pi")
        assert (
            post_event(client, fake.event("checkout.session.completed", wrong)).status_code == 200
        )
    assert card_payments_of(invoice) == []
    held = reviews()
    assert [r.invoice_reference for r in held] == ["INV-NOPE", "INV-OTHER"]
    assert all(r.document_id is None and "names no invoice" in r.problem for r in held)


def test_payment_for_an_already_paid_invoice_is_held(
    client: Any, fake: FakeStripe, world: Any, invoice: Document
) -> None:
    """The school paid by bank transfer while Checkout was open: the card payment is not
    applied (the invoice would be overpaid) but held, so finance refunds it."""
    session = fake.pay(checkout(fake, invoice))
    payments.record_bank_transfer(invoice, 108_000, today(), "BACS 1", world.users[Role.LA_FINANCE])
    db.session.commit()
    assert post_event(client, fake.event("checkout.session.completed", session)).status_code == 200
    assert card_payments_of(invoice) == []
    [review] = reviews()
    assert "was already paid" in review.problem
    assert balances.figures_of(invoice).status() == DocumentStatus.PAID


def test_payment_for_more_than_is_left_is_held(
    client: Any, fake: FakeStripe, world: Any, invoice: Document
) -> None:
    session = fake.pay(checkout(fake, invoice))
    payments.record_bank_transfer(invoice, 8_000, today(), "BACS 1", world.users[Role.LA_FINANCE])
    db.session.commit()
    post_event(client, fake.event("checkout.session.completed", session))
    assert card_payments_of(invoice) == []
    assert "more than the £1,000.00 left to pay" in reviews()[0].problem


def test_a_recharge_is_never_paid_by_card(client: Any, fake: FakeStripe, world: Any) -> None:
    recharge = issue_document(world, school=world.school)
    db.session.commit()
    with pytest.raises(CardPaymentError, match="internal recharge"):
        start_checkout(recharge, "https://a.test/s", "https://a.test/c")
    # Even if Stripe reported a payment naming it, it is held, not applied.
    session = {
        "id": "cs_x", "mode": "payment", "payment_status": "paid", "amount_total": 90_000,
        "currency": "gbp", "payment_intent": "pi_recharge", "client_reference_id": recharge.number,
        "metadata": {"document_id": str(recharge.id), "invoice_number": recharge.number,
                     "amount_pence": "90000"},
    }  # fmt: skip
    post_event(client, fake.event("checkout.session.completed", session))
    assert db.session.execute(select(func.count()).select_from(Payment)).scalar_one() == 0
    assert "not a VAT invoice" in reviews()[0].problem


def test_a_refund_made_in_stripes_dashboard_is_held(
    client: Any, fake: FakeStripe, invoice: Document
) -> None:
    session = fake.pay(checkout(fake, invoice))
    post_event(client, fake.event("checkout.session.completed", session))
    refund = {
        "id": "re_dashboard_1", "object": "refund", "amount": 5_000, "currency": "gbp",
        "payment_intent": session["payment_intent"], "status": "succeeded", "metadata": {},
    }  # fmt: skip
    for kind in ("refund.created", "refund.updated"):
        assert post_event(client, fake.event(kind, refund)).status_code == 200
    charge = {"id": "ch_1", "object": "charge", "refunds": {"data": [refund]}}
    assert post_event(client, fake.event("charge.refunded", charge)).status_code == 200
    [review] = reviews()
    assert review.kind == ReviewKind.REFUND and "not for a credit note" in review.problem
    assert balances.figures_of(invoice).status() == DocumentStatus.PAID  # nothing applied


def test_signature_helper_matches_stripes_own() -> None:
    """The tests sign exactly as Stripe does (the library's own verifier accepts it)."""
    payload = json.dumps({"id": "evt_1"}).encode()
    header = sign(payload)
    stripe.WebhookSignature.verify_header(payload, header, WEBHOOK_SECRET, tolerance=300)


# --- Never a 500: odd shapes, Stripe out of reach, timestamps from the future -----------------


def test_signatures_from_too_far_in_the_future_are_refused_like_stale_ones(
    client: Any, fake: FakeStripe, invoice: Document
) -> None:
    event = fake.event("checkout.session.completed", fake.pay(checkout(fake, invoice)))
    payload, _ = signed(event)
    now = int(time.time())
    for timestamp in (now + 301, now + 50 * 365 * 24 * 3600):
        future = signed(event, timestamp=timestamp)[1]
        assert client.post(URL, data=payload, headers=future).status_code == 400
    assert card_payments_of(invoice) == []
    # A sender's clock a little ahead of ours (inside the tolerance) is fine.
    ahead = signed(event, timestamp=now + 200)[1]
    assert client.post(URL, data=payload, headers=ahead).status_code == 200
    assert len(card_payments_of(invoice)) == 1


def odd_event(kind: str, obj: Any) -> dict[str, Any]:
    """An event as Stripe wraps it, around an object of any shape."""
    return {"id": "evt_odd_1", "object": "event", "type": kind, "data": {"object": obj}}


def dashboard_refund(session: dict[str, Any], **change: Any) -> dict[str, Any]:
    refund = {
        "id": "re_odd_1", "object": "refund", "amount": 5_000, "currency": "gbp",
        "payment_intent": session["payment_intent"], "status": "succeeded", "metadata": {},
    }  # fmt: skip
    return dict(refund, **change)


ODD_EVENTS: dict[str, Any] = {
    "object a list": lambda s: odd_event("checkout.session.completed", [s]),
    "object a string": lambda s: odd_event("checkout.session.completed", s["id"]),
    "amount not a number": lambda s: odd_event(
        "checkout.session.completed", dict(s, amount_total="108000 pence")
    ),
    "amount a fraction": lambda s: odd_event(
        "checkout.session.completed", dict(s, amount_total=1_080.5)
    ),
    "amount beyond any Stripe takes": lambda s: odd_event(
        "checkout.session.completed", dict(s, amount_total=10**20)
    ),
    "metadata a list": lambda s: odd_event(
        "checkout.session.completed", dict(s, metadata=[s["metadata"]])
    ),
    "metadata a string": lambda s: odd_event(
        "checkout.session.completed", dict(s, metadata="document_id=1")
    ),
    "payment intent a list": lambda s: odd_event(
        "checkout.session.completed", dict(s, payment_intent=[s["payment_intent"]])
    ),
    "refund amount not a number": lambda s: odd_event(
        "refund.created", dashboard_refund(s, amount="all of it")
    ),
    "refund metadata a list": lambda s: odd_event(
        "refund.created", dashboard_refund(s, metadata=["credit_note_id"])
    ),
    "refund a list": lambda s: odd_event("refund.updated", [dashboard_refund(s)]),
    "charge's refunds a list": lambda s: odd_event(
        "charge.refunded", {"id": "ch_odd_1", "refunds": [dashboard_refund(s)]}
    ),
    "charge's refunds not objects": lambda s: odd_event(
        "charge.refunded", {"id": "ch_odd_1", "refunds": {"data": ["re_odd_1"]}}
    ),
    "a charge's second refund odd (the first, held, is not kept)": lambda s: odd_event(
        "charge.refunded",
        {
            "id": "ch_odd_1",
            "refunds": {
                "data": [
                    dashboard_refund(s),
                    dashboard_refund(s, id="re_odd_2", amount="the rest"),
                ]
            },
        },
    ),
    "the whole body a list": lambda s: [odd_event("checkout.session.completed", s)],
    "the whole body a number": lambda s: 108_000,
    "data a list": lambda s: {"id": "evt_odd_1", "type": "refund.created", "data": [s]},
}


@pytest.mark.parametrize("shape", list(ODD_EVENTS))
def test_signed_events_of_unexpected_shapes_are_refused_and_logged(
    client: Any, fake: FakeStripe, invoice: Document, caplog: Any, shape: str
) -> None:
    """Correctly signed, but not in any shape Stripe sends: 400 (never a 500), logged, and
    nothing recorded or held."""
    session = fake.pay(checkout(fake, invoice))
    payload = json.dumps(ODD_EVENTS[shape](session), separators=(",", ":")).encode()
    with caplog.at_level("WARNING"):
        response = client.post(
            URL,
            data=payload,
            headers={"Stripe-Signature": sign(payload)},
            content_type="application/json",
        )
    assert response.status_code == 400
    assert "Stripe webhook refused" in caplog.text
    assert card_payments_of(invoice) == []
    assert reviews() == []
    # The well-formed event is still recorded.
    assert post_event(client, fake.event("checkout.session.completed", session)).status_code == 200
    assert len(card_payments_of(invoice)) == 1


def stripe_api_down(fake: FakeStripe) -> None:
    fake.unreachable = True


def stripe_api_refuses(fake: FakeStripe) -> None:
    fake.fail_next.append(
        (401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
    )


@pytest.mark.parametrize("fault", [stripe_api_down, stripe_api_refuses], ids=["down", "refuses"])
def test_stripe_out_of_reach_during_a_webhook_is_answered_503_so_stripe_retries(
    client: Any, fake: FakeStripe, invoice: Document, caplog: Any, fault: Any
) -> None:
    """A charge.refunded event that does not list its refunds makes the app ask Stripe for
    them: with Stripe's API out of reach that is 503 (Stripe delivers it again later), nothing
    is kept of the attempt, and the retry, once Stripe answers, is handled as usual."""
    session = fake.pay(checkout(fake, invoice))
    assert post_event(client, fake.event("checkout.session.completed", session)).status_code == 200
    charge_id = fake.payment_intents[session["payment_intent"]]["latest_charge"]
    fake.refunds["re_dashboard_9"] = dict(
        dashboard_refund(session, id="re_dashboard_9"), charge=charge_id, created=fake.clock
    )
    event = fake.event("charge.refunded", {"id": charge_id, "object": "charge"})
    fault(fake)
    payload, headers = signed(event)
    with caplog.at_level("WARNING"):
        response = client.post(URL, data=payload, headers=headers, unavailable_ok=True)
    assert response.status_code == 503
    assert "Stripe" in caplog.text and event["id"] in caplog.text
    assert reviews() == []
    fake.unreachable = False
    assert post_event(client, event).status_code == 200
    [review] = reviews()
    assert review.stripe_object_id == "re_dashboard_9" and "not for a credit note" in review.problem


def test_digits_of_other_scripts_in_metadata_name_nothing_of_ours(
    client: Any, fake: FakeStripe, invoice: Document
) -> None:
    """Our ids and amounts are written in ASCII digits: a superscript ² (a digit to Python's
    isdigit, not to int) names no invoice, and the payment is held rather than a 500."""
    session = fake.pay(checkout(fake, invoice))
    odd = dict(session, metadata=dict(session["metadata"], document_id="²", amount_pence="²"))
    assert post_event(client, fake.event("checkout.session.completed", odd)).status_code == 200
    assert card_payments_of(invoice) == []
    [review] = reviews()
    assert "names no invoice" in review.problem
