"""Partnership orders through the services: placing, the split, approvals, confirmation with a
document per member by its own route, the days ledger and the quadrant's capacity."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import GIAS_HEADER, gias_row
from tests.partnership_factories import (
    confirmed_partnership_order,
    partnership_members,
    placed_partnership_order,
)
from traded_app.domain.partnership_split import SplitRule
from traded_app.extensions import db
from traded_app.models import (
    Document,
    DocumentType,
    OutgoingEmail,
    PartnershipOrder,
    QuadrantCapacity,
    School,
)
from traded_app.models.partnership_orders import (
    PartnershipOrderStatus,
    ShareApproval,
    WhoOrders,
)
from traded_app.models.types import Role, VatTreatment
from traded_app.services.council import gias_import
from traded_app.services.days import ledger
from traded_app.services.ordering import partnership_buying, partnership_orders, workflow
from traded_app.services.ordering.partnership_buying import Draft, PartnershipOrderError
from traded_app.services.platform.errors import NotFound


def shares_by_name(order: Any) -> dict[str, int]:
    return {share.school.name: share.net_pence for share in order.shares}


def test_an_equal_split_gives_the_remainder_to_the_lead(world: Any) -> None:
    # 3 days at £450.00 = £1,350.00: £450.00 each. 1 day = £450.00: £150.00 each.
    order = placed_partnership_order(world, SplitRule.EQUAL, half_days=6)
    assert order.net_pence == 135_000
    assert shares_by_name(order) == {
        "Brook Academy": 45_000,
        "Meadow Academy": 45_000,
        "Riverside Primary School": 45_000,
    }
    # £225.00 (half a day) three ways: £75.00 each; 5 half-days (£1,125.00): lead's penny.
    odd = placed_partnership_order(world, SplitRule.EQUAL, half_days=5)
    assert odd.net_pence == 112_500
    assert shares_by_name(odd) == {
        "Brook Academy": 37_500,
        "Meadow Academy": 37_500,
        "Riverside Primary School": 37_500,
    }
    world.service.max_half_days = 12
    uneven = placed_partnership_order(world, SplitRule.EQUAL, half_days=7)  # £1,575.00
    shares = shares_by_name(uneven)
    assert shares["Brook Academy"] == shares["Meadow Academy"] == 52_500
    assert shares["Riverside Primary School"] == 52_500
    assert sum(shares.values()) == uneven.net_pence


def test_a_split_by_pupils_follows_gias_numbers(world: Any) -> None:
    order = placed_partnership_order(world, SplitRule.PUPILS, half_days=6)
    # 210 : 420 : 630 pupils = 1 : 2 : 3 of £1,350.00.
    assert shares_by_name(order) == {
        "Brook Academy": 67_500,
        "Meadow Academy": 45_000,
        "Riverside Primary School": 22_500,
    }
    assert {share.school.name: share.pupils for share in order.shares}["Brook Academy"] == 630


def test_a_split_by_pupils_without_gias_numbers_is_refused(world: Any) -> None:
    partnership_members(world)
    world.academy.pupils = None
    draft = Draft({world.service.id: 2}, SplitRule.PUPILS)
    with pytest.raises(PartnershipOrderError, match="no pupil numbers for Meadow Academy"):
        partnership_orders.place(
            world.users[Role.SCHOOL_BUSINESS_MANAGER], world.school, world.year, draft
        )


def test_typed_amounts_must_add_up_to_the_order(world: Any) -> None:
    partnership_members(world)
    user = world.users[Role.SCHOOL_BUSINESS_MANAGER]
    typed = {world.school.id: 10_000, world.academy.id: 20_000, world.brook.id: 30_000}
    draft = Draft({world.service.id: 2}, SplitRule.TYPED, typed)  # £450.00
    with pytest.raises(PartnershipOrderError, match=r"£600\.00, £150\.00 more than"):
        partnership_orders.place(user, world.school, world.year, draft)
    typed[world.brook.id] = 15_000
    order = partnership_orders.place(user, world.school, world.year, draft)
    assert shares_by_name(order)["Brook Academy"] == 15_000


def test_who_may_order_is_the_partnerships_setting(world: Any) -> None:
    partnership_members(world, WhoOrders.LEAD_HEADTEACHER)
    draft = Draft({world.service.id: 2}, SplitRule.EQUAL)
    with pytest.raises(PartnershipOrderError, match="only through its lead school's headteacher"):
        partnership_orders.place(world.brook_sbm, world.brook, world.year, draft)
    with pytest.raises(PartnershipOrderError, match="only through"):
        partnership_orders.place(world.brook_head, world.brook, world.year, draft)
    order = partnership_orders.place(world.users[Role.HEADTEACHER], world.school, world.year, draft)
    assert order.placed_for_school_id == world.school.id
    partnership_buying.set_buying(world.partnership, world.school.id, WhoOrders.BUSINESS_MANAGERS)
    assert partnership_orders.place(world.brook_sbm, world.brook, world.year, draft).id
    with pytest.raises(PartnershipOrderError, match="not in an active partnership"):
        partnership_orders.place(
            world.users[Role.SCHOOL_BUSINESS_MANAGER], world.other_school, world.year, draft
        )


def test_each_member_approves_its_share_only_when_its_own_limit_requires(world: Any) -> None:
    partnership_members(world)
    world.brook.approval_limit_pence = 40_000  # its £450.00 share is over it
    world.school.approval_limit_pence = 100_000
    order = placed_partnership_order(world, SplitRule.EQUAL, half_days=6)
    approvals = {share.school.name: share.approval for share in order.shares}
    assert approvals["Brook Academy"] == ShareApproval.WAITING
    assert approvals["Riverside Primary School"] == ShareApproval.NOT_NEEDED
    assert order.status == PartnershipOrderStatus.AWAITING_APPROVAL
    # Another member's headteacher cannot approve Brook's share.
    with pytest.raises(PartnershipOrderError, match="no share of your school's waiting"):
        partnership_orders.approve_share(order, world.users[Role.HEADTEACHER])
    with pytest.raises(PartnershipOrderError, match="Only the headteacher"):
        partnership_orders.approve_share(order, world.brook_sbm)
    partnership_orders.approve_share(order, world.brook_head)
    assert order.status == PartnershipOrderStatus.SUBMITTED


def test_a_rejected_share_stops_the_order(world: Any) -> None:
    partnership_members(world)
    world.brook.approval_limit_pence = 0
    order = placed_partnership_order(world)
    with pytest.raises(PartnershipOrderError, match="Enter a reason"):
        partnership_orders.reject_share(order, world.brook_head, " ")
    partnership_orders.reject_share(order, world.brook_head, "Not in our budget this year")
    assert order.status == PartnershipOrderStatus.REJECTED
    assert "Brook Academy: Not in our budget" in order.reason
    with pytest.raises(PartnershipOrderError, match="cannot be confirmed"):
        partnership_orders.confirm(order, world.users[Role.LA_ADMIN])


def test_confirmation_charges_each_member_by_its_own_route(world: Any) -> None:
    order, documents = confirmed_partnership_order(world, SplitRule.PUPILS)
    assert order.status == PartnershipOrderStatus.CONFIRMED
    by_school = {document.buyer_name: document for document in documents}
    recharge = by_school["Riverside Primary School"]
    assert recharge.document_type == DocumentType.RECHARGE
    assert (recharge.net_pence, recharge.vat_pence) == (22_500, 0)
    assert recharge.lines[0].vat_treatment == VatTreatment.OUTSIDE_SCOPE
    brook = by_school["Brook Academy"]
    assert brook.document_type == DocumentType.INVOICE
    assert (brook.net_pence, brook.vat_pence, brook.gross_pence) == (67_500, 13_500, 81_000)
    assert by_school["Meadow Academy"].net_pence == 45_000
    # The members' documents add up to the order, to the penny, and each is numbered.
    assert sum(d.net_pence for d in documents) == order.net_pence
    assert len({d.number for d in documents}) == 3
    assert all(d.order_reference == order.reference for d in documents)
    assert brook.lines[0].service_code == world.service.code
    assert brook.lines[0].income_code == world.service.income_code
    assert "Share of 3 days" in brook.lines[0].description


def test_invoices_wait_for_a_po_number_the_member_requires(world: Any) -> None:
    partnership_members(world)
    world.brook.po_required = True
    order = placed_partnership_order(world)
    admin = world.users[Role.LA_ADMIN]
    with pytest.raises(PartnershipOrderError, match="Brook Academy requires a purchase order"):
        partnership_orders.confirm(order, admin)
    with pytest.raises(PartnershipOrderError, match="member school's staff"):
        partnership_orders.set_po_number(order, admin, "PO-9")
    partnership_orders.set_po_number(order, world.brook_sbm, " BR-77 ")
    documents = partnership_orders.confirm(order, admin)
    brook = next(d for d in documents if d.buyer_name == "Brook Academy")
    assert brook.po_number == "BR-77"


def test_partnership_days_appear_in_every_members_ledger_and_use_capacity(world: Any) -> None:
    partnership_members(world)
    before = workflow.capacity_position(world.quadrant.id, world.year.id)
    assert before is not None
    order, _documents = confirmed_partnership_order(world)
    for school in (world.school, world.academy, world.brook):
        rows = ledger.school_ledger(school.id, world.year.id).partnership
        assert [(r.order_reference, r.half_days) for r in rows] == [(order.reference, 6)]
        assert rows[0].share_pence == 45_000
    # Not a member: nothing.
    assert ledger.school_ledger(world.other_school.id, world.year.id).partnership == []
    # The school's own totals are its own: the partnership's days are listed apart.
    assert ledger.school_ledger(world.brook.id, world.year.id).traded.allocated == 0
    after = workflow.capacity_position(world.quadrant.id, world.year.id)
    assert after is not None and after.sold_half_days == before.sold_half_days + 6


def test_confirmation_is_refused_over_the_quadrants_capacity(world: Any) -> None:
    partnership_members(world)
    capacity = db.session.query(QuadrantCapacity).filter_by(quadrant_id=world.quadrant.id).one()
    capacity.traded_capacity_half_days = 4
    order = placed_partnership_order(world, half_days=6)
    with pytest.raises(PartnershipOrderError, match="needs 3 days: it cannot be confirmed"):
        partnership_orders.confirm(order, world.users[Role.LA_ADMIN])


def test_the_school_that_placed_it_may_withdraw_it_before_confirmation(world: Any) -> None:
    order = placed_partnership_order(world)
    with pytest.raises(PartnershipOrderError, match="only the school that placed it"):
        partnership_orders.withdraw(order, world.brook_sbm, "Changed our minds")
    partnership_orders.withdraw(
        order, world.users[Role.SCHOOL_BUSINESS_MANAGER], "Changed our minds"
    )
    assert order.status == PartnershipOrderStatus.WITHDRAWN


def test_members_see_the_order_but_only_their_own_documents(world: Any) -> None:
    order, _documents = confirmed_partnership_order(world)
    own = partnership_orders.documents_for(order, world.brook_sbm)
    brook_share = partnership_orders.share_of(order, world.brook.id)
    assert brook_share is not None and list(own) == [brook_share.id]
    council = partnership_orders.documents_for(order, world.users[Role.LA_FINANCE])
    assert len(council) == 3
    outsider = world.users[Role.SCHOOL_BUSINESS_MANAGER]
    outsider.school_id = world.other_school.id
    with pytest.raises(NotFound):
        partnership_orders.order_for(outsider, order.id)


def test_only_the_schools_taking_part_share_the_order(world: Any) -> None:
    partnership_members(world)
    user = world.users[Role.SCHOOL_BUSINESS_MANAGER]
    # The lead always takes part, ticked or not.
    draft = Draft({world.service.id: 3}, SplitRule.EQUAL, taking_part=frozenset({world.brook.id}))
    order = partnership_orders.place(user, world.school, world.year, draft)
    # £675.00 two ways: £337.50 each.
    assert shares_by_name(order) == {"Brook Academy": 33_750, "Riverside Primary School": 33_750}
    with pytest.raises(NotFound):
        partnership_orders.order_for(world.academy_sbm, order.id)
    alone = Draft({world.service.id: 2}, SplitRule.EQUAL, taking_part=frozenset())
    with pytest.raises(PartnershipOrderError, match="at least one school besides the lead"):
        partnership_orders.place(user, world.school, world.year, alone)


def gias_file_with_pupils(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*GIAS_HEADER, "NumberOfPupils"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_pupil_numbers_come_from_the_gias_import(world: Any) -> None:
    """NumberOfPupils is kept for existing and new schools; a blank or odd value keeps what
    the school had."""
    world.council.la_code = "881"
    world.school.pupils = 199
    world.other_school.pupils = 88
    db.session.commit()
    admin = world.users[Role.LA_ADMIN]
    rows = [
        gias_row(world.school.urn, world.school.name, NumberOfPupils="212"),
        gias_row(world.other_school.urn, world.other_school.name, NumberOfPupils="n/a"),
        gias_row(500001, "New Primary School", NumberOfPupils="64"),
    ]
    record = gias_import.preview(io.BytesIO(gias_file_with_pupils(rows)), "g.csv", "881", admin)
    gias_import.apply(record, admin)
    db.session.commit()
    db.session.expire_all()
    assert (world.school.pupils, world.other_school.pupils) == (212, 88)
    new = db.session.query(School).filter_by(urn=500001).one()
    assert new.pupils == 64


def test_the_right_people_are_emailed_at_each_step(world: Any) -> None:
    partnership_members(world)
    world.brook.approval_limit_pence = 0
    order = placed_partnership_order(world)

    def mails() -> list[tuple[str, str]]:
        rows = db.session.execute(
            select(OutgoingEmail.recipients, OutgoingEmail.subject).order_by(OutgoingEmail.id)
        ).tuples()
        return [(to, subject) for to, subject in rows if "PTN-" in subject]

    assert mails() == [
        ("head@brook.example", f"Partnership order {order.reference} needs your approval")
    ]
    partnership_orders.approve_share(order, world.brook_head)
    db.session.commit()
    assert mails()[-1] == (
        "team@council.example",
        f"Partnership order {order.reference} to confirm",
    )
    partnership_orders.decline(order, world.users[Role.LA_ADMIN], "No capacity this term")
    db.session.commit()
    declined = [to for to, subject in mails() if subject.endswith("declined")]
    assert "sbm@brook.example, head@brook.example" in declined
    assert "sbm@school.example, head@school.example" in declined


def test_the_demo_has_a_confirmed_order_split_across_a_maintained_school_and_two_academies(
    app: Any,
) -> None:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    (order,) = db.session.execute(select(PartnershipOrder)).scalars()
    assert order.status == PartnershipOrderStatus.CONFIRMED
    kinds = sorted(share.school.customer_type.value for share in order.shares)
    assert kinds == ["academy", "academy", "maintained"]
    documents = db.session.execute(
        select(Document).where(Document.partnership_share_id.is_not(None))
    ).scalars()
    assert sorted(d.document_type.value for d in documents) == ["invoice", "invoice", "recharge"]
    again = app.test_cli_runner().invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert len(db.session.execute(select(PartnershipOrder)).scalars().all()) == 1
