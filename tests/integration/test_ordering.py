"""Ordering through the web, as each person does it: the catalogue's live days, checking out,
approval, the council's queue and decisions, and every bad input the issue names."""

from __future__ import annotations

import email
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import text_of
from tests.factories import make_quadrant, make_school, make_service, submitted_order
from traded_app.extensions import db
from traded_app.models import CoreAllocation, Order, OrderStatus, QuadrantCapacity, ServicePrice
from traded_app.models.types import AllocationReason, Role
from traded_app.services.ordering import basket, workflow
from traded_app.services.platform.links import absolute_url

HX = {"HX-Request": "true"}


def sbm(world: Any) -> Any:
    return world.users[Role.SCHOOL_BUSINESS_MANAGER]


def draft_of(world: Any, school: Any = None) -> Order:
    return basket.draft_for(school or world.school, sbm(world), world.year)


def set_days_htmx(client: Any, service_id: int, days: str) -> Any:
    return client.post(
        f"/catalogue/services/{service_id}/days",
        data={f"days-{service_id}": days},
        headers={**HX, "X-CSRFToken": client.csrf_token()},
    )


def outbox_mails(app: Flask) -> list[email.message.Message]:
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    return [email.message_from_bytes(path.read_bytes()) for path in sorted(outbox.glob("*.eml"))]


def mails_since(app: Flask, before: int) -> list[tuple[str, str]]:
    return [(m["To"], m["Subject"]) for m in outbox_mails(app)[before:]]


# --- The catalogue and its live figures ---------------------------------------------------


def test_catalogue_offers_days_controls_in_half_days_within_each_services_range(
    as_role: Any, world: Any
) -> None:
    page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/catalogue").soup
    control = page.select_one(f"#days-{world.service.id}")
    # Text, not type=number: a mouse wheel or an arrow key never changes a saved basket. The
    # range (a minimum of 0.5 days) is stated in the hint.
    assert (control["type"], control["inputmode"]) == ("text", "decimal")
    assert control.get("pattern") and not control.get("step")
    assert text_of(page, f"#days-{world.service.id}-hint") == "0.5 to 3 days"
    label = page.select_one(f"label[for=days-{world.service.id}]").get_text(" ", strip=True)
    assert label == "Days of Headteacher performance management"
    assert "£450.00 a day" in text_of(page, ".app-service")
    assert "Outside the scope of VAT" in text_of(page, ".app-service")  # a maintained school


def test_academy_sees_vat_on_its_prices(app: Flask, world: Any) -> None:
    client = app.test_client().sign_in_as(world.academy_sbm)
    assert "Plus VAT at 20%" in text_of(client.get("/catalogue").soup, ".app-service")


def test_changing_days_answers_with_the_line_and_the_summary_out_of_band(
    as_role: Any, world: Any
) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    response = set_days_htmx(client, world.service.id, "1.5")
    assert response.status_code == 200
    fragment = response.soup
    assert fragment.find("html") is None or fragment.find("h1") is None  # a fragment
    assert text_of(fragment, f"#days-{world.service.id}-result") == "£675.00"
    summary = fragment.select_one("#order-summary")
    assert summary["hx-swap-oob"] == "true"
    assert text_of(summary, "#summary-days") == "1.5"
    assert text_of(summary, "#summary-total") == "£675.00"
    announcement = fragment.select_one("#order-announcement")
    assert announcement["hx-swap-oob"] == "innerHTML"
    assert "Order updated: 1.5 days, total £675.00" in announcement.get_text()
    assert len(response.data) < len(client.get("/catalogue").data) / 5


def test_a_second_service_joins_the_basket_and_the_answer_counts_both(
    as_role: Any, world: Any
) -> None:
    second = make_service("SECOND", world.year, price_pence=30_000)
    db.session.commit()
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "1")
    answer = set_days_htmx(client, second.id, "2").soup
    assert text_of(answer, f"#days-{second.id}-result") == "£600.00"
    assert text_of(answer, "#summary-days") == "3"
    assert text_of(answer, "#summary-net") == "£1,050.00"
    lines = {line.service_id: line.half_days for line in draft_of(world).lines}
    assert lines == {world.service.id: 2, second.id: 4}


