"""Journey (issue 15, end to end): the traded year from next year's offer to its first
instalment.

The service manager publishes next year: copies this year's prices, raises one, previews the
catalogue as a school will see it and publishes it with the buy-back window open today. Finance
has the maintained schools' recharges charged in instalments (April and September). Hamilton's
business manager downloads a quote for next year (its PDF holds the quote's number, validity,
prices and terms), orders "the same as this year" from it, submits without the purchase order
number and adds it later; the headteacher approves, the council confirms, and the first
instalment is issued on its date by the daily schedule.

On a server of its own, in spring: next year's offer is not published and has no prices yet.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from pypdf import PdfReader
from sqlalchemy import delete

from tests.browser.conftest import Journey, _journey, in_app, serve_in_spring
from tests.browser.test_buy_back import fill_date, window_closes
from tests.browser.test_ordering import confirm_as_admin, sign_out
from tests.browser.test_sign_in import choose_year, sign_in
from traded_app.extensions import db
from traded_app.models import ServicePrice
from traded_app.services.documents import instalments
from traded_app.services.ordering import buy_back
from traded_app.services.platform.settings import today

pytestmark = pytest.mark.browser

RAISED = "Collaborative review of a current priority"
PO_NUMBER = "HPS-PO-2231"


def _no_prices_for_next_year() -> None:
    upcoming = buy_back.next_year()
    assert upcoming is not None
    db.session.execute(delete(ServicePrice).where(ServicePrice.academic_year_id == upcoming.id))


@pytest.fixture(scope="module")
def spring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    yield from serve_in_spring(tmp_path_factory.mktemp("traded_year"), _no_prices_for_next_year)


@pytest.fixture()
def journey(browser: Browser, spring: tuple[Flask, str]) -> Iterator[Journey]:
    yield from _journey(browser, spring[1])


def pdf_text(content: bytes) -> str:
    return " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages
    )


def publish_next_year(journey: Journey, next_year: str, this_year: str) -> None:
    """The service manager copies this year's prices, raises one, previews and publishes."""
    page = journey.page
    sign_in(journey, "admin@example.org")
    journey.goto("/council/manage")
    page.get_by_role("link", name="Next year's offer").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Next year's offer: {next_year}")
    expect(page.locator("#offer-state")).to_contain_text("Not published")
    expect(page.locator("#next-year-prices")).to_contain_text("No price: not offered")
    page.get_by_role("link", name=f"Copy {this_year}'s prices to {next_year}").click()
    journey.check()
    page.get_by_role("button", name="Copy the prices").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Next year's offer: {next_year}")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"prices copied from {this_year} to {next_year}"
    )
    expect(page.locator("#next-year-prices")).not_to_contain_text("No price")

    # One price goes up for next year; the service's page leads back to next year's offer.
    page.locator("#next-year-prices").get_by_role("link", name=re.compile(RAISED)).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(RAISED)
    expect(page.get_by_label("Academic year", exact=True)).to_have_value(
        str(int(this_year[:4]) + 1)
    )
    page.get_by_label("Price per day", exact=True).fill("475")
    page.get_by_role("button", name="Set the price").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Next year's offer: {next_year}")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Price per day for {RAISED} in {next_year} saved"
    )
    raised_row = page.locator("#next-year-prices tbody tr", has_text=RAISED)
    expect(raised_row).to_contain_text("£450.00")
    expect(raised_row).to_contain_text("£475.00")

    page.get_by_role("link", name=f"See {next_year}'s catalogue as a school will see it").click()
    journey.check()
    expect(page.locator(".app-service", has_text=RAISED)).to_contain_text("£475.00 a day")
    page.get_by_role("link", name="Back to next year's offer").click()
    journey.check()
    fill_date(journey, "Date the window opens", today())
    fill_date(journey, "Date the window closes", window_closes())
    page.get_by_label("Allowed: late orders are treated like any other").check()
    page.get_by_role("button", name=f"Publish {next_year}'s offer").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"{next_year}'s offer is published"
    )
    expect(page.locator("#offer-state")).to_contain_text("the buy-back window is open")
    sign_out(journey)


def recharges_in_april_and_september(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "finance@example.org")
    page.get_by_role("link", name="Invoices", exact=True).click()
    journey.check()
    page.get_by_role("link", name="Invoice schedules").click()
    journey.check()
    maintained = page.locator(".govuk-summary-list__row", has_text="Maintained schools")
    maintained.get_by_role("link", name=re.compile("^Change")).click()
    journey.check()
    page.get_by_role("link", name="April and September").click()
    journey.check()
    page.get_by_role("button", name="Save the schedule").click()
    journey.check()
    expect(maintained).to_contain_text("April and September: 7/12 on 1 April")
    sign_out(journey)


