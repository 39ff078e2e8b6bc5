"""Journey (issue 16 part 3): the demo's partnership order has a visit delivered for two of its
schools. The lead school's headteacher sees it on the Days page with the partnership's days
booked, delivered and left; the service manager reads the order's visits, opens the booking
page, is told what is missing, and reads the delivered visit. axe-core checks every page.

Nothing is booked here: the demo server is shared by the browser journeys, and the adviser's
diary is theirs too."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_ordering import sign_out
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser

VISIT = "Peer review training for both schools' senior leaders"


def test_the_partnership_orders_visit_is_seen_by_the_school_and_the_council(
    journey: Journey,
) -> None:
    page = journey.page
    sign_in(journey, "head@example.org")
    journey.goto("/days")
    expect(page.locator("#partnership-days")).to_contain_text("1 day")  # delivered
    expect(page.locator("main")).to_contain_text(VISIT)
    expect(page.locator("main")).to_contain_text("a visit from the partnership's days")
    sign_out(journey)

    sign_in(journey, "admin@example.org")
    journey.goto("/council/partnership-orders")
    page.get_by_role("link", name=re.compile(r"^PTN-")).first.click()
    journey.check()
    expect(page.locator("#line-days")).to_be_visible()
    expect(page.locator("#order-visits")).to_contain_text("Delivered")
    page.locator("#line-days").get_by_role("link", name=re.compile("^Book a visit")).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Book a visit against the partnership's days"
    )
    page.get_by_role("button", name="Book visit").click()
    journey.check()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select the schools the visit is for")
    expect(summary).to_contain_text("Enter the date of the visit")
    page.get_by_role("link", name="Back to the order").click()
    page.locator("#order-visits").get_by_role("link").first.click()
    journey.check()
    expect(page.locator("main")).to_contain_text("drawn once from the days the partnership bought")
    expect(page.locator("#shares")).to_contain_text("Not written")  # each school's report due
    sign_out(journey)
