"""Balances and statuses: the rule, its SQL twin, and the identity balance = gross − credit
notes − payments over random sequences of payments, reversals, journals and credit notes, held
to the penny across the register, aged debt, the statements page and each school's statement."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import issue_document
from traded_app.extensions import db
from traded_app.models import Document, DocumentFigures, DocumentType, Payment
from traded_app.models.types import Role, VatTreatment
from traded_app.services.finance import aged_debt, balances, payments, register, statements
from traded_app.services.finance.balances import DocumentStatus, status_of
from traded_app.services.platform.settings import today

ON = date(2027, 1, 15)
types = st.sampled_from(list(DocumentType))


@given(
    document_type=types,
    gross=st.integers(0, 10_000_000),
    credited_share=st.integers(0, 100),
    paid=st.integers(-1_000, 10_000_000),
    due_offset=st.integers(-400, 400),
)
def test_status_follows_from_the_figures(
    document_type: DocumentType, gross: int, credited_share: int, paid: int, due_offset: int
) -> None:
    credited = gross * credited_share // 100
    due = ON + timedelta(days=due_offset)
    status = status_of(document_type, gross, credited, paid, due, ON)
    balance = gross - credited - paid
    if document_type == DocumentType.CREDIT_NOTE:
        assert status == DocumentStatus.ISSUED
        return
    assert (status == DocumentStatus.REFUND_DUE) == (balance < 0)
    assert (status in (DocumentStatus.PAID, DocumentStatus.CREDITED)) == (balance == 0)
    if status == DocumentStatus.CREDITED:
        assert credited > 0 and paid == 0
    # Only a VAT invoice past its due date with something left is overdue.
    assert (status == DocumentStatus.OVERDUE) == (
        balance > 0 and document_type == DocumentType.INVOICE and due < ON
    )
    if status == DocumentStatus.PART_PAID:
        assert paid > 0 and balance > 0
    if status == DocumentStatus.ISSUED:
        assert paid <= 0 and credited == 0 and balance > 0


def test_a_recharge_is_never_overdue() -> None:
    long_ago = ON - timedelta(days=365)
    assert status_of(DocumentType.RECHARGE, 100, 0, 0, long_ago, ON) == DocumentStatus.ISSUED
    assert status_of(DocumentType.INVOICE, 100, 0, 0, long_ago, ON) == DocumentStatus.OVERDUE


operations = st.lists(
    st.tuples(
        st.sampled_from(["pay", "reverse", "credit", "journal"]),
        st.integers(0, 3),  # which document
        st.integers(1, 150_000),  # an amount in pence
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Due dates from 120 days ago to 30 days ahead: issued up to 150 days ago, never after today.
@given(ops=operations, due_offsets=st.lists(st.integers(-120, 30), min_size=4, max_size=4))
def test_balances_always_equal_total_less_payments_less_credits(
    world: Any, ops: list[tuple[str, int, int]], due_offsets: list[int]
) -> None:
    finance = world.users[Role.LA_FINANCE]
    docs = [
        issue_document(
            world,
            school=world.academy if i % 2 == 0 else world.school,
            lines=[(2 + i, 45_000, VatTreatment.STANDARD, 2000)],
            on=today() - timedelta(days=30) + timedelta(days=due_offsets[i]),
        )
        for i in range(4)
    ]
    db.session.commit()
    for action, which, amount in ops:
        document = docs[which]
        before = balances.figures_of(document).balance_pence or 0
        if action in ("pay", "journal"):
            kind = payments.PaymentKind.BANK_TRANSFER
            if action == "journal":
                kind = payments.PaymentKind.JOURNAL
            try:
                payments.record_payment(document, kind, amount, today(), "REF", finance)
                db.session.commit()
                recorded = True
            except payments.PaymentError:
                db.session.rollback()
                recorded = False
            right_route = payments.route_problem(document, kind) == ""
            assert recorded == (right_route and 0 < amount <= before)
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
            already = db.session.execute(
                select(func.coalesce(func.sum(Document.gross_pence), 0)).where(
                    Document.credits_document_id == document.id
                )
            ).scalar_one()
            if already + amount <= document.gross_pence:
                issue_document(
                    world,
                    school=document.school,
                    document_type=DocumentType.CREDIT_NOTE,
                    lines=[(1, amount, VatTreatment.OUTSIDE_SCOPE, 0)],
                    credits=document,
                )
                db.session.commit()
        _check_identity(docs)
        _check_aged_debt_and_statements(docs)


def _check_identity(docs: list[Document]) -> None:
    figures = balances.figures_for(docs)
    rows = {
        r.document.id: r
        for r in register.register(register.RegisterFilters(), per_page=10_000).rows.items
    }
    for document in docs:
        paid = db.session.execute(
            select(func.coalesce(func.sum(Payment.amount_pence), 0)).where(
                Payment.document_id == document.id
            )
        ).scalar_one()
        credited = db.session.execute(
            select(func.coalesce(func.sum(Document.gross_pence), 0)).where(
                Document.credits_document_id == document.id
            )
        ).scalar_one()
        mine = figures[document.id]
        assert mine.balance_pence == document.gross_pence - credited - paid
        # Payments never take a balance below zero; only a credit note after payments can,
        # and then a refund is due.
        assert (mine.balance_pence < 0) == (mine.status() == DocumentStatus.REFUND_DUE)
        # The register's SQL gives the same figures and status as the Python rule.
        row = rows[document.id]
        assert row.figures == mine
        assert row.status == mine.status()
        # What the database keeps (migration 0019's triggers) is what the rows add up to.
        kept = db.session.get(DocumentFigures, document.id, populate_existing=True)
        assert kept is not None
        assert (kept.credited_pence, kept.paid_pence, kept.balance_pence) == (
            credited,
            paid,
            mine.balance_pence,
        )


def _bucket(due: date, on: date) -> str:
    """Aged debt's bucket for an invoice due on `due`, by days past it (the rule, in Python)."""
    late = (on - due).days
    if late <= 0:
        return "current"
    return (
        "d0_30"
        if late <= 30
        else "d31_60"
        if late <= 60
        else "d61_90"
        if late <= 90
        else "d90_plus"
    )