def test_next_year_from_its_offer_to_its_first_instalment(
    journey: Journey, spring: tuple[Flask, str]
) -> None:
    app = spring[0]
    page = journey.page
    start = today().year if today().month >= 9 else today().year - 1
    this_year, next_year = f"{start}/{str(start + 1)[-2:]}", f"{start + 1}/{str(start + 2)[-2:]}"

    publish_next_year(journey, next_year, this_year)
    recharges_in_april_and_september(journey)

    # The business manager starts next year's basket from this year's days...
    sign_in(journey, "sbm@example.org")
    page.get_by_role("button", name="Go to the catalogue").click()
    journey.check()
    choose_year(journey, next_year)
    page.get_by_role("button", name="Order the same as this year").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Your {next_year} order now has this year's days of 2 services"
    )
    # 4 days of the raised collaborative review (£475) and 1 of QA (£450).
    expect(page.locator("#summary-days")).to_have_text("5")
    expect(page.locator("#summary-total")).to_have_text("£2,350.00")

    # ... and downloads a quote for it, to raise the purchase order.
    page.get_by_role("button", name="Download a quote for your basket").click()
    journey.check()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Quote QUO-")
    quote_number = heading.inner_text().removeprefix("Quote ")
    expect(page.locator(".govuk-caption-l")).to_contain_text(next_year)
    valid_until = page.locator(".govuk-summary-list__row", has_text="Valid until").locator("dd")
    validity = valid_until.inner_text().strip()
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download quote {quote_number} (PDF)").click()
    assert download.value.suggested_filename == f"{quote_number}.pdf"
    text = pdf_text(Path(download.value.path()).read_bytes())
    assert quote_number in text
    assert validity in text, text
    assert next_year in text, text
    assert "£475.00" in text and "£450.00" in text and "£2,350.00" in text, text
    assert "terms" in text.lower(), text

    # Ordering from the quote keeps its prices; no PO number yet.
    page.get_by_role("button", name="Order from this quote").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your order's details")
    expect(page.locator(".govuk-caption-l")).to_contain_text(next_year)
    page.get_by_role("button", name="Continue").click()
    journey.check()
    expect(page.locator("main")).to_contain_text(quote_number)
    terms = page.get_by_label(re.compile("I accept the .* terms and conditions"))
    if terms.count():
        terms.check()
    page.get_by_role("button", name=re.compile("Send to your headteacher|Submit order")).click()
    journey.check()
    reference = re.search(r"ORD-\d+", page.locator(".govuk-panel").inner_text()).group(0)  # type: ignore[union-attr]

    # The purchase order number arrives: added from the order's page.
    page.get_by_role("link", name="Orders", exact=True).click()
    journey.check()
    page.get_by_role("link", name=reference).click()
    journey.check()
    expect(page.locator("main")).to_contain_text("None given")
    page.get_by_role("link", name="Add purchase order number").click()
    journey.check()
    page.get_by_label("Purchase order number").fill(PO_NUMBER)
    page.get_by_role("button", name="Save purchase order number").click()
    journey.check()
    expect(page.locator("main")).to_contain_text(PO_NUMBER)
    sign_out(journey)

    # Over the school's limit: the headteacher approves, then the council confirms.
    sign_in(journey, "head@example.org")
    page.get_by_role("link", name="Orders", exact=True).click()
    journey.check()
    page.get_by_role("link", name=reference).click()
    journey.check()
    page.get_by_role("button", name="Approve order").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("sent to the council")
    sign_out(journey)
    confirm_as_admin(journey, reference)
    schedule = page.get_by_role("region", name=f"Invoice schedule of order {reference}")
    first_due = date(start + 1, 4, 1)
    expect(schedule).to_contain_text("1 of 2")
    expect(schedule).to_contain_text(f"{first_due.day} April {first_due.year}")
    sign_out(journey)

    # The daily schedule runs on the first instalment's date (already come if the window opened
    # after 1 April: then the confirmation raised it).
    if first_due > today():
        # (Great Bentley's demo instalments due by then are raised too.)
        assert in_app(app, lambda: instalments.raise_due(first_due).raised) >= 1

    sign_in(journey, "sbm@example.org")
    page.get_by_role("link", name="Orders", exact=True).click()
    journey.check()
    page.get_by_role("link", name=reference).click()
    journey.check()
    documents = page.get_by_role("region", name=f"Documents issued for order {reference}")
    expect(documents).to_contain_text("instalment 1 of 2")
    schedule = page.get_by_role("region", name=f"Invoice schedule of order {reference}")
    expect(schedule.locator("tbody tr").nth(1)).to_contain_text("To come")
    schedule.get_by_role("link", name=re.compile(r"^[A-Z]+-\d{4}-\d{6}$")).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text("recharge")
    expect(page.locator("#instalment")).to_have_text(f"Instalment 1 of 2 for order {reference}")
    expect(page.locator("main")).to_contain_text(PO_NUMBER)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the PDF").click()
    text = pdf_text(Path(download.value.path()).read_bytes())
    assert f"Instalment 1 of 2 for order {reference}" in text, text
    assert PO_NUMBER in text, text
