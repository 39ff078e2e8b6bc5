"""Journey: the adviser books and delivers a visit to Hamilton Primary; the headteacher signs in,
lands on the Days page and sees the days the school bought and the delivered visit."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_ordering import sign_out
from tests.browser.test_sign_in import sign_in
from traded_app.demo.schools import SBM_SCHOOL_URN
from traded_app.domain.school_calendar import parse_day
from traded_app.services.platform.settings import academic_start_year, today

pytestmark = pytest.mark.browser

NOTE = "Walked the Key Stage 2 reading lessons with the English lead; actions agreed."


def fill_visit(page: Any, day: Any) -> None:
    page.get_by_label("Day", exact=True).fill(str(day.day))
    page.get_by_label("Month", exact=True).fill(str(day.month))
    page.get_by_label("Year", exact=True).fill(str(day.year))
    page.get_by_label("Half day").check()
    # Against the school's last bookable order line (core when it has none): the core days run
    # out once several journeys have recorded visits in the same run.
    page.locator("input[name=against]").last.check()
    page.get_by_label("Purpose of the visit").fill("Reading in Key Stage 2")


def book_and_deliver(journey: Journey, then: Any = None) -> None:
    """The adviser books and delivers a visit to Hamilton Primary; `then(journey)`, if given,
    runs on the delivered visit's page before the adviser signs out."""
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
    # Today is always free in the demo adviser's diary. When today is not a school day (a
    # weekend, a holiday), the visit is recorded on the latest past school day the diary has
    # free instead, as an adviser would record a visit made then.
    day = today()
    fill_visit(page, day)
    page.get_by_role("button", name="Book visit").click()
    journey.check()
    if page.locator(".govuk-error-summary").count() == 0:
        expect(page.locator(".govuk-notification-banner")).to_contain_text("booked")
        page.get_by_role("link", name="Record as delivered").click()
        journey.check()
        page.get_by_label("What was done").fill(NOTE)
        page.get_by_role("button", name="Record as delivered").click()
        journey.check()
    else:
        page.get_by_role("link", name="record a past visit").click()
        journey.check()
        for _attempt in range(60):
            day -= timedelta(days=1)
            while day.weekday() >= 5:
                day -= timedelta(days=1)
            fill_visit(page, day)
            page.get_by_label("What was done").fill(NOTE)
            page.get_by_label("Why is the visit recorded after the day?").fill(
                "Arranged at short notice"
            )
            page.get_by_role("button", name="Record delivered visit").click()
            journey.check()
            if page.locator(".govuk-error-summary").count() == 0:
                break
    expect(page.locator(".govuk-notification-banner")).to_contain_text("recorded as delivered")
    expect(page.locator(".govuk-tag").first).to_have_text("Delivered")
    if then is not None:
        then(journey)
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


def test_term_dates_from_a_file_and_a_schools_own_inset_day(journey: Journey) -> None:
    """The service manager replaces a term from a CSV (previewed, then added); the headteacher
    adds the school's own INSET day; axe checks every page on the way."""
    page = journey.page
    next_year = academic_start_year(today()) + 1
    sign_in(journey, "admin@example.org")
    journey.goto(f"/council/term-dates?year={next_year}")
    journey.check()
    terms = page.locator("#terms")
    row = terms.locator("tbody tr", has_text="Summer 2")
    first, last = (row.locator("td").nth(i).inner_text() for i in (0, 1))
    row.get_by_role("button", name="Remove").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Summer 2 removed")
    # "Monday 7 June 2027" as the table shows it.
    as_date = [parse_day(text.split(" ", 1)[1]) for text in (first, last)]
    assert as_date[0] and as_date[1]
    page.get_by_label("Upload a CSV or iCalendar (.ics) file").set_input_files(
        {
            "name": "summer.csv",
            "mimeType": "text/csv",
            "buffer": (
                f"Name,First day,Last day\nSummer 2,{as_date[0]:%Y-%m-%d},{as_date[1]:%Y-%m-%d}\n"
            ).encode(),
        }
    )
    page.get_by_role("button", name="Preview the file").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the term dates")
    expect(page.locator("#preview")).to_contain_text("Will be added")
    page.get_by_role("button", name="Add these term dates").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("1 term and 0 INSET days")
    expect(page.locator("#terms")).to_contain_text("Summer 2")
    sign_out(journey)

    sign_in(journey, "head@example.org")
    page.get_by_role("link", name="Term dates and your school's INSET days").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Term dates and INSET days")
    page.get_by_label("Academic year").select_option(label=f"{next_year}/{str(next_year + 1)[-2:]}")
    page.get_by_role("button", name="Show year").click()
    journey.check()
    expect(page.locator("body")).to_contain_text("Summer 2")
    inset = as_date[0] + timedelta(days=(7 - as_date[0].weekday()) % 7 + 1)  # a Tuesday
    page.get_by_label("Day", exact=True).fill(str(inset.day))
    page.get_by_label("Month", exact=True).fill(str(inset.month))
    page.get_by_label("Year", exact=True).fill(str(inset.year))
    page.get_by_label("Name").fill("Whole-school safeguarding training")
    page.get_by_role("button", name="Add INSET day").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Whole-school safeguarding training added"
    )
