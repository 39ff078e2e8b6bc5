"""A school's statement of account for a period: what it owed at the start, every document and
every payment in the period, what it owes at the end, and the ageing of what is open.

Everything is worked out in the database from the documents and payments themselves, the same
way the register and aged debt do (services/finance/balances.py): a charge (VAT invoice,
internal recharge, brought-forward invoice) is a debit on its issue date, a credit note a
credit on its issue date, a payment or journal a credit on the day it was received, and a
reversal a debit on its day. So

    closing balance = opening balance + debits − credits

and, at the end of the period, the closing balance is the sum of the school's documents'
balances as they stood then (`balances.figures_on`): on today's date exactly what the
register's outstanding total and aged debt show for the school (tests/unit/test_statements.py
holds them to each other to the penny). The ageing of what is open uses aged debt's own
buckets (`aged_debt.bucket_sums`), counted on the period's last day: VAT invoices by how long
past their due date, recharges waiting for a journal apart, and any money the school has in
hand (a charge paid more than it now owes) apart again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, case, func, select
from sqlalchemy.orm import aliased

from traded_app.extensions import db
from traded_app.formatting import long_date
from traded_app.models import Document, DocumentFigures, DocumentType, School
from traded_app.models.payments import Payment, PaymentKind
from traded_app.services.finance import aged_debt, balances
from traded_app.services.platform.audit import safe_cell
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.paging import Page, clamp, paginate_rows
from traded_app.services.platform.settings import council_settings, today
from traded_app.services.platform.statements import run

EARLIEST = date(2000, 1, 1)  # a period may not start before this (a typing mistake)


class StatementError(DomainError, ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the statement: a document or a payment, and the balance after it."""

    on: date
    kind: str  # "Invoice", "Credit note", "Bank transfer", "Reversal of a card payment", …
    reference: str  # the document's number, or the payment's reference
    detail: str
    debit_pence: int
    credit_pence: int
    balance_pence: int
    document_id: int
    is_payment: bool


@dataclass(frozen=True)
class Ageing:
    """What is open at the end of the period, by age (aged debt's buckets for VAT invoices)."""

    ages: aged_debt.Ages
    open_invoices: int
    recharges_pence: int  # internal recharges waiting for a journal
    in_hand_pence: int  # money the school has in hand (0 or negative): refunds due, paid ahead

    @property
    def total_pence(self) -> int:
        return self.ages.total + self.recharges_pence + self.in_hand_pence

    @property
    def buckets(self) -> list[tuple[str, int]]:
        return [(label, self.ages.get(key)) for key, label in aged_debt.BUCKETS]


@dataclass(frozen=True)
class Statement:
    school: School
    start: date
    end: date
    opening_pence: int
    entries: list[Entry]
    ageing: Ageing

    @property
    def debits_pence(self) -> int:
        return sum(e.debit_pence for e in self.entries)

    @property
    def credits_pence(self) -> int:
        return sum(e.credit_pence for e in self.entries)

    @property
    def closing_pence(self) -> int:
        return self.opening_pence + self.debits_pence - self.credits_pence

    @property
    def title(self) -> str:
        return f"Statement of account for {self.school.name}"

    @property
    def period_text(self) -> str:
        return f"{long_date(self.start)} to {long_date(self.end)}"


ENTRIES_PER_PAGE = 100  # a statement's lines on one screen (its PDF and CSV have them all)


@dataclass(frozen=True)
class EntriesPage:
    """One page of a statement's lines on screen, and the balance brought forward to it (the
    opening balance on the first page, the balance after the previous page's last line on
    the others)."""

    entries: Page[Entry]
    brought_forward_pence: int


def entries_page(
    statement: Statement, page: int = 1, per_page: int = ENTRIES_PER_PAGE
) -> EntriesPage:
    """The lines of page `page` (clamped to the statement's pages), each with its running
    balance over the whole period."""
    total = len(statement.entries)
    number = clamp(page, total, per_page)
    first = (number - 1) * per_page
    shown = statement.entries[first : first + per_page]
    forward = statement.entries[first - 1].balance_pence if first else statement.opening_pence
    return EntriesPage(Page(shown, total, number, per_page), forward)


def default_period(on: date | None = None) -> tuple[date, date]:
    """The council's financial year so far (1 April to today, by default)."""
    on = on or today()
    settings = council_settings()
    start_month = settings.financial_year_start_month if settings else 4
    year = on.year if on.month >= start_month else on.year - 1
    return date(year, start_month, 1), on


