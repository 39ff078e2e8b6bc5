"""Journey: the demo trust's finance lead (trust@example.org) pays two of its academies' invoices
by card and downloads the trust's statement. Stripe is the fake on loopback (as in
test_card_payment.py, whose app and fake this journey reuses); axe-core checks every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser import test_card_payment as card
from tests.browser.conftest import Journey
from tests.browser.test_sign_in import sign_in
from tests.stripe_fake import FakeStripe

pytestmark = pytest.mark.browser

# The card payment journey's app (the demo with Stripe keys) and its fake Stripe, for this module.
fake_stripe = card.fake_stripe
card_server = card.card_server
card_journey = card.card_journey


def _pay_first_open_invoice(journey: Journey, academy: str) -> str:
    page = journey.page
    page.get_by_role("link", name="Academies", exact=True).click()
    page.get_by_role("link", name=re.compile(academy)).click()
    journey.check()
    invoice = page.get_by_role("link", name=re.compile(r"^INV-"))
    rows = page.locator("#invoices ~ div tbody tr").filter(has=invoice)
    row = rows.filter(has_text=re.compile(r"Overdue|Issued|Part paid|Part credited")).first
    link = row.get_by_role("link", name=re.compile(r"^INV-"))
    number = link.inner_text()
    link.click()
    journey.check()
    page.get_by_role("button", name="Pay by card").click()
    journey.check()
    amount = page.locator(".govuk-summary-list__row", has_text="Left to pay").locator("dd")
    page.get_by_role("button", name=f"Continue to pay {amount.inner_text()}").click()
    expect(page).to_have_url(re.compile(r"/pay/done\?session_id=cs_"))
    journey.check()
    expect(page.locator(".govuk-panel__title")).to_have_text("Payment received")
    return number


def test_trust_finance_pays_two_academies_and_downloads_the_statement(
    card_journey: Journey, fake_stripe: FakeStripe
) -> None:
    journey = card_journey
    page = journey.page
    sign_in(journey, "trust@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tendring Coast Learning Trust")
    paid = [
        _pay_first_open_invoice(journey, "Frinton"),
        _pay_first_open_invoice(journey, "Great Bentley"),
    ]
    assert {s["client_reference_id"] for s in fake_stripe.sessions.values()} >= set(paid)

    page.get_by_role("link", name="Academies", exact=True).click()
    page.get_by_role("link", name="The trust’s statement of account").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statement of account")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the PDF").click()
    assert download.value.suggested_filename.startswith("trust-statement-")
    reader = PdfReader(Path(download.value.path()))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "Tendring Coast Learning Trust" in text
    assert all(number in text for number in paid)
