"""Statements of account agree with the register and aged debt to the penny, over random
payments, reversals, journals and credit notes on invoices, recharges and a brought-forward
invoice; and a statement of a past period shows the figures as they stood then."""

from __future__ import annotations

import io
import itertools
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import issue_document
from traded_app.extensions import db
from traded_app.models import Document, DocumentType, Payment, School
from traded_app.models.types import Role, VatTreatment
from traded_app.services.documents import brought_forward
from traded_app.services.finance import aged_debt, payments, register, statements
from traded_app.services.platform.settings import today

operations = st.lists(
    st.tuples(
        st.sampled_from(["pay", "reverse", "credit", "journal"]),
        st.integers(0, 4),  # which document
        st.integers(1, 150_000),  # an amount in pence
        st.integers(0, 90),  # how many days ago it happened
    ),
    min_size=1,
    max_size=14,
)


_NUMBERS = itertools.count(1)


def _brought_forward(world: Any, school: School, pence: int, days_ago: int) -> Document:
    issued = today() - timedelta(days=days_ago)
    due = issued + timedelta(days=30)
    content = (
        "URN,original number,date,due date,amount,VAT,description\n"
        f"{school.urn},OLD-{next(_NUMBERS)},{issued:%d/%m/%Y},{due:%d/%m/%Y},"
        f"{pence // 100}.{pence % 100:02d},0,Old system\n"
    ).encode()
    finance = world.users[Role.LA_FINANCE]
    record = brought_forward.preview(io.BytesIO(content), "old.csv", finance, 100_000)
    (document,) = brought_forward.apply(record, finance)
    return document


def _documents(world: Any, offsets: list[int]) -> list[Document]:
    """Three VAT invoices to the academy (one brought forward), two recharges to the school."""
    made = []
    for i in range(4):
        school = world.academy if i % 2 == 0 else world.school
        made.append(
            issue_document(
                world,
                school=school,
                lines=[(2 + i, 45_000, VatTreatment.STANDARD, 2000)],
                on=today() - timedelta(days=offsets[i]),
            )
        )
    made.append(_brought_forward(world, world.academy, 123_456, offsets[4]))
    db.session.commit()
    return made


def _apply(world: Any, docs: list[Document], op: tuple[str, int, int, int]) -> None:
    finance = world.users[Role.LA_FINANCE]
    action, which, amount, days_ago = op
    document = docs[which]
    on = max(today() - timedelta(days=days_ago), document.issue_date)
    if action in ("pay", "journal"):
        kind = payments.PaymentKind.BANK_TRANSFER
        if action == "journal":
            kind = payments.PaymentKind.JOURNAL
        try:
            payments.record_payment(document, kind, amount, on, "REF", finance)
            db.session.commit()
        except payments.PaymentError:
            db.session.rollback()
    elif action == "reverse":
        latest = db.session.execute(
            select(Payment)
            .where(Payment.document_id == document.id, Payment.reverses_payment_id.is_(None))
            .order_by(Payment.id.desc())
        ).scalar()
        if latest is not None and payments.reversal_of(latest) is None:
            payments.reverse_payment(latest, "Wrong invoice", finance)
            db.session.commit()
    else:
        figures = payments.balances.figures_of(document)
        if figures.credited_pence + amount <= document.gross_pence:
            issue_document(
                world,
                school=document.school,
                document_type=DocumentType.CREDIT_NOTE,
                lines=[(1, amount, VatTreatment.OUTSIDE_SCOPE, 0)],
                credits=document,
                on=on,
            )
            db.session.commit()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=operations,
    offsets=st.lists(st.integers(0, 150), min_size=5, max_size=5),
    start_ago=st.integers(0, 200),
)
def test_statements_agree_with_the_register_and_aged_debt(
    world: Any, ops: list[tuple[str, int, int, int]], offsets: list[int], start_ago: int
) -> None:
    docs = _documents(world, offsets)
    for op in ops:
        _apply(world, docs, op)
    debt = {s.school_id: s for s in aged_debt.aged_debt().schools}
    for school in (world.academy, world.school):
        start = today() - timedelta(days=start_ago)
        statement = statements.statement_for(school, start, today())
        totals = register.totals_of(register.RegisterFilters(school_urn=school.urn))
        # The closing balance is the register's outstanding total for the school.
        assert statement.closing_pence == totals.outstanding_pence
        # What is open adds up to the closing balance, and its invoices' ages are aged debt's.
        assert statement.ageing.total_pence == statement.closing_pence
        if school.id in debt:
            assert statement.ageing.ages == debt[school.id].ages
            assert statement.ageing.open_invoices == debt[school.id].invoices
        else:
            assert statement.ageing.ages.total == 0
        # The opening balance and the period's entries add up to the closing balance, entry by
        # entry, and a statement from the very start opens at nothing.
        running = statement.opening_pence
        for entry in statement.entries:
            running += entry.debit_pence - entry.credit_pence
            assert entry.balance_pence == running
        whole = statements.statement_for(school, date(2000, 1, 1), today())
        assert whole.opening_pence == 0
        assert whole.closing_pence == statement.closing_pence
        # A past period's closing balance is what its open items added up to on its last day.
        if start_ago > 0:
            before = statements.statement_for(school, date(2000, 1, 1), start - timedelta(days=1))
            assert before.closing_pence == statement.opening_pence
            assert before.ageing.total_pence == before.closing_pence


