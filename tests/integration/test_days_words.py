"""One vocabulary for days (issue 17): allocated or bought, booked, delivered, left and not yet
booked mean the same, and show the same figure, on the school's Days page, its catalogue's
order summary and the council's overview, for every demo school with a business manager."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup

from tests.integration.test_auth import sign_in
from tests.integration.test_demo_data import seed
from traded_app.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from traded_app.models.types import Role

WORDS = ["Allocated or bought", "Delivered", "Booked", "Left", "Not yet booked"]


def half_days(text: str) -> int:
    """'2.5' -> 5."""
    number = text.split()[0]
    whole, _, half = number.partition(".")
    return int(whole) * 2 + (1 if half == "5" else 0)


def days_page_totals(soup: BeautifulSoup) -> dict[str, int]:
    headers = [th.get_text(strip=True) for th in soup.select("#days-figures thead th")]
    assert headers[1:6] == WORDS
    cells = soup.select("#days-figures tfoot td")
    assert [td["data-label"] for td in cells[:5]] == WORDS
    return {td["data-label"]: half_days(td.get_text(" ", strip=True)) for td in cells[:5]}


def catalogue_left_now(soup: BeautifulSoup) -> int:
    for row in soup.select("#order-summary .govuk-summary-list__row"):
        if row.dt.get_text(strip=True) == "Days left now":
            return half_days(row.dd.get_text(strip=True))
    raise AssertionError("no 'Days left now' in the order summary")


def overview_row(soup: BeautifulSoup, urn: int) -> dict[str, int]:
    headers = [th.get_text(strip=True) for th in soup.select("#overview-schools thead th")]
    for row in soup.select("#overview-schools tbody tr"):
        if f"URN {urn}" in row.get_text(" ", strip=True):
            cells = [td.get_text(" ", strip=True) for td in row.select("td")]
            figures = dict(zip(headers, cells, strict=True))
            return {
                "Left": half_days(figures["Core left"]) + half_days(figures["Traded left"]),
                "Booked": half_days(figures["Booked"]),
                "Not yet booked": half_days(figures["Not yet booked"]),
            }
    raise AssertionError(f"URN {urn} not in the overview")


def test_the_same_words_show_the_same_figures_across_pages(app: Any, client: Any) -> None:
    seed(app)
    admin = app.test_client()
    sign_in(admin, "admin@example.org", DEMO_PASSWORD)
    checked = 0
    for account in DEMO_ACCOUNTS:
        if account.role != Role.SCHOOL_BUSINESS_MANAGER:
            continue
        school_client = app.test_client()
        sign_in(school_client, account.email, DEMO_PASSWORD)
        days_page = school_client.get("/days").soup
        totals = days_page_totals(days_page)
        assert totals["Left"] == totals["Allocated or bought"] - totals["Delivered"]
        assert totals["Not yet booked"] == totals["Left"] - totals["Booked"]
        school_link = school_client.get("/school", follow_redirects=True).soup
        urn = int(school_link.select_one("a[href^='/schools/']")["href"].split("/")[2])
        # The council's view of the same school's Days page says the same.
        assert days_page_totals(admin.get(f"/schools/{urn}/days").soup) == totals
        # The catalogue's summary: the days left now (before issue 17 it showed 0 until the
        # basket was first changed: an unsaved draft had no school or year id).
        # The Days page's year (while next year's offer is open the catalogue asks which).
        start_year = days_page.select_one("#year option[selected]")["value"]
        catalogue = school_client.get(f"/catalogue?year={start_year}").soup
        if catalogue.select_one("#order-summary") is not None:  # a school that can order now
            assert catalogue_left_now(catalogue) == totals["Left"]
            checked += 1
        # The council's overview row.
        row = overview_row(admin.get(f"/council/days?q={urn}").soup, urn)
        assert row == {k: totals[k] for k in ("Left", "Booked", "Not yet booked")}
    assert checked >= 3
