"""Issuing documents: charged once at confirmation, gapless numbers under concurrency, copies
that never change (ORM and database), and credit notes that never exceed what was charged.

Runs on an SQLite file and, in CI, on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DatabaseError

from tests.factories import make_service, submitted_order
from traded_app.extensions import db
from traded_app.models import (
    Document,
    DocumentLine,
    DocumentType,
    Order,
    OrderStatus,
    QuadrantCapacity,
    User,
)
from traded_app.models.types import BillingRoute, Role, VatTreatment
from traded_app.services.documents import issuing as invoicing
from traded_app.services.documents import numbering, pdf
from traded_app.services.ordering import workflow
from traded_app.services.platform import append_only
from traded_app.services.platform.settings import today


def admin(world: Any) -> User:
    return world.users[Role.LA_ADMIN]  # type: ignore[no-any-return]


def confirmed(world: Any, lines: dict[Any, int] | None = None, **kwargs: Any) -> Order:
    order = submitted_order(world, lines, **kwargs)
    workflow.confirm(order, admin(world))
    db.session.commit()
    return order


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
    world.school.billing_contact_email = "office@riverside.example"
    db.session.commit()
    return council


def test_confirming_a_maintained_schools_order_raises_a_recharge_without_vat(
    world: Any, council_details: Any
) -> None:
    order = confirmed(world, {world.service: 3})
    document = invoicing.charge_document_for(order)
    assert document is not None
    assert document.document_type == DocumentType.RECHARGE
    fy = numbering.financial_year_of(document.issue_date, 4)
    assert document.number == f"RCH-{fy}-000001"
    assert (document.net_pence, document.vat_pence, document.gross_pence) == (67_500, 0, 67_500)
    assert document.buyer_cost_centre == world.school.cost_centre
    assert [(line.service_code, line.half_days, line.net_pence) for line in document.lines] == [
        ("HTPM", 3, 67_500)
    ]
    assert (document.due_date - document.issue_date).days == 30


def test_a_recharge_is_outside_the_scope_of_vat_whatever_the_order_carried(
    world: Any, council_details: Any
) -> None:
    order = submitted_order(world, {world.service: 3}, school=world.academy)
    assert all(line.vat_rate_bp for line in order.lines)  # ordered as an academy, with VAT
    world.academy.billing_route = BillingRoute.RECHARGE  # then billed by internal recharge
    workflow.confirm(order, admin(world))
    db.session.commit()
    document = invoicing.charge_document_for(order)
    assert document is not None and document.document_type == DocumentType.RECHARGE
    assert (document.net_pence, document.vat_pence, document.gross_pence) == (67_500, 0, 67_500)
    assert [(line.vat_treatment, line.vat_rate_bp) for line in document.lines] == [
        (VatTreatment.OUTSIDE_SCOPE, 0)
    ]


def test_confirming_an_academys_order_raises_a_vat_invoice(
    world: Any, council_details: Any
) -> None:
    order = confirmed(world, {world.service: 3}, school=world.academy)
    document = invoicing.charge_document_for(order)
    assert document is not None and document.document_type == DocumentType.INVOICE
    assert document.number.startswith("INV-")
    assert (document.net_pence, document.vat_pence, document.gross_pence) == (
        67_500,
        13_500,
        81_000,
    )
    assert [(b.vat_rate_bp, b.net_pence, b.vat_pence) for b in document.vat_bands] == [
        (2000, 67_500, 13_500)
    ]
    assert document.seller_vat_number == "GB 104 2195 43"
    assert document.po_number == order.po_number == "PO-1"


def test_a_document_copies_parties_as_they_were(world: Any, council_details: Any) -> None:
    order = confirmed(world, {world.service: 2})
    world.school.name = "Riverside Primary Academy"
    world.council.bank_account_number = "87654321"
    world.service.name = "Renamed service"
    db.session.commit()
    document = invoicing.charge_document_for(order)
    assert document is not None
    assert document.buyer_name == "Riverside Primary School"
    assert document.bank_account_number == "12345678"
    assert document.lines[0].service_name == "Headteacher performance management"


def test_an_order_is_charged_once(world: Any, council_details: Any) -> None:
    order = confirmed(world)
    with pytest.raises(invoicing.InvoicingError, match="already been charged"):
        invoicing.issue_for_order(order, admin(world))
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(Document)).scalar_one() == 1


def test_in_invoice_run_mode_confirmation_waits_for_the_run(
    world: Any, council_details: Any
) -> None:
    world.council.invoice_timing = "invoice_run"
    db.session.commit()
    order = confirmed(world)
    assert invoicing.charge_document_for(order) is None
    assert invoicing.orders_awaiting_charge() == [order]
    invoicing.issue_for_order(order, None)
    db.session.commit()
    assert invoicing.orders_awaiting_charge() == []


# --- Immutability -------------------------------------------------------------------------


def test_the_orm_refuses_to_change_or_delete_an_issued_document(
    world: Any, council_details: Any
) -> None:
    document = invoicing.charge_document_for(confirmed(world))
    assert document is not None
    document.gross_pence = 1
    with pytest.raises(append_only.ImmutableDocumentError):
        db.session.flush()
    db.session.rollback()
    line = db.session.execute(select(DocumentLine)).scalar_one()
    db.session.delete(line)
    with pytest.raises(append_only.ImmutableDocumentError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE document SET gross_pence = 1",
        "UPDATE document_line SET half_days = 99",
        "UPDATE document_vat_band SET vat_pence = 0",
        "DELETE FROM document_vat_band",
        "DELETE FROM document_line",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_issued_document(
    world: Any, council_details: Any, statement: str
) -> None:
    confirmed(world, school=world.academy)
    with pytest.raises(DatabaseError, match="cannot be changed or deleted"):
        db.session.execute(text(statement))
    db.session.rollback()
    document = db.session.execute(select(Document)).scalar_one()
    assert document.gross_pence == 54_000 and len(document.lines) == 1


def test_bulk_updates_through_the_orm_are_refused_by_the_database(
    world: Any, council_details: Any
) -> None:
    confirmed(world)
    with pytest.raises(DatabaseError):
        db.session.execute(update(Document).values(po_number="changed"))
    db.session.rollback()


# --- Credit notes -------------------------------------------------------------------------


def test_cancelling_a_confirmed_order_credits_it_in_full_in_its_own_series(
    world: Any, council_details: Any
) -> None:
    order = confirmed(world, {world.service: 3}, school=world.academy)
    workflow.cancel(order, admin(world), "School closed for building works")
    db.session.commit()
    charge = invoicing.charge_document_for(order)
    notes = (
        db.session.execute(
            select(Document).where(Document.document_type == DocumentType.CREDIT_NOTE)
        )
        .scalars()
        .all()
    )
    assert len(notes) == 1
    note = notes[0]
    assert note.number.startswith("CRN-") and note.number.endswith("-000001")
    assert note.credits_document_id == charge.id
    assert note.gross_pence == charge.gross_pence == 81_000
    assert "School closed for building works" in note.reason
    assert invoicing.credited_pence(charge) == charge.gross_pence


def test_credit_notes_never_exceed_what_was_charged(world: Any, council_details: Any) -> None:
    governance = make_service("GOVREV", world.year, name="Review of governance")
    db.session.commit()
    order = confirmed(world, {world.service: 3, governance: 2})
    line_htpm, line_gov = sorted(order.lines, key=lambda line: line.service.code)[::-1]
    note = invoicing.credit_order(order, admin(world), "Part credit", {line_htpm.id: 2})
    db.session.commit()
    assert note is not None and note.gross_pence == 45_000
    with pytest.raises(invoicing.InvoicingError, match=r"0\.5 days of .* are left to credit"):
        invoicing.credit_order(order, admin(world), "Too much", {line_htpm.id: 2})
    db.session.rollback()
    # What is left can still be credited, and then nothing more.
    invoicing.credit_order(order, admin(world), "The rest", {line_htpm.id: 1, line_gov.id: 2})
    db.session.commit()
    charge = invoicing.charge_document_for(order)
    assert invoicing.credited_pence(charge) == charge.gross_pence
    assert invoicing.credit_order(order, admin(world), "Again", {line_gov.id: 0}) is None


def test_an_uncharged_order_gets_no_credit_note(world: Any, council_details: Any) -> None:
    world.council.invoice_timing = "invoice_run"
    db.session.commit()
    order = confirmed(world)
    workflow.cancel(order, admin(world), "Not needed")
    db.session.commit()
    assert db.session.execute(select(func.count()).select_from(Document)).scalar_one() == 0


# --- Numbers ------------------------------------------------------------------------------


def test_each_series_counts_on_its_own_and_restarts_each_financial_year(
    world: Any, council_details: Any
) -> None:
    orders = [submitted_order(world) for _ in range(2)]
    academy_order = submitted_order(world, school=world.academy)
    for order in [*orders, academy_order]:
        workflow.confirm(order, admin(world))
    db.session.commit()
    numbers = sorted(d.number for d in db.session.execute(select(Document)).scalars())
    fy = numbering.financial_year_of(today(), 4)
    assert numbers == [f"INV-{fy}-000001", f"RCH-{fy}-000001", f"RCH-{fy}-000002"]
    next_year = submitted_order(world)
    next_year.status = OrderStatus.CONFIRMED
    db.session.commit()
    document = invoicing.issue_for_order(next_year, None, on=date(fy + 1, 4, 1))
    db.session.commit()
    assert document.number == f"RCH-{fy + 1}-000001"


def test_many_confirmations_at_once_take_numbers_one_to_n(
    app: Flask, world: Any, council_details: Any
) -> None:
    capacity = db.session.execute(select(QuadrantCapacity)).scalar_one()
    capacity.traded_capacity_half_days = 10_000
    db.session.commit()
    n = 8
    order_ids = [submitted_order(world, {world.service: 1}).id for _ in range(n)]
    admin_id = admin(world).id
    db.session.remove()
    start = threading.Barrier(n)
    problems: list[str] = []

    def confirm(order_id: int) -> None:
        start.wait(timeout=30)
        with app.app_context():
            try:
                order = db.session.get(Order, order_id)
                workflow.confirm(order, db.session.get(User, admin_id))
                db.session.commit()
            except Exception as error:  # reported below, not hidden
                db.session.rollback()
                problems.append(f"{type(error).__name__}: {error}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm, args=(i,)) for i in order_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert problems == []
    sequences = sorted(
        db.session.execute(
            select(Document.sequence).where(Document.document_type == DocumentType.RECHARGE)
        ).scalars()
    )
    assert sequences == list(range(1, n + 1))  # no gap, no repeat


def test_a_failure_after_taking_a_number_leaves_no_gap_and_nothing_half_issued(
    world: Any, council_details: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = submitted_order(world)
    second = submitted_order(world)

    def broken(_data: Any) -> bytes:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(pdf, "render", broken)
    outbox = Path(current_app.config["MAIL_OUTBOX_DIR"])
    mails_before = len(list(outbox.glob("*.eml"))) if outbox.exists() else 0
    with pytest.raises(RuntimeError):
        # The first document of the year creates its counter inside a savepoint: releasing
        # that savepoint must not send the "confirmed" e-mail of a confirmation rolled back.
        workflow.confirm(first, admin(world))
    db.session.rollback()
    monkeypatch.undo()
    assert (len(list(outbox.glob("*.eml"))) if outbox.exists() else 0) == mails_before
    assert db.session.execute(select(func.count()).select_from(Document)).scalar_one() == 0
    assert db.session.get(Order, first.id).status == OrderStatus.SUBMITTED
    workflow.confirm(second, admin(world))
    db.session.commit()
    assert invoicing.charge_document_for(second).sequence == 1  # the number was not used up


def test_cancelling_an_order_with_nothing_left_to_credit_issues_no_0_credit_note(
    world: Any,
) -> None:
    """A free service's days (a £0.00 line) are not credited: no credit note for nothing."""
    free = make_service("FREE", world.year, price_pence=0)
    order = submitted_order(world, {world.service: 2, free: 2}, school=world.academy)
    if order.status.value == "awaiting_approval":
        workflow.approve(order, world.users[Role.HEADTEACHER])
    workflow.confirm(order, world.users[Role.LA_ADMIN])
    db.session.commit()
    charge = invoicing.charge_document_for(order)
    assert charge is not None and charge.gross_pence > 0
    paid_line = next(line for line in order.lines if line.service_id == world.service.id)
    free_line = next(line for line in order.lines if line.service_id == free.id)
    # The paid days credited first; the free days left credit nothing at all.
    first = invoicing.credit_order(order, None, "Paid days", {paid_line.id: 2})
    assert first is not None and first.gross_pence == charge.gross_pence
    assert invoicing.credit_order(order, None, "Free days", {free_line.id: 2}) is None
    workflow.cancel(order, world.users[Role.LA_ADMIN], "Not needed")
    db.session.commit()
    notes = db.session.execute(
        select(Document).where(Document.credits_document_id == charge.id)
    ).scalars()
    assert [note.gross_pence for note in notes] == [charge.gross_pence]


def test_cancelling_after_a_service_code_changed_is_refused_with_a_reason_not_a_500(
    world: Any, council_details: Any, as_role: Any
) -> None:
    """The invoice copied the service's code; the catalogue's code changed since. Crediting
    cannot tell which line is which, so the cancellation is refused, saying why and what to do,
    and nothing changes: the order stands and no credit note is issued."""
    order = confirmed(world, {world.service: 3}, school=world.academy)
    world.service.code = "HTPM-NEW"
    db.session.commit()
    answer = as_role(Role.LA_ADMIN).post_form(
        f"/orders/{order.id}/cancel", {"reason": "Not needed"}, follow_redirects=True
    )
    assert answer.status_code == 200
    shown = answer.get_data(as_text=True)
    assert "the service&#39;s code was changed after it was issued" in shown
    assert "change the code back" in shown
    db.session.expire_all()
    assert order.status.value == "confirmed"
    assert invoicing.credited_pence(invoicing.charge_document_for(order)) == 0
