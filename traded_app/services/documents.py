"""Reading issued documents: who may see which, their status and balance, and the lists the
pages show.

Until payments are recorded (a later issue), a charge's balance is its gross amount less the
credit notes against it. Status: Credited (nothing left), Overdue (a VAT invoice past its due
date with something left), Part credited, or Issued. An internal recharge is never Overdue: it
is settled by a journal the council makes, not by the school paying.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from traded_app.extensions import db
from traded_app.models import Document, DocumentSend, DocumentType, Order, School, User
from traded_app.services.settings import today


class DocumentNotFound(LookupError):
    """No such document, or not one this user may see (both answer 404)."""


def document_visible_to(user: User, document_id: int) -> Document:
    """A school user sees only their school's documents; council users see all."""
    document = db.session.get(Document, document_id)
    if document is None:
        raise DocumentNotFound(document_id)
    if user.is_school_user and document.school_id != user.school_id:
        raise DocumentNotFound(document_id)
    return document


@dataclass(frozen=True)
class Status:
    label: str
    tag_class: str


ISSUED = Status("Issued", "govuk-tag--blue")
CREDITED = Status("Credited", "govuk-tag--grey")
PART_CREDITED = Status("Part credited", "govuk-tag--yellow")
OVERDUE = Status("Overdue", "govuk-tag--red")


@dataclass(frozen=True)
class DocumentRow:
    document: Document
    credited_pence: int  # credit notes against it (0 for a credit note)

    @property
    def balance_pence(self) -> int | None:
        """What is left to settle; None for a credit note, which has no balance of its own."""
        if self.document.is_credit_note:
            return None
        return self.document.gross_pence - self.credited_pence

    def status(self, on: date | None = None) -> Status:
        document = self.document
        if document.is_credit_note:
            return ISSUED
        balance = self.balance_pence or 0
        if balance <= 0:
            return CREDITED
        if document.document_type == DocumentType.INVOICE and document.due_date < (on or today()):
            return OVERDUE
        if self.credited_pence:
            return PART_CREDITED
        return ISSUED


def _credited_by_charge(charge_ids: Iterable[int]) -> dict[int, int]:
    ids = list(charge_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Document.credits_document_id, func.sum(Document.gross_pence))
        .where(Document.credits_document_id.in_(ids))
        .group_by(Document.credits_document_id)
    ).tuples()
    return {charge_id: int(total) for charge_id, total in rows if charge_id is not None}


def rows_for(documents: list[Document]) -> list[DocumentRow]:
    credited = _credited_by_charge(d.id for d in documents if not d.is_credit_note)
    return [DocumentRow(d, credited.get(d.id, 0)) for d in documents]


def row_for(document: Document) -> DocumentRow:
    return rows_for([document])[0]


def documents_of_school(school: School) -> list[DocumentRow]:
    """The school's documents, newest first."""
    documents = db.session.execute(
        select(Document)
        .where(Document.school_id == school.id)
        .order_by(Document.issued_at.desc(), Document.id.desc())
    ).scalars()
    return rows_for(list(documents))


def documents_of_order(order: Order) -> list[DocumentRow]:
    """The order's charge and credit notes, in the order they were issued."""
    documents = db.session.execute(
        select(Document).where(Document.order_id == order.id).order_by(Document.id)
    ).scalars()
    return rows_for(list(documents))


def credit_notes_against(document: Document) -> list[Document]:
    return list(
        db.session.execute(
            select(Document)
            .where(Document.credits_document_id == document.id)
            .order_by(Document.id)
        ).scalars()
    )


@dataclass(frozen=True)
class Outstanding:
    count: int
    balance_pence: int
    overdue: int


def outstanding(school: School) -> Outstanding:
    """The school's charges with something left to settle (for its dashboard)."""
    rows = [r for r in documents_of_school(school) if (r.balance_pence or 0) > 0]
    return Outstanding(
        count=len(rows),
        balance_pence=sum(r.balance_pence or 0 for r in rows),
        overdue=sum(1 for r in rows if r.status() == OVERDUE),
    )


@dataclass(frozen=True)
class Unsent:
    document: Document
    last_send: DocumentSend | None  # None: never sent


def unsent_documents(limit: int = 50) -> list[Unsent]:
    """Documents whose latest e-mail did not go (or that were never sent), newest first: what
    finance must look at (a school with no billing contact e-mail, a mail server fault)."""
    latest = (
        select(DocumentSend.document_id, func.max(DocumentSend.id).label("send_id"))
        .group_by(DocumentSend.document_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Document, DocumentSend)
        .outerjoin(latest, latest.c.document_id == Document.id)
        .outerjoin(DocumentSend, DocumentSend.id == latest.c.send_id)
        .where((DocumentSend.id.is_(None)) | (DocumentSend.succeeded.is_(False)))
        .options(selectinload(Document.school))
        .order_by(Document.id.desc())
        .limit(limit)
    ).tuples()
    return [Unsent(document, send) for document, send in rows]


def recent_documents(limit: int = 25) -> list[DocumentRow]:
    documents = db.session.execute(
        select(Document)
        .options(selectinload(Document.school))
        .order_by(Document.id.desc())
        .limit(limit)
    ).scalars()
    return rows_for(list(documents))
