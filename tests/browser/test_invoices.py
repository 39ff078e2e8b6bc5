"""Journeys: the council confirms de Vere academy's order, the VAT invoice is issued at once, and
the school finds it on its Invoices page and downloads the PDF; finance sees it too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_ordering import sign_out
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_the_school_downloads_its_invoice_after_confirmation(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "admin@example.org")
    page.get_by_role("link", name="Orders", exact=True).click()
    journey.check()
    page.get_by_label("School name or URN").fill("de Vere")
    page.get_by_role("button", name="Apply filters").click()
    journey.check()
    page.locator("main table a").first.click()
    journey.check()
    reference = page.get_by_role("heading", level=1).inner_text().removeprefix("Order ")
    page.get_by_role("button", name="Confirm order").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Order {reference} is confirmed."
    )
    # Confirmation issued the VAT invoice: the order page links it.
    expect(page.get_by_role("heading", name="Invoices and credit notes")).to_be_visible()
    number_link = page.get_by_role("link", name=re.compile(r"^INV-\d{4}-\d{6}$"))
    number = number_link.inner_text()
    sign_out(journey)

    sign_in(journey, "sbm2@example.org")
    page.get_by_role("link", name="Invoices", exact=True).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoices")
    row = page.locator("tbody tr", has_text=number)
    expect(row).to_contain_text("VAT invoice")
    expect(row).to_contain_text("Issued")
    row.get_by_role("link", name=number, exact=True).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"VAT invoice {number}")
    expect(page.locator("main")).to_contain_text("How to pay")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"{number}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")
    href = page.get_by_role("button", name="Download the PDF").get_attribute("href")
    response = page.request.get(journey.base_url + str(href))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.body().startswith(b"%PDF-")
    sign_out(journey)

    # Finance sees the document among the latest, and its send log.
    sign_in(journey, "finance@example.org")
    page.get_by_role("link", name="Invoices", exact=True).click()
    journey.check()
    page.locator("main").get_by_role("link", name=number, exact=True).first.click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"VAT invoice {number}")
    expect(page.get_by_role("button", name="Send again")).to_be_visible()
