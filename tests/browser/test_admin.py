"""Journey: the service manager sets next year's price of a service, invites a user, imports
schools from a GIAS file and finds it all in the audit trail (axe checks every page)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_ordering import sign_out
from tests.browser.test_sign_in import sign_in
from tests.factories import gias_csv, gias_row

pytestmark = pytest.mark.browser


def test_service_manager_runs_the_service(journey: Journey, tmp_path: Path) -> None:
    page = journey.page
    sign_in(journey, "admin@example.org")
    page.get_by_role("link", name="Manage", exact=True).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage the service")

    # Next year's price for a service.
    page.get_by_role("link", name="Catalogue and prices").click()
    journey.check()
    page.get_by_role("link", name="Safeguarding audit").click()
    journey.check()
    page.get_by_label("Academic year", exact=True).select_option(index=1)
    page.get_by_label("Price per day", exact=True).fill("475.50")
    page.get_by_role("button", name="Set the price").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("saved")
    expect(page.locator("#price-table")).to_contain_text("£475.50")
    # A fraction of a penny is refused with a message.
    page.get_by_label("Price per day", exact=True).fill("475.505")
    page.get_by_role("button", name="Set the price").click()
    journey.check()
    expect(page.locator(".govuk-error-summary")).to_contain_text("2 decimal places")

    # Invite a user.
    journey.goto("/council/manage/users/new")
    page.get_by_label("Full name").fill("Robin Adviser")
    page.get_by_label("Email address").fill("robin@example.org")
    page.get_by_label("School Performance Partner").check()
    page.get_by_role("button", name="Send the invitation").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Invitation sent")
    expect(page.locator(".govuk-caption-l")).to_contain_text("Invited")

    # Import a GIAS file with one new school.
    path = tmp_path / "edubasealldata.csv"
    path.write_bytes(gias_csv([gias_row(990001, "Journey Test Primary School")]))
    journey.goto("/council/manage/schools/import")
    page.get_by_label("Upload a GIAS CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the changes before importing")
    expect(page.locator("#new")).to_contain_text("Journey Test Primary School")
    page.get_by_role("button", name="Import these changes").click()
    journey.check()
    expect(page.locator(".govuk-panel")).to_contain_text("Import applied")

    # The audit trail shows all three, filtered as you choose.
    journey.goto("/council/manage/audit")
    page.get_by_label("Record type").select_option(label="Price")
    expect(page.locator("#audit-table")).to_contain_text("47550", timeout=5000)
    expect(page).to_have_url(re.compile(r"entity=service_price"))
    journey.check()
    page.get_by_label("Record type").select_option(label="School")
    expect(page.locator("#audit-table")).to_contain_text("Journey Test Primary School")
    journey.check()
    sign_out(journey)
