"""The figures the database keeps for each document (`document_figures`, migration 0019): right
after every credit note and payment, gone with a rolled-back one, and filled in for documents
that were there before the migration. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from tests.conftest import owner_engine
from tests.factories import issue_document
from traded_app.extensions import db
from traded_app.models import Document, DocumentFigures, DocumentType, Payment
from traded_app.models.types import Role, VatTreatment
from traded_app.services.finance import payments
from traded_app.services.platform.settings import today

MIGRATION = importlib.import_module(
    "traded_app.migrations.versions.0019_financesql_document_figures"
)


def kept(document: Document) -> tuple[int, int, int]:
    """(credited, paid, balance) as the database keeps them."""
    row = db.session.get(DocumentFigures, document.id, populate_existing=True)
    assert row is not None
    return row.credited_pence, row.paid_pence, row.balance_pence


def summed(document: Document) -> tuple[int, int, int]:
    """(credited, paid, balance) added up from the credit notes and payments themselves."""
    credited = db.session.execute(
        select(func.coalesce(func.sum(Document.gross_pence), 0)).where(
            Document.credits_document_id == document.id
        )
    ).scalar_one()
    paid = db.session.execute(
        select(func.coalesce(func.sum(Payment.amount_pence), 0)).where(
            Payment.document_id == document.id
        )
    ).scalar_one()
    if document.is_credit_note:
        return 0, paid, 0
    return credited, paid, document.gross_pence - credited - paid


def test_each_credit_note_and_payment_moves_its_documents_figures(world: Any) -> None:
    finance = world.users[Role.LA_FINANCE]
    invoice = issue_document(world, school=world.academy)  # a day at £450 + VAT: £540
    recharge = issue_document(world, school=world.school)
    db.session.commit()
    assert kept(invoice) == (0, 0, 54_000)
    assert kept(recharge) == summed(recharge) == (0, 0, recharge.gross_pence)

    paid = payments.record_bank_transfer(invoice, 20_000, today(), "BACS 1", finance)
    db.session.commit()
    assert kept(invoice) == (0, 20_000, 34_000)

    note = issue_document(
        world,
        school=world.academy,
        document_type=DocumentType.CREDIT_NOTE,
        lines=[(1, 30_000, VatTreatment.OUTSIDE_SCOPE, 0)],
        credits=invoice,
    )
    db.session.commit()
    assert kept(invoice) == (15_000, 20_000, 19_000)
    assert kept(note) == (0, 0, 0)  # a credit note has no balance of its own

    payments.reverse_payment(paid, "Wrong invoice", finance)
    db.session.commit()
    assert kept(invoice) == (15_000, 0, 39_000) == summed(invoice)

    payments.record_payment(
        recharge, payments.PaymentKind.JOURNAL, recharge.gross_pence, today(), "JNL 1", finance
    )
    db.session.commit()
    assert kept(recharge) == (0, recharge.gross_pence, 0) == summed(recharge)


def test_a_payment_rolled_back_leaves_the_figures_as_they_were(world: Any) -> None:
    invoice = issue_document(world, school=world.academy)
    db.session.commit()
    payments.record_bank_transfer(invoice, 10_000, today(), "BACS 1", world.users[Role.LA_FINANCE])
    db.session.flush()
    assert kept(invoice) == (0, 10_000, 44_000)  # inside the transaction, at once
    db.session.rollback()
    assert kept(invoice) == (0, 0, 54_000)


def test_the_kept_balance_must_add_up_even_for_the_tables_owner(world: Any) -> None:
    invoice = issue_document(world, school=world.academy)
    db.session.commit()
    invoice_id = invoice.id
    db.session.close()  # SQLite: the owner's connection is another writer
    with owner_engine().connect() as connection, pytest.raises(IntegrityError):
        connection.execute(
            text("UPDATE document_figures SET paid_pence = 1 WHERE document_id = :id"),
            {"id": invoice_id},
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE document_figures SET paid_pence = paid_pence + 1, "
        "balance_pence = balance_pence - 1 WHERE document_id = :id",
        "DELETE FROM document_figures WHERE document_id = :id",
        "INSERT INTO document_figures (document_id, document_type, school_id, due_date, "
        "gross_pence, credited_pence, paid_pence, balance_pence) "
        "SELECT :id + 1000, 'invoice', school_id, due_date, 1, 0, 0, 1 FROM document_figures "
        "WHERE document_id = :id",
    ],
    ids=["update", "delete", "insert"],
)
def test_the_apps_role_cannot_write_the_figures_but_its_payments_move_them(
    world: Any, statement: str
) -> None:
    """On PostgreSQL the app connects as a role that may only read the figures: a balance can
    not be rewritten at its SQL prompt (a payment that adds up, too), while the payments and
    credit notes it records still move them (the triggers run as the tables' owner)."""
    if owner_engine() is db.engine:
        pytest.skip("the app's role owns the tables (SQLite, or no TEST_DATABASE_OWNER_URL)")
    invoice = issue_document(world, school=world.academy)
    db.session.commit()
    with pytest.raises(ProgrammingError, match="permission denied"):
        db.session.execute(text(statement), {"id": invoice.id})
    db.session.rollback()
    payments.record_bank_transfer(invoice, 4_000, today(), "BACS 9", world.users[Role.LA_FINANCE])
    db.session.commit()
    assert kept(invoice) == (0, 4_000, invoice.gross_pence - 4_000)


def test_the_migration_fills_in_the_figures_of_existing_documents(world: Any) -> None:
    finance = world.users[Role.LA_FINANCE]
    invoice = issue_document(world, school=world.academy)
    other = issue_document(world, school=world.academy)
    recharge = issue_document(world, school=world.school)
    db.session.flush()
    recharge_id, recharge_gross = recharge.id, recharge.gross_pence
    payments.record_bank_transfer(invoice, 20_000, today(), "BACS 1", finance)
    issue_document(
        world,
        school=world.academy,
        document_type=DocumentType.CREDIT_NOTE,
        lines=[(1, 10_000, VatTreatment.STANDARD, 2000)],
        credits=other,
    )
    db.session.commit()
    before = db.session.execute(select(DocumentFigures).order_by(DocumentFigures.document_id))
    expected = [
        (f.document_id, f.document_type, f.school_id, f.due_date, *kept_of(f))
        for f in before.scalars()
    ]
    assert len(expected) == 4
    db.session.expunge_all()

    db.session.close()  # SQLite: the owner's connection is another writer
    with owner_engine().begin() as connection:  # the figures are the database's to write
        connection.execute(delete(DocumentFigures))
        connection.execute(text(MIGRATION.FILL))

    after = db.session.execute(select(DocumentFigures).order_by(DocumentFigures.document_id))
    assert [
        (f.document_id, f.document_type, f.school_id, f.due_date, *kept_of(f))
        for f in after.scalars()
    ] == expected
    assert kept(db.session.get(Document, recharge_id)) == (0, 0, recharge_gross)


def kept_of(row: DocumentFigures) -> tuple[int, int, int, int]:
    return row.gross_pence, row.credited_pence, row.paid_pence, row.balance_pence