def test_the_answer_says_when_the_basket_goes_over_the_approval_limit(
    as_role: Any, world: Any
) -> None:
    world.council.default_approval_limit_pence = 50_000  # the council's £500, for every school
    world.school.approval_limit_pence = None
    db.session.commit()
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    notice = "over your school's approval limit"
    under = set_days_htmx(client, world.service.id, "1").soup  # £450 before VAT
    assert text_of(under, "#summary-net") == "£450.00" and notice not in under.get_text(" ")
    over = set_days_htmx(client, world.service.id, "2").soup
    assert notice in text_of(over, "#order-summary")
    world.school.approval_limit_pence = 100_000  # the school's own limit comes first
    db.session.commit()
    own = set_days_htmx(client, world.service.id, "1.5").soup  # over the council's limit only
    assert text_of(own, "#summary-net") == "£675.00" and notice not in own.get_text(" ")


def test_the_draft_lives_on_the_server_for_every_tab_and_user(as_role: Any, world: Any) -> None:
    set_days_htmx(as_role(Role.SCHOOL_BUSINESS_MANAGER), world.service.id, "2")
    other_tab = as_role(Role.HEADTEACHER)  # another session, another user of the school
    page = other_tab.get("/catalogue").soup
    assert page.select_one(f"#days-{world.service.id}")["value"] == "2"
    assert text_of(page, "#summary-total") == "£900.00"


def test_days_remaining_after_this_order_counts_core_bought_and_this_order(
    as_role: Any, world: Any
) -> None:
    db.session.add(
        CoreAllocation(
            school_id=world.school.id,
            academic_year_id=world.year.id,
            reason=AllocationReason.PARTNERSHIP,
            half_days=3,
        )
    )
    order = submitted_order(world, {world.service: 2})
    workflow.confirm(order, world.users[Role.LA_ADMIN])
    db.session.commit()
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    first = set_days_htmx(client, world.service.id, "2")  # makes the draft
    # 1.5 core + 1 bought + 2 in this order
    assert text_of(first.soup, "#summary-remaining") == "4.5"
    # A change to the draft there is (on PostgreSQL the days come with the write's statement)
    response = set_days_htmx(client, world.service.id, "1")
    assert text_of(response.soup, "#summary-remaining") == "3.5"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0.3", "as a whole or half number, like 1.5"),
        ("1.25", "as a whole or half number, like 1.5"),
        ("two", "as a whole or half number, like 1.5"),
        ("2,5", "as a whole or half number, like 1.5"),
        ("abc", "as a whole or half number, like 1.5"),
        ("NaN", "as a whole or half number, like 1.5"),
        ("-1", "as a whole or half number, like 1.5"),
        ("4", "can be ordered for 0.5 to 3 days"),
        ("1e9", "as a whole or half number, like 1.5"),
        ("9999", "Days must be 365 or fewer"),
    ],
)
def test_bad_days_get_a_message_and_change_nothing(
    as_role: Any, world: Any, typed: str, message: str
) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "1")
    response = set_days_htmx(client, world.service.id, typed)
    assert response.status_code == 200
    assert message in text_of(response.soup, f"#days-{world.service.id}-result")
    assert "Error:" in response.soup.select_one("#order-announcement").get_text()
    assert text_of(response.soup, "#summary-days") == "1"
    assert [line.half_days for line in draft_of(world).lines] == [2]


@pytest.mark.parametrize(("typed", "half_days"), [("2½", 5), ("2 days", 4), ("½", 1), ("1.5", 3)])
def test_days_typed_the_usual_ways_are_saved(
    as_role: Any, world: Any, typed: str, half_days: int
) -> None:
    set_days_htmx(as_role(Role.SCHOOL_BUSINESS_MANAGER), world.service.id, typed)
    assert [line.half_days for line in draft_of(world).lines] == [half_days]


def test_clearing_the_days_takes_the_service_out(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "1")
    response = set_days_htmx(client, world.service.id, "")
    assert text_of(response.soup, f"#days-{world.service.id}-result") == "Not ordered"
    assert draft_of(world).lines == []


