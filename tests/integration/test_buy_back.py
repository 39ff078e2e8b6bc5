"""Buying back next year's days (issue 15, parts 1 and 2): the service manager publishes next
year's offer with a buy-back window; schools see nothing of it before, are told when it opens,
choose the year while it is open, and can still order after it closes under the council's rule.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import make_service, submitted_order
from traded_app.extensions import db
from traded_app.formatting import long_date
from traded_app.models import (
    AcademicYear,
    CouncilSettings,
    Order,
    OrderStatus,
    QuadrantCapacity,
    ServicePrice,
)
from traded_app.models.base import utcnow
from traded_app.models.types import Role
from traded_app.services.ordering import basket, buy_back, workflow
from traded_app.services.platform.settings import ensure_academic_year, today

HX = {"HX-Request": "true"}
NEXT_PRICE = 47_000


def sbm(world: Any) -> Any:
    return world.users[Role.SCHOOL_BUSINESS_MANAGER]


def next_year(world: Any, *, capacity_half_days: int = 200) -> AcademicYear:
    """Next academic year, set up and priced (£470 a day) with its team's capacity."""
    year = ensure_academic_year(world.year.start_year + 1)
    db.session.add(
        ServicePrice(
            service_id=world.service.id, academic_year_id=year.id, price_per_day_pence=NEXT_PRICE
        )
    )
    db.session.add(
        QuadrantCapacity(
            quadrant_id=world.quadrant.id,
            academic_year_id=year.id,
            traded_capacity_half_days=capacity_half_days,
        )
    )
    db.session.commit()
    return year


def window(year: AcademicYear, opens_in: int, closes_in: int) -> None:
    """Publish `year`'s offer with a window opening and closing so many days from today."""
    year.offer_published_at = utcnow()
    year.buy_back_opens_on = today() + timedelta(days=opens_in)
    year.buy_back_closes_on = today() + timedelta(days=closes_in)
    db.session.commit()


def late_rule(world: Any, rule: str) -> None:
    db.session.get(CouncilSettings, 1).late_buy_back_rule = rule
    db.session.commit()


def set_days(client: Any, service_id: int, days: str, year: int | None = None) -> Any:
    url = f"/catalogue/services/{service_id}/days" + (f"?year={year}" if year else "")
    return client.post(
        url, data={f"days-{service_id}": days}, headers={**HX, "X-CSRFToken": client.csrf_token()}
    )


def checkout(client: Any, year: int) -> Any:
    """The order's details on their own page, then check answers and submit, for `year`."""
    given = client.post_form(
        f"/order/details?year={year}", {"po_number": "PO-NEXT", "preferred_term": ""}
    )
    assert given.location.endswith(f"/order/check?year={year}")
    page = client.get(f"/order/check?year={year}").soup
    data = {
        "order_id": page.select_one("input[name=order_id]")["value"],
        "version": page.select_one("input[name=version]")["value"],
    }
    return client.post_form(f"/order/check?year={year}", data)


# --- Every window state, as a school sees it ---------------------------------------------------


def test_not_published_schools_see_nothing_of_next_year(as_role: Any, world: Any) -> None:
    upcoming = next_year(world)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    page = client.get("/catalogue")
    assert page.status_code == 200
    assert page.soup.h1.get_text(strip=True) == "Catalogue of traded services"
    assert upcoming.label not in page.get_data(as_text=True)
    assert "£470.00" not in page.get_data(as_text=True)
    assert client.get(f"/catalogue?year={upcoming.start_year}").status_code == 404
    assert set_days(client, world.service.id, "1", upcoming.start_year).status_code == 404
    assert client.get(f"/order/check?year={upcoming.start_year}").status_code == 404
    assert basket.draft_or_empty(world.school, upcoming).id is None


def test_published_before_opening_says_when_it_opens_but_cannot_be_ordered(
    as_role: Any, world: Any
) -> None:
    upcoming = next_year(world)
    window(upcoming, 10, 40)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    page = client.get("/catalogue").soup
    assert page.h1.get_text(strip=True) == "Catalogue of traded services"
    opens = long_date(today() + timedelta(days=10))
    assert text_of(page, "#buy-back-notice") == (
        f"The council's offer for {upcoming.label} is published. You can order it from {opens}."
    )
    assert page.select_one("#ordering-year") is None  # only this year to order: no choice
    assert client.get(f"/catalogue?year={upcoming.start_year}").status_code == 404
    assert set_days(client, world.service.id, "1", upcoming.start_year).status_code == 404


