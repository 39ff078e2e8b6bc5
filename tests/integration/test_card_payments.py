"""Card payments as schools and finance see them: Pay by card (and its absence without Stripe
keys or on a recharge), the Checkout Session the app asks Stripe for, the return page, refunds
of credit notes, held payments reviewed, reconciliation (page and CLI) and the Stripe keys'
settings. The real `stripe` library answers from tests/stripe_fake.py: no network."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import confirmed_order, issue_document
from tests.stripe_fake import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, signed
from traded_app.cli import payments_cli
from traded_app.extensions import db
from traded_app.models import (
    AuditEvent,
    CardPaymentReview,
    CardRefund,
    Document,
    DocumentType,
    Payment,
    PaymentKind,
    ReviewStatus,
)
from traded_app.models.types import Role, VatTreatment
from traded_app.services.card_payments import reconcile
from traded_app.services.documents import issuing as invoicing
from traded_app.services.documents import pdf
from traded_app.services.documents.document_data import document_data
from traded_app.services.finance import balances, payments
from traded_app.services.finance.balances import DocumentStatus
from traded_app.services.platform.card_links import (
    card_payments_enabled,
    payment_link_for,
    stripe_keys,
)
from traded_app.services.platform.document_store import read_pdf
from traded_app.services.platform.settings import today


@pytest.fixture()
def fake(app: Flask, world: Any) -> Iterator[FakeStripe]:
    world.council.stripe_secret_key = SECRET_KEY
    world.council.stripe_webhook_secret = WEBHOOK_SECRET
    world.academy.billing_contact_email = "bursar@academy.example"
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


@pytest.fixture()
def academy(as_role: Any, world: Any) -> Any:
    client = as_role(None)
    client.sign_in_as(world.academy_sbm)
    return client


def pay_through_checkout(academy: Any, fake: FakeStripe, invoice: Document) -> dict[str, Any]:
    response = academy.post_form(f"/documents/{invoice.id}/pay")
    assert response.status_code == 303
    session_id = response.location.rsplit("/", 1)[1]
    return fake.pay(session_id)


def returned(academy: Any, invoice: Document, session: dict[str, Any]) -> Any:
    return academy.get(f"/documents/{invoice.id}/pay/done?session_id={session['id']}")


# --- Without keys, card payment does not exist -------------------------------------------------


def test_without_stripe_keys_there_is_no_card_payment(
    academy: Any, invoice: Document, as_role: Any
) -> None:
    page = academy.get(f"/documents/{invoice.id}").soup
    assert "Pay by card" not in text_of(page, "main")
    assert "by card" not in text_of(page, "main")
    assert academy.get(f"/documents/{invoice.id}/pay").status_code == 404
    assert academy.post_form(f"/documents/{invoice.id}/pay").status_code == 404
    reviews = as_role(Role.LA_FINANCE).get("/finance/card-payments").soup
    assert "Card payments are not set up" in text_of(reviews, "main")


def test_a_recharge_never_offers_card_payment(fake: FakeStripe, world: Any, as_role: Any) -> None:
    recharge = issue_document(world, school=world.school)
    db.session.commit()
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    page = client.get(f"/documents/{recharge.id}").soup
    assert "Pay by card" not in text_of(page, "main")
    form = client.get(f"/documents/{recharge.id}/pay").soup
    assert "internal recharge" in text_of(form, ".govuk-inset-text")
    assert client.post_form(f"/documents/{recharge.id}/pay").status_code == 200
    assert fake.sessions == {}


def test_other_schools_cannot_pay_or_see_anothers_invoice(
    fake: FakeStripe, invoice: Document, as_role: Any
) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)  # a maintained school, not the academy
    assert client.get(f"/documents/{invoice.id}/pay").status_code == 404
    assert client.post_form(f"/documents/{invoice.id}/pay").status_code == 404
    assert client.get(f"/invoices/{invoice.number}/pay").status_code == 404
    assert fake.sessions == {}


# --- Pay by card ----------------------------------------------------------------------------


def test_pay_by_card_creates_checkout_for_the_balance(
    academy: Any, fake: FakeStripe, world: Any, invoice: Document
) -> None:
    payments.record_bank_transfer(invoice, 8_000, today(), "BACS 1", world.users[Role.LA_FINANCE])
    db.session.commit()
    page = academy.get(f"/documents/{invoice.id}").soup
    assert "Pay by card" in text_of(page, ".govuk-button-group")
    form = academy.get(f"/documents/{invoice.id}/pay").soup
    assert text_of(form, "h1") == "Pay by card"
    assert "Continue to pay £1,000.00" in text_of(form, "main form")

    response = academy.post_form(f"/documents/{invoice.id}/pay")
    assert response.status_code == 303
    [session] = fake.sessions.values()
    assert response.location == session["url"]
    method, path, params, headers = fake.requests[-1]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert headers["Idempotency-Key"] == f"checkout-{invoice.id}-100000"
    assert params["mode"] == "payment"
    assert params["payment_method_types"] == ["card"]
    [item] = params["line_items"]
    assert item["quantity"] == "1"
    assert item["price_data"]["currency"] == "gbp"
    assert item["price_data"]["unit_amount"] == "100000"  # pence, what is left
    assert item["price_data"]["product_data"]["name"] == f"VAT invoice {invoice.number}"
    assert params["client_reference_id"] == invoice.number
    assert params["payment_intent_data"]["description"] == invoice.number
    assert params["metadata"] == {
        "document_id": str(invoice.id),
        "invoice_number": invoice.number,
        "amount_pence": "100000",
    }
    assert params["customer_email"] == "bursar@academy.example"
    assert params["success_url"] == (
        f"http://localhost/documents/{invoice.id}/pay/done?session_id={{CHECKOUT_SESSION_ID}}"
    )
    assert params["cancel_url"] == f"http://localhost/documents/{invoice.id}/pay/cancelled"

    # A double click, or Back and pay again: the same session (Stripe's idempotency).
    again = academy.post_form(f"/documents/{invoice.id}/pay")
    assert again.location == response.location
    assert len(fake.sessions) == 1


def test_the_pdf_link_leads_to_the_pay_page(
    academy: Any, fake: FakeStripe, invoice: Document
) -> None:
    response = academy.get(f"/invoices/{invoice.number}/pay")
    assert response.status_code == 302
    assert response.location == f"/documents/{invoice.id}/pay"


def test_return_page_records_the_payment_at_once_and_a_late_webhook_changes_nothing(
    academy: Any, client: Any, fake: FakeStripe, invoice: Document
) -> None:
    session = pay_through_checkout(academy, fake, invoice)
    page = returned(academy, invoice, session).soup
    assert text_of(page, ".govuk-panel__title") == "Payment received"
    assert "£1,080.00 paid by card" in text_of(page, ".govuk-panel__body")
    assert balances.figures_of(invoice).status() == DocumentStatus.PAID
    # Reloading the page, then Stripe's webhook: still one payment.
    assert "Payment received" in text_of(returned(academy, invoice, session).soup, "h1")
    payload, headers = signed(fake.event("checkout.session.completed", session))
    assert client.post("/payments/stripe/webhook", data=payload, headers=headers).status_code == 200
    rows = db.session.execute(select(Payment).where(Payment.document_id == invoice.id)).scalars()
    assert [(p.kind, p.amount_pence) for p in rows] == [(PaymentKind.CARD, 108_000)]
    detail = academy.get(f"/documents/{invoice.id}").soup
    assert text_of(detail, "main .govuk-tag") == "Paid"
    assert "Pay by card" not in text_of(detail, "main")
    assert "Card payment provider" in text_of(detail, "[aria-label^='Payments of']")


def test_return_page_when_the_payment_is_not_yet_confirmed_or_unknown(
    academy: Any, fake: FakeStripe, invoice: Document
) -> None:
    response = academy.post_form(f"/documents/{invoice.id}/pay")
    session_id = response.location.rsplit("/", 1)[1]
    fake.pay(session_id, paid=False)
    page = academy.get(f"/documents/{invoice.id}/pay/done?session_id={session_id}").soup
    assert text_of(page, "h1") == "Your payment is being processed"
    page = academy.get(f"/documents/{invoice.id}/pay/done?session_id=cs_nope").soup
    assert text_of(page, "h1") == "We could not check your payment just now"
    page = academy.get(f"/documents/{invoice.id}/pay/done").soup
    assert "not a Stripe Checkout Session" in text_of(page, "main")
    assert balances.figures_of(invoice).paid_pence == 0


def test_return_page_for_another_invoices_session_is_not_found(
    academy: Any, fake: FakeStripe, world: Any, invoice: Document
) -> None:
    other = issue_document(world)
    db.session.commit()
    session = pay_through_checkout(academy, fake, invoice)
    assert returned(academy, other, session).status_code == 404
    assert balances.figures_of(invoice).paid_pence == 0


def test_cancelled_checkout(academy: Any, fake: FakeStripe, invoice: Document) -> None:
    page = academy.get(f"/documents/{invoice.id}/pay/cancelled").soup
    assert text_of(page, "h1") == f"You have not paid {invoice.number}"
    assert "Pay by card" in text_of(page, ".govuk-button-group")


def test_stripe_unavailable_says_so_and_records_nothing(
    academy: Any, fake: FakeStripe, invoice: Document
) -> None:
    fake.fail_next = [(500, {"error": {"type": "api_error", "message": "down"}})] * 3
    page = academy.post_form(f"/documents/{invoice.id}/pay").soup
    assert "not available just now" in text_of(page, ".govuk-inset-text")


# --- Refunds against credit notes -------------------------------------------------------------


def credit(world: Any, invoice: Document, half_days: int = 1) -> Document:
    note = issue_document(
        world,
        document_type=DocumentType.CREDIT_NOTE,
        credits=invoice,
        lines=[(half_days, 45_000, VatTreatment.STANDARD, 2000)],
    )
    db.session.commit()
    return note


def test_finance_refunds_a_credit_note_by_card(
    academy: Any, as_role: Any, client: Any, fake: FakeStripe, world: Any, invoice: Document
) -> None:
    session = pay_through_checkout(academy, fake, invoice)
    returned(academy, invoice, session)
    note = credit(world, invoice)  # £270.00 credited after £1,080.00 was paid
    assert balances.figures_of(invoice).status() == DocumentStatus.REFUND_DUE
    finance = as_role(Role.LA_FINANCE)
    detail = finance.get(f"/documents/{note.id}").soup
    assert "Refund by card" in text_of(detail, ".govuk-button-group")
    page = finance.get(f"/finance/credit-notes/{note.id}/card-refund").soup
    assert "£270.00" in text_of(page, ".govuk-summary-list")
    response = finance.post_form(f"/finance/credit-notes/{note.id}/card-refund")
    assert response.status_code == 302
    method, path, params, headers = fake.requests[-1]
    assert (method, path) == ("POST", "/v1/refunds")
    assert params["payment_intent"] == session["payment_intent"]
    assert params["amount"] == "27000"
    assert params["metadata"]["credit_note_id"] == str(note.id)
    assert headers["Idempotency-Key"] == f"refund-{note.id}-0-27000"
    [refund] = db.session.execute(select(CardRefund)).scalars()
    assert refund.credit_note_id == note.id and refund.amount_pence == 27_000
    assert refund.requested_by_id == world.users[Role.LA_FINANCE].id
    figures = balances.figures_of(invoice)
    assert (figures.paid_pence, figures.balance_pence) == (81_000, 0)
    assert figures.status() == DocumentStatus.PAID
    shown = finance.get(response.location).soup
    assert "£270.00 is being refunded" in text_of(shown, ".govuk-notification-banner")
    assert "£270.00 refunded to the card" in text_of(shown, "main")
    assert "Refund by card" not in text_of(shown, ".govuk-button-group")  # nothing left due
    # Stripe's webhook for the same refund, twice: nothing more.
    stripe_refund = fake.refunds[refund.stripe_refund_id]
    for kind in ("refund.created", "charge.refunded"):
        obj = stripe_refund if kind == "refund.created" else {
            "id": stripe_refund["charge"], "object": "charge", "refunds": {"data": [stripe_refund]}
        }  # fmt: skip
        payload, sig = signed(fake.event(kind, obj))
        assert client.post("/payments/stripe/webhook", data=payload, headers=sig).status_code == 200
    assert len(list(db.session.execute(select(CardRefund)).scalars())) == 1
    assert balances.figures_of(invoice).balance_pence == 0


def test_a_refund_recorded_by_webhook_when_the_request_was_lost(
    client: Any, fake: FakeStripe, world: Any, academy: Any, invoice: Document
) -> None:
    """The refund was made at Stripe but the app's transaction did not commit: Stripe's
    refund.created (which names our credit note) records it."""
    session = pay_through_checkout(academy, fake, invoice)
    returned(academy, invoice, session)
    note = credit(world, invoice, 2)
    status, refund = fake._create_refund(
        {"payment_intent": session["payment_intent"], "amount": "54000",
         "metadata": {"credit_note_id": str(note.id)}}
    )  # fmt: skip
    assert status == 200
    payload, sig = signed(fake.event("refund.created", refund))
    assert client.post("/payments/stripe/webhook", data=payload, headers=sig).status_code == 200
    [row] = db.session.execute(select(CardRefund)).scalars()
    assert row.credit_note_id == note.id and row.requested_by_id is None
    assert balances.figures_of(invoice).balance_pence == 0
    # Later Stripe says the refund failed: held for finance, the ledger left alone.
    failed = dict(refund, status="failed")
    payload, sig = signed(fake.event("refund.failed", failed))
    assert client.post("/payments/stripe/webhook", data=payload, headers=sig).status_code == 200
    [review] = db.session.execute(select(CardPaymentReview)).scalars()
    assert "failed after it was recorded" in review.problem


def test_no_card_refund_without_a_card_payment_or_anything_due(
    as_role: Any, fake: FakeStripe, world: Any, invoice: Document
) -> None:
    note = credit(world, invoice)
    finance = as_role(Role.LA_FINANCE)
    page = finance.get(f"/finance/credit-notes/{note.id}/card-refund").soup
    assert "Nothing is due back" in text_of(page, ".govuk-inset-text")
    assert page.select_one(".govuk-error-summary") is None  # opening it only explains
    assert "Refund by card" not in text_of(finance.get(f"/documents/{note.id}").soup, "main")
    refused = finance.post_form(f"/finance/credit-notes/{note.id}/card-refund")
    assert refused.status_code == 200
    # Pressing Refund anyway is refused as an error: the summary links to the reason.
    assert "Nothing is due back" in text_of(refused.soup, ".govuk-error-summary")
    link = refused.soup.select_one(".govuk-error-summary a")
    assert link is not None and refused.soup.select_one(str(link["href"])) is not None
    assert refused.soup.title is not None and refused.soup.title.text.startswith("Error: ")
    assert fake.refunds == {}
    assert (
        as_role(Role.LA_ADMIN).get(f"/finance/credit-notes/{note.id}/card-refund").status_code
        == 403
    )


def test_a_card_payment_refunded_in_two_parts_then_nothing_more(
    academy: Any, as_role: Any, client: Any, fake: FakeStripe, world: Any, invoice: Document
) -> None:
    """£540.00 by bank transfer and £540.00 by card; two credit notes of £270.00 each refunded
    to the card (the second from what the first kept); a third credit note finds the card
    payment refunded in full and says so, and asks Stripe for nothing."""
    finance_user = world.users[Role.LA_FINANCE]
    payments.record_payment(
        invoice, PaymentKind.BANK_TRANSFER, 54_000, today(), "BACS 0001", finance_user
    )
    db.session.commit()
    session = pay_through_checkout(academy, fake, invoice)
    returned(academy, invoice, session)
    intent = session["payment_intent"]
    assert fake.payment_intents[intent]["amount_received"] == 54_000
    finance = as_role(Role.LA_FINANCE)

    def webhook(kind: str, obj: dict[str, Any]) -> None:
        payload, sig = signed(fake.event(kind, obj))
        assert client.post("/payments/stripe/webhook", data=payload, headers=sig).status_code == 200

    first_note = credit(world, invoice)  # £270.00
    assert (
        finance.post_form(f"/finance/credit-notes/{first_note.id}/card-refund").status_code == 302
    )
    [first] = db.session.execute(select(CardRefund)).scalars()
    charge_id = fake.refunds[first.stripe_refund_id]["charge"]
    # Stripe's charge.refunded for the first part, with the refunds in it.
    webhook("charge.refunded", {"id": charge_id, "object": "charge", "refunds": {"data": [
        fake.refunds[first.stripe_refund_id]]}})  # fmt: skip
    second_note = credit(world, invoice)  # another £270.00
    page = finance.get(f"/finance/credit-notes/{second_note.id}/card-refund").soup
    assert "£270.00" in text_of(page, ".govuk-summary-list")
    assert (
        finance.post_form(f"/finance/credit-notes/{second_note.id}/card-refund").status_code == 302
    )
    method, path, params, _headers = fake.requests[-1]
    assert (method, path, params["payment_intent"], params["amount"]) == (
        "POST", "/v1/refunds", intent, "27000"
    )  # fmt: skip
    # charge.refunded for the second part, as recent API versions send it (no refunds listed:
    # the app asks Stripe for them), then each refund's own event: each part recorded once.
    webhook("charge.refunded", {"id": charge_id, "object": "charge"})
    for refund in list(fake.refunds.values()):
        webhook("refund.created", refund)
        webhook("charge.refunded", {"id": charge_id, "object": "charge", "refunds": {"data": [
            refund]}})  # fmt: skip
    rows = list(db.session.execute(select(CardRefund).order_by(CardRefund.id)).scalars())
    assert [(r.credit_note_id, r.amount_pence) for r in rows] == [
        (first_note.id, 27_000),
        (second_note.id, 27_000),
    ]
    assert db.session.execute(select(CardPaymentReview)).scalars().all() == []
    figures = balances.figures_of(invoice)
    assert (figures.paid_pence, figures.credited_pence, figures.balance_pence) == (
        54_000, 54_000, 0
    )  # fmt: skip
    assert figures.status() == DocumentStatus.PAID
    on = today()
    matched = reconcile.reconcile(on, on)
    assert matched.differences == []
    assert (matched.stripe_refunds_pence, matched.our_refunds_pence) == (54_000, 54_000)

    # A third credit note: the card payment has nothing left to refund.
    third_note = credit(world, invoice, 2)  # £540.00, owed back
    asked = len(fake.requests)
    page = finance.get(f"/finance/credit-notes/{third_note.id}/card-refund").soup
    message = text_of(page, "main")
    assert f"The card payment of £540.00 on {invoice.number} has been refunded in full" in message
    assert "£540.00 is due back" in message
    refused = finance.post_form(f"/finance/credit-notes/{third_note.id}/card-refund")
    assert refused.status_code == 200
    assert "refunded in full" in text_of(refused.soup, "main")
    assert len(fake.requests) == asked and len(fake.refunds) == 2
    assert "Refund by card" not in text_of(finance.get(f"/documents/{third_note.id}").soup, "main")
    # Stripe told of a refund beyond it (made in its dashboard for the credit note): held.
    webhook("refund.created", {
        "id": "re_beyond", "object": "refund", "amount": 100, "currency": "gbp",
        "payment_intent": intent, "charge": charge_id, "status": "succeeded",
        "metadata": {"credit_note_id": str(third_note.id)},
    })  # fmt: skip
    [held] = db.session.execute(select(CardPaymentReview)).scalars()
    assert "no card payment" in held.problem
    assert len(list(db.session.execute(select(CardRefund)).scalars())) == 2


# --- Held payments reviewed by finance ---------------------------------------------------------


def test_finance_applies_or_resolves_held_payments(
    as_role: Any, client: Any, fake: FakeStripe, world: Any, academy: Any, invoice: Document
) -> None:
    session = pay_through_checkout(academy, fake, invoice)
    wrong = dict(session, metadata={"document_id": "999", "invoice_number": "INV-X"})
    payload, sig = signed(fake.event("checkout.session.completed", wrong))
    client.post("/payments/stripe/webhook", data=payload, headers=sig)
    finance = as_role(Role.LA_FINANCE)
    listing = finance.get("/finance/card-payments").soup
    assert "names no invoice" in text_of(listing, "main table")
    register = finance.get("/finance/invoices").soup
    assert "Card payments (1 to review)" in text_of(register, "main")
    [review] = db.session.execute(select(CardPaymentReview)).scalars()
    url = f"/finance/card-payments/{review.id}"
    page = finance.post_form(url, {"action": "apply", "invoice": "INV-NOPE", "note": "Phoned"}).soup
    assert "Enter the number of a VAT invoice" in text_of(page, ".govuk-error-summary")
    response = finance.post_form(
        url, {"action": "apply", "invoice": invoice.number.lower(), "note": "School confirmed"}
    )
    assert response.status_code == 302
    db.session.refresh(review)
    assert review.status == ReviewStatus.APPLIED and review.payment is not None
    assert review.payment.stripe_payment_intent == session["payment_intent"]
    assert balances.figures_of(invoice).status() == DocumentStatus.PAID
    # The same payment arriving again (correctly named this time) is not recorded twice.
    payload, sig = signed(fake.event("checkout.session.completed", session))
    client.post("/payments/stripe/webhook", data=payload, headers=sig)
    assert balances.figures_of(invoice).paid_pence == 108_000

    other = CardPaymentReview(
        kind=review.kind, stripe_object_id="pi_other", stripe_payment_intent="pi_other",
        amount_pence=500, currency="EUR", problem="It was paid in EUR",
    )  # fmt: skip
    db.session.add(other)
    db.session.commit()
    url = f"/finance/card-payments/{other.id}"
    page = finance.post_form(url, {"action": "apply", "invoice": invoice.number, "note": "x"}).soup
    assert "cannot be applied" in text_of(page, ".govuk-error-summary")
    finance.post_form(url, {"action": "resolve", "note": "Refunded in Stripe"})
    db.session.refresh(other)
    assert other.status == ReviewStatus.RESOLVED and other.resolution_note == "Refunded in Stripe"
    assert finance.post_form(url, {"action": "resolve", "note": "again"}).status_code == 200


# --- Reconciliation -----------------------------------------------------------------------------


def test_reconciliation_lists_every_difference(
    app: Flask, as_role: Any, fake: FakeStripe, world: Any, academy: Any, invoice: Document
) -> None:
    fake.page_size = 2  # so the app must follow Stripe's pages
    paid = []
    for _ in range(3):
        document = issue_document(world)
        db.session.commit()
        session = pay_through_checkout(academy, fake, document)
        returned(academy, document, session)
        paid.append(session)
    # Paid at Stripe, never told to us.
    missing = pay_through_checkout(academy, fake, invoice)
    # Stripe's amount differs from ours.
    fake.payment_intents[paid[0]["payment_intent"]]["amount_received"] = 12_345
    # A refund made in Stripe's dashboard.
    fake._create_refund({"payment_intent": paid[1]["payment_intent"], "amount": "100"})
    on = today()
    finance = as_role(Role.LA_FINANCE)
    query = {"date_from": [on.day, on.month, on.year], "date_to": [on.day, on.month, on.year]}
    page = finance.get("/finance/card-payments/reconcile", query_string=query).soup
    text = text_of(page, "main")
    assert "3 differences" in text
    assert f"Payment {missing['payment_intent']}" in text and "not recorded here" in text
    assert "Amounts differ" in text
    assert "Refunded in Stripe but not recorded here" in text
    listed = [r for r in fake.requests if r[1] == "/v1/payment_intents"]
    assert len(listed) == 2 and listed[1][2]["starting_after"]  # four payments, pages of two

    runner = app.test_cli_runner()
    day = on.isoformat()
    result = runner.invoke(payments_cli, ["reconcile", "--from", day, "--to", day])
    assert result.exit_code == 1
    assert "3 differences" in result.output and missing["payment_intent"] in result.output
    earlier = (on - timedelta(days=40)).isoformat()
    result = runner.invoke(payments_cli, ["reconcile", "--from", earlier, "--to", earlier])
    assert result.exit_code == 0, result.output
    assert "No differences." in result.output
    bad = finance.get(
        "/finance/card-payments/reconcile",
        query_string={"date_from": ["1", "1", "2020"], "date_to": ["1", "1", "2019"]},
    ).soup
    assert "The end date must be" in text_of(bad, ".govuk-error-summary")


# --- The Stripe keys ---------------------------------------------------------------------------


def test_service_manager_sets_the_keys_which_are_never_shown_or_audited(
    as_role: Any, world: Any, invoice: Document, academy: Any
) -> None:
    admin = as_role(Role.LA_ADMIN)
    assert "Card payments (Stripe keys)" in text_of(
        admin.get("/council/manage/settings").soup, "main"
    )
    url = "/council/manage/settings/card-payments"
    page = admin.post_form(url, {"secret_key": "pk_live_wrong"}).soup
    assert "Enter a Stripe secret key" in text_of(page, ".govuk-error-summary")
    secret = "sk_live_abcdefghijklmnopSECRET9876"
    response = admin.post_form(url, {"secret_key": secret, "webhook_secret": "whsec_xyz1234"})
    assert response.status_code == 302
    page = admin.get(url)
    html = page.get_data(as_text=True)
    assert secret not in html and "ending 9876" in html and "ending 1234" in html
    assert text_of(page.soup, ".govuk-summary-list__row:first-child dd") == "On"
    trail = admin.get("/council/manage/audit").get_data(as_text=True)
    assert secret not in trail and "whsec_xyz1234" not in trail
    events = db.session.execute(select(AuditEvent)).scalars()
    assert all(secret not in str(e.changes) for e in events)
    assert "Pay by card" in text_of(academy.get(f"/documents/{invoice.id}").soup, "main")
    # Blank keeps the keys; removing turns card payments off.
    admin.post_form(url, {"secret_key": "", "webhook_secret": ""})
    assert world.council.stripe_secret_key == secret
    admin.post_form(url, {"remove": "y"})
    db.session.refresh(world.council)
    assert world.council.stripe_secret_key == "" and not card_payments_enabled()


def test_environment_keys_win_and_the_pdf_link_is_set_only_when_configured(
    app: Flask, world: Any
) -> None:
    assert payment_link_for("INV-2026-000001") == ""
    app.config.update(
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        APP_BASE_URL="https://traded.example.gov.uk",
    )
    try:
        keys = stripe_keys()
        assert keys.enabled and keys.secret_key_from_environment
        assert payment_link_for("INV-2026-000001") == (
            "https://traded.example.gov.uk/invoices/INV-2026-000001/pay"
        )
        world.council.invoice_timing = "invoice_run"  # confirmed, not yet charged
        order = confirmed_order(world, school=world.academy)
        document = invoicing.issue_for_order(order, None)
        db.session.commit()
        assert document.payment_link.endswith(f"/invoices/{document.number}/pay")
        # The link is kept with the document: its PDF renders again to the bytes stored.
        stored = read_pdf(document)
        assert pdf.render(document_data(document)) == stored
        app.config["APP_BASE_URL"] = "http://localhost:5000"  # no https: no link on paper
        assert payment_link_for("INV-2026-000001") == ""
    finally:
        app.config.update(STRIPE_SECRET_KEY="", STRIPE_WEBHOOK_SECRET="", APP_BASE_URL="")


def test_only_the_pay_page_lets_its_form_lead_to_stripe_checkout(
    academy: Any, fake: FakeStripe, invoice: Document
) -> None:
    """The CSP's form-action also governs where a form's POST redirects: without Stripe's
    Checkout origin the browser would stop "Continue to pay" (the browser journey proves it)."""
    pay = academy.get(f"/documents/{invoice.id}/pay").headers["Content-Security-Policy"]
    assert "form-action 'self' https://checkout.stripe.com;" in pay
    other = academy.get(f"/documents/{invoice.id}").headers["Content-Security-Policy"]
    assert "form-action 'self';" in other and "stripe" not in other