def test_a_retired_or_unknown_service_cannot_be_ordered(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    world.service.active = False
    db.session.commit()
    response = set_days_htmx(client, world.service.id, "1")
    assert "That service is not available to order" in response.get_data(as_text=True)
    response = set_days_htmx(client, 999_999, "1")
    assert "That service is not available to order" in response.get_data(as_text=True)
    assert draft_of(world).lines == []


def test_without_javascript_the_form_recalculates_and_keeps_what_was_typed(
    as_role: Any, world: Any
) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    second = make_service("GOVREV", world.year, name="Review of governance", half_days=(4, 2, 6))
    db.session.commit()
    response = client.post_form(
        "/catalogue",
        {
            f"days-{world.service.id}": "1.5",
            f"days-{second.id}": "0.5",  # below the service's minimum of 1 day
            "action": "update",
            "price": "1",  # tampering with prices or totals does nothing
            "total": "1",
        },
    )
    assert response.status_code == 200
    page = response.soup
    assert page.title.get_text().startswith("Error: ")
    summary = page.select_one(".govuk-error-summary")
    assert "Review of governance can be ordered for 1 to 3 days" in summary.get_text()
    assert "Your order still has" not in summary.get_text()
    assert summary.select_one("a")["href"] == f"#days-{second.id}"
    assert page.select_one(f"#days-{second.id}")["value"] == "0.5"  # shown back, not lost
    assert text_of(page, "#summary-total") == "£675.00"  # the valid line was saved

    response = client.post_form(
        "/catalogue",
        {f"days-{world.service.id}": "1.5", f"days-{second.id}": "1", "action": "update"},
    )
    assert response.status_code == 302 and response.location.endswith("/catalogue#order-summary")
    page = client.get("/catalogue").soup
    assert text_of(page, "#summary-days") == "2.5"
    assert text_of(page, "#summary-total") == "£1,125.00"

    response = client.post_form(
        "/catalogue", {f"days-{world.service.id}": "1.5", "action": "continue"}
    )
    assert response.location.endswith("/order/details")


def test_a_post_without_the_csrf_token_is_refused(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    response = client.post(f"/catalogue/services/{world.service.id}/days", data={}, headers=HX)
    assert response.status_code == 400
    assert draft_of(world).lines == []


# --- Checking answers and submitting -----------------------------------------------------


DETAILS = ("po_number", "preferred_term", "preferred_dates", "adviser_note")


def save_details(client: Any, **fields: str) -> Any:
    """The order's details page, before check answers."""
    return client.post_form("/order/details", {"preferred_term": "", **fields})


def checkout(client: Any, **fields: str) -> Any:
    """Give the details (when any are named), then submit from check answers, accepting the
    year's terms when the page asks."""
    details = {name: fields.pop(name) for name in DETAILS if name in fields}
    if details:
        response = save_details(client, **details)
        assert response.status_code == 302, response.soup.select_one(".govuk-error-summary")
    page = client.get("/order/check").soup
    data = {
        "order_id": page.select_one("input[name=order_id]")["value"],
        "version": page.select_one("input[name=version]")["value"],
        "terms_version_id": page.select_one("input[name=terms_version_id]").get("value", ""),
        **fields,
    }
    if page.select_one("input[name=accept_terms]") is not None:
        data.setdefault("accept_terms", "y")
    return client.post_form("/order/check", data)


def test_check_answers_with_an_empty_basket_goes_back_to_the_catalogue(
    as_role: Any, world: Any
) -> None:
    response = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/order/check")
    assert response.status_code == 302 and response.location.endswith("/catalogue")


def test_submitting_freezes_prices_and_sends_the_order_to_the_council(
    app: Flask, as_role: Any, world: Any
) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "2.5")
    save_details(
        client,
        po_number="PO-4471",
        preferred_term="spring",
        preferred_dates="Not Fridays",
        adviser_note="Please call the office first",
    )
    page = client.get("/order/check").soup
    assert page.h1.get_text(strip=True) == "Check your order before you submit it"
    assert "£1,125.00" in text_of(page, "#order-lines")
    details = text_of(page, "#order-details")
    assert "PO-4471" in details and "Spring term" in details and "Not Fridays" in details
    # Each answer has its Change link, back to the page that asked it.
    changes = [a["href"] for a in page.select(".govuk-summary-list__actions a")]
    assert f"/catalogue#days-{world.service.id}" in changes
    assert "/order/details#po_number" in changes and "/order/details#adviser_note" in changes
    before = len(outbox_mails(app))
    response = checkout(client)
    assert response.status_code == 302
    order = db.session.execute(select(Order).where(Order.status != "draft")).scalar_one()
    assert response.location.endswith(f"/orders/{order.id}/submitted")
    confirmation = client.get(response.location).soup
    assert order.reference in text_of(confirmation, ".govuk-panel")
    assert "Order submitted" in text_of(confirmation, ".govuk-panel__title")
    next_steps = text_of(confirmation, "#what-happens-next")
    assert "confirms your order" in next_steps and "VAT invoice" not in next_steps
    assert "internal recharge" in next_steps  # a maintained school
    assert order.status == OrderStatus.SUBMITTED
    assert (order.half_days, order.net_pence, order.vat_pence, order.gross_pence) == (
        5,
        112_500,
        0,
        112_500,
    )
    assert order.po_number == "PO-4471" and order.preferred_term == "spring"
    assert [(line.price_per_day_pence, line.vat_rate_bp) for line in order.lines] == [(45_000, 0)]

    # A later price change alters nothing on the order.
    price = db.session.execute(select(ServicePrice)).scalar_one()
    price.price_per_day_pence = 60_000
    db.session.commit()
    page = client.get(f"/orders/{order.id}").soup
    assert "£1,125.00" in text_of(page, "table")
    assert text_of(page, ".govuk-tag") == "Submitted to the council"
    assert "Submitted" in text_of(page, ".app-timeline")

    sent = mails_since(app, before)
    assert ("team@council.example", f"New order {order.reference} from {world.school.name}") in sent
    assert ("sbm@school.example", f"Order {order.reference} has been sent to the council") in sent


def test_a_double_submitted_form_sends_one_order(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "1")
    page = client.get("/order/check").soup
    data = {
        "order_id": page.select_one("input[name=order_id]")["value"],
        "version": page.select_one("input[name=version]")["value"],
    }
    first = client.post_form("/order/check", data)
    second = client.post_form("/order/check", data)
    assert first.location.endswith("/submitted")
    assert second.location == first.location.removesuffix("/submitted")
    submitted = db.session.execute(
        select(func.count()).select_from(Order).where(Order.status != "draft")
    ).scalar_one()
    assert submitted == 1
    page = client.get(second.location).soup
    assert "has already been submitted" in text_of(page, ".govuk-notification-banner")


def test_a_basket_changed_in_another_tab_must_be_checked_again(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "1")
    page = client.get("/order/check").soup
    set_days_htmx(as_role(Role.HEADTEACHER), world.service.id, "3")  # the other tab
    response = client.post_form(
        "/order/check",
        {
            "order_id": page.select_one("input[name=order_id]")["value"],
            "version": page.select_one("input[name=version]")["value"],
        },
    )
    assert response.status_code == 200
    page = response.soup
    assert "Your order changed since you checked it" in text_of(page, ".govuk-notification-banner")
    assert "£1,350.00" in text_of(page, "#order-lines")  # the basket as it is now: 3 days
    assert draft_of(world).status == OrderStatus.DRAFT


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"po_number": "P" * 41}, "Purchase order number must be 40 characters or fewer"),
        ({"po_number": "PO", "preferred_term": "winter"}, "Not a valid choice"),
        ({"po_number": "PO", "adviser_note": "x" * 2001}, "2000 characters or fewer"),
    ],
)
def test_detail_errors_show_the_error_summary_and_submit_nothing(
    as_role: Any, world: Any, fields: dict[str, str], message: str
) -> None:
    world.school.po_required = True
    db.session.commit()
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "1")
    response = save_details(client, **fields)
    assert response.status_code == 200
    assert response.soup.title.get_text().startswith("Error: ")
    assert message in text_of(response.soup, ".govuk-error-summary")
    assert draft_of(world).status == OrderStatus.DRAFT


