"""Journeys: finance sets the academies' invoice schedule (termly) and puts it back; Great
Bentley's business manager finds the demo order on instalments, its first instalment issued on
its date and the others still to come, and opens the instalment's invoice."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_ordering import sign_out
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_finance_sets_the_academies_schedule_and_puts_it_back(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "finance@example.org")
    page.get_by_role("link", name="Invoices", exact=True).click()
    journey.check()
    page.get_by_role("link", name="Invoice schedules").click()
    journey.check()
    academies = page.locator(".govuk-summary-list__row", has_text="Academies")
    academies.get_by_role("link", name=re.compile("^Change")).click()
    journey.check()
    page.get_by_role("link", name="Termly").click()
    journey.check()
    expect(page.get_by_label("In instalments")).to_be_checked()
    page.get_by_role("button", name="Save the schedule").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("saved")
    expect(academies).to_contain_text("Termly: 4/12 on 1 September")
    # Shares that do not add up are refused, with the error summary.
    academies.get_by_role("link", name=re.compile("^Change")).click()
    page.get_by_label("Share (twelfths)").first.fill("5")
    page.get_by_role("button", name="Save the schedule").click()
    journey.check()
    expect(page.locator(".govuk-error-summary")).to_contain_text("add up to 13/12")
    # Back to charging at confirmation, as the other journeys expect.
    page.get_by_label("When the council confirms the order").check()
    page.get_by_role("button", name="Save the schedule").click()
    journey.check()
    expect(academies).to_contain_text("When the council confirms the order")
    sign_out(journey)


def test_the_school_sees_its_first_instalment_issued_and_the_rest_to_come(
    journey: Journey,
) -> None:
    page = journey.page
    sign_in(journey, "sbm10@example.org")
    page.get_by_role("link", name="Orders", exact=True).click()
    journey.check()
    page.locator("main tbody tr", has_text="£1,080.00").get_by_role("link").first.click()
    journey.check()
    schedule = page.get_by_role("region", name=re.compile("^Invoice schedule of order"))
    expect(schedule).to_contain_text("1 of 3")
    expect(schedule).to_contain_text("To come")
    expect(page.locator("main")).to_contain_text("Still to come: £720.00")
    schedule.get_by_role("link", name=re.compile(r"^INV-\d{4}-\d{6}$")).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text("VAT invoice INV-")
