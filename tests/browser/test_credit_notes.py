"""Journey: finance@example.org raises a credit note for half a day of a demo VAT invoice: the
form, a refusal shown in the error summary, the check of the totals with its warning, and the
issued credit note's page with its banner (axe-core on every page)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_finance_raises_a_credit_note_for_half_a_day(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "finance@example.org")
    journey.goto("/finance/invoices?type=invoice")
    links = page.locator("main tbody tr").get_by_role("link", name=re.compile(r"^INV-"))
    hrefs = [links.nth(i).get_attribute("href") for i in range(min(links.count(), 30))]
    raise_link = page.get_by_role("button", name="Raise a credit note")
    for href in hrefs:  # the first invoice of an order (not a share's, a course's) offers it
        journey.goto(str(href))
        if raise_link.count():
            break
    number = page.get_by_role("heading", level=1).inner_text().removeprefix("VAT invoice ")
    raise_link.click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Raise a credit note against {number}"
    )

    # No reason: the error summary says so, and the answers are kept.
    field = page.get_by_label(re.compile(r": days to credit$")).first
    field.fill("0.5")
    page.get_by_role("button", name="Continue").click()
    journey.check()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the reason for the credit note"
    )
    expect(field).to_have_value("0.5")

    page.get_by_label("Reason").fill("Half a day not delivered: the visit was cut short")
    page.get_by_role("button", name="Continue").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Check the credit note against {number}"
    )
    expect(page.locator(".govuk-warning-text")).to_contain_text(
        "A credit note cannot be changed once issued"
    )
    gross = page.locator("#check-gross").inner_text()
    page.get_by_role("button", name="Issue the credit note").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"issued against {number}")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Credit note "))
    expect(page.locator("main")).to_contain_text("Half a day not delivered")
    expect(page.locator("main")).to_contain_text(gross)
