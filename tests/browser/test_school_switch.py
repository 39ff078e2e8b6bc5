"""Journey: a business manager serving two schools switches school from the header (a plain
form: JavaScript off) and sees who else has access; the service manager's conversions page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_switch_school_from_the_header_without_javascript(journey_without_js: Journey) -> None:
    journey = journey_without_js
    page = journey.page
    sign_in(journey, "sbm12@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Myland Community Primary School")
    header = page.locator(".app-header__user")
    expect(header).to_contain_text("Myland Community Primary School")

    header.get_by_label("School").select_option(
        label="De La Salle School (School business manager)"
    )
    header.get_by_role("button", name="Switch school").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("De La Salle School")
    expect(page.get_by_text("You are now working on De La Salle School.")).to_be_visible()
    expect(header).to_contain_text("De La Salle School")

    page.get_by_role("link", name="People", exact=True).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("People with access to your school")
    people = page.locator("tbody")
    expect(people).to_contain_text("Morgan Ellis")
    expect(people).to_contain_text("Chris Lowe")  # De La Salle's own business manager
    expect(people).not_to_contain_text("Jo Whitfield")  # Myland's


def test_service_manager_sees_the_conversion_waiting(journey: Journey) -> None:
    sign_in(journey, "admin@example.org")
    page = journey.goto("/council/manage/conversions")
    expect(page.get_by_role("heading", level=1)).to_have_text("Academy conversions")
    expect(page.locator("#conversions tbody tr")).to_have_count(1)
    expect(page.locator("#conversions")).to_contain_text("Waiting for its date")
