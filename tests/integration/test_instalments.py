"""Invoice schedules: confirmation writes the schedule, each instalment is raised once on its
date as its own numbered document, and cancelling credits only what was charged for days not
used and cancels what is still to come."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.factories import book_visit, submitted_order, weekday_in_year
from traded_app.domain.instalments import PlanPart
from traded_app.extensions import db
from traded_app.models import Document, DocumentType, Order, ScheduledCharge
from traded_app.models.instalments import ChargeTiming, ScheduledChargeStatus
from traded_app.models.types import BillingRoute, Role
from traded_app.services.days import visits
from traded_app.services.documents import charge_plans, instalments
from traded_app.services.documents import issuing as invoicing
from traded_app.services.documents import runs as invoice_runs
from traded_app.services.ordering import workflow
from traded_app.services.platform import document_store, schedules

# 7/12 on 1 September (the year has started) and 5/12 on 1 April of the year it ends.
SEPTEMBER_APRIL = [PlanPart(7, 1, 9, False), PlanPart(5, 1, 4, True)]


@pytest.fixture()
def council_details(world: Any) -> Any:
    council = world.council
    council.address = "County Hall\nMarket Road\nChelmsford"
    council.postcode = "CM1 1QH"
    council.vat_number = "GB 104 2195 43"
    council.bank_name = "Example Bank"
    council.bank_account_name = "Testshire County Council"
    council.bank_sort_code = "20-00-00"
    council.bank_account_number = "12345678"
    db.session.commit()
    return council


def on_plan(world: Any, route: BillingRoute = BillingRoute.INVOICE, parts: Any = None) -> None:
    charge_plans.save_plan(
        route,
        ChargeTiming.INSTALMENTS,
        "September and April",
        parts or SEPTEMBER_APRIL,
        world.users[Role.LA_FINANCE],
    )
    db.session.commit()


def confirmed(world: Any, half_days: int = 6, school: Any = None) -> Order:
    order = submitted_order(world, {world.service: half_days}, school=school or world.academy)
    workflow.confirm(order, world.users[Role.LA_ADMIN])
    db.session.commit()
    return order


def charges(order: Order) -> list[ScheduledCharge]:
    return instalments.charges_of(order)


def charge_documents(order: Order) -> list[Document]:
    return list(
        db.session.execute(
            select(Document)
            .where(
                Document.order_id == order.id, Document.document_type != DocumentType.CREDIT_NOTE
            )
            .order_by(Document.id)
        ).scalars()
    )


def april(world: Any) -> date:
    return date(world.year.start_year + 1, 4, 1)


def test_confirmation_writes_the_schedule_and_raises_the_instalment_already_due(
    world: Any, council_details: Any
) -> None:
    on_plan(world)
    order = confirmed(world, 6)  # 3 days at £450 + VAT: £1,620.00
    rows = charges(order)
    assert [(c.number, c.count, c.share, c.due_on) for c in rows] == [
        (1, 2, 7, date(world.year.start_year, 9, 1)),
        (2, 2, 5, april(world)),
    ]
    assert [c.gross_pence for c in rows] == [94_500, 67_500]
    assert sum(c.gross_pence for c in rows) == 162_000
    first = rows[0].document
    assert rows[0].status == ScheduledChargeStatus.RAISED and first is not None
    assert rows[1].status == ScheduledChargeStatus.SCHEDULED and rows[1].document is None
    assert first.document_type == DocumentType.INVOICE
    assert (first.instalment_number, first.instalment_count) == (1, 2)
    assert (first.net_pence, first.vat_pence, first.gross_pence) == (78_750, 15_750, 94_500)
    assert [(line.half_days, line.net_pence) for line in first.lines] == [(6, 78_750)]
    assert (first.due_date - first.issue_date).days == 30
    reader = PdfReader(io.BytesIO(document_store.read_pdf(first)))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert f"Instalment 1 of 2 for order {order.reference}" in text


def test_the_job_raises_an_instalment_on_its_date_and_never_twice(
    world: Any, council_details: Any
) -> None:
    on_plan(world)
    order = confirmed(world, 6)
    day_before = date.fromordinal(april(world).toordinal() - 1)
    assert instalments.raise_due(day_before).raised == 0
    db.session.commit()
    assert len(charge_documents(order)) == 1

    assert instalments.raise_due(april(world)).raised == 1
    db.session.commit()
    assert instalments.raise_due(april(world)).raised == 0  # the run again: nothing twice
    db.session.commit()
    documents = charge_documents(order)
    assert [(d.instalment_number, d.gross_pence) for d in documents] == [(1, 94_500), (2, 67_500)]
    assert documents[0].number != documents[1].number
    assert documents[1].issue_date == april(world)
    assert sum(d.gross_pence for d in documents) == 162_000
    second = charges(order)[1]
    with pytest.raises(invoicing.InvoicingError, match="already charged"):
        instalments.raise_charge(second, None, april(world))


def test_the_daily_schedule_raises_what_is_due(world: Any, council_details: Any) -> None:
    on_plan(world)
    order = confirmed(world, 6)
    item = schedules.SCHEDULES[instalments.SCHEDULE_NAME]
    at_seven = datetime(april(world).year, 4, 1, 6, 0, tzinfo=UTC)  # 07:00 in London (BST)
    run = schedules.run_if_due(item, at_seven)
    assert run is not None and run.outcome == "ok", run and run.detail
    assert run.detail.startswith("1 instalment charged")
    db.session.expire_all()
    assert [c.status for c in charges(order)] == [ScheduledChargeStatus.RAISED] * 2
    assert schedules.run_if_due(item, at_seven) is None  # that day's period is claimed


def test_a_recharge_route_plan_charges_maintained_schools_by_recharge_without_vat(
    world: Any, council_details: Any
) -> None:
    on_plan(world, BillingRoute.RECHARGE)
    academy_order = confirmed(world, 2)  # the academies' route has no plan: charged at once
    assert not charges(academy_order)
    assert charge_documents(academy_order)[0].instalment_count == 0
    order = confirmed(world, 3, school=world.school)
    first = charges(order)[0].document
    assert first is not None and first.document_type == DocumentType.RECHARGE
    assert (first.net_pence, first.vat_pence) == (39_375, 0)  # 7/12 of £675


def test_at_the_start_of_the_year_charges_the_whole_order_once(
    world: Any, council_details: Any
) -> None:
    charge_plans.save_plan(
        BillingRoute.INVOICE, ChargeTiming.YEAR_START, "", [], world.users[Role.LA_ADMIN]
    )
    db.session.commit()
    order = confirmed(world, 4)
    [row] = charges(order)
    assert row.due_on == world.year.starts_on and row.count == 1
    assert row.status == ScheduledChargeStatus.RAISED  # the year has started
    assert row.document is not None and row.document.gross_pence == 108_000


def test_an_order_waiting_for_its_po_number_is_charged_once_it_is_given(
    world: Any, council_details: Any
) -> None:
    on_plan(world)
    world.academy.po_required = True
    db.session.commit()
    order = submitted_order(world, {world.service: 6}, school=world.academy, po_number="")
    workflow.confirm(order, world.users[Role.LA_ADMIN])
    db.session.commit()
    assert charges(order)[0].status == ScheduledChargeStatus.SCHEDULED
    assert instalments.raise_due(april(world)).waiting == [
        f"{order.reference} waits for the school's purchase order number"
    ]
    workflow.add_po_number(order, world.academy_sbm, "PO-77")
    db.session.commit()
    assert [c.status for c in charges(order)] == [
        ScheduledChargeStatus.RAISED,
        ScheduledChargeStatus.SCHEDULED,
    ]
    assert charge_documents(order)[0].po_number == "PO-77"


def test_invoice_runs_leave_scheduled_orders_to_their_dates(
    world: Any, council_details: Any
) -> None:
    world.council.invoice_timing = "invoice_run"
    on_plan(world, parts=[PlanPart(6, 1, 1, True), PlanPart(6, 1, 4, True)])  # none due yet
    order = confirmed(world, 6)
    assert order not in invoicing.orders_awaiting_charge()
    with pytest.raises(invoicing.InvoicingError, match="invoice schedule"):
        invoicing.prepare_charge(order, None)


def test_cancelling_cancels_what_is_to_come_and_credits_what_was_charged_for_unused_days(
    world: Any, council_details: Any
) -> None:
    on_plan(world)
    order = confirmed(world, 6)  # instalment 1: £787.50 + £157.50 VAT charged
    admin = world.users[Role.LA_ADMIN]
    visit = book_visit(
        world, on=weekday_in_year(world, past=True), against=str(_line(order)), school=world.academy
    )
    visits.deliver(visit, world.users[Role.ADVISER], "Appraisal objectives set")
    db.session.commit()  # 1 day used: £450 of the £787.50 charged
    workflow.request_cancellation(order, world.academy_sbm, "Budget cut")
    workflow.cancel(order, admin, "Budget cut")
    db.session.commit()
    rows = charges(order)
    assert [c.status for c in rows] == [
        ScheduledChargeStatus.RAISED,
        ScheduledChargeStatus.CANCELLED,
    ]
    [credit] = _credits(order)
    assert credit.credits_document_id == rows[0].document_id
    assert (credit.net_pence, credit.vat_pence) == (33_750, 6_750)  # £787.50 − £450
    assert instalments.raise_due(april(world)).raised == 0  # nothing more is charged
    first = rows[0].document
    assert first is not None
    assert first.net_pence - credit.net_pence == 45_000  # the used day, and nothing else


def test_cancelling_after_using_more_than_was_charged_charges_the_difference(
    world: Any, council_details: Any
) -> None:
    on_plan(world, parts=[PlanPart(1, 1, 9, False), PlanPart(11, 1, 4, True)])
    order = confirmed(world, 4)  # 2 days, £900 net; 1/12 (£75) charged in September
    visit = book_visit(
        world, on=weekday_in_year(world, past=True), against=str(_line(order)), school=world.academy
    )
    visits.deliver(visit, world.users[Role.ADVISER], "Done")
    db.session.commit()  # 1 day (£450) used
    workflow.request_cancellation(order, world.academy_sbm, "Closing")
    workflow.cancel(order, world.users[Role.LA_ADMIN], "Closing")
    db.session.commit()
    rows = charges(order)
    assert [c.status for c in rows] == [ScheduledChargeStatus.RAISED] * 2
    documents = charge_documents(order)
    assert [d.net_pence for d in documents] == [7_500, 37_500]  # £75 + £375 = the day used
    assert not _credits(order)


def test_the_database_refuses_a_second_document_for_one_instalment(
    world: Any, council_details: Any
) -> None:
    on_plan(world)
    order = confirmed(world, 6)
    count = db.session.scalar(select(func.count(Document.id)).where(Document.order_id == order.id))
    row = charges(order)[0]
    row.status = ScheduledChargeStatus.SCHEDULED  # as if a second worker read it before
    row.document_id = None
    db.session.flush()
    with pytest.raises(IntegrityError):  # the unique index (SQLite: its guard too)
        instalments.raise_charge(row, None)
    db.session.rollback()
    assert (
        db.session.scalar(select(func.count(Document.id)).where(Document.order_id == order.id))
        == count
    )


def _line(order: Order) -> int:
    return order.lines[0].id


def _credits(order: Order) -> list[Document]:
    return list(
        db.session.execute(
            select(Document).where(
                Document.order_id == order.id, Document.document_type == DocumentType.CREDIT_NOTE
            )
        ).scalars()
    )


def test_an_invoice_run_raises_instalments_that_are_due(
    world: Any, council_details: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_plan(world)
    order = confirmed(world, 6)
    assert invoicing.orders_awaiting_charge() == []  # nothing else waits: only the instalment
    monkeypatch.setattr(invoice_runs, "today", lambda: april(world))  # a run on 1 April
    run = invoice_runs.start(world.users[Role.LA_FINANCE], source="cli")
    db.session.commit()
    finished = invoice_runs.execute(run.id)
    assert finished.status.value == "finished"
    db.session.expire_all()
    second = charges(order)[1]
    assert second.status == ScheduledChargeStatus.RAISED
    assert second.document is not None and second.document.issue_date == april(world)