# --- Approval by the headteacher ----------------------------------------------------------


def over_limit_order(world: Any) -> Order:
    world.school.approval_limit_pence = 50_000
    db.session.commit()
    return submitted_order(world, {world.service: 3})  # £675 > £500


def test_an_order_over_the_limit_waits_for_the_headteacher(app: Flask, world: Any) -> None:
    before = len(outbox_mails(app))
    order = over_limit_order(world)
    assert order.status == OrderStatus.AWAITING_APPROVAL
    sent = mails_since(app, before)
    assert ("head@school.example", f"Order {order.reference} needs your approval") in sent
    assert not any(to == "team@council.example" for to, _ in sent)


def test_an_order_at_the_limit_goes_straight_to_the_council(world: Any) -> None:
    world.school.approval_limit_pence = 67_500
    db.session.commit()
    assert submitted_order(world, {world.service: 3}).status == OrderStatus.SUBMITTED


def test_the_headteacher_approves_and_the_order_reaches_the_council(
    as_role: Any, world: Any
) -> None:
    order = over_limit_order(world)
    head = as_role(Role.HEADTEACHER)
    page = head.get(f"/orders/{order.id}").soup
    assert "Approve order" in text_of(page, ".govuk-button-group")
    response = head.post_form(f"/orders/{order.id}/approve")
    assert response.status_code == 302
    db.session.refresh(order)
    assert order.status == OrderStatus.SUBMITTED
    assert order.approved_by_id == world.users[Role.HEADTEACHER].id
    page = head.get(f"/orders/{order.id}").soup
    assert "Approved by the headteacher" in text_of(page, ".app-timeline")


