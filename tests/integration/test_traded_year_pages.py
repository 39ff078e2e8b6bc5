"""What issue 15's browser journey (tests/browser/test_traded_year_journey.py) found confusing,
fixed and kept fixed: a service's page reached from next year's offer sets next year's price and
leads back there; an instalment's page says which instalment it is; the order's details page
says the invoice waits for a purchase order number only where it does."""

from __future__ import annotations

from typing import Any

from tests.conftest import text_of
from tests.integration.test_buy_back import next_year
from tests.integration.test_instalments import confirmed, council_details, on_plan  # noqa: F401
from traded_app.extensions import db
from traded_app.models import ServicePrice
from traded_app.models.types import Role
from traded_app.services.documents import instalments, issuing
from traded_app.services.ordering import basket

OFFER = "/council/manage/next-year"


def test_a_price_changed_from_next_years_offer_leads_back_to_it(as_role: Any, world: Any) -> None:
    year = next_year(world)
    client = as_role(Role.LA_ADMIN)
    offer = client.get(OFFER)
    link = offer.soup.select_one("#next-year-prices a")
    service_url = f"/council/manage/services/{world.service.id}?back=next-year"
    assert link["href"] == service_url

    page = client.get(service_url)
    assert page.soup.select_one(".govuk-back-link")["href"] == OFFER
    assert "Back to next year's offer" in text_of(page.soup, ".govuk-back-link")
    chosen = page.soup.select_one("#year option[selected]")
    assert chosen is not None and chosen["value"] == str(year.start_year)
    form = page.soup.select_one("form[action*='/prices']")
    assert form["action"].endswith("?back=next-year")

    saved = client.post_form(
        form["action"], {"year": str(year.start_year), "price": "475"}, follow_redirects=True
    )
    assert saved.request.path == OFFER
    assert f"Price per day for {world.service.name} in {year.label} saved" in text_of(
        saved.soup, ".govuk-notification-banner"
    )
    price = db.session.query(ServicePrice).filter_by(
        service_id=world.service.id, academic_year_id=year.id
    )
    assert price.one().price_per_day_pence == 47_500

    # A refused price stays on the service's page, still leading back to next year's offer.
    refused = client.post_form(form["action"], {"year": str(year.start_year), "price": "0"})
    assert refused.status_code == 200
    assert refused.soup.select_one(".govuk-error-summary")
    assert refused.soup.select_one(".govuk-back-link")["href"] == OFFER


def test_a_price_changed_from_the_catalogue_stays_on_the_service(as_role: Any, world: Any) -> None:
    next_year(world)
    client = as_role(Role.LA_ADMIN)
    url = f"/council/manage/services/{world.service.id}"
    page = client.get(url)
    assert page.soup.select_one(".govuk-back-link")["href"] == "/council/manage/services"
    chosen = page.soup.select_one("#year option[selected]")
    assert chosen is None or chosen["value"] == str(world.year.start_year)
    saved = client.post_form(f"{url}/prices", {"year": str(world.year.start_year), "price": "460"})
    assert saved.status_code == 302 and saved.headers["Location"] == url


def test_an_instalments_page_says_which_instalment_it_is(
    as_role: Any,
    world: Any,
    council_details: Any,  # noqa: F811
) -> None:
    on_plan(world)
    order = confirmed(world, 6)
    first = instalments.charges_of(order)[0]
    db.session.commit()
    for client in (as_role(Role.LA_FINANCE), as_role(None).sign_in_as(world.academy_sbm)):
        page = client.get(f"/documents/{first.document_id}")
        assert text_of(page.soup, "#instalment") == f"Instalment 1 of 2 for order {order.reference}"
    # The school's list of invoices, and the order's page, say so too.
    school = as_role(None).sign_in_as(world.academy_sbm)
    for url in ("/invoices", f"/orders/{order.id}"):
        listed = text_of(school.get(url).soup, "main")
        assert "VAT invoice, instalment 1 of 2" in listed, url


def test_a_whole_orders_page_names_no_instalment(
    as_role: Any,
    world: Any,
    council_details: Any,  # noqa: F811
) -> None:
    order = confirmed(world, 2)
    document_id = order_document_id(order)
    page = as_role(Role.LA_FINANCE).get(f"/documents/{document_id}")
    assert page.soup.select_one("#instalment") is None
    assert "Instalment" not in text_of(page.soup, "main")
    school = as_role(None).sign_in_as(world.academy_sbm)
    assert "instalment" not in text_of(school.get("/invoices").soup, "main")


def order_document_id(order: Any) -> int:
    document = issuing.charge_document_for(order)
    assert document is not None
    return int(document.id)


def details_hint(client: Any) -> str:
    page = client.get("/order/details")
    assert page.status_code == 200, page.status_code
    return text_of(page.soup, "#po_number-hint")


def test_the_po_hint_says_the_invoice_waits_only_where_it_does(as_role: Any, world: Any) -> None:
    for school in (world.school, world.academy):
        school.po_required = True
    db.session.commit()
    # A maintained school is recharged: a recharge never waits for a PO number.
    maintained = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    basket.set_days(
        basket.draft_for(world.school, world.users[Role.SCHOOL_BUSINESS_MANAGER], world.year),
        world.service.id,
        2,
    )
    db.session.commit()
    hint = details_hint(maintained)
    assert "waits" not in hint and "add it from the order's page later" in hint
    # An academy's VAT invoice does wait for it.
    academy = as_role(None).sign_in_as(world.academy_sbm)
    basket.set_days(
        basket.draft_for(world.academy, world.academy_sbm, world.year), world.service.id, 2
    )
    db.session.commit()
    assert "the invoice waits for it" in details_hint(academy)
