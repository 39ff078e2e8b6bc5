"""Journeys: a business manager orders 2.5 days with the live days controls, downloads a quote,
gives the order's details on their own page, checks the answers (changing one), accepts the
year's terms, sees the confirmation, and the council confirms it; the same order placed with
JavaScript off, its PO number given after submitting."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Journey
from tests.browser.test_sign_in import choose_year, sign_in
from traded_app.services.platform.settings import academic_year_label

pytestmark = pytest.mark.browser

FIRST = "Headteacher performance management"
SECOND = "Deputy headteacher and leader recruitment"


def days_control(page: Page, service: str) -> object:
    return page.get_by_label(f"Days of {service}")


def sign_out(journey: Journey) -> None:
    journey.page.get_by_role("button", name="Sign out").click()
    journey.check()


def confirm_as_admin(journey: Journey, reference: str) -> None:
    page = journey.page
    sign_in(journey, "admin@example.org")
    page.get_by_role("link", name="Orders", exact=True).click()
    journey.check()
    page.get_by_label("School name or URN").fill("Hamilton")
    page.get_by_role("button", name="Apply filters").click()
    journey.check()
    page.get_by_role("link", name=reference).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    page.get_by_role("button", name="Confirm order").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Order {reference} is confirmed."
    )
    expect(page.locator(".govuk-tag").first).to_have_text("Confirmed")


def test_order_with_live_totals_then_the_council_confirms(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "sbm@example.org")
    page.get_by_role("button", name="Go to the catalogue").click()
    journey.check()
    choose_year(journey, academic_year_label())
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue of traded services")
    page.evaluate("window.notReloaded = true")

    first = days_control(page, FIRST)
    first.fill("1½")
    expect(page.locator("#summary-days")).to_have_text("1.5")
    first.press("ArrowUp")  # a text box: no arrow key (or mouse wheel) changes the saved days
    expect(first).to_have_value("1½")
    expect(page.locator("#summary-total")).to_have_text("£675.00")
    days_control(page, SECOND).fill("1")
    expect(page.locator("#summary-days")).to_have_text("2.5")
    expect(page.locator("#summary-total")).to_have_text("£1,125.00")
    expect(page.locator("#order-announcement")).to_contain_text(
        "Order updated: 2.5 days, total £1,125.00"
    )
    expect(page.locator(f"#{first.get_attribute('id')}-result")).to_have_text("£675.00")
    assert page.evaluate("window.notReloaded") is True  # no page load happened
    journey.check()

    # A bad value is explained in place and changes nothing.
    days_control(page, SECOND).fill("1.2")
    expect(page.locator("#order-announcement")).to_contain_text("Error: Enter days")
    expect(days_control(page, SECOND)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#summary-total")).to_have_text("£1,125.00")
    journey.check()
    days_control(page, SECOND).fill("1")
    expect(page.locator("#order-announcement")).to_contain_text("Order updated")
    expect(days_control(page, SECOND)).not_to_have_attribute("aria-invalid", "true")

    # A quote for the basket, to raise a purchase order.
    page.get_by_role("button", name="Download a quote for your basket").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quote QUO-")
    quote_number = page.get_by_role("heading", level=1).inner_text().removeprefix("Quote ")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download quote {quote_number} (PDF)").click()
    assert download.value.suggested_filename == f"{quote_number}.pdf"
    page.get_by_role("link", name="Back to the catalogue").click()
    journey.check()
    expect(page.locator("#quote-state")).to_contain_text(quote_number)

    page.get_by_role("button", name="Continue to check your order").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your order's details")
    page.get_by_label("Purchase order number").fill("PO-2026-0041")
    page.get_by_role("button", name="Continue").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your order before you submit it"
    )
    expect(page.locator("#order-totals")).to_contain_text("£1,125.00")
    expect(page.locator("#order-details")).to_contain_text("PO-2026-0041")
    # Change one answer: back to its question, then back to check answers.
    page.get_by_role("link", name="Change purchase order number").click()
    journey.check()
    page.get_by_label("Purchase order number").fill("PO-2026-0042")
    page.get_by_role("button", name="Continue").click()
    journey.check()
    expect(page.locator("#order-details")).to_contain_text("PO-2026-0042")

    page.get_by_role("button", name="Submit order").click()  # the terms not accepted: error
    journey.check()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Confirm that you accept the terms and conditions"
    )
    page.get_by_label(re.compile("I accept the .* terms and conditions, version 1")).check()
    page.get_by_role("button", name="Submit order").click()
    journey.check()
    panel = page.locator(".govuk-panel")
    expect(panel).to_contain_text("Order submitted")
    reference = re.search(r"ORD-\d+", panel.inner_text()).group(0)
    expect(page.locator("#what-happens-next")).to_contain_text("confirms your order")
    page.get_by_role("link", name=f"See order {reference}").click()
    journey.check()
    expect(page.locator("main")).to_contain_text("PO-2026-0042")
    expect(page.locator("main")).to_contain_text("terms and conditions, version 1")
    expect(page.locator("main")).to_contain_text(quote_number)
    sign_out(journey)

    confirm_as_admin(journey, reference)


def test_order_without_javascript(journey_without_js: Journey) -> None:
    journey = journey_without_js
    page = journey.page
    sign_in(journey, "sbm@example.org")
    page.get_by_role("link", name="Catalogue", exact=True).click()
    journey.check()
    choose_year(journey, academic_year_label())
    days_control(page, FIRST).fill("2")
    days_control(page, SECOND).fill("0.4")
    page.get_by_role("button", name="Update totals").click()
    journey.check()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        f"Enter days of {SECOND} as a whole or half number, like 1.5"
    )
    expect(days_control(page, SECOND)).to_have_value("0.4")
    expect(page.locator("#summary-total")).to_have_text("£900.00")
    days_control(page, SECOND).fill("0.5")
    page.get_by_role("button", name="Update totals").click()
    journey.check()
    expect(page.locator("#summary-days")).to_have_text("2.5")
    page.get_by_role("button", name="Continue to check your order").click()
    journey.check()
    page.get_by_label("Spring term").check()  # no PO number yet: it is added later
    page.get_by_role("button", name="Continue").click()
    journey.check()
    expect(page.locator("#order-details")).to_contain_text("Not given yet")
    page.get_by_label(re.compile("I accept the .* terms and conditions")).check()
    page.get_by_role("button", name="Submit order").click()
    journey.check()
    panel = page.locator(".govuk-panel")
    reference = re.search(r"ORD-\d+", panel.inner_text()).group(0)
    page.get_by_role("link", name="See all your orders").click()
    journey.check()
    expect(page.locator("table")).to_contain_text(reference)
    page.get_by_role("link", name=reference).click()
    journey.check()
    page.get_by_role("link", name="Add purchase order number").click()
    journey.check()
    page.get_by_label("Purchase order number").fill("PO-NOJS-1")
    page.get_by_role("button", name="Save purchase order number").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Purchase order number saved on order {reference}"
    )
    expect(page.locator("main")).to_contain_text("PO-NOJS-1")
    sign_out(journey)

    confirm_as_admin(journey, reference)


def test_the_service_manager_publishes_new_terms_and_sets_quotes(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "admin@example.org")
    page.goto(f"{journey.base_url}/council/terms")
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Terms and conditions, and quotes")
    page.get_by_role(
        "link", name=re.compile(r"Publish a new version for \d{4}.\d{2}")
    ).first.click()
    journey.check()
    terms = page.get_by_label("Terms and conditions")
    terms.fill(terms.input_value() + "\n\n7. Quotes are valid for 45 days.")
    page.get_by_role("button", name="Publish version 2").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Version 2 of the")
    page.get_by_label("Days a quote's prices hold").fill("45")
    page.get_by_role("button", name="Save quote settings").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Quote settings saved.")
    page.get_by_role("link", name="Version 2").first.click()
    journey.check()
    expect(page.locator("#terms-text")).to_contain_text("Quotes are valid for 45 days.")


def test_the_order_total_stays_in_view_while_editing_at_200_percent_zoom(
    journey: Journey,
) -> None:
    """At 200% zoom (a 1280 px window is 640 CSS px) the summary sits above the catalogue; a
    bar at the foot of the screen keeps the order's days and total in view, updated as the
    days change (issue 17)."""
    page = journey.page
    page.set_viewport_size({"width": 640, "height": 700})
    sign_in(journey, "sbm2@example.org")
    journey.goto("/catalogue")  # the navigation is behind its Menu button at this width
    choose_year(journey, academic_year_label())  # next year's offer is open in the demo
    last = page.locator(".app-days-input").last
    last.scroll_into_view_if_needed()
    last.fill("1")
    bar = page.locator("#order-total-bar")
    expect(bar).to_contain_text("1 day")
    expect(bar).to_be_in_viewport()
    assert not page.locator("#order-summary").is_visible() or not page.evaluate(
        "() => { const b = document.getElementById('order-summary').getBoundingClientRect();"
        " return b.bottom > 0 && b.top < window.innerHeight; }"
    )
    last.fill("")
    expect(bar).to_contain_text("0 days")
    journey.check()
