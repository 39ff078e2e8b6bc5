"""Journeys: a business manager orders 2.5 days with the live days controls and the council
confirms it; the same order placed with JavaScript off."""

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

    page.get_by_role("button", name="Continue to check your order").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your order before you submit it"
    )
    expect(page.locator("table")).to_contain_text("£1,125.00")

    page.get_by_role("button", name="Submit order").click()  # PO required: error first
    journey.check()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your purchase order number")
    page.get_by_label("Purchase order number").fill("PO-2026-0042")
    page.get_by_role("button", name="Submit order").click()
    journey.check()
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("has been sent to the council")
    reference = re.search(r"ORD-\d+", banner.inner_text()).group(0)
    expect(page.locator("main")).to_contain_text("PO-2026-0042")
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
    page.get_by_label("Purchase order number").fill("PO-NOJS-1")
    page.get_by_label("Spring term").check()
    page.get_by_role("button", name="Submit order").click()
    journey.check()
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("has been sent to the council")
    reference = re.search(r"ORD-\d+", banner.inner_text()).group(0)
    page.get_by_role("link", name="Orders", exact=True).click()
    journey.check()
    expect(page.locator("table")).to_contain_text(reference)
    sign_out(journey)

    confirm_as_admin(journey, reference)


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
