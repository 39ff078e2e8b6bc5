"""Journeys: the service manager invites school staff from a CSV file, finance brings unpaid
invoices forward from the previous system, each through a preview (a bad file first), and a
business manager checks the school's details at the first sign-in of the year. axe checks
every page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_ordering import sign_out
from tests.browser.test_sign_in import sign_in
from traded_app.demo.schools import ACADEMY_URN, SBM_SCHOOL_URN
from traded_app.services.platform.settings import today

pytestmark = pytest.mark.browser


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_service_manager_invites_staff_from_a_csv_file(journey: Journey, tmp_path: Path) -> None:
    page = journey.page
    sign_in(journey, "admin@example.org")
    journey.goto("/council/manage/users")
    page.get_by_role("link", name="Invite school staff from a CSV file").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invite school staff from a CSV file")

    page.get_by_label("Upload a CSV file").set_input_files(
        _file(tmp_path, "wrong.csv", "name,email\nA,a@example.org\n")
    )
    page.get_by_role("button", name="Upload and preview").click()
    journey.check()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Missing: URN, role")

    staff = (
        "URN,name,email,role\n"
        f"{SBM_SCHOOL_URN},Ola Second,ola.second@example.org,headteacher\n"
        "999999,Nobody,nobody@example.org,headteacher\n"
    )
    page.get_by_label("Upload a CSV file").set_input_files(_file(tmp_path, "staff.csv", staff))
    page.get_by_role("button", name="Upload and preview").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check who will be invited")
    expect(page.locator("#line-2")).to_contain_text("Invited")
    expect(page.locator("#line-3")).to_contain_text("There is no school with URN 999999")
    page.get_by_role("button", name="Invite these people").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("1 invited")
    page.get_by_role("link", name="invitations not yet accepted").click()
    journey.check()
    expect(page.locator("#invitations")).to_contain_text("ola.second@example.org")
    sign_out(journey)


def test_finance_brings_unpaid_invoices_forward(journey: Journey, tmp_path: Path) -> None:
    page = journey.page
    sign_in(journey, "finance@example.org")
    journey.goto("/finance/invoices")
    page.get_by_role("link", name="Opening balances").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bring forward unpaid invoices")

    page.get_by_label("Upload a CSV file").set_input_files(
        _file(tmp_path, "junk.csv", "\u00ff\u00fe" + "x" * 100)
    )
    page.get_by_role("button", name="Upload and preview").click()
    journey.check()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Nothing was changed")

    issued = (today() - timedelta(days=90)).strftime("%d/%m/%Y")
    due = (today() - timedelta(days=60)).strftime("%d/%m/%Y")
    header = "URN,original number,date,due date,amount,VAT,description\n"
    bad = header + f"{ACADEMY_URN},OLDSYS-77,{issued},{due},100,150,Review\n"
    page.get_by_label("Upload a CSV file").set_input_files(_file(tmp_path, "bad.csv", bad))
    page.get_by_role("button", name="Upload and preview").click()
    journey.check()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Line 2: The VAT is more than the amount"
    )
    expect(page.get_by_role("button", name="Record these invoices")).to_have_count(0)
    page.get_by_role("button", name="Discard the file").click()
    journey.check()

    good = header + f"{ACADEMY_URN},OLDSYS-77,{issued},{due},540.00,90.00,Governance review\n"
    page.get_by_label("Upload a CSV file").set_input_files(_file(tmp_path, "good.csv", good))
    page.get_by_role("button", name="Upload and preview").click()
    journey.check()
    expect(page.locator("#import-summary")).to_contain_text("1 unpaid invoice, £540.00 in all")
    page.get_by_role("button", name="Record these invoices").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("brought forward")
    page.get_by_role("link", name="invoices and credit notes").click()
    journey.check()
    journey.goto("/finance/invoices?q=OLDSYS-77")
    page.get_by_role("link", name="OLDSYS-77").click()
    journey.check()
    expect(page.locator("#brought-forward")).to_contain_text("previous system")
    expect(page.get_by_role("button", name="Download the PDF")).to_have_count(0)
    sign_out(journey)


def test_business_manager_checks_the_details_at_first_sign_in(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "sbm11@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your school’s details")
    page.get_by_role("link", name="Change billing e-mail").click()
    journey.check()
    page.get_by_label("Billing contact", exact=True).fill("Grace Fielding")
    page.get_by_role("button", name="Save").click()
    journey.check()
    expect(page.locator("#value-billing_contact_name")).to_have_text("Grace Fielding")
    page.get_by_role("button", name="These details are right").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("confirmed")
    sign_out(journey)
