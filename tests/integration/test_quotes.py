"""Quotes, terms accepted at submission, and PO numbers given later (issue 15 parts 3 and 4)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select, update

from tests.conftest import text_of
from tests.factories import submitted_order
from tests.integration.test_ordering import checkout, save_details, set_days_htmx
from traded_app.extensions import db
from traded_app.models import (
    Document,
    Order,
    OrderStatus,
    OutgoingEmail,
    Quote,
    ServicePrice,
    TermsVersion,
)
from traded_app.models.base import utcnow
from traded_app.models.types import Role
from traded_app.services.documents import issuing
from traded_app.services.documents.numbering import financial_year_of
from traded_app.services.ordering import po_numbers, terms, workflow
from traded_app.services.platform.settings import today


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def ask_for_quote(client: Any) -> Any:
    response = client.post_form("/order/quote")
    assert response.status_code == 302 and "/quotes/" in response.location, response.location
    return db.session.execute(select(Quote).order_by(Quote.id.desc()).limit(1)).scalar_one()


def set_price(pence: int) -> None:
    db.session.execute(select(ServicePrice)).scalar_one().price_per_day_pence = pence
    db.session.commit()


def publish_terms(as_role: Any, world: Any, text: str) -> Any:
    response = as_role(Role.LA_ADMIN).post_form(
        f"/council/terms/{world.year.start_year}", {"text": text}
    )
    assert response.status_code == 302, text_of(response.soup, "main")
    return terms.current_for(world.year.id)


# --- Quotes ------------------------------------------------------------------------------------


def test_a_quote_is_numbered_in_its_own_series_and_its_pdf_says_what_it_quotes(
    as_role: Any, world: Any
) -> None:
    publish_terms(as_role, world, "Orders are confirmed subject to the team's capacity.")
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "2.5")
    first = ask_for_quote(client)
    second = ask_for_quote(client)
    year = financial_year_of(today(), world.council.financial_year_start_month)
    assert (first.number, second.number) == (f"QUO-{year}-000001", f"QUO-{year}-000002")
    assert first.valid_until == today() + timedelta(days=30)
    assert (first.half_days, first.gross_pence) == (5, 112_500)

    page = client.get(f"/quotes/{first.id}").soup
    assert page.h1.get_text(strip=True) == f"Quote {first.number}"
    response = client.get(f"/quotes/{first.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"{first.number}.pdf" in response.headers["Content-Disposition"]
    words = " ".join(pdf_text(response.data).split())
    assert f"Quote {first.number}" in words
    assert "Valid until" in words and "£1,125.00" in words
    assert "version 1" in words and "subject to the team's capacity" in words
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.metadata.title == f"Quote {first.number}"
    root = reader.trailer["/Root"]  # tagged PDF/UA-1, as the documents are
    assert root["/Lang"] == "en-GB" and "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"].value is True
    assert 'pdfuaid:part="1"' in root["/Metadata"].get_object().get_data().decode()
    # No invoice number was used.
    assert db.session.execute(select(Document)).first() is None


def test_a_quote_for_an_empty_basket_is_refused_with_a_message(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    response = client.post_form("/order/quote")
    assert response.status_code == 302 and response.location.endswith("/catalogue")
    page = client.get("/catalogue").soup
    assert "Choose the days you need before you ask for a quote" in text_of(
        page, ".govuk-notification-banner"
    )
    assert db.session.execute(select(Quote)).first() is None


def test_ordering_within_a_quotes_validity_keeps_its_prices(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "2")
    quote = ask_for_quote(client)
    set_price(60_000)  # the catalogue's price rises after the quote
    page = client.get("/catalogue").soup
    assert quote.number in text_of(page, "#quote-state")
    assert text_of(page, "#summary-total") == "£900.00"
    assert checkout(client).status_code == 302
    order = db.session.execute(select(Order).where(Order.status != "draft")).scalar_one()
    assert [line.price_per_day_pence for line in order.lines] == [45_000]
    assert (order.gross_pence, order.quote_id) == (90_000, quote.id)
    assert quote.number in text_of(client.get(f"/orders/{order.id}").soup, "main")


def test_days_changed_after_a_quote_are_priced_by_the_quote(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "2")
    ask_for_quote(client)
    set_price(60_000)
    answer = set_days_htmx(client, world.service.id, "3").soup
    assert text_of(answer, f"#days-{world.service.id}-result") == "£1,350.00"  # 3 x £450
    assert text_of(answer, "#summary-total") == "£1,350.00"


def test_after_a_quote_expires_todays_prices_apply_and_the_page_says_so(
    as_role: Any, world: Any
) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "2")
    quote = ask_for_quote(client)
    # Issued 31 days ago: expired yesterday (a quote never changes, so straight in SQL).
    db.session.execute(
        update(Quote)
        .where(Quote.id == quote.id)
        .values(issue_date=today() - timedelta(days=31), valid_until=today() - timedelta(days=1))
    )
    db.session.commit()
    set_price(60_000)
    page = client.get("/order/check").soup
    assert "expired" in text_of(page, ".govuk-inset-text")
    assert "today's prices apply" in text_of(page, ".govuk-inset-text")
    assert "£1,200.00" in text_of(page, "#order-totals")
    assert checkout(client).status_code == 302
    order = db.session.execute(select(Order).where(Order.status != "draft")).scalar_one()
    assert [line.price_per_day_pence for line in order.lines] == [60_000]
    assert order.quote_id is None


def test_ordering_from_a_quote_makes_the_basket_its_lines(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "3")
    quote = ask_for_quote(client)
    set_days_htmx(client, world.service.id, "1")  # changed afterwards
    response = client.post_form(f"/quotes/{quote.id}/order")
    assert response.status_code == 302 and response.location.split("?")[0].endswith(
        "/order/details"
    )
    page = client.get("/catalogue").soup
    assert text_of(page, "#summary-days") == "3"


def test_a_school_never_sees_another_schools_quote(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "2")
    quote = ask_for_quote(client)
    other = as_role(None).sign_in_as(world.academy_sbm)
    for url in (f"/quotes/{quote.id}", f"/quotes/{quote.id}/pdf"):
        response = other.get(url)
        assert response.status_code == 404
        assert world.school.name not in response.get_data(as_text=True)
    assert other.post_form(f"/quotes/{quote.id}/order").status_code == 404
    assert quote.number not in other.get("/invoices").get_data(as_text=True)
    # The council's staff see any school's quote; the school finds it with its documents.
    assert as_role(Role.LA_FINANCE).get(f"/quotes/{quote.id}/pdf").status_code == 200
    assert quote.number in text_of(client.get("/invoices").soup, "main")


def test_the_service_manager_sets_the_quote_prefix_and_validity(as_role: Any, world: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    bad = admin.post_form("/council/terms", {"prefix": "QT", "validity_days": "0"})
    assert bad.status_code == 200
    assert "a whole number from 1 to 365" in text_of(bad.soup, ".govuk-error-summary")
    same = admin.post_form("/council/terms", {"prefix": "INV", "validity_days": "10"})
    assert "must differ" in text_of(same.soup, ".govuk-error-summary")
    assert (
        admin.post_form("/council/terms", {"prefix": "qt", "validity_days": "10"}).status_code
        == 302
    )
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "1")
    quote = ask_for_quote(client)
    assert quote.number.startswith("QT-") and quote.valid_until == today() + timedelta(days=10)


# --- Terms and conditions ----------------------------------------------------------------------


def test_the_terms_in_force_are_accepted_at_submission_and_recorded(
    as_role: Any, world: Any
) -> None:
    first = publish_terms(as_role, world, "Version one of the terms.")
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "1")
    page = client.get("/order/check").soup
    assert "version 1" in page.select_one("label[for=accept_terms]").get_text()

    refused = checkout(client, accept_terms="")
    assert refused.status_code == 200
    assert "Confirm that you accept the terms and conditions" in text_of(
        refused.soup, ".govuk-error-summary"
    )
    assert checkout(client).status_code == 302
    order = db.session.execute(select(Order).where(Order.status != "draft")).scalar_one()
    assert order.terms_version_id == first.id and order.terms_accepted_at is not None

    second = publish_terms(as_role, world, "Version two of the terms.")
    assert second.version == 2
    db.session.expire_all()
    kept = db.session.get(TermsVersion, first.id)
    assert (kept.version, kept.text) == (1, "Version one of the terms.")
    assert db.session.get(Order, order.id).terms_version_id == first.id
    order_page = text_of(client.get(f"/orders/{order.id}").soup, "main")
    assert "terms and conditions, version 1" in order_page
    documents = text_of(client.get("/invoices").soup, "#terms ~ ul")
    assert "version 1" in documents and order.reference in documents
    version_page = client.get(f"/terms/{first.id}").soup
    assert "Version one of the terms." in text_of(version_page, "#terms-text")
    assert "read version 2" in text_of(version_page, "main")


def test_terms_changed_while_checking_must_be_read_again(as_role: Any, world: Any) -> None:
    publish_terms(as_role, world, "Version one.")
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "1")
    page = client.get("/order/check").soup
    publish_terms(as_role, world, "Version two.")  # meanwhile
    response = client.post_form(
        "/order/check",
        {
            "order_id": page.select_one("input[name=order_id]")["value"],
            "version": page.select_one("input[name=version]")["value"],
            "terms_version_id": page.select_one("input[name=terms_version_id]")["value"],
            "accept_terms": "y",
        },
    )
    assert response.status_code == 302 and response.location.endswith("/order/check")
    again = client.get("/order/check").soup
    assert "changed to version 2" in text_of(again, ".govuk-notification-banner")
    assert "version 2" in again.select_one("label[for=accept_terms]").get_text()
    assert db.session.execute(select(Order)).scalar_one().status == OrderStatus.DRAFT
    assert checkout(client).status_code == 302  # read again and accepted: version 2
    order = db.session.execute(select(Order)).scalar_one()
    assert order.terms_version.version == 2


def test_publishing_the_same_terms_again_is_refused(as_role: Any, world: Any) -> None:
    publish_terms(as_role, world, "The terms.")
    response = as_role(Role.LA_ADMIN).post_form(
        f"/council/terms/{world.year.start_year}", {"text": "The terms."}
    )
    assert response.status_code == 200
    assert "already" in text_of(response.soup, ".govuk-error-summary")
    assert len(terms.versions_for(world.year.id)) == 1


# --- PO numbers given later --------------------------------------------------------------------


def academy_order_without_po(world: Any) -> Order:
    world.academy.po_required = True
    db.session.commit()
    return submitted_order(world, {world.service: 2}, school=world.academy, po_number="")


def test_an_order_without_its_po_number_waits_for_it_before_its_invoice(
    app: Flask, as_role: Any, world: Any
) -> None:
    order = academy_order_without_po(world)
    assert order.status == OrderStatus.SUBMITTED
    admin = as_role(Role.LA_ADMIN)
    assert admin.post_form(f"/orders/{order.id}/confirm").status_code == 302
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.CONFIRMED
    assert issuing.charge_document_for(order) is None  # waits for the PO number
    assert order not in issuing.orders_awaiting_charge()  # and no invoice run takes it

    # The council sees it among the orders waiting for a PO number.
    queue = admin.get("/council/orders?status=awaiting_po").soup
    assert order.reference in text_of(queue, "#order-results")
    assert order.reference not in text_of(
        admin.get("/council/orders?status=needs_action").soup, "#order-results"
    )

    # The school is reminded, at most once a week.
    assert po_numbers.remind(utcnow()) == (1, 0)
    assert po_numbers.remind(utcnow()) == (0, 1)
    db.session.commit()
    mail = db.session.execute(
        select(OutgoingEmail).where(OutgoingEmail.kind == po_numbers.KIND)
    ).scalar_one()
    assert "sbm@academy.example" in mail.recipients and order.reference in mail.subject

    school = as_role(None).sign_in_as(world.academy_sbm)
    page = school.get(f"/orders/{order.id}").soup
    assert "invoice waits for it" in text_of(page, "#waits-for-po")
    response = school.post_form(f"/orders/{order.id}/po-number", {"po_number": "PO-LATE-7"})
    assert response.status_code == 302
    assert "PO-LATE-7" in text_of(school.get(response.location).soup, "main")
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    document = issuing.charge_document_for(order)
    assert document is not None and document.po_number == "PO-LATE-7"
    assert order.reference not in text_of(
        admin.get("/council/orders?status=awaiting_po").soup, "#order-results"
    )
    # Charged now: the PO number can no longer change.
    again = school.get(f"/orders/{order.id}/po-number")
    assert again.status_code == 302
    assert "charged already" in text_of(
        school.get(again.location).soup, ".govuk-notification-banner"
    )


def test_a_maintained_schools_recharge_never_waits_for_a_po_number(
    as_role: Any, world: Any
) -> None:
    world.school.po_required = True
    db.session.commit()
    order = submitted_order(world, {world.service: 2}, po_number="")
    workflow.confirm(order, world.users[Role.LA_ADMIN])
    db.session.commit()
    assert issuing.charge_document_for(order) is not None


def test_a_po_number_given_after_submission_is_kept_and_validated(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "1")
    assert checkout(client).status_code == 302
    order = db.session.execute(select(Order).where(Order.status != "draft")).scalar_one()
    too_long = client.post_form(f"/orders/{order.id}/po-number", {"po_number": "P" * 41})
    assert "40 characters or fewer" in text_of(too_long.soup, ".govuk-error-summary")
    empty = client.post_form(f"/orders/{order.id}/po-number", {"po_number": "  "})
    assert "Enter your purchase order number" in text_of(empty.soup, ".govuk-error-summary")
    assert (
        client.post_form(f"/orders/{order.id}/po-number", {"po_number": "PO-9"}).status_code == 302
    )
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.po_number == "PO-9"
    assert order.events[-1].action == "po_number_added"
    other = as_role(None).sign_in_as(world.academy_sbm)
    assert other.get(f"/orders/{order.id}/po-number").status_code == 404


def test_details_page_keeps_what_was_given_and_po_is_optional_even_when_required(
    as_role: Any, world: Any
) -> None:
    world.school.po_required = True
    db.session.commit()
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    set_days_htmx(client, world.service.id, "1")
    assert save_details(client, po_number="", adviser_note="Call first").status_code == 302
    page = client.get("/order/details").soup
    assert page.select_one("#adviser_note").get_text() == "Call first"
    assert "add it from the order's page later" in text_of(page, "#po_number-hint")