def test_while_the_window_is_open_the_year_is_a_clear_choice(as_role: Any, world: Any) -> None:
    upcoming = next_year(world)
    window(upcoming, -3, 20)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    choice = client.get("/catalogue").soup
    assert text_of(choice, "legend") == "Which year are you ordering for?"
    assert [r["value"] for r in choice.select("input[name=year]")] == [
        str(world.year.start_year),
        str(upcoming.start_year),
    ]
    assert not any(r.has_attr("checked") for r in choice.select("input[name=year]"))
    assert "open until" in text_of(choice, "#buy-back-notice")
    # Continuing without choosing is an error, never a guess.
    unchosen = client.get("/catalogue?year=").soup
    assert text_of(unchosen, ".govuk-error-summary") == (
        "There is a problem Select the year you are ordering for"
    )
    # A change of days, the whole form or a checkout without the year changes neither basket.
    assert set_days(client, world.service.id, "1").status_code == 302
    posted = client.post_form("/catalogue", {f"days-{world.service.id}": "1"})
    assert posted.status_code == 302 and posted.location.endswith("/catalogue")
    assert client.get("/order/check").location.endswith("/catalogue")
    assert basket.draft_or_empty(world.school, world.year).id is None
    assert basket.draft_or_empty(world.school, upcoming).id is None

    page = client.get(f"/catalogue?year={upcoming.start_year}").soup
    assert f"You are ordering for {upcoming.label} (next year)" in text_of(page, "#ordering-year")
    assert "£470.00" in text_of(page, ".app-service__price")
    # Its links keep the year: the days control, the checkout and the form.
    field = page.select_one(f"#days-{world.service.id}")
    assert field["hx-post"].endswith(f"?year={upcoming.start_year}")
    assert page.select_one("#order-form")["action"].endswith(f"?year={upcoming.start_year}")

    # One basket per school and year.
    assert set_days(client, world.service.id, "2", upcoming.start_year).status_code == 200
    assert set_days(client, world.service.id, "1", world.year.start_year).status_code == 200
    this_draft = basket.draft_or_empty(world.school, world.year)
    next_draft = basket.draft_or_empty(world.school, upcoming)
    assert this_draft.id != next_draft.id
    assert [(line.half_days) for line in next_draft.lines] == [4]
    assert [(line.half_days) for line in this_draft.lines] == [2]
    this_year_page = client.get(f"/catalogue?year={world.year.start_year}").soup
    assert "£450.00" in text_of(this_year_page, ".app-service__price")
    assert "(this year)" in text_of(this_year_page, "#ordering-year")


def test_next_years_order_is_priced_approved_and_confirmed_against_next_year(
    as_role: Any, world: Any
) -> None:
    upcoming = next_year(world, capacity_half_days=6)
    window(upcoming, -3, 20)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days(client, world.service.id, "2", upcoming.start_year)
    page = client.get(f"/order/check?year={upcoming.start_year}").soup
    assert upcoming.label in text_of(page, ".govuk-caption-l")
    assert "£940.00" in text_of(page, "main")
    response = checkout(client, upcoming.start_year)
    order = db.session.execute(select(Order).where(Order.status != "draft")).scalar_one()
    assert response.location.endswith(f"/orders/{order.id}/submitted")
    assert order.academic_year_id == upcoming.id and order.status == OrderStatus.SUBMITTED
    assert [line.price_per_day_pence for line in order.lines] == [NEXT_PRICE]
    assert order.net_pence == 94_000
    # This year's basket is untouched.
    assert basket.draft_or_empty(world.school, world.year).id is None

    # Next year's capacity, not this year's, decides: 3 days are left and a second order of
    # 2 days fits only once the first is confirmed... and not after.
    admin = as_role(Role.LA_ADMIN)
    detail = admin.get(f"/orders/{order.id}").soup
    assert f"team capacity {upcoming.label}" in detail.get_text(" ", strip=True)
    admin.post_form(f"/orders/{order.id}/confirm")
    assert db.session.get(Order, order.id).status == OrderStatus.CONFIRMED
    set_days(client, world.service.id, "2", upcoming.start_year)
    second = checkout(client, upcoming.start_year)
    second_id = int(second.location.rsplit("/", 2)[1])
    refused = admin.post_form(f"/orders/{second_id}/confirm", follow_redirects=True).soup
    assert (
        f"The Mid team has 1 days left to sell in {upcoming.label}, and this order needs 2"
        in text_of(refused, ".govuk-notification-banner")
    )
    assert db.session.get(Order, second_id).status == OrderStatus.SUBMITTED


