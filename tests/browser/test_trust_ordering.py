"""Journey: the service manager finds the demo trust's decision that its staff may order; the
trust's finance lead (trust@example.org) orders days for one of its academies through the
school's catalogue, details and check answers pages, and the order page says who placed it for
the trust. axe-core checks every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_ordering import FIRST, days_control, sign_out
from tests.browser.test_sign_in import choose_year, sign_in
from traded_app.services.platform.settings import academic_year_label

pytestmark = pytest.mark.browser

TRUST = "Tendring Coast Learning Trust"


def test_trust_finance_orders_days_for_one_of_its_academies(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "admin@example.org")
    page.goto(f"{journey.base_url}/council/trusts")
    journey.check()
    page.get_by_role("link", name=TRUST).click()
    journey.check()
    group = page.get_by_role("group", name=re.compile("May the trust's finance staff order"))
    expect(group.get_by_role("radio", name=re.compile("^Yes"))).to_be_checked()
    sign_out(journey)

    sign_in(journey, "trust@example.org")
    expect(page.locator("#trust-ordering")).to_contain_text("lets its staff order days")
    page.get_by_role("link", name=re.compile("Frinton")).first.click()
    journey.check()
    academy = page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("button", name=f"Order days for {academy}").click()
    journey.check()
    choose_year(journey, academic_year_label())
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue of traded services")
    expect(page.locator("#acting-for")).to_contain_text(f"{academy} on behalf of {TRUST}")
    days_control(page, FIRST).fill("1")
    expect(page.locator("#summary-days")).to_have_text("1")
    journey.check()
    page.get_by_role("button", name="Continue to check your order").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your order's details")
    page.get_by_label("Purchase order number").fill("TCLT-0042")
    page.get_by_role("button", name="Continue").click()
    journey.check()
    expect(page.locator(".govuk-caption-l")).to_contain_text(academy)
    page.get_by_label(re.compile(f"I accept the .* on behalf of {re.escape(academy)}")).check()
    page.get_by_role(
        "button", name=re.compile("^(Submit order|Send to the academy's headteacher)")
    ).click()
    journey.check()
    panel = page.locator(".govuk-panel")
    reference = re.search(r"ORD-\d+", panel.inner_text()).group(0)
    page.get_by_role("link", name=f"See order {reference}").click()
    journey.check()
    expect(page.locator("#placed-by")).to_have_text(f"Placed by Tara Quinn for {TRUST}")
    expect(page.locator(".govuk-caption-l")).to_contain_text(academy)
    page.get_by_role("link", name=f"Back to {academy}").click()
    journey.check()
    expect(page.locator("main")).to_contain_text(reference)