def _check_aged_debt_and_statements(docs: list[Document]) -> None:
    """Aged debt's buckets and recharges, the statements page's balances and each school's
    statement (its closing balance and ageing) agree with the balance service to the penny."""
    on = today()
    schools = {d.school_id: d.school for d in docs}
    # Every document of those schools: the examples before this one left theirs too.
    everything = list(
        db.session.execute(select(Document).where(Document.school_id.in_(schools))).scalars()
    )
    figures = balances.figures_for(everything)
    debt = aged_debt.aged_debt(on)
    by_school = {s.school_id: s for s in debt.schools}
    listed = {row.urn: row.balance_pence for row in statements.schools_with_balance_page(1).items}
    expected_recharges = 0
    for school_id, school in schools.items():
        ages = aged_debt.Ages()
        owed = 0
        recharges = 0
        for document in everything:
            if document.school_id != school_id:
                continue
            balance = figures[document.id].balance_pence or 0
            owed += balance
            if document.document_type == DocumentType.INVOICE and balance > 0:
                key = _bucket(document.due_date, on)
                setattr(ages, key, ages.get(key) + balance)
            if document.document_type == DocumentType.RECHARGE and balance > 0:
                recharges += balance
        expected_recharges += recharges
        shown = by_school.get(school_id)
        assert (shown.ages if shown else aged_debt.Ages()) == ages
        assert listed.get(school.urn, 0) == owed
        statement = statements.statement_for(school, *statements.default_period(on))
        assert statement.closing_pence == owed
        assert statement.ageing.ages == ages
        assert statement.ageing.recharges_pence == recharges
        assert statement.ageing.total_pence == owed
    assert debt.recharges_awaiting_pence == expected_recharges
