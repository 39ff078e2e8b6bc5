"""Recording money against documents: bank transfers and card payments on VAT invoices, journals
settling internal recharges, and reversals of mistakes.

Each step is one transaction in which the document's row is locked first (SELECT … FOR UPDATE
on PostgreSQL; on SQLite every writing transaction already holds the database's write lock from
BEGIN IMMEDIATE), then the balance is read and the payment checked against it. So two finance
officers recording payments on the same invoice at the same moment queue one behind the other,
and the second sees the first's payment: together they can never pay more than is owed.

Payments are never changed or deleted (the ORM guard in platform/append_only, triggers in
migration 0008); a
mistake is undone by a reversal, a new row with the opposite amount.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from traded_app.extensions import db
from traded_app.formatting import long_date, pounds
from traded_app.models import Document, DocumentType, User
from traded_app.models.payments import Payment, PaymentKind
from traded_app.services.finance import balances
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import today

MAX_REFERENCE_LENGTH = 80
MAX_NOTE_LENGTH = 500


class PaymentError(DomainError, ValueError):
    """A payment that cannot be recorded; the message is for the finance officer, and `field`
    names the form field it is about (or "" for the whole form)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- Which route pays which document ------------------------------------------------------

ROUTES: dict[DocumentType, frozenset[PaymentKind]] = {
    DocumentType.INVOICE: frozenset({PaymentKind.BANK_TRANSFER, PaymentKind.CARD}),
    DocumentType.RECHARGE: frozenset({PaymentKind.JOURNAL}),
    DocumentType.CREDIT_NOTE: frozenset(),
}


def route_problem(document: Document, kind: PaymentKind) -> str:
    """Why `kind` cannot pay `document` ("" when it can)."""
    if kind in ROUTES[document.document_type]:
        return ""
    if document.document_type == DocumentType.CREDIT_NOTE:
        original = document.credits.number if document.credits else "its original"
        return (
            f"{document.number} is a credit note: nothing is paid against it. It reduces what "
            f"is owed on {original}"
        )
    if document.document_type == DocumentType.RECHARGE:
        return (
            f"{document.number} is an internal recharge: it is settled by a journal against the "
            f"school's cost centre, not by {kind.label.lower()}"
        )
    return (
        f"{document.number} is a VAT invoice: it is paid by bank transfer or card, not by journal"
    )


def lock_document(document_id: int) -> Document:
    """The document, with its row locked until the transaction ends."""
    document = db.session.execute(
        select(Document).where(Document.id == document_id).with_for_update()
    ).scalar_one_or_none()
    if document is None:
        raise PaymentError("There is no such document")
    return document


def _clean_reference(reference: str, what: str = "payment reference") -> str:
    text = " ".join((reference or "").split())
    if not text:
        raise PaymentError(f"Enter the {what}", "reference")
    if len(text) > MAX_REFERENCE_LENGTH:
        raise PaymentError(
            f"The {what} must be {MAX_REFERENCE_LENGTH} characters or fewer", "reference"
        )
    return text


def _check_date(
    received_on: date, document: Document | None = None, what: str = "received"
) -> None:
    if received_on > today():
        raise PaymentError(f"The date {what} must be today or in the past", "received_on")
    if document is not None and received_on < document.issue_date - timedelta(days=366):
        # Paid more than a year before the document was issued: a typing mistake.
        raise PaymentError(
            f"The date {what} must be after {long_date(document.issue_date - timedelta(days=366))}",
            "received_on",
        )


def record_payment(
    document: Document,
    kind: PaymentKind,
    amount_pence: int,
    received_on: date,
    reference: str,
    user: User | None,
    *,
    note: str = "",
    stripe_payment_intent: str | None = None,
) -> Payment:
    """Record money received against `document` (part payments included), refused when it
    would pay more than is left, is not more than £0, or comes by the wrong route."""
    problem = route_problem(document, kind)
    if problem:
        raise PaymentError(problem)
    if amount_pence <= 0:
        raise PaymentError("The amount must be more than £0", "amount")
    reference = _clean_reference(reference)
    _check_date(received_on, document)
    if len(note) > MAX_NOTE_LENGTH:
        raise PaymentError(f"The note must be {MAX_NOTE_LENGTH} characters or fewer", "note")
    if stripe_payment_intent is not None:
        existing = db.session.execute(
            select(Payment).where(Payment.stripe_payment_intent == stripe_payment_intent)
        ).scalar_one_or_none()
        if existing is not None:
            return existing  # the provider told us twice: it was paid once
    lock_document(document.id)
    balance = balances.figures_of(document).balance_pence or 0
    if balance <= 0:
        raise PaymentError(f"{document.number} has nothing left to pay", "amount")
    if amount_pence > balance:
        raise PaymentError(
            f"The amount must be {pounds(balance)} or less: that is all that is left to pay on "
            f"{document.number}",
            "amount",
        )
    payment = Payment(
        document_id=document.id,
        document=document,
        kind=kind,
        amount_pence=amount_pence,
        received_on=received_on,
        reference=reference,
        note=note.strip(),
        stripe_payment_intent=stripe_payment_intent,
        recorded_by_id=user.id if user else None,
    )
    db.session.add(payment)
    db.session.flush()
    return payment


def record_bank_transfer(
    document: Document,
    amount_pence: int,
    received_on: date,
    reference: str,
    user: User,
    note: str = "",
) -> Payment:
    return record_payment(
        document, PaymentKind.BANK_TRANSFER, amount_pence, received_on, reference, user, note=note
    )


@dataclass(frozen=True)
class Settlement:
    payments: list[Payment]

    @property
    def total_pence(self) -> int:
        return sum(p.amount_pence for p in self.payments)