def test_the_headteachers_landing_page_says_an_order_waits_for_their_approval(
    as_role: Any, world: Any
) -> None:
    head = as_role(Role.HEADTEACHER)
    assert head.get("/days").soup.select_one("#awaiting-approval") is None
    order = over_limit_order(world)
    landing = head.get("/", follow_redirects=True).soup
    banner = landing.select_one("#awaiting-approval")
    assert banner is not None and banner["role"] == "region"
    assert "An order is waiting for your approval" in banner.get_text(" ", strip=True)
    assert banner.select_one("a")["href"] == f"/orders/{order.id}"
    # Before the days: the banner comes first on the page.
    assert str(landing.main).index("awaiting-approval") < str(landing.main).index("days-figures")
    # The business manager's view of the same days has no banner: only a headteacher approves.
    sbm_days = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/days").soup
    assert sbm_days.select_one("#awaiting-approval") is None
    head.post_form(f"/orders/{order.id}/approve")
    assert head.get("/days").soup.select_one("#awaiting-approval") is None


def test_a_business_manager_cannot_approve_their_own_order(as_role: Any, world: Any) -> None:
    order = over_limit_order(world)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert "Approve order" not in text_of(client.get(f"/orders/{order.id}").soup, "main")
    assert client.post_form(f"/orders/{order.id}/approve").status_code == 403
    with pytest.raises(basket.OrderError, match="Only the headteacher"):
        workflow.approve(order, sbm(world))
    db.session.refresh(order)
    assert order.status == OrderStatus.AWAITING_APPROVAL


def test_a_headteachers_own_order_over_the_limit_is_approved_by_submitting(world: Any) -> None:
    world.school.approval_limit_pence = 0
    db.session.commit()
    head = world.users[Role.HEADTEACHER]
    order = submitted_order(world, {world.service: 2}, by=head)
    assert order.status == OrderStatus.SUBMITTED and order.approved_by_id == head.id
    with pytest.raises(basket.OrderError):
        workflow.approve(order, head)


def test_rejecting_needs_a_reason_and_tells_the_submitter(
    app: Flask, as_role: Any, world: Any
) -> None:
    order = over_limit_order(world)
    head = as_role(Role.HEADTEACHER)
    response = head.post_form(f"/orders/{order.id}/reject", {"reason": "  "})
    assert response.status_code == 200
    assert "Enter a reason" in text_of(response.soup, ".govuk-error-summary")
    before = len(outbox_mails(app))
    head.post_form(f"/orders/{order.id}/reject", {"reason": "Over budget this term"})
    db.session.refresh(order)
    assert order.status == OrderStatus.REJECTED
    assert order.events[-1].note == "Over budget this term"
    assert mails_since(app, before) == [
        ("sbm@school.example", f"Order {order.reference} was not approved")
    ]


# --- The school's orders -------------------------------------------------------------------


