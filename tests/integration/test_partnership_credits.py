"""Crediting members' shares of a partnership order and cancelling a confirmed one (issue 16
part 3): through the services (figures, refusals, the ledger, the capacity, the one charge per
share) and the pages, as each role."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.conftest import text_of
from tests.partnership_factories import (
    confirmed_partnership_order,
    partnership_members,
    placed_partnership_order,
)
from traded_app.domain.partnership_split import SplitRule
from traded_app.extensions import db
from traded_app.models import Document, DocumentType
from traded_app.models.partnership_orders import PartnershipOrderStatus
from traded_app.models.types import Role
from traded_app.services.days import county_days, ledger, partnership_days
from traded_app.services.documents import issuing
from traded_app.services.finance.balances import figures_of
from traded_app.services.ordering import partnership_credits as credits
from traded_app.services.ordering import partnership_orders
from traded_app.services.ordering.partnership_buying import PartnershipOrderError
from traded_app.services.platform.errors import NotFound


def by_buyer(documents: list[Document], name: str) -> Document:
    return next(d for d in documents if d.buyer_name == name)


def credit_notes_of(document: Document) -> list[Document]:
    return list(
        db.session.execute(
            select(Document)
            .where(Document.credits_document_id == document.id)
            .order_by(Document.id)
        ).scalars()
    )


def client_as(app: Flask, user: Any) -> Any:
    client = app.test_client()
    client.sign_in_as(user)
    return client


# --- Crediting a share ------------------------------------------------------------------------


def test_finance_credits_an_academys_share_in_part_then_the_rest(world: Any) -> None:
    order, documents = confirmed_partnership_order(world)  # 3 days, £450.00 each before VAT
    brook = by_buyer(documents, "Brook Academy")
    assert (brook.net_pence, brook.vat_pence) == (45_000, 9_000)
    finance = world.users[Role.LA_FINANCE]
    charge = credits.share_charge(brook.id)
    line_id = order.lines[0].id
    first = credits.credit_share(charge, finance, "One day not needed", {line_id: 2})
    db.session.commit()
    # 1 of the partnership's 3 days: a third of Brook's share, and of its VAT.
    assert first.document_type == DocumentType.CREDIT_NOTE
    assert (first.net_pence, first.vat_pence, first.gross_pence) == (15_000, 3_000, 18_000)
    assert first.credits_document_id == brook.id
    assert first.partnership_share_id == brook.partnership_share_id
    assert first.reason == "One day not needed"
    assert [(line.half_days, line.net_pence) for line in first.lines] == [(2, 15_000)]
    charge = credits.share_charge(brook.id)
    assert [line.left_half_days for line in charge.lines] == [4]
    with pytest.raises(PartnershipOrderError, match=r"2 days are left to credit, not 2\.5"):
        credits.credit_share(charge, finance, "Too much", {line_id: 5})
    rest = credits.credit_share(charge, finance, "The rest", None)
    db.session.commit()
    assert rest.gross_pence == 36_000
    assert sum(d.gross_pence for d in credit_notes_of(brook)) == brook.gross_pence
    assert figures_of(brook).balance_pence == 0
    with pytest.raises(PartnershipOrderError, match="Nothing is left to credit"):
        credits.credit_share(credits.share_charge(brook.id), finance, "Again", None)


def test_a_maintained_members_recharge_is_credited_without_vat(world: Any) -> None:
    _order, documents = confirmed_partnership_order(world)
    recharge = by_buyer(documents, "Riverside Primary School")
    assert recharge.document_type == DocumentType.RECHARGE
    note = credits.credit_share(
        credits.share_charge(recharge.id), world.users[Role.LA_FINANCE], "Not wanted", None
    )
    assert (note.net_pence, note.vat_pence) == (45_000, 0)
    assert [band.vat_treatment.value for band in note.vat_bands] == ["outside_scope"]


def test_only_finance_credits_a_share_and_only_a_shares_charge(world: Any) -> None:
    _order, documents = confirmed_partnership_order(world)
    charge = credits.share_charge(documents[0].id)
    for role in (Role.LA_ADMIN, Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER, Role.ADVISER):
        with pytest.raises(PartnershipOrderError, match="Only the council's finance officer"):
            credits.credit_share(charge, world.users[role], "No", None)
    with pytest.raises(PartnershipOrderError, match="Enter a reason"):
        credits.credit_share(charge, world.users[Role.LA_FINANCE], "  ", None)
    note = credits.credit_share(charge, world.users[Role.LA_FINANCE], "Yes", None)
    with pytest.raises(NotFound):
        credits.share_charge(note.id)  # a credit note charges nothing
    with pytest.raises(NotFound):
        credits.share_charge(999_999)


def test_a_share_is_charged_only_once(world: Any) -> None:
    order, _documents = confirmed_partnership_order(world)
    with pytest.raises(IntegrityError):
        partnership_orders.charge_share(order.shares[0], world.users[Role.LA_ADMIN])
    db.session.rollback()


# --- Cancelling a confirmed order ---------------------------------------------------------------


def test_cancelling_credits_every_share_for_the_days_left_and_frees_the_days(world: Any) -> None:
    order, documents = confirmed_partnership_order(world)
    brook = by_buyer(documents, "Brook Academy")
    finance = world.users[Role.LA_FINANCE]
    credits.credit_share(
        credits.share_charge(brook.id), finance, "Half a day", {order.lines[0].id: 1}
    )
    overview = county_days.council_overview(county_days.OverviewFilters(world.year.id))
    quadrant = next(q for q in overview.quadrants if q.quadrant_id == world.quadrant.id)
    assert quadrant.sold_half_days >= 6  # the partnership's days are sold
    sold_before = quadrant.sold_half_days
    admin = world.users[Role.LA_ADMIN]
    issued = credits.cancel(order, admin, "The partnership changed its plans")
    db.session.commit()
    assert len(issued) == 3
    assert order.status == PartnershipOrderStatus.CANCELLED
    assert order.cancelled_by_id == admin.id and order.cancelled_at is not None
    assert order.reason == "The partnership changed its plans"
    for document in documents:
        assert sum(d.gross_pence for d in credit_notes_of(document)) == document.gross_pence
        assert figures_of(document).balance_pence == 0
    assert issuing.credited_half_days(brook) == {order.lines[0].service.code: 6}
    assert "cancelled: The partnership changed its plans" in issued[0].reason
    for school in (world.school, world.academy, world.brook):
        assert ledger.school_ledger(school.id, world.year.id).partnership == []
    assert partnership_days.sold_half_days(world.quadrant.id, world.year.id) == 0
    overview = county_days.council_overview(county_days.OverviewFilters(world.year.id))
    quadrant = next(q for q in overview.quadrants if q.quadrant_id == world.quadrant.id)
    assert quadrant.sold_half_days == sold_before - 6
    with pytest.raises(PartnershipOrderError, match="is cancelled, so it cannot be cancelled"):
        credits.cancel(order, admin, "Again")


def test_only_the_service_manager_cancels_and_only_a_confirmed_order(world: Any) -> None:
    placed = placed_partnership_order(world)
    admin = world.users[Role.LA_ADMIN]
    with pytest.raises(PartnershipOrderError, match="so it cannot be cancelled"):
        credits.cancel(placed, admin, "Not yet confirmed")
    order, _documents = confirmed_partnership_order(world)
    for role in (Role.LA_FINANCE, Role.HEADTEACHER, Role.SCHOOL_BUSINESS_MANAGER):
        with pytest.raises(PartnershipOrderError, match="Only the council's service manager"):
            credits.cancel(order, world.users[role], "No")
    with pytest.raises(PartnershipOrderError, match="Enter a reason"):
        credits.cancel(order, admin, "")
    assert order.status == PartnershipOrderStatus.CONFIRMED


# --- The pages ----------------------------------------------------------------------------------


def test_finance_credits_a_share_through_its_page(app: Flask, world: Any) -> None:
    order, documents = confirmed_partnership_order(world)
    brook = by_buyer(documents, "Brook Academy")
    client = client_as(app, world.users[Role.LA_FINANCE])
    detail = client.get(f"/documents/{brook.id}")
    assert "Credit this share" in text_of(detail.soup, ".govuk-button-group")
    page = client.get(f"/documents/{brook.id}/credit")
    assert page.status_code == 200
    assert "Left to credit £540.00" in text_of(page.soup, ".govuk-summary-list")
    refused = client.post_form(f"/documents/{brook.id}/credit", {"reason": "x"})
    assert "Select whether to credit every day left" in text_of(
        refused.soup, ".govuk-error-summary"
    )
    field = f"days-{order.lines[0].id}"
    too_many = client.post_form(
        f"/documents/{brook.id}/credit", {"what": "some", field: "4", "reason": "x"}
    )
    assert "3 days are left to credit, not 4" in text_of(too_many.soup, ".govuk-error-summary")
    bad = client.post_form(
        f"/documents/{brook.id}/credit", {"what": "some", field: "1.25", "reason": "x"}
    )
    assert bad.status_code == 200 and text_of(bad.soup, ".govuk-error-summary")
    no_reason = client.post_form(f"/documents/{brook.id}/credit", {"what": "all"})
    assert "Enter a reason" in text_of(no_reason.soup, ".govuk-error-summary")
    assert credit_notes_of(brook) == []
    done = client.post_form(
        f"/documents/{brook.id}/credit", {"what": "some", field: "1", "reason": "Day not used"}
    )
    assert done.status_code == 302
    [note] = credit_notes_of(brook)
    assert done.location.endswith(f"/documents/{note.id}")
    assert note.gross_pence == 18_000
    # Another role: refused; a school's own document: not theirs to credit.
    for role in (Role.LA_ADMIN, Role.SCHOOL_BUSINESS_MANAGER, Role.ADVISER):
        answer = client_as(app, world.users[role]).get(f"/documents/{brook.id}/credit")
        assert answer.status_code in (403, 404)
    # Not a share's charge: not found.
    assert client.get(f"/documents/{note.id}/credit").status_code == 404


def test_the_service_manager_cancels_through_the_orders_page(app: Flask, world: Any) -> None:
    order, documents = confirmed_partnership_order(world)
    client = client_as(app, world.users[Role.LA_ADMIN])
    detail = client.get(f"/partnership-orders/{order.id}")
    assert "Cancel this order and credit the members" in detail.get_data(as_text=True)
    page = client.get(f"/partnership-orders/{order.id}/cancel")
    assert "Brook Academy" in text_of(page.soup, "#positions")
    refused = client.post_form(f"/partnership-orders/{order.id}/cancel", {"reason": ""})
    assert "Enter a reason" in text_of(refused.soup, ".govuk-error-summary")
    done = client.post_form(f"/partnership-orders/{order.id}/cancel", {"reason": "Plans changed"})
    assert done.status_code == 302
    after = client.get(done.location)
    assert "3 credit notes issued" in text_of(after.soup, ".govuk-notification-banner")
    assert "Cancelled" in text_of(after.soup, "#cancelled")
    assert all(credit_notes_of(document) for document in documents)
    again = client.get(f"/partnership-orders/{order.id}/cancel")
    assert "cannot be cancelled" in text_of(again.soup, "#refusal")
    for role in (Role.LA_FINANCE, Role.HEADTEACHER):
        answer = client_as(app, world.users[role]).post_form(
            f"/partnership-orders/{order.id}/cancel", {"reason": "x"}
        )
        assert answer.status_code in (403, 404)


# --- Nothing to credit (issue 16's gaps) --------------------------------------------------------


def tiny_share_order(world: Any) -> Any:
    """An order whose shares were typed so that Brook Academy's is 5p before VAT: a credit of
    one half-day of it rounds to nothing."""
    partnership_members(world)
    typed = {world.school.id: 67_500, world.academy.id: 67_495, world.brook.id: 5}
    order = placed_partnership_order(world, SplitRule.TYPED, typed=typed)
    heads = {world.school.id: world.users[Role.HEADTEACHER], world.brook.id: world.brook_head}
    for share in order.shares:
        if share.approval.value == "waiting":
            partnership_orders.approve_share(order, heads[share.school_id])
    documents = partnership_orders.confirm(order, world.users[Role.LA_ADMIN])
    db.session.commit()
    return order, documents


def test_a_credit_that_comes_to_nothing_is_refused_not_issued_at_0(world: Any) -> None:
    order, documents = tiny_share_order(world)
    brook = by_buyer(documents, "Brook Academy")
    assert brook.net_pence == 5
    finance = world.users[Role.LA_FINANCE]
    line_id = order.lines[0].id
    with pytest.raises(PartnershipOrderError, match=r"comes to £0\.00"):
        credits.credit_share(credits.share_charge(brook.id), finance, "Half a day", {line_id: 1})
    db.session.rollback()
    assert credit_notes_of(brook) == []
    # Two half-days come to a penny: that is credited.
    note = credits.credit_share(credits.share_charge(brook.id), finance, "A day", {line_id: 2})
    assert note.net_pence == 1 and note.gross_pence > 0


def test_the_credit_page_refuses_a_0_credit_and_a_fully_credited_share(
    app: Flask, world: Any
) -> None:
    order, documents = tiny_share_order(world)
    brook = by_buyer(documents, "Brook Academy")
    client = client_as(app, world.users[Role.LA_FINANCE])
    field = f"days-{order.lines[0].id}"
    nothing = client.post_form(
        f"/documents/{brook.id}/credit", {"what": "some", field: "0.5", "reason": "x"}
    )
    assert nothing.status_code == 200
    assert "comes to £0.00" in text_of(nothing.soup, ".govuk-error-summary")
    zero = client.post_form(
        f"/documents/{brook.id}/credit", {"what": "some", field: "0", "reason": "x"}
    )
    assert zero.status_code == 200 and text_of(zero.soup, ".govuk-error-summary")
    assert credit_notes_of(brook) == []
    everything = client.post_form(f"/documents/{brook.id}/credit", {"what": "all", "reason": "x"})
    assert everything.status_code == 302
    [note] = credit_notes_of(brook)
    assert note.gross_pence == brook.gross_pence
    again = client.post_form(f"/documents/{brook.id}/credit", {"what": "all", "reason": "x"})
    assert again.status_code == 200
    assert "Nothing is left to credit" in text_of(again.soup, ".govuk-error-summary")
    assert credit_notes_of(brook) == [note]


def test_no_document_service_issues_a_credit_note_for_nothing(world: Any) -> None:
    _order, documents = confirmed_partnership_order(world)
    brook = by_buyer(documents, "Brook Academy")
    charged = issuing.Charged(
        school=world.brook, reference="ORD-X", po_number="", academic_year=world.year
    )
    line = brook.lines[0]
    free = issuing.LineSpec(
        line.service_code,
        line.service_name,
        "",
        line.income_code,
        1,
        0,
        line.vat_treatment,
        line.vat_rate_bp,
        net_pence=0,
    )
    with pytest.raises(issuing.InvoicingError, match="nothing to credit"):
        issuing.prepare_for(
            DocumentType.CREDIT_NOTE,
            charged,
            world.users[Role.LA_FINANCE],
            [free],
            credits=brook,
            reason="Nothing",
        )
    db.session.rollback()
