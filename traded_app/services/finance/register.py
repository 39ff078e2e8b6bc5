"""Finance's register of every invoice, recharge and credit note: filtered, searched, sorted and
paged in the database, with the filtered set's totals from one aggregate query.

A page costs the same two queries for 10 documents or 100,000: the totals, and the page's rows
as plain columns, each with what was credited and paid and its status. Both read the figures
the database keeps per document (`document_figures`, see balances), so nothing is added up
from credit notes and payments on a request; unfiltered, the totals read only those narrow rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Integer, Row, Select, bindparam, case, func, literal_column, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from traded_app.domain.numbers import whole_number
from traded_app.extensions import db
from traded_app.formatting import pounds
from traded_app.models import Document, DocumentFigures, DocumentType, Quadrant, School
from traded_app.services.finance import balances
from traded_app.services.finance.balances import DocumentStatus
from traded_app.services.platform.paging import Page, clamp
from traded_app.services.platform.settings import today
from traded_app.services.platform.statements import run

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


@dataclass(frozen=True, slots=True)
class RegisterDocument:
    """What a register row shows of its document (read as plain columns, not the whole row)."""

    id: int
    number: str
    document_type: DocumentType
    buyer_name: str
    buyer_urn: int
    po_number: str
    issue_date: date
    due_date: date
    gross_pence: int

    @property
    def is_credit_note(self) -> bool:
        return self.document_type == DocumentType.CREDIT_NOTE


@dataclass(frozen=True)
class RegisterRow:
    document: RegisterDocument
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


def _conditions(filters: RegisterFilters, cols: balances.Columns) -> list[ColumnElement[bool]]:
    """The filters as conditions on the figures, Document and School (see `_matching`)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.document_type is not None:
        conditions.append(_FIGURES.document_type == filters.document_type)
    if filters.status is not None and filters.status not in balances.EXACTLY_IMPLIED:
        # Statuses are about what is owed on a charge; credit notes have none of their own.
        # (An exactly implied status is filtered by `implied_by`'s conditions alone.)
        conditions.append(_FIGURES.document_type != DocumentType.CREDIT_NOTE)
        conditions.append(cols.status == filters.status.value)
    if filters.school_urn is not None:
        conditions.append(
            or_(Document.buyer_urn == filters.school_urn, School.urn == filters.school_urn)
        )
    if filters.quadrant_id is not None:
        conditions.append(School.quadrant_id == filters.quadrant_id)
    if filters.issued_from is not None:
        conditions.append(Document.issue_date >= filters.issued_from)
    if filters.issued_to is not None:
        conditions.append(Document.issue_date <= filters.issued_to)
    if filters.amount_min_pence is not None:
        conditions.append(_FIGURES.gross_pence >= filters.amount_min_pence)
    if filters.amount_max_pence is not None:
        conditions.append(_FIGURES.gross_pence <= filters.amount_max_pence)
    text = " ".join(filters.q.split()).lower()
    if text:
        search = [
            func.lower(Document.number).contains(text, autoescape=True),
            func.lower(Document.buyer_name).contains(text, autoescape=True),
            func.lower(School.name).contains(text, autoescape=True),
            func.lower(Document.po_number).contains(text, autoescape=True),
        ]
        urn = whole_number(text)
        if urn is not None:
            search.append(Document.buyer_urn == urn)
        conditions.append(or_(*search))
    return conditions


def _needs_school(filters: RegisterFilters) -> bool:
    return filters.school_urn is not None or filters.quadrant_id is not None or bool(filters.q)


def _needs_document(filters: RegisterFilters) -> bool:
    return (
        filters.school_urn is not None
        or filters.issued_from is not None
        or filters.issued_to is not None
        or bool(filters.q)
    )