def test_orders_page_lists_the_schools_orders_only(app: Flask, as_role: Any, world: Any) -> None:
    own = submitted_order(world, {world.service: 2})
    other = submitted_order(world, {world.service: 1}, school=world.academy)
    page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/orders").soup
    links = [a.get_text(strip=True) for a in page.select("table a")]
    assert links == [own.reference]
    assert "Submitted to the council" in text_of(page, "table")
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert client.get(f"/orders/{other.id}").status_code == 404
    assert client.post_form(f"/orders/{other.id}/withdraw", {"reason": ""}).status_code == 404
    assert client.get(f"/orders/{draft_of(world).id}").status_code == 404  # drafts have no page


def test_withdrawing_a_submitted_order(as_role: Any, world: Any) -> None:
    order = submitted_order(world)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert client.get(f"/orders/{order.id}/withdraw").soup.h1.get_text(strip=True) == (
        "Withdraw this order"
    )
    client.post_form(f"/orders/{order.id}/withdraw", {"reason": ""})
    db.session.refresh(order)
    assert order.status == OrderStatus.WITHDRAWN


def test_asking_to_cancel_a_confirmed_order_and_the_council_deciding(
    as_role: Any, world: Any
) -> None:
    order = submitted_order(world)
    workflow.confirm(order, world.users[Role.LA_ADMIN])
    db.session.commit()
    school = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    school.post_form(f"/orders/{order.id}/request-cancellation", {"reason": "Head has left"})
    db.session.refresh(order)
    assert order.status == OrderStatus.CANCELLATION_REQUESTED

    admin = as_role(Role.LA_ADMIN)
    assert admin.get("/council/orders").soup.select_one("table a").get_text() == order.reference
    admin.post_form(f"/orders/{order.id}/keep", {"reason": "Visits already arranged"})
    db.session.refresh(order)
    assert order.status == OrderStatus.CONFIRMED

    school.post_form(f"/orders/{order.id}/request-cancellation", {"reason": "Head has left"})
    admin.post_form(f"/orders/{order.id}/cancel", {"reason": "Agreed with the school"})
    db.session.refresh(order)
    assert order.status == OrderStatus.CANCELLED
    actions = [event.action for event in order.events]
    assert actions[-4:] == [
        "cancellation_requested",
        "cancellation_refused",
        "cancellation_requested",
        "cancelled",
    ]
    assert workflow.capacity_position(world.quadrant.id, world.year.id).sold_half_days == 0


def test_an_action_in_the_wrong_status_is_refused_with_a_message(as_role: Any, world: Any) -> None:
    order = submitted_order(world)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    response = client.post_form(f"/orders/{order.id}/request-cancellation", {"reason": "x"})
    assert response.status_code == 302
    banner = text_of(client.get(f"/orders/{order.id}").soup, ".govuk-notification-banner")
    assert f"{order.reference} is submitted to the council, so it cannot be cancelled" in banner
    db.session.refresh(order)
    assert order.status == OrderStatus.SUBMITTED


# --- The council's queue and decisions ------------------------------------------------------


def test_queue_filters_by_status_quadrant_service_and_school(as_role: Any, world: Any) -> None:
    governance = make_service("GOVREV", world.year, name="Review of governance")
    south = make_quadrant("S", "South", year=world.year)
    far = make_school(100009, "Seaside Primary", quadrant=south)
    db.session.commit()
    a = submitted_order(world, {world.service: 2})
    b = submitted_order(world, {governance: 2}, school=world.academy)
    c = submitted_order(world, {world.service: 1}, school=far, by=sbm(world))
    workflow.decline(c, world.users[Role.LA_ADMIN], "No adviser free")
    db.session.commit()
    admin = as_role(Role.LA_ADMIN)

    def refs(query: str, htmx: bool = False) -> list[str]:
        response = admin.get(f"/council/orders{query}", headers=HX if htmx else {})
        return [link.get_text() for link in response.soup.select("table a")]

    assert refs("") == [a.reference, b.reference]  # needs action, oldest first
    assert refs("?status=declined") == [c.reference]
    assert refs(f"?status=all&quadrant={south.id}") == [c.reference]
    assert refs(f"?service={governance.id}") == [b.reference]
    assert refs("?school=meadow") == [b.reference]
    assert refs(f"?school={world.school.urn}") == [a.reference]
    assert refs("?school=meadow", htmx=True) == [b.reference]
    # Unknown or malformed filters fall back rather than fail.
    assert refs("?status=bogus&quadrant=x&service=-1&page=abc") == [a.reference, b.reference]


