"""Journey: finance@example.org filters the register, records a part payment against an
overdue invoice, looks at aged debt, and downloads the sales ledger as CSV and XLSX, whose
contents are read back (axe-core on every page)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.conftest import Journey
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_finance_filters_records_a_payment_and_exports(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "finance@example.org")
    page.get_by_role("link", name="Finance", exact=True).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoices and credit notes")

    # Filter: overdue VAT invoices (htmx swaps the results; the URL keeps the filters).
    page.get_by_label("Type").select_option("invoice")
    page.get_by_label("Status").select_option("overdue")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"status=overdue"))
    journey.check()
    rows = page.locator("main tbody tr")
    expect(rows.first).to_contain_text("Overdue")
    assert rows.count() >= 1
    for text in rows.all_inner_texts():
        assert "Overdue" in text

    # Record a £100.00 part payment on the first overdue invoice.
    link = rows.first.get_by_role("link", name=re.compile(r"^INV-"))
    number = link.inner_text()
    link.click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"VAT invoice {number}")
    page.get_by_role("button", name="Record a payment").click()
    journey.check()
    page.get_by_label("Amount").fill("100")
    page.get_by_label("Day").fill("1")  # the 1st of this month: a real date in the past
    today = page.evaluate("() => new Date().toISOString().slice(0, 10)")
    year, month, _day = today.split("-")
    page.get_by_label("Month").fill(str(int(month)))
    page.get_by_label("Year").fill(year)
    page.get_by_label("Payment reference").fill("BACS 998877")
    page.get_by_role("button", name="Record the payment").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("£100.00 received on 1 ")
    expect(page.locator("main")).to_contain_text("BACS 998877")
    expect(page.locator("main")).to_contain_text("Fiona Reed")  # who recorded it

    # Aged debt: the table beside its chart.
    page.get_by_role("link", name="Back to invoices and credit notes").click()
    journey.check()
    # One click away in the menu (issue 17), as well as linked from the register.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Aged debt").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aged debt")
    expect(page.locator("tfoot")).to_contain_text("Total")

    # Exports: the sales ledger for the last year, CSV then XLSX.
    journey.goto("/finance/exports")
    start = page.evaluate(
        "() => { const d = new Date(); d.setDate(d.getDate() - 360); return d.toISOString().slice(0, 10); }"
    )
    start_year, start_month, start_day = start.split("-")
    _fill_dates(page, (start_day, start_month, start_year), today.split("-")[::-1])
    page.get_by_label("Sales ledger (CSV)").check()
    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Export").click()
    assert csv_download.value.suggested_filename.startswith("sales-ledger-")
    rows_csv = list(
        csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text("utf-8-sig")))
    )
    numbers = {r["document_number"] for r in rows_csv}
    assert number in numbers
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["issue_date"]) for r in rows_csv)
    credit_rows = [r for r in rows_csv if r["document_type"] == "credit_note"]
    assert credit_rows and all(Decimal(r["gross"]) < 0 for r in credit_rows)

    # The XLSX of the same dates: these documents went out in the CSV, so the page asks.
    page.get_by_label("Sales ledger (XLSX)").check()
    page.get_by_role("button", name="Export").click()
    journey.check()
    expect(page.locator(".govuk-warning-text")).to_contain_text("exported before")
    page.get_by_label("Export them again with the others").check()
    page.get_by_role("button", name="Export").click()
    # A workbook is built by the job queue (at once in tests): its page offers the file.
    expect(page.locator("#export-build .govuk-tag")).to_have_text("Ready")
    journey.check()
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name=re.compile(r"^Download ")).click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    sheet_rows = list(workbook["Sales ledger"].iter_rows(values_only=True))
    header, data = sheet_rows[0], sheet_rows[1:]
    assert len(data) == len(rows_csv)
    gross = header.index("gross")
    assert all(isinstance(r[gross], int | float) for r in data)
    assert sum(Decimal(str(r[gross])) for r in data) == sum(Decimal(r["gross"]) for r in rows_csv)
    journey.goto("/finance/exports")
    expect(page.locator("main table")).to_contain_text("Sales ledger (XLSX)")


def _fill_dates(page: object, start: tuple[str, str, str], end: list[str]) -> None:
    assert isinstance(page, Page)
    for legend, (day, month, year) in (("Issued from", start), ("Issued to", end)):
        group = page.get_by_role("group", name=legend)
        group.get_by_label("Day").fill(str(int(day)))
        group.get_by_label("Month").fill(str(int(month)))
        group.get_by_label("Year").fill(year)


def test_a_filter_error_moves_focus_to_the_error_summary(journey: Journey) -> None:
    """After htmx swaps in the register's results with an error, focus is on the summary, as
    after a full page load with errors (issue 17)."""
    page = journey.page
    sign_in(journey, "finance@example.org")
    page.get_by_role("link", name="Finance", exact=True).click()
    journey.check()
    start = page.get_by_role("group", name="Issued from")
    start.get_by_label("Day").fill("30")
    start.get_by_label("Month").fill("2")
    start.get_by_label("Year").fill("2027")
    page.get_by_role("button", name="Apply filters").click()
    summary = page.locator("#register-results .govuk-error-summary")
    expect(summary).to_contain_text("Issued from must be a real date")
    expect(summary).to_be_focused()
    journey.check()
