"""Journey (issue 15): the service manager publishes next year's offer with its buy-back window,
the business manager orders "the same as this year" for next year, the headteacher approves it
(it is over the school's limit) and the council confirms it against next year's capacity.

On a server of its own: the demo publishes next year's offer itself, so this one takes the
publication back first, as if it were spring before the service manager's work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Journey, _journey, serve_in_spring
from tests.browser.test_ordering import confirm_as_admin, sign_out
from tests.browser.test_sign_in import choose_year, sign_in
from traded_app.services.platform.settings import today

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def unpublished_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    for _app, address in serve_in_spring(tmp_path_factory.mktemp("buy_back")):
        yield address


@pytest.fixture()
def journey(browser: Browser, unpublished_server: str) -> Iterator[Journey]:
    yield from _journey(browser, unpublished_server)


def fill_date(journey: Journey, legend: str, day: object) -> None:
    group = journey.page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))  # type: ignore[attr-defined]
    group.get_by_label("Month").fill(str(day.month))  # type: ignore[attr-defined]
    group.get_by_label("Year").fill(str(day.year))  # type: ignore[attr-defined]


def window_closes() -> date:
    """Four weeks or so from today, but never after next year has started (the window must close
    by then): in the last weeks of the academic year, the day next year starts."""
    start = today().year if today().month >= 9 else today().year - 1
    return min(today() + timedelta(days=30), date(start + 1, 9, 1))


def test_publish_next_year_then_order_the_same_as_this_year(journey: Journey) -> None:
    page = journey.page
    start = today().year if today().month >= 9 else today().year - 1
    this_year, next_year = f"{start}/{str(start + 1)[-2:]}", f"{start + 1}/{str(start + 2)[-2:]}"

    # Before publishing, the business manager sees only this year.
    sign_in(journey, "sbm@example.org")
    page.get_by_role("button", name="Go to the catalogue").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue of traded services")
    expect(page.locator("main")).not_to_contain_text(next_year)
    sign_out(journey)

    # The service manager checks next year's prices, previews them and publishes them.
    sign_in(journey, "admin@example.org")
    journey.goto("/council/manage")
    page.get_by_role("link", name="Next year's offer").click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Next year's offer: {next_year}")
    expect(page.locator("#offer-state")).to_contain_text("Not published")
    page.get_by_role("link", name=f"See {next_year}'s catalogue as a school will see it").click()
    journey.check()
    expect(page.locator(".app-service").first).to_contain_text("£450.00 a day")
    page.get_by_role("link", name="Back to next year's offer").click()
    journey.check()
    fill_date(journey, "Date the window opens", today())
    fill_date(journey, "Date the window closes", window_closes())
    page.get_by_label("Allowed: late orders are treated like any other").check()
    page.get_by_role("button", name=f"Publish {next_year}'s offer").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"{next_year}'s offer is published"
    )
    expect(page.locator("#offer-state")).to_contain_text("the buy-back window is open")
    sign_out(journey)

    # The business manager chooses next year and orders the same as this year.
    sign_in(journey, "sbm@example.org")
    page.get_by_role("button", name="Go to the catalogue").click()
    journey.check()
    expect(page.locator("#buy-back-notice")).to_contain_text(
        f"The buy-back window for {next_year} is open"
    )
    expect(page.get_by_label(this_year, exact=True)).not_to_be_checked()
    choose_year(journey, next_year)
    expect(page.locator("#ordering-year")).to_contain_text(
        f"You are ordering for {next_year} (next year)"
    )
    page.get_by_role("button", name="Order the same as this year").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Your {next_year} order now has this year's days of 2 services"
    )
    # Hamilton's confirmed 2026 order: 4 days of collaborative review and 1 of QA.
    expect(page.locator("#summary-days")).to_have_text("5")
    expect(page.locator("#summary-total")).to_have_text("£2,250.00")
    page.get_by_role("button", name="Continue to check your order").click()
    journey.check()
    expect(page.locator(".govuk-caption-l")).to_contain_text(next_year)
    page.get_by_label("Purchase order number").fill("PO-NEXT-1")
    page.get_by_role("button", name="Continue").click()
    journey.check()
    expect(page.locator(".govuk-caption-l")).to_contain_text(next_year)
    terms = page.get_by_label(re.compile("I accept the .* terms and conditions"))
    if terms.count():
        terms.check()
    page.get_by_role("button", name=re.compile("Send to your headteacher|Submit order")).click()
    journey.check()
    panel = page.locator(".govuk-panel")
    reference = re.search(r"ORD-\d+", panel.inner_text()).group(0)  # type: ignore[union-attr]
    expect(page.locator("#what-happens-next")).to_contain_text("headteacher")
    sign_out(journey)

    # The same approval as any order...
    sign_in(journey, "head@example.org")
    page.get_by_role("link", name="Orders", exact=True).click()
    journey.check()
    page.get_by_role("link", name=reference).click()
    journey.check()
    page.get_by_role("button", name="Approve order").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("sent to the council")
    sign_out(journey)

    # ... and the council confirms it against next year's capacity.
    confirm_as_admin(journey, reference)
    expect(page.locator("main")).to_contain_text(f"team capacity {next_year}")
