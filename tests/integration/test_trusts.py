"""Multi-academy trusts (issue 16 part 2): the service manager's trust pages, and what a
trust's finance staff see and pay. A trust never sees a non-member's records; a member academy
never sees another member's."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader

from tests.conftest import text_of
from tests.factories import charged_order, issue_document, make_school, make_user
from tests.stripe_fake import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from traded_app.domain.trusts import InvoiceTo
from traded_app.extensions import db
from traded_app.models import Document, OutgoingEmail, School, Trust, User
from traded_app.models.types import Role, VatTreatment
from traded_app.services.finance import payments
from traded_app.services.platform.settings import today


@pytest.fixture()
def second_academy(world: Any) -> School:
    """Another academy of the world's trust, with its own business manager."""
    school = make_school(100004, "Brook Academy", quadrant=world.quadrant, academy=True)
    school.trust_id = world.trust.id
    make_user("sbm@brook.example", Role.SCHOOL_BUSINESS_MANAGER, school)
    db.session.commit()
    return school


@pytest.fixture()
def outsider(world: Any) -> School:
    """An academy in no trust."""
    school = make_school(100005, "Lone Academy", quadrant=world.quadrant, academy=True)
    db.session.commit()
    return school


def invoice_to(world: Any, school: School) -> Document:
    document = issue_document(
        world, school=school, lines=[(4, 45_000, VatTreatment.STANDARD, 2000)]
    )
    db.session.commit()
    return document


@pytest.fixture()
def trust_client(as_role: Any) -> Any:
    return as_role(Role.TRUST_FINANCE)


# --- The service manager ------------------------------------------------------------------------


def test_service_manager_adds_a_trust_with_its_companies_house_number(as_role: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    response = admin.post_form(
        "/council/trusts",
        {
            "name": "Oak  Learning Trust",
            "companies_house_number": "7 318 715",
            "billing_address": "1 Oak Road\nChelmsford",
            "finance_email": "finance@oak.example",
            "invoice_to": "academy",
        },
    )
    assert response.status_code == 302
    trust = db.session.query(Trust).filter_by(name="Oak Learning Trust").one()
    assert trust.companies_house_number == "07318715"  # as Companies House writes it
    page = admin.get(response.location).soup
    assert text_of(page, "h1") == "Oak Learning Trust"
    assert "Companies House 07318715" in text_of(page, ".govuk-caption-l")
    listing = admin.get("/council/trusts").soup
    assert "Oak Learning Trust" in text_of(listing, "#trusts")


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("ABC", "Enter the Companies House number as 8 digits"),
        ("123456789", "Enter the Companies House number as 8 digits"),
        ("07318714", "Meadow Learning Trust already has Companies House number 07318714"),
    ],
)
def test_a_wrong_or_taken_companies_house_number_is_refused(
    as_role: Any, number: str, message: str
) -> None:
    response = as_role(Role.LA_ADMIN).post_form(
        "/council/trusts",
        {"name": "Elm Trust", "companies_house_number": number, "invoice_to": "academy"},
    )
    assert response.status_code == 200
    assert message in text_of(response.soup, ".govuk-error-summary")
    assert db.session.query(Trust).filter_by(name="Elm Trust").count() == 0


def test_service_manager_adds_and_removes_member_academies(
    as_role: Any, world: Any, outsider: School
) -> None:
    admin = as_role(Role.LA_ADMIN)
    url = f"/council/trusts/{world.trust.id}"
    response = admin.post_form(f"{url}/academies", {"urn": str(outsider.urn)})
    assert response.status_code == 302
    page = admin.get(url).soup
    assert "Lone Academy" in text_of(page, "#members")
    assert "Meadow Academy" in text_of(page, "#members")

    # A maintained school is part of the council: it belongs to no trust.
    refused = admin.post_form(f"{url}/academies", {"urn": str(world.school.urn)})
    assert refused.status_code == 200
    assert "is not an academy" in text_of(refused.soup, ".govuk-error-summary")
    unknown = admin.post_form(f"{url}/academies", {"urn": "nonsense"})
    assert "URN must be a number" in text_of(unknown.soup, ".govuk-error-summary")

    admin.post_form(f"{url}/academies/{outsider.urn}/remove")
    db.session.expire_all()
    assert db.session.get(School, outsider.id).trust_id is None