def test_order_the_same_as_this_year_at_next_years_prices_naming_what_is_gone(
    as_role: Any, world: Any
) -> None:
    upcoming = next_year(world)
    window(upcoming, -3, 20)
    retiring = make_service("PEER", world.year, name="Peer review support")  # no 2027 price
    this_year = submitted_order(world, {world.service: 3, retiring: 2})
    workflow.confirm(this_year, world.users[Role.LA_ADMIN])
    withdrawn = submitted_order(world, {world.service: 6})
    workflow.withdraw(withdrawn, sbm(world))
    db.session.commit()

    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days(client, world.service.id, "0.5", upcoming.start_year)  # replaced by the button
    page = client.get(f"/catalogue?year={upcoming.start_year}").soup
    assert text_of(page, ".app-same-as-this-year button") == "Order the same as this year"
    response = client.post_form("/catalogue/same-as-this-year")
    assert response.location.endswith(f"/catalogue?year={upcoming.start_year}#order-summary")
    page = client.get(response.location).soup
    message = text_of(page, ".govuk-notification-banner")
    assert f"No longer offered in {upcoming.label}, so left out: Peer review support." in message
    draft = basket.draft_or_empty(world.school, upcoming)
    assert [(line.service_id, line.half_days) for line in draft.lines] == [(world.service.id, 3)]
    assert basket.summarise(draft).totals.net_pence == 70_500  # 1.5 days at £470
    assert page.select_one(f"#days-{world.service.id}")["value"] == "1.5"


def test_order_the_same_needs_a_confirmed_order_and_an_open_window(
    as_role: Any, world: Any
) -> None:
    upcoming = next_year(world)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    response = client.post_form("/catalogue/same-as-this-year", follow_redirects=True)
    assert "Next year's offer is not open for ordering" in text_of(
        response.soup, ".govuk-notification-banner"
    )
    window(upcoming, -3, 20)
    page = client.get(f"/catalogue?year={upcoming.start_year}").soup
    assert page.select_one(".app-same-as-this-year") is None  # nothing confirmed to repeat
    response = client.post_form("/catalogue/same-as-this-year", follow_redirects=True)
    assert f"no confirmed orders in {world.year.label}" in text_of(
        response.soup, ".govuk-notification-banner"
    )
    assert basket.draft_or_empty(world.school, upcoming).lines == []


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("allowed", "your order goes to the council in the usual way."),
        ("subject_to_capacity", "only if its team still has the days"),
    ],
)
def test_after_the_window_closes_schools_can_still_order_and_are_told_what_it_means(
    as_role: Any, world: Any, rule: str, says: str
) -> None:
    upcoming = next_year(world)
    window(upcoming, -30, -1)
    late_rule(world, rule)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert text_of(client.get("/catalogue").soup, "legend") == "Which year are you ordering for?"
    page = client.get(f"/catalogue?year={upcoming.start_year}").soup
    notice = text_of(page, "#buy-back-notice")
    assert notice.startswith(f"The buy-back window for {upcoming.label} closed on")
    assert says in notice
    assert set_days(client, world.service.id, "1", upcoming.start_year).status_code == 200
    assert checkout(client, upcoming.start_year).status_code == 302


def test_subject_to_capacity_a_late_order_waits_for_the_windows_orders(world: Any) -> None:
    upcoming = next_year(world, capacity_half_days=6)
    window(upcoming, -30, 5)
    admin = world.users[Role.LA_ADMIN]
    in_window = basket.draft_for(world.academy, world.academy_sbm, upcoming)
    basket.set_days(in_window, world.service.id, 4)
    workflow.submit(
        in_window, world.academy_sbm, workflow.Checkout(po_number="P"), in_window.version
    )
    in_window.submitted_at = utcnow() - timedelta(days=3)  # as if submitted three days ago
    db.session.commit()
    window(upcoming, -30, -1)  # the window closed yesterday; then a late order
    late = basket.draft_for(world.school, sbm(world), upcoming)
    basket.set_days(late, world.service.id, 4)
    workflow.submit(late, sbm(world), workflow.Checkout(po_number="P"), late.version)
    db.session.commit()
    assert buy_back.placed_late(late) and not buy_back.placed_late(in_window)

    late_rule(world, "subject_to_capacity")
    with pytest.raises(basket.OrderError, match="held for orders placed in the window"):
        workflow.confirm(late, admin)
    db.session.rollback()
    # Under "allowed" the late order is like any other: first confirmed, first served.
    late_rule(world, "allowed")
    workflow.confirm(late, admin)
    db.session.commit()
    assert late.status == OrderStatus.CONFIRMED


# --- The service manager prepares and publishes next year's offer ------------------------------


def date_fields(prefix: str, day: Any) -> dict[str, list[str]]:
    return {prefix: [str(day.day), str(day.month), str(day.year)]}


