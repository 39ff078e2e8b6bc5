"""A partnership order's documents (issue 16 part 3): each member charged by its own billing
route (an internal recharge for the maintained school, a VAT invoice for each academy), the
shares adding up to the order to the penny, each document naming the partnership order it
charges for, and who sees which: a member never sees another member's document, a trust never
sees a non-member's, and a trust's finance staff see their academies' shares."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import text_of
from tests.course_factories import book, make_session
from tests.factories import make_school, make_user
from tests.partnership_factories import (
    confirmed_partnership_order,
    partnership_members,
    placed_partnership_order,
)
from traded_app.domain.partnership_split import SplitRule
from traded_app.domain.pricing import vat_pence
from traded_app.extensions import db
from traded_app.models import Document, DocumentType, Trust
from traded_app.models.types import Role, VatTreatment
from traded_app.services.documents import reading, sending
from traded_app.services.ordering import partnership_orders


def client_as(app: Flask, user: Any) -> Any:
    client = app.test_client()
    client.sign_in_as(user)
    return client


def trust_world(world: Any) -> Any:
    """The world's partnership, with Brook Academy joining Meadow Academy in Meadow Learning
    Trust: both academies of the partnership belong to one trust; Riverside is maintained."""
    partnership_members(world)
    world.brook.trust_id = world.trust.id
    db.session.commit()
    return world


def by_buyer(documents: list[Document]) -> dict[str, Document]:
    return {document.buyer_name: document for document in documents}


@pytest.mark.parametrize("rule", [SplitRule.EQUAL, SplitRule.PUPILS])
def test_each_member_is_charged_by_its_own_route_and_the_shares_add_up(
    world: Any, rule: SplitRule
) -> None:
    partnership_members(world)
    # Pupil numbers that do not divide the order evenly: the pennies left go to the lead.
    world.school.pupils, world.academy.pupils, world.brook.pupils = 211, 419, 633
    db.session.commit()
    order = placed_partnership_order(world, rule, half_days=5)
    for share in order.shares:
        if share.approval.value == "waiting":
            head = world.users[Role.HEADTEACHER] if share.is_lead else world.brook_head
            partnership_orders.approve_share(order, head)
    documents = by_buyer(partnership_orders.confirm(order, world.users[Role.LA_ADMIN]))
    db.session.commit()

    assert order.net_pence == 112_500  # two and a half days at £450
    assert sum(d.net_pence for d in documents.values()) == order.net_pence
    recharge = documents["Riverside Primary School"]
    assert recharge.document_type == DocumentType.RECHARGE
    assert not recharge.number.startswith("INV-")  # recharges have a series of their own
    assert recharge.vat_pence == 0 and recharge.gross_pence == recharge.net_pence
    assert {line.vat_treatment for line in recharge.lines} == {VatTreatment.OUTSIDE_SCOPE}
    for name in ("Meadow Academy", "Brook Academy"):
        invoice = documents[name]
        assert invoice.document_type == DocumentType.INVOICE
        assert invoice.number.startswith("INV-")
        assert invoice.vat_pence == vat_pence(invoice.net_pence, 2000)
        assert invoice.gross_pence == invoice.net_pence + invoice.vat_pence
    for share in order.shares:
        document = documents[share.school.name]
        assert document.partnership_share_id == share.id
        assert document.net_pence == share.net_pence == sum(x.net_pence for x in document.lines)
        assert document.order_reference == order.reference
    shares = {share.school.name: share.net_pence for share in order.shares}
    if rule == SplitRule.EQUAL:
        # £1,125.00 in three: £375.00 each.
        assert set(shares.values()) == {37_500}
    else:
        # 211 : 419 : 633 of £1,125.00, each rounded down, the pennies left to the lead.
        assert shares["Meadow Academy"] == 112_500 * 419 // 1263
        assert shares["Brook Academy"] == 112_500 * 633 // 1263
        assert shares["Riverside Primary School"] == (
            112_500 - shares["Meadow Academy"] - shares["Brook Academy"]
        )


def test_a_document_names_the_partnership_order_it_charges_for(app: Flask, world: Any) -> None:
    order, documents = confirmed_partnership_order(trust_world(world))
    brook = by_buyer(documents)["Brook Academy"]
    charged = reading.charged_for(brook)
    assert charged is not None
    assert (charged.kind, charged.reference, charged.record_id) == (
        reading.ChargedKind.PARTNERSHIP_ORDER,
        order.reference,
        order.id,
    )
    page = client_as(app, world.brook_sbm).get(f"/documents/{brook.id}")
    summary = text_of(page.soup, "main .govuk-summary-list")
    assert f"Partnership order {order.reference}" in summary
    assert "Brought forward" not in summary
    link = page.soup.select_one("main .govuk-summary-list a")
    assert link["href"] == f"/partnership-orders/{order.id}"
    _subject, body = sending.message_for(brook)
    assert f"for partnership order {order.reference}." in body
    assert "for order " not in body


def test_a_course_booking_document_names_the_booking(app: Flask, world: Any) -> None:
    booking = book(world, make_session(world), 1)
    document = db.session.query(Document).filter_by(course_booking_id=booking.id).one()
    page = client_as(app, world.users[Role.SCHOOL_BUSINESS_MANAGER]).get(
        f"/documents/{document.id}"
    )
    summary = text_of(page.soup, "main .govuk-summary-list")
    assert f"Course booking {booking.reference}" in summary
    assert "Purchase order number PO-7" in summary
    assert "Brought forward" not in summary
    _subject, body = sending.message_for(document)
    assert f"for course booking {booking.reference}." in body


def test_a_member_never_sees_another_members_document(app: Flask, world: Any) -> None:
    order, documents = confirmed_partnership_order(trust_world(world))
    documents_of = by_buyer(documents)
    members = {
        "Riverside Primary School": world.users[Role.SCHOOL_BUSINESS_MANAGER],
        "Meadow Academy": world.academy_sbm,
        "Brook Academy": world.brook_sbm,
    }
    for name, user in members.items():
        client = client_as(app, user)
        shares = text_of(client.get(f"/partnership-orders/{order.id}").soup, "#shares")
        invoices = text_of(client.get("/invoices").soup, "main")
        for other, document in documents_of.items():
            seen = client.get(f"/documents/{document.id}").status_code
            pdf = client.get(f"/documents/{document.id}/pdf").status_code
            if other == name:
                assert (seen, pdf) == (200, 200)
                assert document.number in shares and document.number in invoices
            else:
                assert (seen, pdf) == (404, 404), (name, other)
                assert document.number not in shares and document.number not in invoices


def test_a_trust_never_sees_a_non_members_document(app: Flask, world: Any) -> None:
    # Brook Academy stays outside the trust: only Meadow Academy is the trust's.
    order, documents = confirmed_partnership_order(world)
    documents_of = by_buyer(documents)
    trust = client_as(app, world.users[Role.TRUST_FINANCE])
    page = trust.get(f"/partnership-orders/{order.id}")
    assert page.status_code == 200
    shares = text_of(page.soup, "#shares")
    assert documents_of["Meadow Academy"].number in shares
    for outsider in ("Brook Academy", "Riverside Primary School"):
        assert documents_of[outsider].number not in shares
        assert trust.get(f"/documents/{documents_of[outsider].id}").status_code == 404
    assert trust.get(f"/documents/{documents_of['Meadow Academy'].id}").status_code == 200
    assert trust.get(f"/trust/academies/{world.brook.urn}").status_code == 404

    # Another trust, none of whose academies shares in the order, sees nothing of it.
    other = Trust(name="Estuary Schools Trust", companies_house_number="08123456")
    db.session.add(other)
    db.session.flush()
    make_school(
        100009, "Estuary Academy", quadrant=world.quadrant, academy=True
    ).trust_id = other.id
    stranger = make_user("finance@estuary.example", Role.TRUST_FINANCE, trust_id=other.id)
    db.session.commit()
    client = client_as(app, stranger)
    assert client.get(f"/partnership-orders/{order.id}").status_code == 404
    for document in documents:
        assert client.get(f"/documents/{document.id}").status_code == 404


def test_trust_staff_see_their_academies_shares(app: Flask, world: Any) -> None:
    order, documents = confirmed_partnership_order(trust_world(world))
    documents_of = by_buyer(documents)
    trust = client_as(app, world.users[Role.TRUST_FINANCE])
    page = trust.get(f"/partnership-orders/{order.id}")
    assert page.status_code == 200
    assert page.soup.select_one(".govuk-back-link")["href"] == "/trust"
    shares = text_of(page.soup, "#shares")
    for name in ("Meadow Academy", "Brook Academy"):
        assert f"VAT invoice {documents_of[name].number}" in shares
    assert documents_of["Riverside Primary School"].number not in shares
    assert "Internal recharge" in shares  # the maintained member's route, not its document
    # Nothing on the page lets the trust act for a member: no approval, PO or withdrawal.
    assert page.soup.select("main form") == []
    for academy in (world.academy, world.brook):
        listed = trust.get(f"/trust/academies/{academy.urn}")
        assert order.reference in text_of(listed.soup, "main")
    document = documents_of["Brook Academy"]
    shown = trust.get(f"/documents/{document.id}")
    assert f"Partnership order {order.reference}" in text_of(shown.soup, "main")
    assert trust.get(f"/documents/{document.id}/pdf").status_code == 200
    # The lead's business manager still sees only its own school's document.
    lead = client_as(app, world.users[Role.SCHOOL_BUSINESS_MANAGER])
    lead_shares = text_of(lead.get(f"/partnership-orders/{order.id}").soup, "#shares")
    assert documents_of["Brook Academy"].number not in lead_shares


def test_the_pupils_column_shows_only_for_the_pupil_number_split(app: Flask, world: Any) -> None:
    partnership_members(world)
    client = client_as(app, world.users[Role.SCHOOL_BUSINESS_MANAGER])
    headers = {}
    for rule in ("equal", "pupils"):
        checked = client.post_form(
            "/partnership-orders/new",
            {f"days-{world.service.id}": "3", "rule": rule, "action": "check"},
        )
        headers[rule] = [
            th.get_text(strip=True) for th in checked.soup.select("#proposal thead th")
        ]
    assert "Pupils" not in headers["equal"]
    assert "Pupils" in headers["pupils"]
    order, _documents = confirmed_partnership_order(world)
    shares = text_of(client.get(f"/partnership-orders/{order.id}").soup, "#shares")
    assert "pupils" not in shares  # an equal split: pupil numbers play no part