def test_invoice_setting_is_saved_per_trust(as_role: Any, world: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    response = admin.post_form(
        f"/council/trusts/{world.trust.id}",
        {
            "name": "Meadow Learning Trust",
            "companies_house_number": "07318714",
            "invoice_to": "trust",
            "billing_address": "Trust House",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Trust, world.trust.id).invoice_to.value == "trust"


# --- The trust's finance staff ------------------------------------------------------------------


def test_trust_finance_sees_every_member_and_what_each_owes(
    trust_client: Any, world: Any, second_academy: School, outsider: School
) -> None:
    invoice_to(world, world.academy)
    invoice_to(world, second_academy)
    invoice_to(world, outsider)
    response = trust_client.get("/", follow_redirects=True)
    page = response.soup
    assert text_of(page, "h1") == "Meadow Learning Trust"
    assert "(Trust finance, Meadow Learning Trust)" in text_of(page, ".app-header__user")
    assert [a.get_text(strip=True) for a in page.select("#navigation a")] == [
        "Academies",
        "Statement",
        "Remittances",
        "Consolidated invoices",
    ]
    table = text_of(page, "#academies")
    assert "Meadow Academy" in table and "Brook Academy" in table
    assert "Lone Academy" not in table
    assert "£1,080.00" in table


def test_trust_finance_reads_a_members_documents_orders_and_days(
    trust_client: Any, world: Any
) -> None:
    order, document = charged_order(world, school=world.academy)
    db.session.commit()
    page = trust_client.get(f"/trust/academies/{world.academy.urn}").soup
    assert document.number in text_of(page, "main")
    assert order.reference in text_of(page, "main")
    detail = trust_client.get(f"/documents/{document.id}").soup
    assert "Reminders" not in text_of(detail, "main")  # finance's, not the trust's
    pdf = trust_client.get(f"/documents/{document.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    order_page = trust_client.get(f"/orders/{order.id}").soup
    assert text_of(order_page, "main form") == ""  # read-only: no approve, withdraw or cancel
    days = trust_client.get(f"/schools/{world.academy.urn}/days").soup
    assert text_of(days, "h1") == "Days"
    assert not days.select('a[href^="/council"]')  # nothing of the council's to follow
    back = trust_client.get(f"/orders/{order.id}").soup.select_one(".govuk-back-link")
    assert back is not None and back["href"] == f"/trust/academies/{world.academy.urn}"
    assert trust_client.get(f"/schools/{world.academy.urn}").status_code == 200


def test_a_trust_never_sees_a_non_members_records(
    trust_client: Any, world: Any, outsider: School
) -> None:
    document = invoice_to(world, outsider)
    for url in (
        f"/trust/academies/{outsider.urn}",
        f"/trust/academies/{world.school.urn}",
        f"/documents/{document.id}",
        f"/documents/{document.id}/pdf",
        f"/schools/{outsider.urn}",
        f"/schools/{outsider.urn}/days",
        f"/schools/{world.school.urn}",
    ):
        response = trust_client.get(url)
        assert response.status_code == 404, url
        assert "Lone Academy" not in response.get_data(as_text=True)


def test_a_member_academy_never_sees_another_members_records(
    as_role: Any, world: Any, second_academy: School
) -> None:
    document = invoice_to(world, second_academy)
    client = as_role(None)
    client.sign_in_as(world.academy_sbm)  # Meadow Academy's business manager
    assert client.get(f"/documents/{document.id}").status_code == 404
    assert client.get(f"/schools/{second_academy.urn}").status_code == 404
    assert client.get(f"/trust/academies/{second_academy.urn}").status_code == 403
    assert client.get("/trust").status_code == 403


def test_trust_pages_are_not_the_councils(trust_client: Any) -> None:
    for url in ("/council/trusts", "/orders", "/statement"):
        assert trust_client.get(url).status_code == 403, url


# --- Paying a member's invoice by card ----------------------------------------------------------


@pytest.fixture()
def fake(app: Flask, world: Any) -> Iterator[FakeStripe]:
    world.council.stripe_secret_key = SECRET_KEY
    world.council.stripe_webhook_secret = WEBHOOK_SECRET
    db.session.commit()
    stripe_fake = FakeStripe()
    app.extensions["stripe_http_client"] = stripe_fake.http_client()
    yield stripe_fake
    app.extensions.pop("stripe_http_client", None)


def test_trust_finance_pays_any_members_invoice_by_card(
    trust_client: Any, world: Any, fake: FakeStripe, second_academy: School, outsider: School
) -> None:
    document = invoice_to(world, second_academy)
    page = trust_client.get(f"/documents/{document.id}").soup
    assert "Pay by card" in text_of(page, ".govuk-button-group")
    response = trust_client.post_form(f"/documents/{document.id}/pay")
    assert response.status_code == 303
    [session] = fake.sessions.values()
    assert session["metadata"]["document_id"] == str(document.id)
    done = trust_client.get(
        f"/documents/{document.id}/pay/done?session_id={fake.pay(session['id'])['id']}"
    )
    assert done.status_code == 200
    assert "Brook Academy" in text_of(done.soup, "main")

    other = invoice_to(world, outsider)
    assert trust_client.get(f"/documents/{other.id}/pay").status_code == 404
    assert trust_client.post_form(f"/documents/{other.id}/pay").status_code == 404


# --- Trust finance staff: invited from the trust's page -----------------------------------------


def test_service_manager_invites_trust_finance_staff_from_the_trust_page(
    as_role: Any, world: Any
) -> None:
    admin = as_role(Role.LA_ADMIN)
    url = f"/council/trusts/{world.trust.id}"
    response = admin.post_form(
        f"{url}/staff", {"staff_name": "Jo Bursar", "staff_email": "jo@meadow.example"}
    )
    assert response.status_code == 302
    person = db.session.query(User).filter_by(email="jo@meadow.example").one()
    assert (person.role, person.trust_id, person.school_id) == (
        Role.TRUST_FINANCE,
        world.trust.id,
        None,
    )
    assert "Jo Bursar" in text_of(admin.get(url).soup, "#staff")
    taken = admin.post_form(
        f"{url}/staff", {"staff_name": "Jo Again", "staff_email": "jo@meadow.example"}
    )
    assert "already an account" in text_of(taken.soup, ".govuk-error-summary")


def test_trust_finance_cannot_be_given_without_a_trust(as_role: Any, world: Any) -> None:
    """The users page cannot make a trust finance account with no trust (a clear message, not
    a database error); changing a trust finance person's role takes them out of the trust."""
    admin = as_role(Role.LA_ADMIN)
    response = admin.post_form(
        "/council/manage/users/new",
        {"name": "No Trust", "email": "none@example.org", "role": "trust_finance"},
    )
    assert response.status_code == 200
    assert "invite them from the trust's page" in text_of(response.soup, ".govuk-error-summary")

    person = world.users[Role.TRUST_FINANCE]
    kept = admin.post_form(
        f"/council/manage/users/{person.id}",
        {"name": "Trust Person", "email": person.email, "role": "trust_finance"},
    )
    assert kept.status_code == 302
    moved = admin.post_form(
        f"/council/manage/users/{person.id}",
        {"name": "Trust Person", "email": person.email, "role": "la_finance"},
    )
    assert moved.status_code == 302
    db.session.expire_all()
    changed = db.session.get(User, person.id)
    assert (changed.role, changed.trust_id) == (Role.LA_FINANCE, None)


# --- The trust's statement ----------------------------------------------------------------------


def test_the_trust_statement_groups_its_academies_as_page_pdf_and_csv(
    trust_client: Any, world: Any, second_academy: School, outsider: School
) -> None:
    first = invoice_to(world, world.academy)
    second = invoice_to(world, second_academy)
    invoice_to(world, outsider)
    payments.record_bank_transfer(first, 8_000, today(), "BACS 12", world.users[Role.LA_FINANCE])
    db.session.commit()

    page = trust_client.get("/trust/statement").soup
    members = text_of(page, "#members")
    assert "Meadow Academy" in members and "Brook Academy" in members
    assert "Lone Academy" not in members
    assert text_of(page, "#closing") == "£2,080.00"  # £1,080 × 2 − £80 paid

    pdf_response = trust_client.get("/trust/statement/pdf")
    assert pdf_response.status_code == 200 and pdf_response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf_response.get_data()))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB" and "/StructTreeRoot" in root
    assert reader.metadata is not None
    assert reader.metadata.title == "Statement of account for Meadow Learning Trust"
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert first.number in text and second.number in text and "BACS 12" in text
    assert "Lone Academy" not in text and "£2,080.00" in text

    lines = trust_client.get("/trust/statement/csv").get_data(as_text=True).splitlines()
    assert lines[0].startswith("Academy,URN,Date,Type")
    assert any(line.startswith("Brook Academy,100004,") and second.number in line for line in lines)
    assert lines[-1].startswith("Meadow Learning Trust,") and lines[-1].endswith(",2080.00")
    assert not any("Lone Academy" in line for line in lines)
    bad = trust_client.get("/trust/statement?from=nonsense").soup
    assert "must be a real date" in text_of(bad, ".govuk-error-summary")


# --- Invoices addressed to the academy (default) or to the trust --------------------------------


def test_invoices_go_to_each_academy_by_default(world: Any) -> None:
    _order, document = charged_order(world, school=world.academy)
    db.session.commit()
    assert document.buyer_name == "Meadow Academy"
    assert "For Meadow Academy" not in (document.lines[0].description or "")


def test_invoices_addressed_to_the_trust_name_the_academy_on_each_line(
    world: Any, trust_client: Any
) -> None:
    world.trust.invoice_to = InvoiceTo.TRUST
    world.trust.billing_address = "Trust House\nChelmsford CM1 2ZZ"
    world.trust.finance_email = "finance@meadow-trust.example"
    db.session.commit()
    _order, document = charged_order(world, school=world.academy)
    db.session.commit()
    assert (document.school_id, document.buyer_urn) == (world.academy.id, world.academy.urn)
    assert document.buyer_name == "Meadow Learning Trust"
    assert document.buyer_address == "Trust House\nChelmsford CM1 2ZZ"
    assert document.buyer_contact_email == "finance@meadow-trust.example"
    assert all(
        line.description.startswith("For Meadow Academy (URN 100003)") for line in document.lines
    )
    sent = db.session.query(OutgoingEmail).filter_by(document_id=document.id).all()
    assert [e.recipients for e in sent] == ["finance@meadow-trust.example"]
    reader = PdfReader(io.BytesIO(trust_client.get(f"/documents/{document.id}/pdf").get_data()))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "Meadow Learning Trust" in text and "Trust House" in text
    assert "For Meadow Academy (URN 100003)" in text

    # Issued documents never change: back to the academy, the issued invoice keeps the trust.
    world.trust.invoice_to = InvoiceTo.ACADEMY
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Document, document.id).buyer_name == "Meadow Learning Trust"
    _again, later = charged_order(world, school=world.academy)
    assert later.buyer_name == "Meadow Academy"


def test_a_maintained_schools_recharge_is_never_addressed_to_a_trust(world: Any) -> None:
    world.trust.invoice_to = InvoiceTo.TRUST
    world.school.trust_id = world.trust.id  # not possible through the pages; data only
    db.session.commit()
    _order, recharge = charged_order(world, school=world.school)
    assert recharge.buyer_name == world.school.name