def check_period(start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for, or the default's ends; refused when it is not a period."""
    default_start, default_end = default_period()
    start, end = start or default_start, end or default_end
    if end > today():
        raise StatementError("The end of the period must be today or in the past", "end")
    if start > end:
        raise StatementError("The start of the period must be on or before its end", "start")
    if start < EARLIEST:
        raise StatementError(
            f"The start of the period must be after {long_date(EARLIEST)}", "start"
        )
    return start, end


def statement_for(school: School, start: date, end: date) -> Statement:
    """The school's statement for `start` to `end` (both included): four queries, each
    built once per process (the ageing once per day) with the school and dates bound."""
    opening = _balance_before(school.id, start)
    rows = sorted(_document_rows(school.id, start, end) + _payment_rows(school.id, start, end))
    entries = []
    balance = opening
    for on, is_payment, _id, kind, reference, detail, debit, credit, document_id in rows:
        balance += debit - credit
        entries.append(
            Entry(on, kind, reference, detail, debit, credit, balance, document_id, is_payment)
        )
    return Statement(school, start, end, opening, entries, ageing_on(school.id, end))


# The school and the period's ends, bound when a statement's queries run.
_SCHOOL = bindparam("school_id", type_=Integer)
_START = bindparam("start", type_=Document.issue_date.type)
_END = bindparam("end", type_=Document.issue_date.type)


def _balance_before_statement() -> Select[Any]:
    signed = case(
        (Document.document_type == DocumentType.CREDIT_NOTE.value, -Document.gross_pence),
        else_=Document.gross_pence,
    )
    documents = select(func.coalesce(func.sum(signed), 0)).where(
        Document.school_id == _SCHOOL, Document.issue_date < _START
    )
    paid = (
        select(func.coalesce(func.sum(Payment.amount_pence), 0))
        .join(Document, Document.id == Payment.document_id)
        .where(Document.school_id == _SCHOOL, Payment.received_on < _START)
    )
    return select(documents.scalar_subquery(), paid.scalar_subquery())


_BALANCE_BEFORE = _balance_before_statement()


def _balance_before(school_id: int, start: date) -> int:
    """What the school owed at the start of `start`: its charges less its credit notes issued
    before then, less what it had paid before then."""
    owed, received = run(_BALANCE_BEFORE, {"school_id": school_id, "start": start}).one()
    return int(owed) - int(received)


_ORIGINAL = aliased(Document, name="original")

KIND_LABELS = {
    DocumentType.INVOICE: "Invoice",
    DocumentType.RECHARGE: "Internal recharge",
    DocumentType.CREDIT_NOTE: "Credit note",
}


_DOCUMENT_ROWS = (
    select(
        Document.id,
        Document.document_type,
        Document.number,
        Document.issue_date,
        Document.due_date,
        Document.gross_pence,
        Document.po_number,
        Document.brought_forward,
        _ORIGINAL.number,
    )
    .outerjoin(_ORIGINAL, _ORIGINAL.id == Document.credits_document_id)
    .where(
        Document.school_id == _SCHOOL,
        Document.issue_date >= _START,
        Document.issue_date <= _END,
    )
)


def _document_rows(school_id: int, start: date, end: date) -> list[tuple[Any, ...]]:
    rows = run(_DOCUMENT_ROWS, {"school_id": school_id, "start": start, "end": end}).tuples()
    result = []
    for id_, kind, number, issued, due, gross, po, brought_forward, original in rows:
        kind = DocumentType(kind)
        if kind == DocumentType.CREDIT_NOTE:
            detail = f"Credits {original}"
            debit, credit = 0, int(gross)
        else:
            parts = ["Brought forward"] if brought_forward else []
            if po:
                parts.append(f"PO {po}")
            if kind == DocumentType.INVOICE:
                parts.append(f"due {long_date(due)}")
            else:
                parts.append("settled by journal")
            detail = ", ".join(parts)
            debit, credit = int(gross), 0
        label = KIND_LABELS[kind]
        result.append((issued, False, id_, label, number, detail, debit, credit, id_))
    return result


_PAYMENT_ROWS = (
    select(
        Payment.id,
        Payment.kind,
        Payment.amount_pence,
        Payment.received_on,
        Payment.reference,
        Payment.reverses_payment_id,
        Document.id,
        Document.number,
    )
    .join(Document, Document.id == Payment.document_id)
    .where(
        Document.school_id == _SCHOOL,
        Payment.received_on >= _START,
        Payment.received_on <= _END,
    )
)


def _payment_rows(school_id: int, start: date, end: date) -> list[tuple[Any, ...]]:
    rows = run(_PAYMENT_ROWS, {"school_id": school_id, "start": start, "end": end}).tuples()
    result = []
    for id_, kind, amount, received, reference, reverses, document_id, number in rows:
        kind = PaymentKind(kind)
        if reverses is not None:
            label = f"Reversal of a {kind.label.lower()} payment"
            if kind == PaymentKind.JOURNAL:
                label = "Reversal of a journal"
            debit, credit = -int(amount), 0
        else:
            label = kind.label if kind != PaymentKind.CARD else "Card payment"
            debit, credit = 0, int(amount)
        detail = f"For {number}"
        result.append((received, True, id_, label, reference, detail, debit, credit, document_id))
    return result


def ageing_on(school_id: int, on: date) -> Ageing:
    """What is open at the end of `on`, from the documents' figures as they stood then."""
    statement = _ageing_statement(on, on >= today())
    count, recharges, in_hand, *ages = (
        int(v) for v in run(statement, {"school_id": school_id}).one()
    )
    return Ageing(aged_debt.Ages(*ages), count, recharges, in_hand)


@lru_cache(maxsize=8)
def _ageing_statement(on: date, kept: bool) -> Select[Any]:
    """`ageing_on`'s query for day `on` (the school bound when it runs), built once per day:
    building it cost more than running it. `kept` (on is today or later: the kept figures are
    read) is part of the key because `figures_on` reads the clock."""
    figures = balances.figures_on(on, _SCHOOL)
    balance = figures.c.balance_pence
    open_invoice = and_(figures.c.document_type == DocumentType.INVOICE.value, balance > 0)
    open_recharge = and_(figures.c.document_type == DocumentType.RECHARGE.value, balance > 0)
    return select(
        func.count().filter(open_invoice),
        func.coalesce(func.sum(balance).filter(open_recharge), 0),
        func.coalesce(func.sum(balance).filter(balance < 0), 0),
        *aged_debt.bucket_sums(figures.c.due_date, balance, on, where=open_invoice),
    )


def _owing() -> Any:
    """The schools whose documents leave something owed or in hand today, with the balance."""
    f = DocumentFigures
    return (
        select(f.school_id, func.sum(f.balance_pence).label("balance"))
        .group_by(f.school_id)
        .having(func.sum(f.balance_pence) != 0)
        .subquery()
    )


def schools_with_balance() -> list[School]:
    """Every school whose documents leave something owed or in hand today, by name."""
    owing = _owing()
    return list(
        db.session.execute(
            select(School).join(owing, owing.c.school_id == School.id).order_by(School.name)
        ).scalars()
    )


SCHOOLS_PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class SchoolBalance:
    """A school with a balance, as the statements page lists it (plain columns)."""

    urn: int
    name: str
    balance_pence: int  # owed (positive) or in hand (negative), today


def schools_with_balance_page(
    page: int = 1, per_page: int = SCHOOLS_PER_PAGE
) -> Page[SchoolBalance]:
    """A page of the schools with a balance, by name, each with its balance: a count and the
    page, read from the kept figures (two queries, whatever the number of documents)."""
    owing = _owing()
    stmt = (
        select(School.urn, School.name, owing.c.balance)
        .join(owing, owing.c.school_id == School.id)
        .order_by(School.name, School.urn)
    )
    return paginate_rows(stmt, page, per_page).map(
        lambda row: SchoolBalance(int(row[0]), str(row[1]), int(row[2]))
    )


def schools_with_documents() -> list[School]:
    return list(
        db.session.execute(
            select(School)
            .where(School.id.in_(select(Document.school_id).distinct()))
            .order_by(School.name)
        ).scalars()
    )


# --- The statement as CSV --------------------------------------------------------------------

CSV_HEADER = ("Date", "Type", "Reference", "Details", "Debit", "Credit", "Balance")


def _money(pence: int) -> str:
    """Pence as pounds for a spreadsheet: 1234.50, -12.00 (a number, never a formula)."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}{whole}.{part:02d}"


money_text = _money  # the trust statement's CSV writes money the same way


def entry_cells(entry: Entry) -> tuple[str, ...]:
    """An entry's CSV cells (date, type, reference, details, debit, credit, balance), as the
    school's statement and each academy's part of the trust's write them."""
    return (
        entry.on.isoformat(),
        entry.kind,
        safe_cell(entry.reference),
        safe_cell(entry.detail),
        _money(entry.debit_pence) if entry.debit_pence else "",
        _money(entry.credit_pence) if entry.credit_pence else "",
        _money(entry.balance_pence),
    )


def closing_cells(statement: Statement) -> tuple[str, ...]:
    """The statement's closing row's cells: the period's debits, credits and closing balance."""
    return (
        statement.end.isoformat(),
        "Closing balance",
        "",
        "",
        _money(statement.debits_pence),
        _money(statement.credits_pence),
        _money(statement.closing_pence),
    )


def as_csv(statement: Statement) -> str:
    """The statement as CSV: the opening balance, one row per entry, the closing balance."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    school = statement.school
    writer.writerow(
        (
            statement.start.isoformat(),
            "Opening balance",
            "",
            safe_cell(school.name),
            "",
            "",
            _money(statement.opening_pence),
        )
    )
    writer.writerows(entry_cells(e) for e in statement.entries)
    writer.writerow(closing_cells(statement))
    return out.getvalue()


def file_stem(statement: Statement) -> str:
    return f"statement-{statement.school.urn}-{statement.start.isoformat()}-to-{statement.end.isoformat()}"