def test_a_past_period_shows_what_was_owed_then(world: Any) -> None:
    finance = world.users[Role.LA_FINANCE]
    invoice = issue_document(world, on=today() - timedelta(days=60))  # £540 to the academy
    db.session.commit()
    payments.record_bank_transfer(invoice, 30_000, today() - timedelta(days=20), "BACS 1", finance)
    payments.record_bank_transfer(invoice, 8_000, today() - timedelta(days=5), "BACS 2", finance)
    db.session.commit()
    first = statements.statement_for(
        world.academy, today() - timedelta(days=90), today() - timedelta(days=10)
    )
    assert first.opening_pence == 0
    assert [(e.kind, e.debit_pence, e.credit_pence) for e in first.entries] == [
        ("Invoice", 54_000, 0),
        ("Bank transfer", 0, 30_000),
    ]
    assert first.closing_pence == 24_000
    # Ten days ago the invoice was 20 days overdue, with £240 left on it.
    assert first.ageing.ages.d0_30 == 24_000
    assert first.ageing.total_pence == 24_000
    second = statements.statement_for(world.academy, today() - timedelta(days=9), today())
    assert second.opening_pence == 24_000
    assert second.closing_pence == 16_000
    assert [e.reference for e in second.entries] == ["BACS 2"]


def test_the_csv_has_every_entry_and_no_formula(world: Any) -> None:
    invoice = issue_document(world)
    db.session.commit()
    finance = world.users[Role.LA_FINANCE]
    payments.record_bank_transfer(invoice, 4_000, today(), "=HYPERLINK(1)", finance)
    db.session.commit()
    statement = statements.statement_for(world.academy, today(), today())
    lines = statements.as_csv(statement).splitlines()
    assert lines[0] == "Date,Type,Reference,Details,Debit,Credit,Balance"
    assert lines[1].startswith(f"{today().isoformat()},Opening balance,")
    assert lines[2].startswith(f"{today().isoformat()},Invoice,{invoice.number},")
    assert lines[2].endswith(",540.00,,540.00")
    # A reference a spreadsheet would run as a formula is made plain text.
    assert (
        lines[3]
        == f"{today().isoformat()},Bank transfer,'=HYPERLINK(1),For {invoice.number},,40.00,500.00"
    )
    assert lines[-1].endswith(",540.00,40.00,500.00")


def test_a_period_is_checked(world: Any) -> None:
    for start, end, field in (
        (today(), today() + timedelta(days=1), "end"),
        (today(), today() - timedelta(days=1), "start"),
        (date(1999, 12, 31), today(), "start"),
    ):
        try:
            statements.check_period(start, end)
        except statements.StatementError as error:
            assert error.field == field
        else:
            raise AssertionError((start, end))
    start, end = statements.check_period(None, None)
    assert end == today() and start.day == 1 and start <= end
