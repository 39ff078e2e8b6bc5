"""Journey: school-to-school support. Myland offers SEND support and the service manager lists
it; De La Salle asks the council for SEND support; the service manager shortlists Myland beside
a council service and sends the comparison; De La Salle chooses Myland for 1.5 days; Myland
accepts and records a whole day and a half day; De La Salle's headteacher confirms both, and the
engagement is complete with its days used on both schools' pages. The council invoices as
Myland's agent (the service manager sets a 7.5% brokerage fee first): De La Salle is recharged
for each confirmed session, Myland sees its recharge credits less the fee, and finance marks
them paid. axe checks every page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_ordering import sign_out
from tests.browser.test_sign_in import sign_in
from traded_app.services.platform.settings import today

pytestmark = pytest.mark.browser

PRACTITIONER = "Jo Whitfield"


def fill_date(page: Any, legend: str, day: Any) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day", exact=True).fill(str(day.day))
    group.get_by_label("Month", exact=True).fill(str(day.month))
    group.get_by_label("Year", exact=True).fill(str(day.year))


def days_row(page: Any, term: str) -> Any:
    return page.locator("#engagement-days .govuk-summary-list__row", has_text=term).locator("dd")


def offer_send_support(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "sbm3@example.org")
    page.get_by_role("link", name="Support", exact=True).click()
    journey.check()
    page.get_by_role("link", name="Offer your school's expertise").click()
    journey.check()
    page.get_by_role("button", name="Send to the council").click()
    journey.check()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the practitioner's name")
    page.get_by_label("Area of expertise").select_option(label="SEND")
    page.get_by_label("Any phase").check()
    page.get_by_label("Practitioner's name").fill(PRACTITIONER)
    page.get_by_label("Practitioner's role").fill("Specialist leader of education")
    page.get_by_label("Days available a term").fill("2")
    page.get_by_label("Daily rate").fill("360")
    page.get_by_label("What the school can offer").fill("SEN reviews and SENCO coaching.")
    fill_date(page, "End date", today() + timedelta(days=200))
    page.get_by_role("button", name="Send to the council").click()
    journey.check()
    expect(page.locator("#offer-status")).to_have_text("Awaiting the council's check")
    sign_out(journey)


def list_it_and_shortlist(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "admin@example.org")
    page.get_by_role("link", name="Support", exact=True).click()
    journey.check()
    page.get_by_role("link", name="Schools' offers").click()
    journey.check()
    page.locator("#to-check").get_by_role("link", name="SEND").first.click()
    journey.check()
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Save the check").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("listed")
    sign_out(journey)

    sign_in(journey, "sbm4@example.org")
    page.get_by_role("link", name="Support", exact=True).click()
    journey.check()
    page.get_by_role("link", name="Ask for support").click()
    journey.check()
    page.get_by_label("Area of support").select_option(label="SEND")
    page.get_by_label("Secondary").check()
    page.get_by_label("Outcome wanted").fill("Our SEN support plans reviewed and improved.")
    page.get_by_label("When").fill("This term")
    page.get_by_label("Roughly how many days").fill("1.5")
    page.get_by_role("button", name="Send to the council").click()
    journey.check()
    expect(page.locator("#request-status")).to_have_text("With the council")
    reference = page.locator(".govuk-caption-l").inner_text()
    sign_out(journey)

    sign_in(journey, "admin@example.org")
    page.get_by_role("link", name="Support", exact=True).click()
    journey.check()
    page.get_by_role("link", name=reference).click()
    journey.check()
    choices = page.get_by_label("Provider", exact=True)
    myland = choices.locator("option", has_text=PRACTITIONER).get_attribute("value")
    choices.select_option(value=myland)
    page.get_by_role("button", name="Add to the shortlist").click()
    journey.check()
    council = choices.locator("option", has_text="The council:").first.get_attribute("value")
    choices.select_option(value=council)
    page.get_by_role("button", name="Add to the shortlist").click()
    journey.check()
    expect(page.locator("#comparison tbody tr")).to_have_count(2)
    page.get_by_role("button", name="Send the comparison to the school").click()
    journey.check()
    sign_out(journey)


def council_invoices_as_agent(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "admin@example.org")
    journey.goto("/council/support/money")
    page.get_by_label("The council invoices the buying school, for a brokerage fee").check()
    page.get_by_label("Brokerage fee (%)").fill("60")
    page.get_by_role("button", name="Save").click()
    journey.check()
    expect(page.locator(".govuk-error-summary")).to_contain_text("50% or less")
    page.get_by_label("Brokerage fee (%)").fill("7.5")
    page.get_by_role("button", name="Save").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Saved")
    sign_out(journey)


def provider_credited_and_paid(journey: Journey, engagement_path: str) -> None:
    page = journey.page
    sign_in(journey, "sbm3@example.org")
    journey.goto(engagement_path)
    payouts = page.locator("#engagement-payouts tbody tr")
    expect(payouts).to_have_count(2)
    expect(payouts.first).to_contain_text("Recharge credit")
    expect(payouts.first).to_contain_text("£27.00")  # 7.5% of £360
    expect(payouts.first).to_contain_text("£333.00")
    expect(payouts.nth(1)).to_contain_text("£166.50")  # £180 less £13.50
    expect(page.locator("#payout-totals")).to_contain_text("£499.50")
    sign_out(journey)

    sign_in(journey, "finance@example.org")
    page.get_by_role("link", name="Payments to schools").click()
    journey.check()
    for _payout in range(2):
        row = page.locator("#payouts tbody tr", has_text="Myland").first
        row.get_by_label("Payment or journal reference").fill("JNL-S2S-1")
        row.get_by_role("button", name="Mark paid").click()
        journey.check()
    expect(page.locator("#payouts tbody tr", has_text="Myland")).to_have_count(0)
    sign_out(journey)

    sign_in(journey, "sbm3@example.org")
    journey.goto(engagement_path)
    expect(page.locator("#engagement-payouts tbody tr", has_text="Owed")).to_have_count(0)
    expect(page.locator("#payout-totals")).to_contain_text("£0.00")
    sign_out(journey)


def test_a_school_buys_support_from_another_through_the_council(journey: Journey) -> None:
    page = journey.page
    council_invoices_as_agent(journey)
    offer_send_support(journey)
    list_it_and_shortlist(journey)

    sign_in(journey, "sbm4@example.org")
    page.get_by_role("link", name="Support", exact=True).click()
    journey.check()
    page.locator("#requests").get_by_role("link").first.click()
    journey.check()
    comparison = page.locator("#comparison")
    expect(comparison).to_contain_text("£360.00")
    expect(comparison).to_contain_text("£540.00")  # 1.5 days at £360
    page.get_by_role("radio", name="Myland", exact=False).check()
    fill_date(page, "Start date", today())
    fill_date(page, "End date", today() + timedelta(days=30))
    page.get_by_role("button", name="Choose this provider").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SEND support from Myland")
    sign_out(journey)

    sign_in(journey, "sbm3@example.org")
    page.get_by_role("link", name="Support", exact=True).click()
    journey.check()
    page.locator("#engagements tbody tr", has_text="De La Salle").get_by_role("link").click()
    journey.check()
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Send your answer").click()
    journey.check()
    for label in ("A whole day", "Half a day"):
        fill_date(page, "Date of the support", today())
        page.get_by_label(label).check()
        page.get_by_role("button", name="Record it").click()
        journey.check()
    expect(days_row(page, "Waiting to be confirmed")).to_have_text("1.5 days")
    engagement_url = page.url
    sign_out(journey)

    sign_in(journey, "head4@example.org")
    journey.goto(urlsplit(engagement_url).path)
    journey.check()
    for _record in range(2):
        page.locator("#deliveries").get_by_role("button", name="Confirm").first.click()
        journey.check()
    expect(page.locator(".govuk-caption-l")).to_contain_text("Completed")
    expect(days_row(page, "Left")).to_have_text("0 days")
    expect(days_row(page, "Used")).to_have_text("1.5 days")
    charges = page.locator("#engagement-charges tbody tr")
    expect(charges).to_have_count(2)  # a recharge for each confirmed session
    expect(charges.first).to_contain_text("Internal recharge")
    expect(charges.first).to_contain_text("£360.00")
    expect(charges.nth(1)).to_contain_text("£180.00")
    expect(page.locator("#engagement-money")).not_to_contain_text("brokerage fee")
    page.get_by_label("5: Excellent").check()
    page.get_by_role("button", name="Send your rating").click()
    journey.check()
    expect(page.locator("#rating")).to_contain_text("5 out of 5")
    page.get_by_role("link", name="Days", exact=True).click()
    journey.check()
    expect(page.locator("#engagement-days")).to_contain_text("SEND from Myland")
    sign_out(journey)
    provider_credited_and_paid(journey, urlsplit(engagement_url).path)