def _matching(
    filters: RegisterFilters, on: date, *, page: bool
) -> tuple[Select[Any], balances.Columns]:
    """The documents the filters match, as their kept figures (`document_figures`), joined to
    the documents themselves and their schools when the `page` shows them or a filter needs
    them, and the figures' columns. The totals of an unfiltered register read only the narrow
    figures."""
    cols = balances.figure_columns(on)
    stmt: Select[Any]
    if page or _needs_document(filters):
        stmt = select(Document).select_from(Document)
        stmt = stmt.join(_FIGURES, _FIGURES.document_id == Document.id)
        school_id: Any = Document.school_id
    else:
        stmt = select(_FIGURES).select_from(_FIGURES)
        school_id = _FIGURES.school_id
    if page or _needs_school(filters):
        stmt = stmt.join(School, School.id == school_id)
    if filters.status is not None:
        stmt = stmt.where(*balances.implied_by(filters.status, on))
    return stmt.where(*_conditions(filters, cols)), cols


def totals_of(filters: RegisterFilters, on: date | None = None) -> RegisterTotals:
    """The totals of every document the filters match, in one query."""
    statement = _totals_statement(replace(filters, page=1), on or today())
    return RegisterTotals(*(int(v) for v in run(statement).one()))


# Built once: an alias's columns are slow to make (SQLAlchemy adapts each on first use).
_FIGURES = DocumentFigures
_ORIGINAL = aliased(Document, name="original")
_IS_CREDIT_NOTE = _FIGURES.document_type == DocumentType.CREDIT_NOTE.value
_CHARGE = case((_IS_CREDIT_NOTE, 0), else_=_FIGURES.gross_pence)
_CREDIT_NOTE = case((_IS_CREDIT_NOTE, _FIGURES.gross_pence), else_=0)
_CHARGES = (DocumentType.INVOICE, DocumentType.RECHARGE)

# The statements for the filters (any page) and the day are built once per process and kept
# for the most recent filters: building one costs more than running it on a page.
STATEMENTS_KEPT = 64


@lru_cache(maxsize=STATEMENTS_KEPT)
def _totals_statement(filters: RegisterFilters, on: date) -> Select[Any]:
    """Count, invoiced (charges' gross), credit notes' gross, credited, paid and outstanding:
    each matching document's kept figures added up (a credit note's balance is 0, so the
    balances add up to charges − credited − paid on charges). When the filters leave only
    charges (a status, or a charge's type) or only credit notes, the gross is added up without
    asking each row its type: with an exactly implied status (overdue) an index then holds
    every column the totals read."""
    stmt, cols = _matching(filters, on, page=False)
    charge: Any = _CHARGE
    credit_note: Any = _CREDIT_NOTE
    if filters.status is not None or filters.document_type in _CHARGES:
        charge, credit_note = _FIGURES.gross_pence, None  # no credit note in the set
    elif filters.document_type == DocumentType.CREDIT_NOTE:
        charge, credit_note = None, _FIGURES.gross_pence
    return stmt.with_only_columns(
        func.count(),
        *(
            literal_column("0") if c is None else func.coalesce(func.sum(c), 0)
            for c in (charge, credit_note, cols.credited, cols.paid, cols.balance)
        ),
    )


