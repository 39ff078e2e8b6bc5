"""Journey: the academy's business manager reads the school's statement, downloads it as CSV and
tells the council about a payment; finance matches it, which records the payment (axe-core on
every page)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_a_school_remits_and_finance_matches(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "sbm2@example.org")
    page.get_by_role("link", name="Statement", exact=True).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statement of account")
    expect(page.locator("#entries")).to_contain_text("Invoice")
    closing = page.locator("#closing").inner_text()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as CSV").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "Date,Type,Reference,Details,Debit,Credit,Balance"
    assert lines[-1].split(",")[-1] == closing.replace("£", "").replace(",", "")

    page.get_by_role("link", name="Tell the council you have paid").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tell the council you have paid")
    row = page.locator("fieldset table tbody tr").last
    number = row.get_by_role("link").inner_text()
    left = row.locator("td").last.inner_text().replace("£", "").replace(",", "")
    row.get_by_role("checkbox").check()
    page.get_by_label("Amount paid").fill(left)
    today = page.evaluate("() => new Date().toISOString().slice(0, 10)")
    year, month, day = today.split("-")
    page.get_by_label("Day").fill(str(int(day)))
    page.get_by_label("Month").fill(str(int(month)))
    page.get_by_label("Year").fill(year)
    page.get_by_label("Your payment reference").fill("BACS JOURNEY 1")
    page.get_by_role("button", name="Send the remittance").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("BACS JOURNEY 1")
    expect(page.locator("#remittances")).to_contain_text("Waiting to be matched")
    page.get_by_role("button", name="Sign out").click()
    journey.check()

    sign_in(journey, "finance@example.org")
    journey.goto("/finance/remittances")
    journey.check()
    mine = page.locator("#remittances tbody tr", has_text="BACS JOURNEY 1")
    expect(mine).to_contain_text(number)
    mine.get_by_role("button", name=re.compile(r"^Match and record 1 payment")).click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Remittance BACS JOURNEY 1 from de Vere Primary School matched: 1 payment recorded"
    )
    expect(page.locator("#matched")).to_contain_text("BACS JOURNEY 1")
