"""Journey: the adviser books and delivers a visit to Hamilton Primary; the headteacher signs in,
lands on the Days page and sees the days the school bought and the delivered visit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_ordering import sign_out
from tests.browser.test_sign_in import sign_in
from traded_app.demo.schools import SBM_SCHOOL_URN
from traded_app.services.platform.settings import today

pytestmark = pytest.mark.browser

NOTE = "Walked the Key Stage 2 reading lessons with the English lead; actions agreed."


def book_and_deliver(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "adviser@example.org")
    page.get_by_role("link", name="Visits", exact=True).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Visits in the week of")
    page.get_by_role("link", name="Book a visit").click()
    journey.check()
    page.get_by_label("School URN").fill(str(SBM_SCHOOL_URN))
    page.get_by_role("button", name="Continue").click()
    journey.check()
    # Today is always free in the demo adviser's diary (on a weekend, the last weekday may be).
    day = today()
    for _attempt in range(10):
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        page.get_by_label("Day", exact=True).fill(str(day.day))
        page.get_by_label("Month", exact=True).fill(str(day.month))
        page.get_by_label("Year", exact=True).fill(str(day.year))
        page.get_by_label("Half day").check()
        page.get_by_label("Core allocation").check()
        page.get_by_label("Purpose of the visit").fill("Reading in Key Stage 2")
        page.get_by_role("button", name="Book visit").click()
        journey.check()
        if page.locator(".govuk-error-summary").count() == 0:
            break
        day -= timedelta(days=1)
    expect(page.locator(".govuk-notification-banner")).to_contain_text("booked")
    page.get_by_role("link", name="Record as delivered").click()
    journey.check()
    page.get_by_label("What was done").fill(NOTE)
    page.get_by_role("button", name="Record as delivered").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("recorded as delivered")
    expect(page.locator(".govuk-tag").first).to_have_text("Delivered")
    sign_out(journey)


def test_headteacher_sees_days_bought_and_a_delivered_visit(journey: Journey) -> None:
    book_and_deliver(journey)
    page = journey.page
    sign_in(journey, "head@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your days")
    figures = page.locator("#days-figures")
    expect(figures).to_contain_text("Core allocation (free)")
    # Bought in the demo's ordering journey: 4 days of collaborative review, 1 of QA.
    review = figures.locator("tbody tr", has_text="Collaborative review of a current priority")
    expect(review.locator("td").first).to_have_text("4")
    expect(figures).to_contain_text("Quality assurance of self-evaluation and action plans")
    history = page.locator("table", has_text="Visit history")
    expect(history).to_contain_text(NOTE)
    expect(history).to_contain_text("Priya Evans")
    expect(page.get_by_role("link", name="Download the visit history")).to_be_visible()

    page.get_by_label("Academic year").select_option(
        label=page.locator("#year option").first.inner_text()
    )
    page.get_by_role("button", name="Show year").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your days")


def test_council_overview_active_search(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "finance@example.org")
    page.get_by_role("link", name="Days", exact=True).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schools' days")
    page.get_by_label("Search by school name or URN").fill("Hamilton")
    expect(page.locator("#overview-count")).to_have_text("1 school matching “Hamilton”")
    journey.check()
    expect(page).to_have_url(re.compile(r"q=Hamilton"))
    page.get_by_role("link", name="Hamilton Primary School").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Days")
