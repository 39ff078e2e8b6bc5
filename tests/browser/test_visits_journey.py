"""Journey (issue 18): the partnership's adviser books a visit for two of its schools in term
time from the partnership plan; a booking in half term is refused with the reason; the adviser
delivers it (the visit report step arrives with part 3: today it is the delivery note); the
headteacher sees it on the Days page, gives feedback, and finds it delivered on the partnership's
plan."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import Journey
from tests.browser.test_ordering import sign_out
from tests.browser.test_sign_in import sign_in
from tests.browser.test_visit_reports import ACTION, DONE, fill_and_send_report
from traded_app.services.platform.settings import academic_start_year, today

pytestmark = pytest.mark.browser

NOTE = "Went through both schools' reading data with their headteachers; next steps agreed."
HAMILTON = "Hamilton Primary School"


def half_term_day(start_year: int) -> date:
    """A weekday of a half term still to come (the demo's terms: traded_app.demo.days)."""

    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    for week in (
        monday(date(start_year, 10, 27)),
        monday(date(start_year + 1, 2, 16)),
        monday(date(start_year + 1, 5, 31)),
    ):
        for offset in range(1, 4):  # Tuesday to Thursday: never a bank holiday
            day = week + timedelta(days=offset)
            if day > today():
                return day
    return monday(date(start_year + 1, 5, 31)) + timedelta(days=1)


def fill_date(page: Any, day: date) -> None:
    page.get_by_label("Day", exact=True).fill(str(day.day))
    page.get_by_label("Month", exact=True).fill(str(day.month))
    page.get_by_label("Year", exact=True).fill(str(day.year))


def book_for_two_schools(journey: Journey) -> tuple[date, tuple[str, str]]:
    page = journey.page
    sign_in(journey, "adviser@example.org")
    page.get_by_role("link", name="Plans", exact=True).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Partnership plans")
    page.locator("tbody tr", has_text="Agreed").get_by_role("link").click()
    journey.check()
    expect(page.locator("#plan-figures")).to_contain_text("Data analysis")
    # Hamilton and a school the demo's partnership visits have not drawn on.
    members = page.locator("dt", has_text="Schools").locator("xpath=..").locator("dd").inner_text()
    visited = page.locator("#partnership-visits").inner_text()
    other = next(
        name
        for name in members.split(", ")
        if name != HAMILTON and name not in visited and "," not in name
    )
    schools = (HAMILTON, other)
    page.get_by_role("link", name="Book a partnership visit").click()
    journey.check()
    page.get_by_label("Data analysis of the partnership's schools").check()
    for name in schools:
        page.get_by_label(name, exact=True).check()
    page.get_by_label("Whole day").check()

    # In half term: refused, with the reason.
    fill_date(page, half_term_day(academic_start_year(today())))
    page.get_by_role("button", name="Book visit").click()
    journey.check()
    expect(page.locator(".govuk-error-summary")).to_contain_text("is not in term time")

    # Today, a school day in term; when today is not one (a weekend, a holiday), the visit is
    # recorded on the latest past school day the diary has free, as an adviser would.
    day = today()
    fill_date(page, day)
    page.get_by_role("button", name="Book visit").click()
    journey.check()
    if page.locator(".govuk-error-summary").count() == 0:
        expect(page.locator(".govuk-notification-banner")).to_contain_text("booked for 2 schools")
        page.get_by_role("link", name="Record as delivered").click()
        journey.check()
        page.get_by_label("What was done").fill(NOTE)
        page.get_by_role("button", name="Record as delivered").click()
        journey.check()
    else:
        page.get_by_text("Record a visit that has already taken place").click()
        for _attempt in range(25):
            day -= timedelta(days=1)
            while day.weekday() >= 5:
                day -= timedelta(days=1)
            fill_date(page, day)
            page.get_by_label("What was done").fill(NOTE)
            page.get_by_label("Why is the visit recorded after the day?").fill("Arranged by phone")
            page.get_by_role("button", name="Book visit").click()
            journey.check()
            if page.locator(".govuk-error-summary").count() == 0:
                break
    expect(page.locator(".govuk-notification-banner")).to_contain_text("recorded as delivered")
    shares = page.locator("#shares")
    for name in schools:
        expect(shares.locator("tbody tr", has_text=name).locator("td").nth(2)).to_have_text("0.5")
    # Each school has its own report; the adviser writes Hamilton's from the shared visit's page.
    hamilton = shares.locator("tbody tr", has_text=HAMILTON)
    expect(hamilton).to_contain_text("Not written, due by")
    hamilton.get_by_role("link", name=f"Write the report for {HAMILTON}").click()
    journey.check()
    fill_and_send_report(journey)
    sign_out(journey)
    return day, schools


def test_a_partnership_visit_for_two_schools_from_booking_to_feedback(journey: Journey) -> None:
    day, schools = book_for_two_schools(journey)
    page = journey.page
    sign_in(journey, "head@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your days")
    history = page.locator("table", has_text="Visit history")
    expect(history).to_contain_text(NOTE)
    expect(history).to_contain_text("a partnership visit with other schools")
    # The headteacher reads the report's PDF: what was done and the action agreed.
    report = page.locator("#visit-report-list").get_by_role(
        "link", name=f"Report of the visit on {day.day} {day:%B %Y}"
    )
    with page.expect_download() as download:
        report.click()
    content = Path(download.value.path()).read_bytes()
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages
    )
    assert DONE in text and ACTION in text

    banner = page.locator("#feedback-waiting")
    day_text = f"{day.day} {day:%B %Y}"
    banner.get_by_role("link", name=f"Rate the visit on {day_text}").first.click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text(day_text)
    page.get_by_label("4: Good").check()
    page.get_by_label("What worked, and what could be better?").fill(
        "Useful to look at the data with the other school's head."
    )
    page.get_by_role("button", name="Send feedback").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Thank you")

    page.get_by_role("link", name="Your partnership's plan").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your partnership's plan")
    visits = page.locator("#partnership-visits")
    row = visits.locator("tbody tr", has_text=NOTE)
    expect(row).to_contain_text("Delivered")
    for name in schools:
        expect(row).to_contain_text(name)
    sign_out(journey)
