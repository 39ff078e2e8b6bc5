"""Reading issued documents: who may see which, and the lists the pages show.

Balances and statuses come from traded_app.services.finance.balances (gross less credit notes less
payments), the one place they are worked out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from traded_app.extensions import db
from traded_app.models import Document, DocumentSend, Order, School, User
from traded_app.models.partnership_orders import PartnershipShare
from traded_app.services.finance import balances
from traded_app.services.platform.errors import NotFound


class DocumentNotFound(NotFound, LookupError):
    """No such document, or not one this user may see (both answer 404)."""


def document_visible_to(user: User, document_id: int) -> Document:
    """A school user sees only their school's documents; council users see all."""
    document = db.session.get(Document, document_id)
    if document is None:
        raise DocumentNotFound(str(document_id))
    if not user.may_see(document.school):
        raise DocumentNotFound(str(document_id))
    return document


class ChargedKind(StrEnum):
    """What a document charges for, in the words its page and e-mail use."""

    ORDER = "order"
    PARTNERSHIP_ORDER = "partnership order"
    COURSE_BOOKING = "course booking"


@dataclass(frozen=True)
class ChargedFor:
    """What a document charges for (a credit note: what its original charged for), the record's
    reference as the document copied it, and the record's id, for a link to it."""

    kind: ChargedKind
    reference: str
    record_id: int

    @property
    def label(self) -> str:
        """'Order', 'Partnership order', 'Course booking': the row's key on the page."""
        return self.kind.value.capitalize()


def charged_for(document: Document) -> ChargedFor | None:
    """What the document charges for, derived from its links; None for school-to-school support
    (its engagement) and brought-forward documents, which name what they are in other ways."""
    original = document.credits if document.credits is not None else document
    for charged in (document, original):
        if charged.order_id is not None:
            return ChargedFor(ChargedKind.ORDER, charged.order_reference, charged.order_id)
        if charged.partnership_share_id is not None:
            share = db.session.get(PartnershipShare, charged.partnership_share_id)
            if share is not None:
                return ChargedFor(
                    ChargedKind.PARTNERSHIP_ORDER, charged.order_reference, share.order_id
                )
        if charged.course_booking_id is not None:
            return ChargedFor(
                ChargedKind.COURSE_BOOKING, charged.order_reference, charged.course_booking_id
            )
    return None


@dataclass(frozen=True)
class DocumentRow:
    document: Document
    figures: balances.Figures

    @property
    def credited_pence(self) -> int:
        """Credit notes against it (0 for a credit note)."""
        return self.figures.credited_pence

    @property
    def paid_pence(self) -> int:
        return self.figures.paid_pence

    @property
    def balance_pence(self) -> int | None:
        """What is left to settle; None for a credit note, which has no balance of its own."""
        return self.figures.balance_pence

    def status(self, on: date | None = None) -> balances.DocumentStatus:
        return self.figures.status(on)


def rows_for(documents: list[Document]) -> list[DocumentRow]:
    figures = balances.figures_for(documents)
    return [DocumentRow(d, figures[d.id]) for d in documents]


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


Outstanding = balances.Outstanding


def outstanding(school: School) -> Outstanding:
    """The school's charges with something left to settle (for its dashboard)."""
    return balances.outstanding_for_school(school)


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
