"""Instalments of a trust on consolidated invoicing (issue 16's gaps): an academy's order on an
instalment plan is charged instalment by instalment, and each instalment invoice appears on
exactly one consolidated invoice to its trust: the daily schedule's consolidated invoice for the
day it is raised (or the next day's, when it was raised at confirmation), or the invoice run's
that raised it. Totals equal the parts to the penny; nothing is listed twice.

Runs on an SQLite file and, in CI, on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.factories import make_school, submitted_order
from traded_app.domain.instalments import PlanPart
from traded_app.domain.trusts import InvoiceTo
from traded_app.extensions import db
from traded_app.models import ConsolidatedInvoice, Document, DocumentType, Order, School, Trust
from traded_app.models.instalments import ChargeTiming
from traded_app.models.types import BillingRoute, Role
from traded_app.services.documents import charge_plans, consolidated, instalments
from traded_app.services.documents import runs as invoice_runs
from traded_app.services.ordering import workflow
from traded_app.services.platform import schedules

# 7/12 on 1 September (the year has started) and 5/12 on 1 April of the year it ends.
SEPTEMBER_APRIL = [PlanPart(7, 1, 9, False), PlanPart(5, 1, 4, True)]


@pytest.fixture(autouse=True)
def own_outbox(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))


@pytest.fixture()
def trust(world: Any) -> Trust:
    """The world's trust on consolidated invoicing, with Meadow and Brook academies; the
    council's details set up for invoices."""
    council = world.council
    council.address = "County Hall\nMarket Road\nChelmsford"
    council.postcode = "CM1 1QH"
    council.vat_number = "GB 104 2195 43"
    council.bank_name = "Example Bank"
    council.bank_account_name = "Testshire County Council"
    council.bank_sort_code = "20-00-00"
    council.bank_account_number = "12345678"
    trust: Trust = world.trust
    trust.invoice_to = InvoiceTo.CONSOLIDATED
    trust.billing_address = "Trust House\n1 Meadow Way\nChelmsford"
    trust.finance_email = "accounts@meadow-trust.example"
    brook = make_school(100004, "Brook Academy", quadrant=world.quadrant, academy=True)
    brook.trust_id = trust.id
    db.session.commit()
    return trust


def brook() -> School:
    return db.session.execute(select(School).where(School.urn == 100004)).scalar_one()


def on_plan(world: Any, parts: list[PlanPart]) -> None:
    charge_plans.save_plan(
        BillingRoute.INVOICE, ChargeTiming.INSTALMENTS, "Plan", parts, world.users[Role.LA_FINANCE]
    )
    db.session.commit()


def confirmed(world: Any, half_days: int, school: School) -> Order:
    order = submitted_order(world, {world.service: half_days}, school=school)
    workflow.confirm(order, world.users[Role.LA_ADMIN])
    db.session.commit()
    return order


def invoices_of(order: Order) -> list[Document]:
    return list(
        db.session.execute(
            select(Document)
            .where(Document.order_id == order.id, Document.document_type == DocumentType.INVOICE)
            .order_by(Document.id)
        ).scalars()
    )


def consolidated_invoices() -> list[ConsolidatedInvoice]:
    return list(
        db.session.execute(select(ConsolidatedInvoice).order_by(ConsolidatedInvoice.id)).scalars()
    )


def listed_document_ids() -> list[int]:
    return [part.document_id for ci in consolidated_invoices() for part in ci.parts]


def daily_job(on: date) -> Any:
    item = schedules.SCHEDULES[instalments.SCHEDULE_NAME]
    run = schedules.run_if_due(item, datetime(on.year, on.month, on.day, 5, 30, tzinfo=UTC))
    assert run is not None and run.outcome == "ok", run and run.detail
    db.session.expire_all()
    return run


def adds_up(invoice: ConsolidatedInvoice) -> None:
    documents = [part.document for part in invoice.parts]
    assert invoice.net_pence == sum(d.net_pence for d in documents)
    assert invoice.vat_pence == sum(d.vat_pence for d in documents)
    assert invoice.gross_pence == sum(d.gross_pence for d in documents)
    assert [p.gross_pence for p in invoice.parts] == [d.gross_pence for d in documents]
    data = consolidated.data_of(invoice)
    assert sum(b.net_pence + b.vat_pence for b in data.vat_bands) == invoice.gross_pence