def settle_recharges(
    document_ids: Iterable[int], journal_reference: str, on: date, user: User
) -> Settlement:
    """Settle each chosen recharge's whole balance by one journal (its reference and date).
    All or nothing: if any cannot be settled, none is, and the message names each problem."""
    ids = sorted(set(document_ids))
    if not ids:
        raise PaymentError("Select at least one recharge to settle", "documents")
    reference = _clean_reference(journal_reference, "journal reference")
    _check_date(on, what="of the journal")
    # Locked in id order, so two settlements of overlapping recharges cannot deadlock.
    documents = [lock_document(i) for i in ids]
    figures = balances.figures_for(documents)
    problems = []
    for document in documents:
        problem = route_problem(document, PaymentKind.JOURNAL)
        if problem:
            problems.append(problem)
        elif (figures[document.id].balance_pence or 0) <= 0:
            problems.append(f"{document.number} is already settled")
    if problems:
        raise PaymentError(". ".join(problems), "documents")
    payments = [
        Payment(
            document_id=document.id,
            document=document,
            kind=PaymentKind.JOURNAL,
            amount_pence=figures[document.id].balance_pence or 0,
            received_on=on,
            reference=reference,
            recorded_by_id=user.id,
        )
        for document in documents
    ]
    db.session.add_all(payments)
    db.session.flush()
    return Settlement(payments)


def reverse_payment(payment: Payment, reason: str, user: User) -> Payment:
    """Undo a mistaken payment with a reversing entry (the original stays, marked reversed)."""
    if payment.is_reversal:
        raise PaymentError(
            "This is a reversal, which cannot itself be reversed: record the payment again"
        )
    reason = " ".join((reason or "").split())
    if not reason:
        raise PaymentError("Enter why the payment is being reversed", "reason")
    if len(reason) > MAX_NOTE_LENGTH:
        raise PaymentError(f"The reason must be {MAX_NOTE_LENGTH} characters or fewer", "reason")
    lock_document(payment.document_id)
    if reversal_of(payment) is not None:
        raise PaymentError("This payment has already been reversed")
    reversal = Payment(
        document_id=payment.document_id,
        kind=payment.kind,
        amount_pence=-payment.amount_pence,
        received_on=today(),
        reference=payment.reference,
        note=reason,
        reverses_payment_id=payment.id,
        recorded_by_id=user.id,
    )
    db.session.add(reversal)
    db.session.flush()
    return reversal


def record_card_refund(
    payment: Payment, amount_pence: int, note: str, user: User | None
) -> tuple[Payment, Payment | None]:
    """Record a card refund of `amount_pence` from a card payment: the payment is
    reversed and what is kept of it recorded again with the same reference, so the invoice's
    paid figure (and so its balance and status) counts the refund and every step stays visible.
    Returns the reversal and the payment kept (None when all of it went back)."""
    if payment.kind != PaymentKind.CARD or payment.is_reversal:
        raise PaymentError("Only a card payment is refunded by card")
    if not 0 < amount_pence <= payment.amount_pence:
        raise PaymentError(
            f"The refund must be more than £0 and at most {pounds(payment.amount_pence)}"
        )
    lock_document(payment.document_id)
    if reversal_of(payment) is not None:
        raise PaymentError("This payment has already been reversed")
    reversal = Payment(
        document_id=payment.document_id,
        kind=PaymentKind.CARD,
        amount_pence=-payment.amount_pence,
        received_on=today(),
        reference=payment.reference,
        note=note[:MAX_NOTE_LENGTH],
        reverses_payment_id=payment.id,
        recorded_by_id=user.id if user else None,
    )
    db.session.add(reversal)
    kept = None
    if amount_pence < payment.amount_pence:
        kept = Payment(
            document_id=payment.document_id,
            kind=PaymentKind.CARD,
            amount_pence=payment.amount_pence - amount_pence,
            received_on=payment.received_on,
            reference=payment.reference,
            note=f"What is kept of the card payment after: {note}"[:MAX_NOTE_LENGTH],
            recorded_by_id=user.id if user else None,
        )
        db.session.add(kept)
    db.session.flush()
    return reversal, kept


def reversal_of(payment: Payment) -> Payment | None:
    return db.session.execute(
        select(Payment).where(Payment.reverses_payment_id == payment.id)
    ).scalar_one_or_none()


def get_payment(payment_id: int) -> Payment | None:
    return db.session.get(Payment, payment_id)


@dataclass(frozen=True)
class PaymentRow:
    payment: Payment
    reversed_by: Payment | None


def payments_of(document: Document) -> list[PaymentRow]:
    """The document's payments and reversals in the order recorded, each with who recorded it
    and, for a payment, the reversal that undid it."""
    rows = list(
        db.session.execute(
            select(Payment)
            .where(Payment.document_id == document.id)
            .options(selectinload(Payment.recorded_by))
            .order_by(Payment.id)
        ).scalars()
    )
    reversals = {p.reverses_payment_id: p for p in rows if p.reverses_payment_id is not None}
    return [PaymentRow(p, reversals.get(p.id)) for p in rows]


def unsettled_recharges(limit: int = 500) -> list[tuple[Document, balances.Figures]]:
    """Recharges with something left to settle, oldest first (for the journal page)."""
    stmt, cols = balances.with_figures(
        select(Document).where(Document.document_type == DocumentType.RECHARGE)
    )
    documents = list(
        db.session.execute(
            stmt.where(cols.balance > 0).order_by(Document.issue_date, Document.id).limit(limit)
        ).scalars()
    )
    figures = balances.figures_for(documents)
    return [(d, figures[d.id]) for d in documents]
