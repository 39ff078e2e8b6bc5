"""Journey (issue 20): the service manager adds a course and a session today with three places;
a business manager books two places and substitutes a delegate; an academy's business manager
books two more, so the session fills and one waits; a place is cancelled and offered to the
waiting delegate, whose school accepts; the trainer takes the register on a 320 px phone; the
no-show is charged by the course's terms. axe-core checks every page on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_ordering import sign_out
from tests.browser.test_sign_in import sign_in
from traded_app.services.platform.settings import today

pytestmark = pytest.mark.browser

TITLE = "Phonics for new teaching assistants"


def add_course_and_session(journey: Journey) -> None:
    page = journey.page
    sign_in(journey, "admin@example.org")
    page.get_by_role("link", name="Courses", exact=True).click()
    journey.check()
    page.get_by_role("link", name="Courses and their income").click()
    journey.check()
    page.get_by_role("link", name="Add a course").click()
    journey.check()
    page.get_by_label("Code", exact=True).fill("PHONICS")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Audience", exact=True).select_option("staff")
    page.get_by_label("Income code", exact=True).fill("T-CPD-PHON")
    page.get_by_label("Charge when a delegate does not come (%)").fill("50")
    page.get_by_label("Price per place for maintained schools").fill("80")
    page.get_by_label("Price per place for academies and free schools").fill("80")
    page.get_by_role("button", name="Add the course").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    page.get_by_role("link", name="Add a session").click()
    journey.check()
    day = today()
    for name in ("session_date", "booking_deadline"):
        parts = page.locator(f"input[name={name}]")
        parts.nth(0).fill(str(day.day))
        parts.nth(1).fill(str(day.month))
        parts.nth(2).fill(str(day.year))
    page.get_by_label("Starts at", exact=True).fill("23:58")
    page.get_by_label("Ends at", exact=True).fill("23:59")
    page.get_by_label("Venue", exact=True).fill("Teachers' centre, Colchester")
    page.get_by_label("Places", exact=True).fill("3")
    page.get_by_label("Trainer", exact=True).select_option(label="Priya Evans")
    page.get_by_role("button", name="Add the session").click()
    journey.check()
    expect(page.get_by_role("cell", name="0 of 3")).to_be_visible()
    sign_out(journey)


def book(journey: Journey, email: str, names: list[str]) -> None:
    page = journey.page
    sign_in(journey, email)
    page.get_by_role("link", name="Courses", exact=True).click()
    journey.check()
    row = page.get_by_role("row").filter(has_text=TITLE)
    row.get_by_role("link").click()
    journey.check()
    for index, name in enumerate(names):
        fieldset = page.get_by_role("group", name=re.compile(f"^Delegate {index + 1}"))
        fieldset.get_by_label("Name", exact=True).fill(name)
        fieldset.get_by_label("E-mail address", exact=True).fill(
            name.split()[0].lower() + "@school.example"
        )
    page.get_by_role("button", name="Book places").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Booking BKG-")


def test_book_substitute_fill_offer_accept_register_and_charge(journey: Journey) -> None:
    page = journey.page
    add_course_and_session(journey)

    book(journey, "sbm@example.org", ["Ann Lee", "Ben Ode"])
    page.get_by_role("link", name="Send someone else instead of Ben Ode").click()
    journey.check()
    page.get_by_label("Name", exact=True).fill("Bea Kay")
    page.get_by_label("E-mail address", exact=True).fill("bea@school.example")
    page.get_by_role("button", name="Save the new delegate").click()
    journey.check()
    expect(page.locator("#places")).to_contain_text("Bea Kay")
    booking_url = page.url
    sign_out(journey)

    book(journey, "sbm2@example.org", ["Cal Fry", "Dot Gray"])  # one place left: Dot waits
    expect(page.locator("#places")).to_contain_text("Waiting list")
    academy_booking = page.url
    sign_out(journey)

    sign_in(journey, "sbm@example.org")
    journey.goto(booking_url.removeprefix(journey.base_url))
    page.get_by_role("link", name="Cancel Ann Lee's place").click()
    journey.check()
    page.get_by_role("button", name="Cancel the place").click()
    journey.check()
    sign_out(journey)

    sign_in(journey, "sbm2@example.org")
    journey.goto(academy_booking.removeprefix(journey.base_url))
    expect(page.locator("#places")).to_contain_text("Place offered")
    page.get_by_role("button", name="Accept the place for Dot Gray").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Place accepted")
    sign_out(journey)

    # The trainer, on a phone 320 px wide: Dot Gray does not come.
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(journey, "adviser@example.org")
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Courses", exact=True).click()
    journey.check()
    page.get_by_role("link", name=re.compile(TITLE)).first.click()
    journey.check()
    page.get_by_role("link", name="Take the register").click()
    journey.check()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    page.get_by_label("Bea Kay").check()
    page.get_by_label("Cal Fry").check()
    page.get_by_role("button", name="Save the register").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Register saved")
    sign_out(journey)
    page.set_viewport_size({"width": 1280, "height": 800})

    # The no-show is charged by the terms: Dot Gray's full place was invoiced when accepted,
    # half of it is credited now.
    sign_in(journey, "sbm2@example.org")
    journey.goto(academy_booking.removeprefix(journey.base_url))
    expect(page.locator("#places")).to_contain_text("Did not attend")
    expect(page.get_by_role("main")).to_contain_text("Credit note")