def test_each_instalment_is_on_exactly_one_consolidated_invoice_from_the_daily_job(
    world: Any, trust: Trust
) -> None:
    on_plan(world, SEPTEMBER_APRIL)
    meadow_order = confirmed(world, 6, world.academy)  # £1,620.00 in all
    brook_order = confirmed(world, 5, brook())  # £1,350.00 in all
    # Confirming raised each order's first instalment (1 September has passed).
    firsts = [invoices_of(meadow_order)[0], invoices_of(brook_order)[0]]
    assert consolidated_invoices() == []
    # The next morning's schedule lists them on one consolidated invoice to the trust.
    start_year = world.year.start_year
    daily_job(date(start_year, 9, 2))
    [autumn] = consolidated_invoices()
    assert sorted(p.document_id for p in autumn.parts) == sorted(d.id for d in firsts)
    assert autumn.trust_id == trust.id and autumn.run_id is None
    assert autumn.issue_date == date(start_year, 9, 2)
    adds_up(autumn)
    # A day with nothing raised issues nothing.
    daily_job(date(start_year, 9, 3))
    assert len(consolidated_invoices()) == 1
    # 1 April: the second instalments, raised and listed by the same morning's job.
    daily_job(date(start_year + 1, 4, 1))
    autumn_again, spring = consolidated_invoices()
    assert autumn_again.id == autumn.id
    seconds = [invoices_of(meadow_order)[1], invoices_of(brook_order)[1]]
    assert sorted(p.document_id for p in spring.parts) == sorted(d.id for d in seconds)
    adds_up(spring)
    # Each instalment exactly once; together the orders' full price to the penny.
    listed = listed_document_ids()
    assert sorted(listed) == sorted(d.id for d in firsts + seconds)
    assert len(set(listed)) == len(listed)
    assert autumn.gross_pence + spring.gross_pence == 162_000 + 135_000


def test_an_invoice_run_lists_the_instalments_it_raised_and_those_waiting(
    world: Any, trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.council.invoice_timing = "invoice_run"
    db.session.commit()
    on_plan(world, [PlanPart(6, 1, 1, True), PlanPart(6, 1, 4, True)])  # January and April
    order = confirmed(world, 6, world.academy)
    assert invoices_of(order) == []  # nothing due yet
    other = confirmed(world, 2, brook())  # on the same plan: its instalments are due too
    monkeypatch.setattr(invoice_runs, "today", lambda: date(world.year.start_year + 1, 4, 2))
    run = invoice_runs.start(None, source="cli")
    db.session.commit()
    finished = invoice_runs.execute(run.id)
    assert finished.status.value == "finished", finished.error
    db.session.expire_all()
    [invoice] = consolidated_invoices()
    assert invoice.run_id == run.id
    raised = invoices_of(order) + invoices_of(other)
    assert [d.instalment_number for d in raised] == [1, 2, 1, 2]
    assert sorted(p.document_id for p in invoice.parts) == sorted(d.id for d in raised)
    adds_up(invoice)
    assert invoice.gross_pence == 162_000 + 54_000
    # The morning job after the run repeats nothing.
    daily_job(date(world.year.start_year + 1, 4, 3))
    assert len(consolidated_invoices()) == 1


def test_an_instalment_raised_before_the_trust_chose_consolidated_is_never_listed(
    world: Any, trust: Trust
) -> None:
    trust.invoice_to = InvoiceTo.ACADEMY
    db.session.commit()
    on_plan(world, SEPTEMBER_APRIL)
    order = confirmed(world, 6, world.academy)
    [first] = invoices_of(order)
    trust.invoice_to = InvoiceTo.CONSOLIDATED
    db.session.commit()
    daily_job(date(world.year.start_year + 1, 4, 1))
    [spring] = consolidated_invoices()
    assert [p.document_id for p in spring.parts] == [invoices_of(order)[1].id]
    assert first.id not in listed_document_ids()


def test_a_consolidated_invoice_that_cannot_be_made_never_undoes_the_instalments(
    world: Any, trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_plan(world, SEPTEMBER_APRIL)
    order = confirmed(world, 6, world.academy)

    def broken(_data: Any) -> bytes:
        raise RuntimeError("The PDF renderer is out of memory")

    with monkeypatch.context() as patch:
        patch.setattr(consolidated, "render", broken)
        run = daily_job(date(world.year.start_year + 1, 4, 1))
    assert "consolidated invoices to trusts not issued" in run.detail
    assert run.detail.startswith("1 instalment charged")
    assert [d.instalment_number for d in invoices_of(order)] == [1, 2]  # kept
    assert consolidated_invoices() == []
    daily_job(date(world.year.start_year + 1, 4, 2))
    [invoice] = consolidated_invoices()
    assert sorted(p.document_id for p in invoice.parts) == [d.id for d in invoices_of(order)]
