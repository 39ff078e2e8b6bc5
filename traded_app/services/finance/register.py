"""Finance's register of every invoice, recharge and credit note: filtered, searched, sorted and
paged in the database, with the filtered set's totals from one aggregate query.

A page costs the same few queries for 10 documents or 100,000: a count-and-totals query and the
page's rows, each carrying its figures from the balance service's SQL (no query per row).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import Row, Select, case, func, or_, select
from sqlalchemy.orm import aliased

from traded_app.domain.numbers import whole_number
from traded_app.extensions import db
from traded_app.formatting import pounds
from traded_app.models import Document, DocumentType, Quadrant, School
from traded_app.services.finance import balances
from traded_app.services.finance.balances import DocumentStatus
from traded_app.services.platform.paging import Page, paginate_rows

PER_PAGE = 50

SORTS = {
    "issued": "Issued",
    "number": "Number",
    "school": "School",
    "due": "Due",
    "amount": "Amount",
    "balance": "Balance",
    "status": "Status",
}


@dataclass(frozen=True)
class RegisterFilters:
    q: str = ""
    document_type: DocumentType | None = None
    status: DocumentStatus | None = None
    school_urn: int | None = None
    quadrant_id: int | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    amount_min_pence: int | None = None
    amount_max_pence: int | None = None
    sort: str = "issued"
    descending: bool = True
    page: int = 1

    def args(self, **changes: Any) -> dict[str, Any]:
        """The filters as query-string arguments (for links that keep them), with `changes`."""
        f = replace(self, **{k: v for k, v in changes.items() if k in self.__dataclass_fields__})

        def money(pence: int | None) -> str | None:
            return None if pence is None else pounds(pence).replace("£", "").replace(",", "")

        args = {
            "q": f.q or None,
            "type": f.document_type.value if f.document_type else None,
            "status": f.status.value if f.status else None,
            "school": f.school_urn,
            "quadrant": f.quadrant_id,
            "from": f.issued_from.isoformat() if f.issued_from else None,
            "to": f.issued_to.isoformat() if f.issued_to else None,
            "min": money(f.amount_min_pence),
            "max": money(f.amount_max_pence),
            "sort": f.sort if f.sort != "issued" else None,
            "dir": ("desc" if f.descending else "asc")
            if (f.sort, f.descending) != ("issued", True)
            else None,
        }
        return {k: v for k, v in args.items() if v is not None}


@dataclass(frozen=True)
class RegisterRow:
    document: Document
    quadrant_name: str
    credits_number: str
    figures: balances.Figures
    status: DocumentStatus


@dataclass(frozen=True)
class RegisterTotals:
    count: int = 0
    invoiced_pence: int = 0  # gross of the invoices and recharges in the set
    credit_notes_pence: int = 0  # gross of the credit notes in the set
    credited_pence: int = 0  # credit notes against the set's charges (wherever they are)
    paid_pence: int = 0
    outstanding_pence: int = 0

    @property
    def net_issued_pence(self) -> int:
        """Charges less credit notes: what a sales ledger export of the same set totals."""
        return self.invoiced_pence - self.credit_notes_pence


@dataclass(frozen=True)
class Register:
    """A page of the register, and the totals of every document the filters match."""

    rows: Page[RegisterRow]
    totals: RegisterTotals = field(default_factory=RegisterTotals)


def _filtered(filters: RegisterFilters, on: date | None) -> tuple[Select[Any], balances.Columns]:
    stmt = (
        select(Document)
        .join(School, School.id == Document.school_id)
        .outerjoin(Quadrant, Quadrant.id == School.quadrant_id)
    )
    stmt, cols = balances.with_figures(stmt, on)
    if filters.document_type is not None:
        stmt = stmt.where(Document.document_type == filters.document_type)
    if filters.status is not None:
        # Statuses are about what is owed on a charge; credit notes have none of their own.
        stmt = stmt.where(
            Document.document_type != DocumentType.CREDIT_NOTE,
            cols.status == filters.status.value,
        )
    if filters.school_urn is not None:
        stmt = stmt.where(
            or_(Document.buyer_urn == filters.school_urn, School.urn == filters.school_urn)
        )
    if filters.quadrant_id is not None:
        stmt = stmt.where(School.quadrant_id == filters.quadrant_id)
    if filters.issued_from is not None:
        stmt = stmt.where(Document.issue_date >= filters.issued_from)
    if filters.issued_to is not None:
        stmt = stmt.where(Document.issue_date <= filters.issued_to)
    if filters.amount_min_pence is not None:
        stmt = stmt.where(Document.gross_pence >= filters.amount_min_pence)
    if filters.amount_max_pence is not None:
        stmt = stmt.where(Document.gross_pence <= filters.amount_max_pence)
    text = " ".join(filters.q.split()).lower()
    if text:
        conditions = [
            func.lower(Document.number).contains(text, autoescape=True),
            func.lower(Document.buyer_name).contains(text, autoescape=True),
            func.lower(School.name).contains(text, autoescape=True),
            func.lower(Document.po_number).contains(text, autoescape=True),
        ]
        urn = whole_number(text)
        if urn is not None:
            conditions.append(Document.buyer_urn == urn)
        stmt = stmt.where(or_(*conditions))
    return stmt, cols


def totals_of(filters: RegisterFilters, on: date | None = None) -> RegisterTotals:
    stmt, cols = _filtered(filters, on)
    return _totals(stmt, cols)


def _totals(stmt: Select[Any], cols: balances.Columns) -> RegisterTotals:
    is_credit_note = Document.document_type == DocumentType.CREDIT_NOTE.value
    inner = stmt.with_only_columns(
        Document.id,
        case((is_credit_note, 0), else_=Document.gross_pence).label("charge"),
        case((is_credit_note, Document.gross_pence), else_=0).label("credit_note"),
        cols.credited.label("credited"),
        cols.paid.label("paid"),
        cols.balance.label("balance"),
    ).subquery()
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(inner.c.charge), 0),
            func.coalesce(func.sum(inner.c.credit_note), 0),
            func.coalesce(func.sum(inner.c.credited), 0),
            func.coalesce(func.sum(inner.c.paid), 0),
            func.coalesce(func.sum(inner.c.balance), 0),
        )
    ).one()
    return RegisterTotals(*(int(v) for v in row))


def register(
    filters: RegisterFilters, on: date | None = None, per_page: int = PER_PAGE
) -> Register:
    """One page of the register and the totals of everything the filters match."""
    stmt, cols = _filtered(filters, on)
    totals = _totals(stmt, cols)
    original = aliased(Document)
    sort_columns: dict[str, list[Any]] = {
        "issued": [Document.issue_date, Document.id],
        "number": [Document.number],
        "school": [Document.buyer_name, Document.id],
        "due": [Document.due_date, Document.id],
        "amount": [Document.gross_pence, Document.id],
        "balance": [cols.balance, Document.id],
        "status": [cols.status, Document.id],
    }
    order_columns = sort_columns[filters.sort if filters.sort in SORTS else "issued"]
    ordering = [c.desc() if filters.descending else c.asc() for c in order_columns]
    rows = paginate_rows(
        stmt.outerjoin(original, original.id == Document.credits_document_id)
        .with_only_columns(
            Document,
            Quadrant.name,
            original.number,
            cols.credited,
            cols.paid,
            cols.status,
        )
        .order_by(*ordering),
        filters.page,
        per_page,
        total=totals.count,
    )
    return Register(rows.map(_register_row), totals)


def _register_row(row: Row[Any]) -> RegisterRow:
    document, quadrant_name, credits_number, credited, paid, status = row
    figures = balances.Figures(
        document.document_type,
        document.gross_pence,
        int(credited),
        int(paid),
        document.due_date,
    )
    return RegisterRow(
        document, quadrant_name or "", credits_number or "", figures, DocumentStatus(status)
    )


def quadrants() -> list[Quadrant]:
    return list(db.session.execute(select(Quadrant).order_by(Quadrant.name)).scalars())


def school_by_urn(urn: int) -> School | None:
    return db.session.execute(select(School).where(School.urn == urn)).scalar_one_or_none()