def test_queue_answers_htmx_with_the_results_fragment_only(as_role: Any, world: Any) -> None:
    submitted_order(world)
    response = as_role(Role.LA_ADMIN).get("/council/orders?status=all", headers=HX)
    assert response.soup.find("h1") is None
    assert (
        response.headers["Vary"] == "HX-Request, Cookie" or "HX-Request" in response.headers["Vary"]
    )


def test_confirming_tells_the_school(app: Flask, as_role: Any, world: Any) -> None:
    order = submitted_order(world)
    before = len(outbox_mails(app))
    admin = as_role(Role.LA_ADMIN)
    page = admin.get(f"/orders/{order.id}").soup
    assert "1 of 100 days sold" in text_of(page, ".app-card") or "0 of 100 days" in text_of(
        page, ".app-card"
    )
    admin.post_form(f"/orders/{order.id}/confirm")
    db.session.refresh(order)
    assert order.status == OrderStatus.CONFIRMED and order.quadrant_id == world.quadrant.id
    assert mails_since(app, before) == [
        ("sbm@school.example", f"Order {order.reference} is confirmed")
    ]
    # Confirming twice (a double click) changes nothing and says why.
    admin.post_form(f"/orders/{order.id}/confirm")
    banner = text_of(admin.get(f"/orders/{order.id}").soup, ".govuk-notification-banner")
    assert "it cannot be confirmed" in banner
    assert [e.action for e in order.events].count("confirmed") == 1


def test_confirming_refuses_what_would_oversell_the_teams_capacity(
    as_role: Any, world: Any
) -> None:
    capacity = db.session.execute(select(QuadrantCapacity)).scalar_one()
    capacity.traded_capacity_half_days = 5
    db.session.commit()
    first = submitted_order(world, {world.service: 3})
    second = submitted_order(world, {world.service: 3}, school=world.academy)
    admin = as_role(Role.LA_ADMIN)
    admin.post_form(f"/orders/{first.id}/confirm")
    admin.post_form(f"/orders/{second.id}/confirm")
    db.session.refresh(second)
    assert second.status == OrderStatus.SUBMITTED
    banner = text_of(admin.get(f"/orders/{second.id}").soup, ".govuk-notification-banner")
    assert "The Mid team has 1 days left to sell in" in banner
    assert "this order needs 1.5: it cannot be confirmed" in banner


def test_confirming_without_capacity_set_says_what_to_do(as_role: Any, world: Any) -> None:
    db.session.execute(QuadrantCapacity.__table__.delete())
    db.session.commit()
    order = submitted_order(world)
    admin = as_role(Role.LA_ADMIN)
    admin.post_form(f"/orders/{order.id}/confirm")
    banner = text_of(admin.get(f"/orders/{order.id}").soup, ".govuk-notification-banner")
    assert "No traded capacity is set for the Mid team" in banner


def test_declining_needs_a_reason_that_the_school_sees(as_role: Any, world: Any) -> None:
    order = submitted_order(world)
    admin = as_role(Role.LA_ADMIN)
    response = admin.post_form(f"/orders/{order.id}/decline", {"reason": ""})
    assert "Enter a reason" in text_of(response.soup, ".govuk-error-summary")
    admin.post_form(f"/orders/{order.id}/decline", {"reason": "No adviser free this term"})
    page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get(f"/orders/{order.id}").soup
    assert text_of(page, ".govuk-tag") == "Declined"
    # The reason is shown at the top, not only in the history.
    assert "No adviser free this term" in text_of(page, ".govuk-inset-text")
    assert "No adviser free this term" in text_of(page, ".app-timeline")


def test_finance_and_advisers_see_the_queue_but_cannot_decide(as_role: Any, world: Any) -> None:
    order = submitted_order(world)
    for role in (Role.LA_FINANCE, Role.ADVISER):
        client = as_role(role)
        page = client.get(f"/orders/{order.id}").soup
        assert "Confirm order" not in text_of(page, "main")
        assert client.post_form(f"/orders/{order.id}/confirm").status_code == 403
    db.session.refresh(order)
    assert order.status == OrderStatus.SUBMITTED


