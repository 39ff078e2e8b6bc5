"""Partnership orders through the pages, as each role: ordering with the split checked first,
the GOV.UK error summary, approvals, the council's confirmation, and who sees which document."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from pypdf import PdfReader

from tests.conftest import text_of
from tests.factories import make_user
from tests.partnership_factories import confirmed_partnership_order, partnership_members
from traded_app.extensions import db
from traded_app.models.partnership_orders import PartnershipOrder, WhoOrders
from traded_app.models.types import Role
from traded_app.services.platform import document_store


def order_count() -> int:
    return db.session.query(PartnershipOrder).count()


def client_as(app: Flask, user: Any) -> Any:
    client = app.test_client()
    client.sign_in_as(user)
    return client


def error_summary(response: Any) -> str:
    return text_of(response.soup, ".govuk-error-summary")


def test_the_lead_orders_for_the_partnership_after_checking_each_share(
    app: Flask, world: Any
) -> None:
    partnership_members(world)
    client = client_as(app, world.users[Role.SCHOOL_BUSINESS_MANAGER])
    page = client.get("/partnership-orders/new")
    assert page.soup.h1.get_text(strip=True) == "Order for Riverside partnership"
    form = {f"days-{world.service.id}": "3", "rule": "pupils"}
    checked = client.post_form("/partnership-orders/new", {**form, "action": "check"})
    shares = text_of(checked.soup, "#proposal")
    # 210 : 420 : 630 pupils share £1,350.00; Brook's £675.00 carries VAT, Riverside's none.
    assert "Brook Academy 630 £675.00 £135.00" in shares
    assert "Riverside Primary School (lead) 210 £225.00 £0.00" in shares
    assert order_count() == 0  # checking places nothing
    placed = client.post_form("/partnership-orders/new", {**form, "action": "place"})
    assert placed.status_code == 302
    detail = client.get(placed.location)
    assert "placed" in text_of(detail.soup, ".govuk-notification-banner")
    assert "Brook Academy 630 pupils £675.00" in text_of(detail.soup, "#shares")
    listed = client.get("/partnership-orders")
    assert "£225.00" in text_of(listed.soup, "table")


def test_typed_shares_that_do_not_add_up_are_shown_in_the_error_summary(
    app: Flask, world: Any
) -> None:
    partnership_members(world)
    client = client_as(app, world.users[Role.SCHOOL_BUSINESS_MANAGER])
    form = {
        f"days-{world.service.id}": "1",
        "rule": "typed",
        f"share-{world.school.id}": "100",
        f"share-{world.academy.id}": "100",
        f"share-{world.brook.id}": "100",
        "action": "place",
    }
    page = client.post_form("/partnership-orders/new", form)
    assert page.status_code == 200
    assert page.soup.title.get_text().startswith("Error: ")
    assert "add up to £300.00, £150.00 less than the order's £450.00" in error_summary(page)
    form[f"share-{world.brook.id}"] = "twelve"
    page = client.post_form("/partnership-orders/new", form)
    assert "Brook Academy: Enter an amount in pounds" in error_summary(page)
    assert page.soup.select_one(f"#share-{world.brook.id}.govuk-input--error") is not None
    form.update({f"days-{world.service.id}": "lots", f"share-{world.brook.id}": "250"})
    page = client.post_form("/partnership-orders/new", form)
    assert world.service.name in error_summary(page)
    assert order_count() == 0


def test_only_those_the_partnership_chose_may_order(app: Flask, world: Any) -> None:
    partnership_members(world, WhoOrders.LEAD_HEADTEACHER)
    brook = client_as(app, world.brook_sbm)
    page = brook.get("/partnership-orders/new")
    assert "orders only through its lead school's headteacher" in text_of(page.soup, "main")
    assert page.soup.select_one("form[action='/partnership-orders/new']") is None
    refused = brook.post_form(
        "/partnership-orders/new", {f"days-{world.service.id}": "1", "rule": "equal"}
    )
    assert order_count() == 0 and refused.status_code == 200


def test_members_see_their_own_document_and_no_one_elses(app: Flask, world: Any) -> None:
    order, documents = confirmed_partnership_order(world)
    by_school = {d.buyer_name: d for d in documents}
    brook = client_as(app, world.brook_sbm)
    page = brook.get(f"/partnership-orders/{order.id}")
    shares = text_of(page.soup, "#shares")
    assert by_school["Brook Academy"].number in shares
    assert by_school["Meadow Academy"].number not in shares
    assert by_school["Riverside Primary School"].number not in shares
    own = brook.get(f"/documents/{by_school['Brook Academy'].id}")
    assert own.status_code == 200
    for other in ("Meadow Academy", "Riverside Primary School"):
        assert brook.get(f"/documents/{by_school[other].id}").status_code == 404
    # The days are in every member's Days page, as partnership days.
    days = brook.get("/days")
    assert "Partnership days" in text_of(days.soup, "main")
    assert order.reference in text_of(days.soup, "#partnership-days")


def test_non_members_see_nothing(app: Flask, world: Any) -> None:
    order, documents = confirmed_partnership_order(world)
    outsider = make_user("sbm@hilltop.example", Role.SCHOOL_BUSINESS_MANAGER, world.other_school)
    client = client_as(app, outsider)
    assert client.get(f"/partnership-orders/{order.id}").status_code == 404
    listed = client.get("/partnership-orders")
    assert order.reference not in text_of(listed.soup, "main")
    assert "not in an active partnership" in text_of(listed.soup, "main")
    for document in documents:
        assert client.get(f"/documents/{document.id}").status_code == 404
    assert "Partnership days" not in text_of(client.get("/days").soup, "main")
    adviser = client_as(app, world.users[Role.ADVISER])
    assert adviser.get(f"/partnership-orders/{order.id}").status_code == 403


def test_headteacher_approves_then_the_council_confirms(app: Flask, world: Any) -> None:
    partnership_members(world)
    world.brook.approval_limit_pence = 10_000
    lead = client_as(app, world.users[Role.SCHOOL_BUSINESS_MANAGER])
    placed = lead.post_form(
        "/partnership-orders/new",
        {f"days-{world.service.id}": "3", "rule": "equal", "action": "place"},
    )
    order_url = placed.location
    admin = client_as(app, world.users[Role.LA_ADMIN])
    waiting = admin.get(order_url)
    assert "Waiting for members' approval" in text_of(waiting.soup, "main")
    brook_head = client_as(app, world.brook_head)
    page = brook_head.get(order_url)
    assert "waits for your approval" in text_of(page.soup, ".govuk-inset-text")
    brook_head.post_form(f"{order_url}/approve")
    queue = admin.get("/council/partnership-orders")
    assert "With the council" in text_of(queue.soup, "table")
    confirmed = admin.get(admin.post_form(f"{order_url}/confirm").location)
    assert "3 documents issued" in text_of(confirmed.soup, ".govuk-notification-banner")
    finance = client_as(app, world.users[Role.LA_FINANCE])
    shares = text_of(finance.get(order_url).soup, "#shares")
    assert shares.count("VAT invoice INV-") == 2 and shares.count("Internal recharge") == 1


def test_the_service_manager_records_who_orders(app: Flask, world: Any) -> None:
    partnership_members(world)
    admin = client_as(app, world.users[Role.LA_ADMIN])
    url = f"/council/manage/partnerships/{world.partnership.id}/buying"
    for lead in ("", "²", "99999999999999999999"):
        page = admin.post_form(url, {"lead_school_id": lead, "who_orders": "business_managers"})
        assert "Select the partnership's lead school" in error_summary(page)
    saved = admin.post_form(
        url, {"lead_school_id": str(world.brook.id), "who_orders": "lead_headteacher"}
    )
    assert saved.status_code == 302
    page = admin.get(url)
    assert page.soup.select_one(f"option[value='{world.brook.id}'][selected]") is not None


def test_a_members_document_shows_its_share_on_the_page_and_in_the_pdf(
    app: Flask, world: Any
) -> None:
    order, documents = confirmed_partnership_order(world)
    brook = next(d for d in documents if d.buyer_name == "Brook Academy")
    page = client_as(app, world.brook_sbm).get(f"/documents/{brook.id}")
    lines = text_of(page.soup, "main table")
    assert "Share of 3 days at £450.00 a day for Riverside partnership (equal shares)" in lines
    assert "Shares" in lines and "Total days" not in lines
    text = " ".join(
        " ".join(p.extract_text().split())
        for p in PdfReader(io.BytesIO(document_store.read_pdf(brook))).pages
    )
    assert "Your share of days bought by your partnership" in text
    assert order.reference in text and "£450.00" in text and "Total due £540.00" in text


def test_schools_left_unticked_take_no_part(app: Flask, world: Any) -> None:
    partnership_members(world)
    client = client_as(app, world.users[Role.SCHOOL_BUSINESS_MANAGER])
    page = client.get("/partnership-orders/new")
    boxes = page.soup.select("input[name=taking_part]")
    # The lead always takes part: a box for each other member, ticked to start with.
    assert len(boxes) == 2 and all(box.has_attr("checked") for box in boxes)
    form = {
        f"days-{world.service.id}": "2",
        "rule": "equal",
        "schools_shown": "1",
        "taking_part": [str(world.brook.id)],
        "action": "check",
    }
    checked = client.post_form("/partnership-orders/new", form)
    shares = text_of(checked.soup, "#proposal")
    assert "Meadow Academy" not in shares and "Brook Academy" in shares
    unticked = checked.soup.select_one(f"#taking_part-{world.academy.id}")
    assert unticked is not None and not unticked.has_attr("checked")
    form["taking_part"] = []
    page = client.post_form("/partnership-orders/new", form)
    assert "at least one school besides the lead" in error_summary(page)
