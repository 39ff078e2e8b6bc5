"""Schools' billing details kept true: checked by the business manager at the first sign-in of
each academic year, changed by the school or the service manager with their history, and a VAT
invoice refused, saying what is missing and who can add it, without the school's address."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import PASSWORD, submitted_order
from traded_app.extensions import db
from traded_app.models import Document, School
from traded_app.models.orders import OrderStatus
from traded_app.models.types import Role
from traded_app.services.council import school_details


def _sign_in(client: Any, email: str) -> Any:
    return client.post_form("/sign-in", {"email": email, "password": PASSWORD})


def test_business_manager_checks_the_details_at_first_sign_in_of_the_year(
    client: Any, world: Any
) -> None:
    world.school.details_checked_year = school_details.this_year() - 1  # checked last year
    db.session.commit()
    response = _sign_in(client, "sbm@school.example")
    assert response.location == "/school/details"
    page = client.get("/school/details")
    assert page.soup.h1.get_text(strip=True) == "Check your school’s details"
    assert "a billing e-mail address" in text_of(page.soup, "#missing")
    assert "The school’s own address: 100001 School Lane, Chelmsford, CM1 1AA" in text_of(
        page.soup, "#value-billing_address"
    )
    refused = client.post_form("/school/details/confirm", follow_redirects=True)
    assert "Add a billing e-mail address before confirming" in text_of(
        refused.soup, ".govuk-notification-banner"
    )
    form = client.get("/school/details/change")
    assert form.soup.select_one("textarea#billing_address") is not None
    bad = client.post_form(
        "/school/details/change",
        {"billing_contact_email": "not an email", "cost_centre": "CC1"},
    )
    assert "Enter an email address in the correct format" in text_of(
        bad.soup, ".govuk-error-summary"
    )
    no_cost_centre = client.post_form(
        "/school/details/change", {"billing_contact_email": "money@riverside.example"}
    )
    assert "Enter the cost centre" in text_of(no_cost_centre.soup, ".govuk-error-summary")
    saved = client.post_form(
        "/school/details/change",
        {
            "billing_address": "Finance office\nRiver Road\nChelmsford CM2 2BB",
            "billing_contact_name": "Rita Money",
            "billing_contact_email": "money@riverside.example",
            "cost_centre": "CC100001",
        },
    )
    assert saved.location == "/school/details"
    page = client.get("/school/details")
    assert text_of(page.soup, "#value-billing_address") == (
        "Finance office, River Road, Chelmsford CM2 2BB"
    )
    history = text_of(page.soup, "#details-history")
    assert "Billing e-mail: – → money@riverside.example" in history
    assert "Sbm" in history  # who (the factory names the user after the address)
    done = client.post_form("/school/details/confirm")
    assert done.location == "/school"
    school = db.session.get(School, world.school.id)
    assert school.details_checked_year == school_details.this_year()
    # Checked this year: signing in again goes straight to the school.
    client.post_form("/sign-out")
    assert _sign_in(client, "sbm@school.example").location == "/"
    # Headteachers may see and change the details, but the yearly check is the SBM's.
    head = _sign_in(client.application.test_client(), "head@school.example")
    assert head.location == "/"


def test_service_manager_changes_billing_details_with_history(as_role: Any, world: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    url = f"/council/manage/schools/{world.academy.urn}/billing"
    saved = admin.post_form(
        url,
        {
            "billing_address": "Trust office\n1 High Street\nColchester CO1 1AA",
            "billing_contact_email": "trust@meadow.example",
        },
    )
    assert saved.location == f"/council/manage/schools/{world.academy.urn}"
    page = admin.get(saved.location)
    assert "Trust office, 1 High Street" in text_of(page.soup, "#billing-address")
    history = admin.get(url).soup
    assert "Billing address: – → Trust office" in text_of(history, "#details-history")
    school_view = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/school/details")
    assert "Trust office" not in text_of(school_view.soup, "main")  # its own school only


def test_vat_invoice_needs_an_address_and_confirmation_says_who_can_add_it(
    as_role: Any, world: Any
) -> None:
    world.academy.address = ""
    world.academy.postcode = ""
    order = submitted_order(world, school=world.academy)
    db.session.commit()
    admin = as_role(Role.LA_ADMIN)
    response = admin.post_form(f"/orders/{order.id}/confirm", follow_redirects=True)
    message = text_of(response.soup, ".govuk-notification-banner")
    assert "Meadow Academy has no billing address, which a VAT invoice must show" in message
    assert "business manager can add it on “Check your school’s details”" in message
    assert "or the service manager on the school’s page" in message
    db.session.expire_all()
    assert db.session.get(type(order), order.id).status == OrderStatus.SUBMITTED
    assert db.session.execute(select(Document)).first() is None
    # The academy's business manager adds it; confirming then issues the invoice with it.
    academy_sbm = as_role(None).sign_in_as(world.academy_sbm)
    academy_sbm.post_form(
        "/school/details/change",
        {"billing_address": "Meadow Lane\nWitham CM8 1AA", "billing_contact_email": "a@b.example"},
    )
    admin.post_form(f"/orders/{order.id}/confirm")
    document = db.session.execute(select(Document)).scalar_one()
    assert document.buyer_address == "Meadow Lane\nWitham CM8 1AA"


def test_a_recharge_needs_no_address(as_role: Any, world: Any) -> None:
    world.school.address = ""
    world.school.postcode = ""
    order = submitted_order(world)
    db.session.commit()
    as_role(Role.LA_ADMIN).post_form(f"/orders/{order.id}/confirm")
    assert db.session.execute(select(Document)).scalar_one().buyer_address == ""
