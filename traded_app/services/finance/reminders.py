"""Reminder e-mails for overdue VAT invoices, never more than once in the council's interval.

Sending is decided in the request's transaction: each chosen invoice's row is locked, it must
still be overdue with something left to pay, and no reminder may have gone (or be going) within
`reminder_interval_days`; a Reminder row is then inserted with its result unknown, and its
e-mail (with the invoice's PDF attached) is queued in the same transaction (platform.outbox).
Once the transaction commits the job queue sends it, retrying with backoff, and gives the row
its result. So two finance officers pressing the button together send one reminder, a
rolled-back request sends nothing, and a mail fault never undoes anything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.formatting import LONDON, long_date, pounds
from traded_app.models import Document, DocumentType, User
from traded_app.models.base import utcnow
from traded_app.models.finance import Reminder
from traded_app.models.jobs import OutgoingEmail
from traded_app.services.finance import balances
from traded_app.services.finance.balances import DocumentStatus
from traded_app.services.finance.payments import lock_document
from traded_app.services.platform import outbox
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.settings import council_settings, today

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_DAYS = 14
REMINDER_KIND = "reminder"


class ReminderError(DomainError, ValueError):
    """Nothing chosen, or nothing that can be reminded; the message is for finance."""


def interval_days() -> int:
    settings = council_settings()
    return settings.reminder_interval_days if settings else DEFAULT_INTERVAL_DAYS


@dataclass(frozen=True)
class Outcome:
    queued: list[Reminder]
    skipped: list[tuple[str, str]]  # (document number, why)


def last_reminder(document: Document) -> Reminder | None:
    """The latest reminder that went or may have gone (failed sends do not count)."""
    return db.session.execute(
        select(Reminder)
        .where(Reminder.document_id == document.id, Reminder.succeeded.is_not(False))
        .order_by(Reminder.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def send_reminders(document_ids: Iterable[int], user: User, on: date | None = None) -> Outcome:
    """Queue a reminder for each chosen invoice that may have one now; say why for the rest."""
    ids = sorted(set(document_ids))
    if not ids:
        raise ReminderError("Select at least one overdue invoice to remind")
    on = on or today()
    interval = interval_days()
    queued: list[Reminder] = []
    skipped: list[tuple[str, str]] = []
    for document_id in ids:  # locked in id order: no deadlock between two senders
        document = lock_document(document_id)
        figures = balances.figures_of(document)
        if document.document_type != DocumentType.INVOICE:
            skipped.append((document.number, "only VAT invoices are sent reminders"))
            continue
        if figures.status(on) != DocumentStatus.OVERDUE:
            skipped.append((document.number, "it is not overdue"))
            continue
        previous = last_reminder(document)
        if previous is not None:
            sent_on = previous.queued_at.astimezone(LONDON).date()
            if (on - sent_on).days < interval:
                skipped.append(
                    (
                        document.number,
                        f"a reminder went on {long_date(sent_on)}; the next may go on "
                        f"{long_date(sent_on + timedelta(days=interval))}",
                    )
                )
                continue
        recipient = (document.school.billing_contact_email or "").strip()
        if not recipient:
            skipped.append((document.number, "the school has no billing contact e-mail address"))
            continue
        reminder = Reminder(
            document_id=document.id,
            document=document,
            sent_by_id=user.id,
            recipient=recipient,
            balance_pence=figures.balance_pence or 0,
            days_overdue=figures.days_overdue(on),
            queued_at=utcnow(),
            succeeded=None,
        )
        db.session.add(reminder)
        queued.append(reminder)
    db.session.flush()
    for reminder in queued:
        subject, body = message_for(reminder)
        outbox.queue_email(
            [reminder.recipient],
            subject,
            body,
            purpose=f"Reminder for {reminder.document.number}",
            document=reminder.document,
            school_id=reminder.document.school_id,
            kind=REMINDER_KIND,
            ref_id=reminder.id,
            requested_by_id=reminder.sent_by_id,
        )
    return Outcome(queued, skipped)


def reminders_of(document: Document) -> list[Reminder]:
    return list(
        db.session.execute(
            select(Reminder).where(Reminder.document_id == document.id).order_by(Reminder.id)
        ).scalars()
    )


def message_for(reminder: Reminder) -> tuple[str, str]:
    """The reminder's subject and plain-text body."""
    document = reminder.document
    link = absolute_url("documents.document_detail", document_id=document.id)
    subject = f"Reminder: invoice {document.number} is overdue"
    body = (
        f"Dear {document.buyer_contact_name or document.buyer_name},\n\n"
        f"Our records show that invoice {document.number}, issued on "
        f"{long_date(document.issue_date)} and due on {long_date(document.due_date)}, "
        f"is {reminder.days_overdue} {'day' if reminder.days_overdue == 1 else 'days'} overdue. "
        f"{pounds(reminder.balance_pence)} is still to pay.\n\n"
        f"Please pay by bank transfer to {document.bank_account_name}, sort code "
        f"{document.bank_sort_code}, account {document.bank_account_number}, quoting "
        f"{document.number}"
        + (f" and your purchase order {document.po_number}" if document.po_number else "")
        + ".\n\n"
        "If you have paid in the last few days, thank you, and please ignore this reminder.\n"
        + (
            f"The invoice is attached and online: {link}\n\n"
            if link
            else "The invoice is attached.\n\n"
        )
        + f"{document.seller_name}"
        + (f"\n{document.seller_email}" if document.seller_email else "")
        + (f"\n{document.seller_phone}" if document.seller_phone else "")
        + "\n"
    )
    return subject, body


@outbox.records_results(REMINDER_KIND, attachment_required=False)
def _record(email: OutgoingEmail, outcome: outbox.Outcome, error: str) -> None:
    """A reminder is sending until it is sent, or the queue gives up on it."""
    reminder = db.session.get(Reminder, email.ref_id) if email.ref_id is not None else None
    if reminder is None:
        return
    if outcome is outbox.Outcome.SENT:
        reminder.succeeded, reminder.error = True, ""
    elif outcome is outbox.Outcome.FAILED:
        reminder.succeeded, reminder.error = False, error
    else:
        reminder.error = f"Not sent yet, trying again: {error}"