@lru_cache(maxsize=STATEMENTS_KEPT)
def _page_statement(filters: RegisterFilters, on: date) -> Select[Any]:
    """The matching documents in the chosen order (`limit` and `offset` bound when run), each
    with its figures and status, as plain columns. Sorted by a document's own column, the page
    is read in the index's order and only its rows' figures are looked up. Sorted by a figure
    (due date, amount, balance, status) with no filter on the document or school, the page's
    figures are chosen from the narrow kept figures first and only those 50 documents read."""
    sort = filters.sort if filters.sort in SORTS else "issued"
    window = bindparam("limit", type_=Integer), bindparam("offset", type_=Integer)
    if sort in _BY_FIGURES and not (_needs_document(filters) or _needs_school(filters)):
        # The page's figures come with its ids: joining the figures again for them let
        # PostgreSQL read the whole table to find 50 rows.
        inner, cols = _matching(filters, on, page=False)
        ordering = _ordering(_FIGURES, cols, sort, filters.descending)
        chosen = aliased(
            DocumentFigures,
            inner.with_only_columns(*DocumentFigures.__table__.c)
            .order_by(*ordering)
            .limit(window[0])
            .offset(window[1])
            .subquery("chosen"),
        )
        cols = balances.columns_of(chosen, on)
        stmt = (
            select(Document)
            .join(chosen, chosen.document_id == Document.id)
            .join(School, School.id == Document.school_id)
        )
        ordering = _ordering(chosen, cols, sort, filters.descending)
        return _shown(stmt, cols).order_by(*ordering)
    stmt, cols = _matching(filters, on, page=True)
    sort_columns: dict[str, list[Any]] = {
        "issued": [Document.issue_date, Document.id],
        "number": [Document.number],
        "school": [Document.buyer_name, Document.id],
        "due": [Document.due_date, Document.id],
        "amount": [Document.gross_pence, Document.id],
        "balance": [cols.balance, Document.id],
        "status": [cols.status, Document.id],
    }
    ordering = [c.desc() if filters.descending else c.asc() for c in sort_columns[sort]]
    # Bound, not literal: the statement (and SQLAlchemy's key for it) is the same every page.
    return _shown(stmt, cols).order_by(*ordering).limit(window[0]).offset(window[1])


# The figures a page may be sorted by, over DocumentFigures or an alias of it.
_BY_FIGURES: dict[str, Callable[[Any, balances.Columns], Any]] = {
    "due": lambda f, _cols: f.due_date,
    "amount": lambda f, _cols: f.gross_pence,
    "balance": lambda _f, cols: cols.balance,
    "status": lambda _f, cols: cols.status,
}


def _ordering(f: Any, cols: balances.Columns, sort: str, descending: bool) -> list[Any]:
    """ORDER BY the figure `sort` of `f` (whose columns are `cols`), then its document's id."""
    keys = [_BY_FIGURES[sort](f, cols), f.document_id]
    return [c.desc() if descending else c.asc() for c in keys]


def _shown(stmt: Select[Any], cols: balances.Columns) -> Select[Any]:
    """What a row shows, from `stmt` (documents joined to their figures and school)."""
    return (
        stmt.outerjoin(Quadrant, Quadrant.id == School.quadrant_id)
        .outerjoin(_ORIGINAL, _ORIGINAL.id == Document.credits_document_id)
        .with_only_columns(
            *_SHOWN, Quadrant.name, _ORIGINAL.number, cols.credited, cols.paid, cols.status
        )
    )


_SHOWN = (
    Document.id,
    Document.number,
    Document.document_type,
    Document.buyer_name,
    Document.buyer_urn,
    Document.po_number,
    Document.issue_date,
    Document.due_date,
    Document.gross_pence,
)


def register(
    filters: RegisterFilters, on: date | None = None, per_page: int = PER_PAGE
) -> Register:
    """One page of the register and the totals of everything the filters match: two queries,
    whatever the number of documents."""
    on = on or today()
    totals = totals_of(filters, on)
    number = clamp(filters.page, totals.count, per_page)
    rows = run(
        _page_statement(replace(filters, page=1), on),
        {"limit": per_page, "offset": (number - 1) * per_page},
    ).all()
    return Register(Page([_register_row(r) for r in rows], totals.count, number, per_page), totals)


def _register_row(row: Row[Any]) -> RegisterRow:
    *shown, quadrant_name, credits_number, credited, paid, status = row
    document = RegisterDocument(*shown)
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


class QuadrantChoice(NamedTuple):
    """A quadrant as the filters offer it."""

    id: int
    name: str


_QUADRANTS = select(Quadrant.id, Quadrant.name).order_by(Quadrant.name)  # built once


def quadrants() -> list[QuadrantChoice]:
    """Every quadrant, by name, as plain values (the register's and aged debt's filters)."""
    return [QuadrantChoice(*row) for row in run(_QUADRANTS)]


def school_by_urn(urn: int) -> School | None:
    return db.session.execute(select(School).where(School.urn == urn)).scalar_one_or_none()
