"""Journey: de Vere academy's business manager (sbm2@example.org) pays an invoice by card.

The app runs with Stripe keys and its Stripe library pointed (STRIPE_API_BASE) at the fake
Stripe on loopback (tests/stripe_fake.py), whose Checkout page takes the payment and sends the
browser back to the success URL, as Stripe's hosted page does. axe-core checks every page of
ours on the way; the fake's Checkout answers only with a redirect, so it shows no page."""

from __future__ import annotations

import contextvars
import logging
import re
import threading
from collections.abc import Iterator

import pytest
from flask_migrate import upgrade
from playwright.sync_api import Browser, expect
from werkzeug.serving import make_server

from tests.browser.conftest import Journey, _demo_hash, _journey
from tests.browser.test_sign_in import sign_in
from tests.conftest import environ_for_tests
from tests.stripe_fake import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, FakeStripeServer
from traded_app import create_app
from traded_app.demo import load_demo
from traded_app.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    with FakeStripeServer(fake):
        yield fake


@pytest.fixture(scope="module")
def card_server(tmp_path_factory: pytest.TempPathFactory, fake_stripe: FakeStripe) -> Iterator[str]:
    """The demo app with Stripe keys from the environment, talking to the fake Stripe."""
    tmp = tmp_path_factory.mktemp("card")
    app = create_app(
        environ_for_tests(
            tmp,
            f"sqlite:///{tmp / 'card.db'}",
            STRIPE_SECRET_KEY=SECRET_KEY,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            STRIPE_API_BASE=fake_stripe.checkout_base,
        )
    )

    def prepare() -> None:
        with app.app_context():
            upgrade()
            load_demo(password_hash=_demo_hash())
            db.session.commit()

    contextvars.Context().run(prepare)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=contextvars.Context().run, args=(server.serve_forever,), daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def card_journey(browser: Browser, card_server: str) -> Iterator[Journey]:
    yield from _journey(browser, card_server)


def test_academy_pays_an_invoice_by_card(card_journey: Journey, fake_stripe: FakeStripe) -> None:
    journey = card_journey
    page = journey.page
    sign_in(journey, "sbm2@example.org")
    page.get_by_role("link", name="Invoices", exact=True).click()
    journey.check()
    # The first VAT invoice with something left to pay.
    row = page.locator("main tbody tr").filter(has_text=re.compile(r"Overdue|Issued|Part paid"))
    row = row.filter(has_text="INV-").first
    link = row.get_by_role("link", name=re.compile(r"^INV-"))
    number = link.inner_text()
    link.click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"VAT invoice {number}")
    page.get_by_role("button", name="Pay by card").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay by card")
    left = page.locator(".govuk-summary-list__row", has_text="Left to pay").locator("dd")
    amount = left.inner_text()
    page.get_by_role("button", name=f"Continue to pay {amount}").click()
    # Stripe's (fake) Checkout takes the payment and sends the browser back to us.
    expect(page).to_have_url(re.compile(r"/pay/done\?session_id=cs_"))
    journey.check()
    expect(page.locator(".govuk-panel__title")).to_have_text("Payment received")
    expect(page.locator(".govuk-panel__body")).to_contain_text(
        f"{amount} paid by card for {number}"
    )
    expect(left).to_have_text("£0.00")
    [session] = fake_stripe.sessions.values()
    assert session["client_reference_id"] == number
    assert session["payment_status"] == "paid"

    page.get_by_role("link", name=f"View {number}").click()
    journey.check()
    expect(page.locator("main .govuk-tag").first).to_have_text("Paid")
    expect(page.get_by_role("button", name="Pay by card")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Card payment provider")
