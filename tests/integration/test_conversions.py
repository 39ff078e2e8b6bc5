"""An academy conversion on its date: what moves to the academy, what stays, and who confirms."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import (
    book_visit,
    charged_order,
    core_allocation,
    make_school,
    next_weekday,
    submitted_order,
    weekday_in_year,
)
from traded_app.domain.types import DocumentType
from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models import CoreAllocation, Document, Order, School, Visit
from traded_app.models.types import Role, SchoolStatus
from traded_app.services.council import conversions
from traded_app.services.days import ledger as days_ledger
from traded_app.services.days import visits
from traded_app.services.days.allocations import generate_core_allocations
from traded_app.services.documents import issuing as invoicing
from traded_app.services.ordering import workflow
from traded_app.services.platform import memberships, schedules
from traded_app.services.platform.settings import today


def _academy(world: Any) -> School:
    return make_school(
        400001,
        "Riverside Primary Academy",
        quadrant=world.quadrant,
        academy=True,
        predecessor_id=world.school.id,
        details_checked_year=world.school.details_checked_year,
    )


def _a_school_in_use(world: Any) -> dict[str, Any]:
    """Riverside (maintained): core days, a charged order with a visit delivered and one booked,
    a core visit booked, and an order waiting for the council."""
    core_allocation(world, 6)
    order, recharge = charged_order(world, 4)
    line_id = order.lines[0].id
    past = book_visit(world, on=weekday_in_year(world, past=True), against=str(line_id))
    visits.deliver(past, world.users[Role.LA_ADMIN], "Done")
    booked_line = book_visit(world, against=str(line_id))
    booked_core = book_visit(world, half_days=1, on=next_weekday(days_ahead=3))
    waiting = submitted_order(world, po_number="PO-WAITING")
    db.session.commit()
    return {
        "order": order,
        "recharge": recharge,
        "line_id": line_id,
        "delivered": past,
        "booked": [booked_line, booked_core],
        "waiting": waiting,
    }


def _run_the_daily_schedule() -> Any:
    noon = datetime.combine(today(), time(12, 0), LONDON)
    return schedules.run_if_due(schedules.SCHEDULES[conversions.SCHEDULE_NAME], noon)


def test_before_its_date_nothing_moves_and_confirming_is_refused(world: Any, as_role: Any) -> None:
    things = _a_school_in_use(world)
    academy = _academy(world)
    tomorrow = today() + timedelta(days=1)
    conversions.record(world.school.id, academy.id, tomorrow, None)
    db.session.commit()
    run = _run_the_daily_schedule()
    assert run is not None and run.detail == "No conversion due"
    db.session.expire_all()
    assert db.session.get(School, world.school.id).status == SchoolStatus.OPEN
    assert db.session.get(Order, things["waiting"].id).school_id == world.school.id
    admin = as_role(Role.LA_ADMIN)
    page = admin.get("/council/manage/conversions")
    assert "Waiting for its date" in text_of(page.soup, "#conversions")
    assert page.soup.select_one("#conversions form") is None
    conversion = conversions.pending_for(world.school.id)
    answer = admin.post_form(
        f"/council/manage/conversions/{conversion.id}/confirm", follow_redirects=True
    )
    assert "confirm it on or after that date" in text_of(answer.soup, ".govuk-notification-banner")
    assert db.session.get(School, world.school.id).status == SchoolStatus.OPEN
    # Still the maintained school's: it orders and is recharged.
    _order, document = charged_order(world, 2)
    assert document.document_type == DocumentType.RECHARGE


def test_on_its_date_days_visits_and_open_orders_move(world: Any, as_role: Any) -> None:
    things = _a_school_in_use(world)
    academy = _academy(world)
    conversions.record(world.school.id, academy.id, today(), None)
    db.session.commit()

    run = _run_the_daily_schedule()
    assert run is not None and run.outcome == "ok"
    assert "1 open orders, 2 booked visits, 8 half-days" in run.detail
    db.session.expire_all()
    old = db.session.get(School, world.school.id)
    assert old.status == SchoolStatus.CLOSED and old.closed_on == today() - timedelta(days=1)
    # Open orders and visits from the date move; history and issued documents stay.
    assert db.session.get(Order, things["waiting"].id).school_id == academy.id
    assert db.session.get(Order, things["order"].id).school_id == old.id
    assert db.session.get(Document, things["recharge"].id).school_id == old.id
    assert db.session.get(Visit, things["delivered"].id).school_id == old.id
    assert {db.session.get(Visit, v.id).school_id for v in things["booked"]} == {academy.id}

    before = days_ledger.school_ledger(old.id, world.year.id)
    after = days_ledger.school_ledger(academy.id, world.year.id)
    assert before.core.remaining == 0 and before.traded.remaining == 0
    assert before.traded.delivered == 2  # the delivered visit stays on the old record
    assert (after.core.allocated, after.core.scheduled) == (6, 1)
    assert (after.traded.allocated, after.traded.scheduled, after.traded.remaining) == (2, 2, 2)
    assert [t.half_days for t in before.transfers] == [-6, -2]
    assert [t.half_days for t in after.transfers] == [6, 2]
    assert "Moved to Riverside Primary Academy (400001)" in before.transfers[0].reason
    assert "Moved from Riverside Primary School (100001)" in after.transfers[1].reason

    admin = as_role(Role.LA_ADMIN)
    for school, word in ((old, "Moved to"), (academy, "Moved from")):
        page = admin.get(f"/schools/{school.urn}/days")
        assert word in text_of(page.soup, "#transfers")
    # Running again (a second worker, or Confirm) moves nothing more.
    assert conversions.carry_out_due(today()) == []


def test_confirming_moves_the_staff_and_later_charges_are_vat_invoices(
    world: Any, as_role: Any
) -> None:
    things = _a_school_in_use(world)
    academy = _academy(world)
    sbm = world.users[Role.SCHOOL_BUSINESS_MANAGER]
    memberships.add(sbm, world.other_school.id, Role.HEADTEACHER)  # another school: stays
    conversions.record(world.school.id, academy.id, today(), None)
    db.session.commit()
    admin = as_role(Role.LA_ADMIN)
    page = admin.get("/council/manage/conversions")
    assert "Due" in text_of(page.soup, "#conversions")
    conversion = conversions.pending_for(world.school.id)
    answer = admin.post_form(
        f"/council/manage/conversions/{conversion.id}/confirm", follow_redirects=True
    )
    assert "2 people moved to the academy" in text_of(answer.soup, ".govuk-notification-banner")
    assert "No conversion is waiting" in text_of(answer.soup, "main")
    db.session.expire_all()
    assert db.session.get(School, world.school.id).status == SchoolStatus.CLOSED  # carried out
    assert db.session.get(type(sbm), sbm.id).school_id == academy.id
    assert {c.school_id for c in memberships.choices_of(sbm)} == {
        academy.id,
        world.other_school.id,
    }
    # The staff now work on the academy: its moved order, a visit against the moved days.
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert "Riverside Primary Academy" in text_of(client.get("/school").soup, ".app-header__user")
    assert things["waiting"].reference in client.get("/orders").get_data(as_text=True)
    assert client.get(f"/orders/{things['order'].id}").status_code == 404  # the old record's
    # The academy's moved days are booked like its own: core days left, the moved line's two
    # half-days already booked by the visit that moved with them.
    book_visit(world, school=academy, half_days=2, on=next_weekday(days_ahead=6))
    with pytest.raises(visits.VisitError, match="no days left to book"):
        on = next_weekday(days_ahead=8)
        book_visit(world, school=academy, against=str(things["line_id"]), half_days=1, on=on)
    db.session.rollback()
    # The moved order, confirmed now, is charged by VAT invoice.
    waiting = db.session.get(Order, things["waiting"].id)
    workflow.confirm(waiting, world.users[Role.LA_ADMIN])
    db.session.commit()
    document = invoicing.charge_document_for(waiting)
    assert document is not None and document.document_type == DocumentType.INVOICE
    assert document.school_id == academy.id


def test_an_academy_waiting_for_its_date_gets_no_core_days_of_its_own(world: Any) -> None:
    """Its predecessor's days move to it on the date: generating this year's allocations in the
    meantime must not give it a second share."""
    academy = _academy(world)
    academy.partnership_id = world.partnership.id
    conversions.record(world.school.id, academy.id, today() + timedelta(days=30), None)
    db.session.commit()
    generate_core_allocations(world.year, world.council)
    db.session.commit()
    allocated = set(db.session.scalars(select(CoreAllocation.school_id)))
    assert world.school.id in allocated and academy.id not in allocated
