"""Trust staff ordering on an academy's behalf (issue 16 part 2): only where the trust says so,
only for the trust's own open academies, through the school's ordering pages; the order is the
academy's and its approval follows the academy's limit and headteacher."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import make_school, make_user
from tests.integration.test_ordering import checkout, mails_since, outbox_mails, set_days_htmx
from tests.routes import ordering_for
from traded_app.extensions import db
from traded_app.models import AuditEvent, Order, OrderStatus, School, Trust
from traded_app.models.types import Role, SchoolStatus
from traded_app.services.ordering import basket, workflow
from traded_app.views.trust_ordering import ACTING_FOR_KEY

TRUST_NAME = "Meadow Learning Trust"


def allow(world: Any, allowed: bool = True) -> None:
    world.trust.staff_may_order = allowed
    db.session.commit()


@pytest.fixture()
def trust_client(as_role: Any) -> Any:
    return as_role(Role.TRUST_FINANCE)


@pytest.fixture()
def academy_head(world: Any) -> Any:
    head = make_user("head@academy.example", Role.HEADTEACHER, world.academy)
    db.session.commit()
    return head


@pytest.fixture()
def other_trusts_academy(world: Any) -> School:
    other = Trust(name="Oak Learning Trust")
    db.session.add(other)
    db.session.flush()
    school = make_school(100006, "Oak Academy", quadrant=world.quadrant, academy=True)
    school.trust_id = other.id
    db.session.commit()
    return school


def start(client: Any, school: School) -> Any:
    return client.post_form(f"/trust/academies/{school.urn}/order")


def acting_for(client: Any) -> Any:
    with client.session_transaction() as session:
        return session.get(ACTING_FOR_KEY)


def placed_order() -> Order:
    return db.session.execute(select(Order).where(Order.status != OrderStatus.DRAFT)).scalar_one()


# --- The trust's decision ---------------------------------------------------------------------


def test_the_service_manager_records_the_trusts_decision_and_its_staff_see_it(
    as_role: Any, trust_client: Any, world: Any
) -> None:
    home = trust_client.get("/trust").soup
    assert "has not recorded that the trust lets its staff order" in text_of(
        home, "#trust-ordering"
    )
    admin = as_role(Role.LA_ADMIN)
    page = admin.get(f"/council/trusts/{world.trust.id}").soup
    assert page.select_one("input[name=staff_may_order][value=no]").has_attr("checked")
    response = admin.post_form(
        f"/council/trusts/{world.trust.id}",
        {"name": TRUST_NAME, "invoice_to": "academy", "staff_may_order": "yes"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Trust, world.trust.id).staff_may_order is True
    page = admin.get(f"/council/trusts/{world.trust.id}").soup
    assert page.select_one("input[name=staff_may_order][value=yes]").has_attr("checked")
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "trust", AuditEvent.entity_id == str(world.trust.id)
        )
    ).all()
    assert any(json.loads(e.changes).get("staff_may_order") == [False, True] for e in events)
    home = trust_client.get("/trust").soup
    assert "The trust lets its staff order days for its academies" in text_of(
        home, "#trust-ordering"
    )


def test_a_nonsense_answer_is_an_error_not_a_change(as_role: Any, world: Any) -> None:
    response = as_role(Role.LA_ADMIN).post_form(
        f"/council/trusts/{world.trust.id}",
        {"name": TRUST_NAME, "invoice_to": "academy", "staff_may_order": "always"},
    )
    assert response.status_code == 200
    assert text_of(response.soup, ".govuk-error-summary") != ""
    db.session.expire_all()
    assert db.session.get(Trust, world.trust.id).staff_may_order is False


# --- Ordering for an academy ------------------------------------------------------------------


def test_trust_finance_orders_for_an_academy_through_the_schools_pages(
    app: Flask, trust_client: Any, as_role: Any, world: Any
) -> None:
    allow(world)
    page = trust_client.get(f"/trust/academies/{world.academy.urn}").soup
    assert "Order days for Meadow Academy" in text_of(page, "#order-for-academy")
    response = start(trust_client, world.academy)
    assert response.status_code == 302 and response.location.endswith("/catalogue")
    catalogue = trust_client.get("/catalogue").soup
    assert "Meadow Academy" in text_of(catalogue, ".govuk-caption-l")
    assert "on behalf of Meadow Learning Trust" in text_of(catalogue, "#acting-for")
    # The school's own extras (quotes, asking for a service) are its staff's, not shown here.
    assert catalogue.select_one('form[action="/order/quote"]') is None
    assert set_days_htmx(trust_client, world.service.id, "2").status_code == 200
    check = trust_client.get("/order/check").soup
    assert "Meadow Academy" in text_of(check, ".govuk-caption-l")
    before = len(outbox_mails(app))
    response = checkout(trust_client, po_number="MEADOW-7")
    assert response.status_code == 302

    order = placed_order()
    trust_user = world.users[Role.TRUST_FINANCE]
    assert (order.school_id, order.submitted_by_id) == (world.academy.id, trust_user.id)
    assert order.status == OrderStatus.SUBMITTED  # the academy sets no approval limit
    assert order.vat_pence > 0  # priced as the academy's order (VAT invoice route)
    confirmation = trust_client.get(response.location).soup
    assert "Order submitted" in text_of(confirmation, ".govuk-panel__title")
    assert not confirmation.select('a[href="/orders"]')  # the school's list is not theirs
    sent = mails_since(app, before)
    assert ("team@council.example", f"New order {order.reference} from Meadow Academy") in sent

    placed_by = f"Placed by {trust_user.name} for {TRUST_NAME}"
    order_page = trust_client.get(f"/orders/{order.id}").soup
    assert text_of(order_page, "#placed-by") == placed_by
    assert text_of(order_page, "main form") == ""  # never approves, withdraws or cancels
    # The academy's staff see it with their own orders.
    academy_sbm = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    academy_sbm.sign_in_as(world.academy_sbm)
    assert order.reference in text_of(academy_sbm.get("/orders").soup, "main")
    their_page = academy_sbm.get(f"/orders/{order.id}").soup
    assert text_of(their_page, "#placed-by") == placed_by
    assert "Withdraw order" in text_of(their_page, "main")
    # Another school's staff do not.
    assert as_role(Role.SCHOOL_BUSINESS_MANAGER).get(f"/orders/{order.id}").status_code == 404


def test_the_draft_is_the_academys_own_basket(trust_client: Any, as_role: Any, world: Any) -> None:
    allow(world)
    start(trust_client, world.academy)
    set_days_htmx(trust_client, world.service.id, "1.5")
    academy_sbm = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    academy_sbm.sign_in_as(world.academy_sbm)
    days = academy_sbm.get("/catalogue").soup.select_one(f"#days-{world.service.id}")
    assert days is not None and days["value"] == "1.5"
    draft = basket.draft_or_empty(world.academy, world.year)
    assert draft.created_by_id == world.users[Role.TRUST_FINANCE].id


def test_over_the_academys_limit_the_order_waits_for_its_headteacher(
    app: Flask, trust_client: Any, as_role: Any, world: Any, academy_head: Any
) -> None:
    allow(world)
    world.academy.approval_limit_pence = 50_000
    db.session.commit()
    start(trust_client, world.academy)
    set_days_htmx(trust_client, world.service.id, "3")  # £1,350 before VAT > £500
    check = trust_client.get("/order/check").soup
    assert "go to Meadow Academy's headteacher to approve" in text_of(check, "main")
    assert "Send to the academy's headteacher for approval" in text_of(check, "main form button")
    before = len(outbox_mails(app))
    response = checkout(trust_client)
    order = placed_order()
    assert order.status == OrderStatus.AWAITING_APPROVAL
    confirmation = trust_client.get(response.location).soup
    assert "the academy's headteacher" in text_of(confirmation, ".govuk-panel__title")
    sent = [(to, " ".join(subject.split())) for to, subject in mails_since(app, before)]
    assert ("head@academy.example", f"Order {order.reference} needs your approval") in sent
    assert (
        "finance@trust.example",
        f"Order {order.reference} is waiting for Meadow Academy's headteacher's approval",
    ) in sent
    assert not any(to in ("team@council.example", "head@school.example") for to, _ in sent)

    # The trust person never approves; the academy's headteacher does, as for its own staff.
    assert trust_client.post_form(f"/orders/{order.id}/approve").status_code == 403
    head = as_role(Role.HEADTEACHER)
    head.sign_in_as(academy_head)
    assert "Approve order" in text_of(head.get(f"/orders/{order.id}").soup, "main")
    assert head.post_form(f"/orders/{order.id}/approve").status_code == 302
    db.session.refresh(order)
    assert order.status == OrderStatus.SUBMITTED
    assert order.approved_by_id == academy_head.id


def test_under_the_academys_limit_it_goes_to_the_council(
    trust_client: Any, world: Any, academy_head: Any
) -> None:
    allow(world)
    world.academy.approval_limit_pence = 45_000  # exactly one day before VAT
    db.session.commit()
    start(trust_client, world.academy)
    set_days_htmx(trust_client, world.service.id, "1")
    checkout(trust_client)
    assert placed_order().status == OrderStatus.SUBMITTED


# --- Who may order for what -------------------------------------------------------------------


def test_a_trust_orders_only_for_its_own_open_academies(
    trust_client: Any, world: Any, other_trusts_academy: School
) -> None:
    allow(world)
    for school in (world.school, other_trusts_academy):
        response = start(trust_client, school)
        assert response.status_code == 403
        assert "not one of your trust's open academies" in text_of(response.soup, "main")
        assert acting_for(trust_client) is None
    assert trust_client.post_form("/trust/academies/999999/order").status_code == 403

    # A session naming another school (forged, or left from before) reaches nothing of it.
    for school in (world.school, other_trusts_academy):
        ordering_for(trust_client, school)
        for url in ("/catalogue", "/order/details", "/order/check"):
            response = trust_client.get(url)
            assert response.status_code == 403, url
            assert "You cannot order for that academy" in text_of(response.soup, "h1")
        assert acting_for(trust_client) is None  # the stale choice is forgotten
    response = trust_client.get("/catalogue")
    assert response.status_code == 403
    assert "Choose the academy you are ordering for" in text_of(response.soup, "main")
    assert db.session.scalars(select(Order)).all() == []


def test_a_posted_school_id_is_never_trusted(trust_client: Any, world: Any) -> None:
    allow(world)
    start(trust_client, world.academy)
    trust_client.post_form(
        "/catalogue",
        {f"days-{world.service.id}": "1", "school_id": str(world.school.id), "action": "update"},
    )
    drafts = db.session.scalars(select(Order)).all()
    assert [d.school_id for d in drafts] == [world.academy.id]


def test_when_the_trust_has_not_said_so_there_is_no_ordering(trust_client: Any, world: Any) -> None:
    page = trust_client.get(f"/trust/academies/{world.academy.urn}").soup
    assert page.select_one("#order-for-academy") is None
    response = start(trust_client, world.academy)
    assert response.status_code == 403
    assert "Your trust has not asked the council" in text_of(response.soup, "main")
    ordering_for(trust_client, world.academy)
    assert trust_client.get("/catalogue").status_code == 403


@pytest.mark.parametrize("change", ["switched off", "academy left", "academy closed"])
def test_a_draft_started_is_not_submittable_once_the_trust_may_not_order(
    trust_client: Any, world: Any, change: str
) -> None:
    allow(world)
    start(trust_client, world.academy)
    set_days_htmx(trust_client, world.service.id, "2")
    page = trust_client.get("/order/check").soup
    form = {
        "order_id": page.select_one("input[name=order_id]")["value"],
        "version": page.select_one("input[name=version]")["value"],
        "terms_version_id": page.select_one("input[name=terms_version_id]").get("value", ""),
    }
    if change == "switched off":
        allow(world, False)
    elif change == "academy left":
        world.academy.trust_id = None
    else:
        world.academy.status = SchoolStatus.CLOSED
    db.session.commit()
    response = trust_client.post_form("/order/check", form)
    assert response.status_code == 403
    assert trust_client.get("/catalogue").status_code == 403
    draft = db.session.scalars(select(Order)).one()
    assert draft.status == OrderStatus.DRAFT
    # The service refuses it too, whatever page is used.
    with pytest.raises(basket.OrderError):
        workflow.submit(
            draft,
            world.users[Role.TRUST_FINANCE],
            workflow.details_of(draft),
            expected_version=draft.version,
        )
    db.session.rollback()


def test_school_staff_are_unchanged_and_cannot_use_the_trusts_button(
    as_role: Any, world: Any
) -> None:
    allow(world)
    academy_sbm = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    academy_sbm.sign_in_as(world.academy_sbm)
    assert academy_sbm.post_form(f"/trust/academies/{world.academy.urn}/order").status_code == 403
    catalogue = academy_sbm.get("/catalogue").soup
    assert catalogue.select_one("#acting-for") is None
    assert catalogue.select_one('form[action="/order/quote"]') is not None
