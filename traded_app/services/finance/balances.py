"""What is left to settle on each document, and its status: the one place both are worked out.

A charge's (a VAT invoice's or an internal recharge's) balance is

    balance = gross − the credit notes against it − its payments

where payments are summed with their reversals (negative rows), so a reversed payment counts
for nothing. A credit note has no balance of its own: it reduces its original's.

The status follows from those figures alone (`status_of`), and the same rule is written once
more as SQL (`status_sql`) so the register can filter and count by status in the database; a
property test holds the two to each other. For lists the database keeps each document's sums
(`document_figures`, by triggers in the transaction that inserts a credit note or payment:
migration 0019); `figures_for` adds them up from the rows themselves, and the same property
test holds the kept figures to it.

- Credited: nothing left, and nothing was paid (a credit note took it all).
- Paid: nothing left, and payments settled it (with or without credit notes).
- Refund due: more was paid than is now owed (a credit note after a payment).
- Overdue: a VAT invoice past its due date with something left. An internal recharge is never
  overdue: the council settles it by a journal, the school does not pay it.
- Part paid: something paid, something left. Part credited: credited in part, nothing paid.
- Issued: nothing paid or credited yet (and every credit note, which is simply issued).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from traded_app.extensions import db
from traded_app.models import Document, DocumentFigures, DocumentType, School
from traded_app.models.payments import Payment
from traded_app.services.platform.settings import today


class DocumentStatus(StrEnum):
    ISSUED = "issued"
    PART_CREDITED = "part_credited"
    PART_PAID = "part_paid"
    OVERDUE = "overdue"
    PAID = "paid"
    CREDITED = "credited"
    REFUND_DUE = "refund_due"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def tag_class(self) -> str:
        return STATUS_TAGS[self]


STATUS_LABELS = {
    DocumentStatus.ISSUED: "Issued",
    DocumentStatus.PART_CREDITED: "Part credited",
    DocumentStatus.PART_PAID: "Part paid",
    DocumentStatus.OVERDUE: "Overdue",
    DocumentStatus.PAID: "Paid",
    DocumentStatus.CREDITED: "Credited",
    DocumentStatus.REFUND_DUE: "Refund due",
}
STATUS_TAGS = {
    DocumentStatus.ISSUED: "govuk-tag--blue",
    DocumentStatus.PART_CREDITED: "govuk-tag--yellow",
    DocumentStatus.PART_PAID: "govuk-tag--light-blue",
    DocumentStatus.OVERDUE: "govuk-tag--red",
    DocumentStatus.PAID: "govuk-tag--green",
    DocumentStatus.CREDITED: "govuk-tag--grey",
    DocumentStatus.REFUND_DUE: "govuk-tag--orange",
}


def status_of(
    document_type: DocumentType,
    gross_pence: int,
    credited_pence: int,
    paid_pence: int,
    due_date: date,
    on: date,
) -> DocumentStatus:
    """The status the figures give on date `on` (see the module's docstring)."""
    if document_type == DocumentType.CREDIT_NOTE:
        return DocumentStatus.ISSUED
    balance = gross_pence - credited_pence - paid_pence
    if balance < 0:
        return DocumentStatus.REFUND_DUE
    if balance == 0:
        return (
            DocumentStatus.CREDITED
            if credited_pence > 0 and paid_pence == 0
            else (DocumentStatus.PAID)
        )
    if document_type == DocumentType.INVOICE and due_date < on:
        return DocumentStatus.OVERDUE
    if paid_pence > 0:
        return DocumentStatus.PART_PAID
    if credited_pence > 0:
        return DocumentStatus.PART_CREDITED
    return DocumentStatus.ISSUED


@dataclass(frozen=True)
class Figures:
    """A document's money: its gross, what credit notes and payments took off, what is left."""

    document_type: DocumentType
    gross_pence: int
    credited_pence: int
    paid_pence: int
    due_date: date

    @property
    def is_credit_note(self) -> bool:
        return self.document_type == DocumentType.CREDIT_NOTE

    @property
    def balance_pence(self) -> int | None:
        """What is left to settle; None for a credit note, which has no balance of its own."""
        if self.is_credit_note:
            return None
        return self.gross_pence - self.credited_pence - self.paid_pence

    def status(self, on: date | None = None) -> DocumentStatus:
        return status_of(
            self.document_type,
            self.gross_pence,
            self.credited_pence,
            self.paid_pence,
            self.due_date,
            on or today(),
        )

    def days_overdue(self, on: date | None = None) -> int:
        return max(0, ((on or today()) - self.due_date).days)


def _sums_by_document(ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    if not ids:
        return {}, {}
    credit = aliased(Document)
    credited = db.session.execute(
        select(credit.credits_document_id, func.sum(credit.gross_pence))
        .where(credit.credits_document_id.in_(ids))
        .group_by(credit.credits_document_id)
    ).tuples()
    paid = db.session.execute(
        select(Payment.document_id, func.sum(Payment.amount_pence))
        .where(Payment.document_id.in_(ids))
        .group_by(Payment.document_id)
    ).tuples()
    return (
        {i: int(total) for i, total in credited if i is not None},
        {i: int(total) for i, total in paid},
    )


def figures_for(documents: Iterable[Document]) -> dict[int, Figures]:
    """Each document's figures, by id, in two queries whatever the number of documents."""
    documents = list(documents)
    credited, paid = _sums_by_document([d.id for d in documents])
    return {
        d.id: Figures(
            d.document_type,
            d.gross_pence,
            0 if d.is_credit_note else credited.get(d.id, 0),
            paid.get(d.id, 0),
            d.due_date,
        )
        for d in documents
    }


def figures_of(document: Document) -> Figures:
    return figures_for([document])[document.id]


# --- The same figures as SQL, for lists that filter, sort and total in the database ----------
#
# The database keeps each document's sums in `document_figures` (DocumentFigures), in the
# transaction that inserts a credit note or payment (triggers, migration 0019), so a list reads
# one narrow row per document instead of adding up credit notes and payments on every request.


@dataclass(frozen=True)
class Columns:
    """SQL expressions of a document's figures, for a statement made by `with_figures`."""

    credited: ColumnElement[int]
    paid: ColumnElement[int]
    balance: ColumnElement[int]  # 0 for a credit note
    status: ColumnElement[str]
    signed_gross: ColumnElement[int]  # a credit note counts negative


def status_sql(
    document_type: Any,
    gross: Any,
    credited: ColumnElement[int],
    paid: ColumnElement[int],
    due_date: Any,
    on: date,
) -> ColumnElement[str]:
    """`status_of` as a SQL CASE (kept equal to it by tests/unit/test_balances.py)."""
    balance = gross - credited - paid
    return case(
        (document_type == DocumentType.CREDIT_NOTE.value, DocumentStatus.ISSUED.value),
        (balance < 0, DocumentStatus.REFUND_DUE.value),
        (
            balance == 0,
            case(
                (and_(credited > 0, paid == 0), DocumentStatus.CREDITED.value),
                else_=DocumentStatus.PAID.value,
            ),
        ),
        (
            and_(document_type == DocumentType.INVOICE.value, due_date < on),
            DocumentStatus.OVERDUE.value,
        ),
        (paid > 0, DocumentStatus.PART_PAID.value),
        (credited > 0, DocumentStatus.PART_CREDITED.value),
        else_=DocumentStatus.ISSUED.value,
    )


def implied_by(status: DocumentStatus, on: date) -> list[ColumnElement[bool]]:
    """Conditions on a document's own columns that every document with `status` on `on`
    meets (see `status_of`), so a filter by status can pass over the others before working out
    their figures (through an index). An overdue document is a VAT invoice past its due date
    with something left, and every such document is overdue (`EXACTLY_IMPLIED`)."""
    if status == DocumentStatus.OVERDUE:
        f = DocumentFigures
        return [
            f.document_type == DocumentType.INVOICE.value,
            f.due_date < on,
            f.balance_pence > 0,
        ]
    return []


# The statuses whose `implied_by` conditions are met by their documents alone, so a filter by
# one needs neither the status CASE nor a table row per document (an index can answer it). A
# VAT invoice past its due date with something left is overdue: its balance is above 0 (so not
# refund due, paid or credited) and an invoice past its due date is overdue before anything else
# (`status_of`); tests/integration/test_register.py holds the filter to each row's status.
EXACTLY_IMPLIED = frozenset({DocumentStatus.OVERDUE})


def with_figures(stmt: Select[Any], on: date | None = None) -> tuple[Select[Any], Columns]:
    """`stmt` (which selects from Document) joined to each document's kept figures, and the
    expressions of its figures and status on `on` (today)."""
    figures = DocumentFigures
    return stmt.join(figures, figures.document_id == Document.id), figure_columns(on or today())


@lru_cache(maxsize=4)
def figure_columns(on: date) -> Columns:
    """The figures' expressions over `document_figures` (DocumentFigures). They depend only on the
    date, and building them (the status CASE above all) costs more than running a page's
    query, so each day's are built once per process; they are immutable, so statements on any
    thread may share them."""
    return columns_of(DocumentFigures, on)


def columns_of(f: Any, on: date) -> Columns:
    """The figures' expressions over `f`: DocumentFigures, or an alias of it (a subquery of its
    rows). Built anew each time: callers keep what they build."""
    credited = cast(ColumnElement[int], f.credited_pence)
    paid = cast(ColumnElement[int], f.paid_pence)
    is_credit_note = f.document_type == DocumentType.CREDIT_NOTE.value
    status = status_sql(f.document_type, f.gross_pence, credited, paid, f.due_date, on)
    signed_gross = case((is_credit_note, -f.gross_pence), else_=f.gross_pence)
    return Columns(credited, paid, cast(ColumnElement[int], f.balance_pence), status, signed_gross)


@dataclass(frozen=True)
class Outstanding:
    count: int
    balance_pence: int
    overdue: int


def outstanding_for_school(school: School, on: date | None = None) -> Outstanding:
    """The school's charges with something left to settle, in one query."""
    stmt, cols = with_figures(select(Document).where(Document.school_id == school.id), on)
    inner = stmt.with_only_columns(
        Document.id, cols.balance.label("balance"), cols.status.label("status")
    ).subquery()
    count, balance, overdue = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(inner.c.balance), 0),
            func.coalesce(
                func.sum(case((inner.c.status == DocumentStatus.OVERDUE.value, 1), else_=0)), 0
            ),
        ).where(inner.c.balance > 0)
    ).one()
    return Outstanding(int(count), int(balance), int(overdue))