def test_service_manager_prepares_previews_and_publishes_next_year(
    as_role: Any, world: Any
) -> None:
    upcoming = next_year(world)
    make_service("PEER", world.year, name="Peer review support", price_pence=40_000)
    db.session.commit()
    admin = as_role(Role.LA_ADMIN)
    page = admin.get("/council/manage/next-year").soup
    assert page.h1.get_text(strip=True) == f"Next year's offer: {upcoming.label}"
    assert text_of(page, "#offer-state").startswith("Offer Not published")
    rows = [
        text_of(row, "th") + " | " + " | ".join(td.get_text(strip=True) for td in row.select("td"))
        for row in page.select("#next-year-prices tbody tr")
    ]
    assert rows == [
        "Headteacher performance management : change its prices | £450.00 | £470.00",
        "Peer review support : change its prices | £400.00 | No price: not offered",
    ]
    copy_link = page.find("a", string=lambda s: s and s.startswith("Copy"))
    assert copy_link["href"].endswith(
        f"?source={world.year.start_year}&target={upcoming.start_year}&back=next-year"
    )

    preview = admin.get("/council/manage/next-year/preview?customer=academy").soup
    assert "Not published: schools see nothing of this yet." in preview.get_text(" ", strip=True)
    assert "£470.00 a day Plus VAT at 20%" in text_of(preview, ".app-service")
    assert "Peer review support" not in preview.get_text()

    # The window must be in order; nothing is published until it is.
    opens, closes = today() + timedelta(days=2), today() + timedelta(days=30)
    bad = admin.post_form(
        "/council/manage/next-year",
        {
            **date_fields("opens_on", closes),
            **date_fields("closes_on", opens),
            "late_rule": "allowed",
        },
    ).soup
    assert "The window must close on or after the day it opens" in text_of(
        bad, ".govuk-error-summary"
    )
    db.session.refresh(upcoming)
    assert upcoming.offer_published_at is None

    done = admin.post_form(
        "/council/manage/next-year",
        {
            **date_fields("opens_on", opens),
            **date_fields("closes_on", closes),
            "late_rule": "subject_to_capacity",
        },
        follow_redirects=True,
    ).soup
    assert f"{upcoming.label}'s offer is published" in text_of(done, ".govuk-notification-banner")
    assert text_of(done, "#offer-state").startswith(
        "Offer Published: the window has not opened yet"
    )
    db.session.refresh(upcoming)
    assert (upcoming.buy_back_opens_on, upcoming.buy_back_closes_on) == (opens, closes)
    assert db.session.get(CouncilSettings, 1).late_buy_back_rule == "subject_to_capacity"
    school_page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/catalogue").soup
    assert f"You can order it from {long_date(opens)}" in text_of(school_page, "#buy-back-notice")


def test_publishing_needs_next_years_prices(as_role: Any, world: Any) -> None:
    upcoming = ensure_academic_year(world.year.start_year + 1)
    db.session.commit()
    admin = as_role(Role.LA_ADMIN)
    opens, closes = today() + timedelta(days=2), today() + timedelta(days=30)
    page = admin.post_form(
        "/council/manage/next-year",
        {
            **date_fields("opens_on", opens),
            **date_fields("closes_on", closes),
            "late_rule": "allowed",
        },
    ).soup
    assert f"No service has a price for {upcoming.label} yet" in text_of(
        page, ".govuk-error-summary"
    )
    # Copying this year's prices (with an increase) from the offer's page comes back to it.
    response = admin.post_form(
        "/council/manage/set-up/catalogue/copy?back=next-year",
        {"source": str(world.year.start_year), "target": str(upcoming.start_year), "uplift": "2"},
    )
    assert response.location.endswith("/council/manage/next-year")
    price = db.session.execute(
        select(ServicePrice.price_per_day_pence).where(ServicePrice.academic_year_id == upcoming.id)
    ).scalar_one()
    assert price == 45_900


def test_next_year_not_set_up_says_where_to_set_it_up(as_role: Any, world: Any) -> None:
    page = as_role(Role.LA_ADMIN).get("/council/manage/next-year").soup
    assert "Next academic year is not set up yet" in page.get_text(" ", strip=True)


def test_without_javascript_next_years_form_keeps_its_year_to_check_answers(
    as_role: Any, world: Any
) -> None:
    upcoming = next_year(world)
    window(upcoming, -3, 20)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    url = f"/catalogue?year={upcoming.start_year}"
    response = client.post_form(url, {f"days-{world.service.id}": "1", "action": "continue"})
    assert response.location.endswith(f"/order/details?year={upcoming.start_year}")
    page = client.get(response.location).soup
    assert upcoming.label in text_of(page, ".govuk-caption-l")
    assert basket.draft_or_empty(world.school, world.year).id is None
