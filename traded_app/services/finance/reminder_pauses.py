"""Finance's pauses of payment reminders: for one VAT invoice (a dispute, a payment plan) or for
all of one school's invoices, each with a reason, until finance resumes them.

A paused invoice gets no reminder of any kind, from the schedule or by hand; the schedule's run
says how many it passed over. A pause is kept after it is resumed, so the invoice's and the
school's pages can show who paused and resumed and why. Pausing or resuming locks the
invoice's (or the school's) row first, so two officers doing it at once make one pause; partial
unique indexes hold that too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from traded_app.extensions import db
from traded_app.models import Document, DocumentType, School, User
from traded_app.models.base import utcnow
from traded_app.models.finance import ReminderPause
from traded_app.services.finance.payments import lock_document
from traded_app.services.platform.errors import DomainError

MAX_REASON = 500


class PauseError(DomainError, ValueError):
    """The pause or resume cannot be done; the message is for finance."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def pause_of_document(document: Document) -> ReminderPause | None:
    """The invoice's own open pause."""
    return db.session.scalars(
        select(ReminderPause).where(
            ReminderPause.document_id == document.id, ReminderPause.resumed_at.is_(None)
        )
    ).first()


def pause_of_school(school: School) -> ReminderPause | None:
    """The school's open pause (of all its invoices)."""
    return db.session.scalars(
        select(ReminderPause).where(
            ReminderPause.school_id == school.id, ReminderPause.resumed_at.is_(None)
        )
    ).first()


def pause_affecting(document: Document) -> ReminderPause | None:
    """The open pause that stops this invoice's reminders: its own, else its school's."""
    return db.session.scalars(
        select(ReminderPause)
        .where(
            ReminderPause.resumed_at.is_(None),
            or_(
                ReminderPause.document_id == document.id,
                ReminderPause.school_id == document.school_id,
            ),
        )
        .order_by(ReminderPause.document_id.is_(None))  # the invoice's own first
    ).first()


@dataclass(frozen=True)
class OpenPauses:
    document_ids: frozenset[int]
    school_ids: frozenset[int]

    def covers(self, document_id: int, school_id: int) -> bool:
        return document_id in self.document_ids or school_id in self.school_ids


def open_pauses() -> OpenPauses:
    """Every open pause, in one query (for the schedule's run)."""
    rows = db.session.execute(
        select(ReminderPause.document_id, ReminderPause.school_id).where(
            ReminderPause.resumed_at.is_(None)
        )
    ).tuples()
    documents: set[int] = set()
    schools: set[int] = set()
    for document_id, school_id in rows:
        if document_id is not None:
            documents.add(document_id)
        if school_id is not None:
            schools.add(school_id)
    return OpenPauses(frozenset(documents), frozenset(schools))


def _clean_reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise PauseError("Enter why reminders are being paused", "reason")
    if len(text) > MAX_REASON:
        raise PauseError(f"Reason must be {MAX_REASON} characters or fewer", "reason")
    return text


def _lock_school(school_id: int) -> School:
    school = db.session.execute(
        select(School).where(School.id == school_id).with_for_update()
    ).scalar_one()
    return school


def pause_document(document: Document, reason: str, user: User) -> ReminderPause:
    """Pause the invoice's reminders (of every kind) until resumed."""
    text = _clean_reason(reason)
    document = lock_document(document.id)
    if document.document_type != DocumentType.INVOICE:
        raise PauseError(
            f"{document.number} is not a VAT invoice: only VAT invoices are sent reminders"
        )
    if pause_of_document(document) is not None:
        raise PauseError(f"Reminders for {document.number} are already paused")
    pause = ReminderPause(document_id=document.id, reason=text, paused_by_id=user.id)
    db.session.add(pause)
    db.session.flush()
    return pause


def pause_school(school: School, reason: str, user: User) -> ReminderPause:
    """Pause the reminders of all the school's invoices until resumed."""
    text = _clean_reason(reason)
    school = _lock_school(school.id)
    if pause_of_school(school) is not None:
        raise PauseError(f"Reminders for {school.name} are already paused")
    pause = ReminderPause(school_id=school.id, reason=text, paused_by_id=user.id)
    db.session.add(pause)
    db.session.flush()
    return pause


def _resume(pause: ReminderPause | None, what: str, user: User) -> ReminderPause:
    if pause is None:
        raise PauseError(f"Reminders for {what} are not paused")
    pause.resumed_at = utcnow()
    pause.resumed_by_id = user.id
    db.session.flush()
    return pause


def resume_document(document: Document, user: User) -> ReminderPause:
    """End the invoice's own pause (a pause of its school's reminders stays)."""
    document = lock_document(document.id)
    return _resume(pause_of_document(document), document.number, user)


def resume_school(school: School, user: User) -> ReminderPause:
    """End the school's pause (a pause of one of its invoices stays)."""
    school = _lock_school(school.id)
    return _resume(pause_of_school(school), school.name, user)