# --- The same figures as they stood on a past day, for statements of account ----------------


def figures_on(on: date, school_id: int | BindParameter[int]) -> Any:
    """The school's documents' figures as they stood at the end of day `on`, as a subquery with
    the columns of `document_figures` (document_id, document_type, school_id, due_date,
    gross_pence, credited_pence, paid_pence, balance_pence). `school_id` may be a bound
    parameter, so the query is built once and run for any school.

    On today or later they are the kept figures themselves (what the register and aged debt
    read). On a past day they are worked out the same way from the rows, counting only what
    had happened by then: the document's gross if it was issued by then, credit notes issued by
    then, and payments (reversals negative) received by then. A document paid ahead of its
    issue date so counts as money in hand (a negative balance) until it is issued."""
    f = DocumentFigures
    if on >= today():
        return (
            select(
                f.document_id,
                f.document_type,
                f.school_id,
                f.due_date,
                f.gross_pence,
                f.credited_pence,
                f.paid_pence,
                f.balance_pence,
            )
            .where(f.school_id == school_id)
            .subquery()
        )
    credit = aliased(Document)
    credited = (
        select(func.coalesce(func.sum(credit.gross_pence), 0))
        .where(credit.credits_document_id == Document.id, credit.issue_date <= on)
        .correlate(Document)
        .scalar_subquery()
    )
    paid = (
        select(func.coalesce(func.sum(Payment.amount_pence), 0))
        .where(Payment.document_id == Document.id, Payment.received_on <= on)
        .correlate(Document)
        .scalar_subquery()
    )
    is_credit_note = Document.document_type == DocumentType.CREDIT_NOTE.value
    gross = case((Document.issue_date <= on, Document.gross_pence), else_=0)
    inner = (
        select(
            Document.id.label("document_id"),
            Document.document_type,
            Document.school_id,
            Document.due_date,
            gross.label("gross_pence"),
            case((is_credit_note, 0), else_=credited).label("credited_pence"),
            paid.label("paid_pence"),
        )
        .where(Document.school_id == school_id)
        .subquery()
    )
    balance = case(
        (inner.c.document_type == DocumentType.CREDIT_NOTE.value, 0),
        else_=inner.c.gross_pence - inner.c.credited_pence - inner.c.paid_pence,
    )
    return select(*inner.c, balance.label("balance_pence")).subquery()
