"""Journey: a school business manager signs in, sees their school, and signs out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from traded_app.services.platform.settings import academic_year_label

pytestmark = pytest.mark.browser


def sign_in(journey: Journey, email: str, password: str = "demo-password") -> None:
    page = journey.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    journey.check()


def choose_year(journey: Journey, label: str) -> None:
    """The demo's buy-back window is open: the catalogue first asks which year is ordered."""
    page = journey.page
    expect(page.get_by_role("group", name="Which year are you ordering for?")).to_be_visible()
    page.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Continue").click()
    journey.check()


def test_sign_in_and_sign_out(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "sbm@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hamilton Primary School")
    expect(page.get_by_text("Academic year")).to_be_visible()
    expect(page.get_by_role("button", name="Go to the catalogue")).to_be_visible()

    page.get_by_role("button", name="Go to the catalogue").click()
    journey.check()
    choose_year(journey, academic_year_label())
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue of traded services")

    page.get_by_role("button", name="Sign out").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_text("You have been signed out.")).to_be_visible()


def test_wrong_password_shows_the_error_summary(journey: Journey) -> None:
    sign_in(journey, "finance@example.org", "wrong-password")
    summary = journey.page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # GOV.UK Frontend moves focus to the summary
    expect(summary).to_contain_text("Enter a correct email address and password")


def test_council_side_and_school_search_without_javascript(journey_without_js: Journey) -> None:
    sign_in(journey_without_js, "admin@example.org")
    page = journey_without_js.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Traded services overview")
    page.get_by_role("link", name="Schools", exact=True).click()
    journey_without_js.check()
    page.get_by_label("Search by school name or URN").fill("Hamilton")
    page.get_by_role("button", name="Search").click()
    journey_without_js.check()
    expect(page.locator("#school-results tbody tr")).to_have_count(1)
    expect(page.locator("#school-results")).to_contain_text("Hamilton Primary School")
