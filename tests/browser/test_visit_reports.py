"""Journey: the adviser delivers a visit to Hamilton Primary and sends its report; the
headteacher downloads the report's PDF from the school's Days page. axe-core checks each page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import Journey
from tests.browser.test_days import book_and_deliver
from tests.browser.test_sign_in import sign_in
from traded_app.services.days.activities import NON_NEGOTIABLE

pytestmark = pytest.mark.browser

DONE = "Looked at the Key Stage 2 reading data with the headteacher and the English lead."
ACTION = "Share the reading analysis with governors"


def write_and_send_report(journey: Journey) -> None:
    journey.page.get_by_role("link", name="Write the report").click()
    journey.check()
    fill_and_send_report(journey)


def fill_and_send_report(journey: Journey) -> None:
    """On the report page: covers a non-negotiable activity, one action, then Send."""
    page = journey.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Visit report")
    page.get_by_label(NON_NEGOTIABLE[0]).check()
    page.get_by_label("What was done").fill(DONE)
    page.get_by_label("Action 1", exact=True).fill(ACTION)
    page.get_by_label("Owner of action 1").fill("Headteacher")
    page.locator("#due_1-day").fill("27")
    page.locator("#due_1-month").fill("3")
    page.locator("#due_1-year").fill("2030")
    page.get_by_label("To be arranged").check()
    page.get_by_role("button", name="Send the report").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("sent to head@example.org")
    expect(page.locator("#report-sent")).to_contain_text("Version 1 was sent")


def test_the_headteacher_downloads_the_report_the_adviser_sent(journey: Journey) -> None:
    book_and_deliver(journey, then=write_and_send_report)
    page = journey.page
    sign_in(journey, "head@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your days")
    reports = page.locator("#visit-report-list")
    expect(reports).to_contain_text("Report of the visit on")
    link = reports.get_by_role("link").first
    with page.expect_download() as download:
        link.click()
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"%PDF-")
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages
    )
    assert DONE in text and ACTION in text