def test_a_mail_failure_never_loses_the_order(app: Flask, as_role: Any, world: Any) -> None:
    app.config["MAIL_SERVER"] = "127.0.0.1"
    app.config["MAIL_PORT"] = 9  # nothing listens: sending fails
    try:
        client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
        set_days_htmx(client, world.service.id, "1")
        response = checkout(client, po_number="PO-9")
        assert response.status_code == 302
    finally:
        app.config["MAIL_SERVER"] = ""
    order = db.session.execute(select(Order).where(Order.status != "draft")).scalar_one()
    assert order.status == OrderStatus.SUBMITTED


def test_dashboards_point_to_orders_needing_someone(as_role: Any, world: Any) -> None:
    over_limit_order(world)
    head_page = as_role(Role.HEADTEACHER).get("/school").soup
    assert "1 order is waiting for your approval" in text_of(head_page, ".govuk-inset-text")
    sbm_page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/school").soup
    assert sbm_page.select_one(".govuk-inset-text") is None
    assert "1 awaiting headteacher approval" in text_of(sbm_page, "main")
    submitted_order(world, school=world.academy)
    council = as_role(Role.LA_ADMIN).get("/council/").soup
    card = next(c for c in council.select(".app-card") if "needing your decision" in c.get_text())
    assert text_of(card, ".app-figure") == "1"


# --- The headteacher's rules for orders --------------------------------------------------


def test_headteacher_sets_the_approval_limit_and_po_rule(as_role: Any, world: Any) -> None:
    head = as_role(Role.HEADTEACHER)
    page = head.get("/school/ordering-rules").soup
    assert page.select_one("#approval_limit")["value"] == ""
    response = head.post_form(
        "/school/ordering-rules", {"approval_limit": "£1,250.50", "po_required": "yes"}
    )
    assert response.status_code == 302
    db.session.refresh(world.school)
    assert (world.school.approval_limit_pence, world.school.po_required) == (125_050, True)
    assert head.get("/school/ordering-rules").soup.select_one("#approval_limit")["value"] == (
        "1,250.50"
    )
    head.post_form("/school/ordering-rules", {"approval_limit": "", "po_required": "no"})
    db.session.refresh(world.school)
    assert (world.school.approval_limit_pence, world.school.po_required) == (None, False)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12.345", "no more than 2 decimal places"),
        ("-5", "Amount must be £0 or more"),
        ("lots", "Enter an amount in pounds, like 1500 or 1500.50"),
        ("99999999999", "Amount must be £1,000,000 or less"),
    ],
)
def test_a_bad_approval_limit_is_explained_and_nothing_changes(
    as_role: Any, world: Any, typed: str, message: str
) -> None:
    world.school.approval_limit_pence = 100_000
    db.session.commit()
    response = as_role(Role.HEADTEACHER).post_form(
        "/school/ordering-rules", {"approval_limit": typed, "po_required": "yes"}
    )
    assert response.status_code == 200
    assert message in text_of(response.soup, ".govuk-error-summary")
    db.session.refresh(world.school)
    assert world.school.approval_limit_pence == 100_000 and not world.school.po_required


def test_going_back_after_filtering_restores_the_whole_page(as_role: Any, world: Any) -> None:
    headers = {**HX, "HX-History-Restore-Request": "true"}
    response = as_role(Role.LA_ADMIN).get("/council/orders?status=all", headers=headers)
    assert response.soup.h1.get_text(strip=True) == "Orders"


def test_loading_demo_data_emails_nobody(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    before = len(outbox_mails(app))
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() > 5
    assert len(outbox_mails(app)) == before


def test_emails_sent_outside_a_request_link_to_app_base_url(app: Flask, world: Any) -> None:
    order = submitted_order(world)
    assert absolute_url("orders.order_detail", order_id=order.id) is None  # no address known
    before = len(outbox_mails(app))
    app.config["APP_BASE_URL"] = "https://traded.example.gov.uk"
    try:
        assert absolute_url("orders.order_detail", order_id=order.id) == (
            f"https://traded.example.gov.uk/orders/{order.id}"
        )
        workflow.confirm(order, world.users[Role.LA_ADMIN])  # as an invoice run or CLI would
        db.session.commit()
    finally:
        app.config["APP_BASE_URL"] = ""
    confirmed = next(m for m in outbox_mails(app)[before:] if m["Subject"].endswith("is confirmed"))
    assert f"https://traded.example.gov.uk/orders/{order.id}" in confirmed.get_payload()
