"""Reminder e-mails about VAT invoices: a friendly note before the due date, reminders after it
never more than once in the council's interval, and a final notice.

Finance sends reminders by hand from aged debt (`send_reminders`); the daily schedule sends all
three kinds on the council's policy (reminder_schedule.py). Either way, sending is decided in one
transaction: each chosen invoice's row is locked, it must still have something left to pay, its
reminders must not be paused (reminder_pauses.py), and no reminder may have gone (or be going)
within `reminder_interval_days`; a Reminder row of its kind is then inserted with its result
unknown, and its e-mail (with the invoice's PDF attached) is queued in the same transaction
(platform.outbox). Once the transaction commits the job queue sends it, retrying with backoff,
and gives the row its result. So two finance officers pressing the button together (or one and
the schedule) send one reminder, a rolled-back request sends nothing, and a mail fault never
undoes anything. Recharges are never reminded: the council settles them by journal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.formatting import LONDON, long_date, pounds
from traded_app.models import Document, DocumentType, User
from traded_app.models.base import utcnow
from traded_app.models.council import DEFAULT_FINAL_NOTICE_TEXT
from traded_app.models.finance import Reminder, ReminderKind
from traded_app.models.jobs import OutgoingEmail
from traded_app.services.finance import balances, recipients, reminder_pauses
from traded_app.services.finance.balances import DocumentStatus, Figures
from traded_app.services.finance.payments import lock_document
from traded_app.services.platform import outbox
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.settings import council_settings, today

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_DAYS = 14
REMINDER_KIND = "reminder"  # the outbox's kind for every reminder e-mail, of whichever kind
# Reminders after the due date: the interval runs between these, and they count towards the
# final notice (a friendly note before the due date does neither).
AFTER_DUE = (ReminderKind.REMINDER, ReminderKind.FINAL)

__all__ = ["Reminder", "ReminderError", "ReminderKind", "send_reminders"]


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
    """The latest reminder after the due date that went or may have gone."""
    return db.session.execute(
        select(Reminder)
        .where(
            Reminder.document_id == document.id,
            Reminder.succeeded.is_not(False),
            Reminder.kind.in_(AFTER_DUE),
        )
        .order_by(Reminder.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def sent_on(reminder: Reminder) -> date:
    """The council's date the reminder was queued on."""
    return reminder.queued_at.astimezone(LONDON).date()


def reminders_after_due(document: Document) -> int:
    """How many reminders after the due date went or may have gone (the final notice's count)."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Reminder)
            .where(
                Reminder.document_id == document.id,
                Reminder.succeeded.is_not(False),
                Reminder.kind == ReminderKind.REMINDER,
            )
        )
        or 0
    )


def queue_reminder(
    document: Document,
    figures: Figures,
    kind: ReminderKind,
    recipient: str,
    on: date,
    sent_by: User | None = None,
) -> Reminder:
    """Insert the reminder and queue its e-mail, in the caller's transaction (which holds the
    document's row lock and has checked that this reminder may go)."""
    reminder = Reminder(
        document_id=document.id,
        document=document,
        kind=kind,
        sent_by_id=sent_by.id if sent_by is not None else None,
        recipient=recipient,
        balance_pence=figures.balance_pence or 0,
        days_overdue=figures.days_overdue(on),
        queued_at=utcnow(),
        succeeded=None,
    )
    db.session.add(reminder)
    db.session.flush()
    subject, body = message_for(reminder)
    outbox.queue_email(
        [reminder.recipient],
        subject,
        body,
        purpose=f"{kind.label} for {document.number}",
        document=document,
        school_id=document.school_id,
        kind=REMINDER_KIND,
        ref_id=reminder.id,
        requested_by_id=reminder.sent_by_id,
    )
    return reminder


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
        pause = reminder_pauses.pause_affecting(document)
        if pause is not None:
            skipped.append((document.number, f"its reminders are paused: {pause.reason}"))
            continue
        previous = last_reminder(document)
        if previous is not None:
            went_on = sent_on(previous)
            if (on - went_on).days < interval:
                skipped.append(
                    (
                        document.number,
                        f"a reminder went on {long_date(went_on)}; the next may go on "
                        f"{long_date(went_on + timedelta(days=interval))}",
                    )
                )
                continue
        recipient = recipients.recipient_of(document)  # the trust's, when issued to the trust
        if not recipient:
            skipped.append((document.number, "the school has no billing contact e-mail address"))
            continue
        queued.append(
            queue_reminder(document, figures, ReminderKind.REMINDER, recipient, on, sent_by=user)
        )
    return Outcome(queued, skipped)


def reminders_of(document: Document) -> list[Reminder]:
    return list(
        db.session.execute(
            select(Reminder).where(Reminder.document_id == document.id).order_by(Reminder.id)
        ).scalars()
    )


# --- The e-mails ------------------------------------------------------------------------------


def _how_to_pay(document: Document) -> str:
    return (
        f"Please pay by bank transfer to {document.bank_account_name}, sort code "
        f"{document.bank_sort_code}, account {document.bank_account_number}, quoting "
        f"{document.number}"
        + (f" and your purchase order {document.po_number}" if document.po_number else "")
        + ".\n\n"
    )


def _sign_off(document: Document) -> str:
    link = absolute_url("documents.document_detail", document_id=document.id)
    if document.brought_forward:  # the previous system's invoice: no PDF of ours to attach
        where = (
            f"It was issued by our previous system under this number; its details are online: "
            f"{link}\n\n"
            if link
            else "It was issued by our previous system under this number.\n\n"
        )
    else:
        where = (
            f"The invoice is attached and online: {link}\n\n"
            if link
            else "The invoice is attached.\n\n"
        )
    return (
        where
        + f"{document.seller_name}"
        + (f"\n{document.seller_email}" if document.seller_email else "")
        + (f"\n{document.seller_phone}" if document.seller_phone else "")
        + "\n"
    )


def _days(count: int) -> str:
    return f"{count} {'day' if count == 1 else 'days'}"


def message_for(reminder: Reminder) -> tuple[str, str]:
    """The reminder's subject and plain-text body, by its kind."""
    document = reminder.document
    greeting = f"Dear {document.buyer_contact_name or document.buyer_name},\n\n"
    still_to_pay = f"{pounds(reminder.balance_pence)} is still to pay."
    if reminder.kind == ReminderKind.FRIENDLY:
        subject = f"Invoice {document.number} is due on {long_date(document.due_date)}"
        body = (
            greeting + f"A friendly note that invoice {document.number}, issued on "
            f"{long_date(document.issue_date)}, is due for payment on "
            f"{long_date(document.due_date)}. {still_to_pay}\n\n"
            + _how_to_pay(document)
            + "If you have already paid, thank you, and please ignore this note.\n"
        )
    elif reminder.kind == ReminderKind.FINAL:
        settings = council_settings()
        next_step = (settings.final_notice_text if settings else "") or DEFAULT_FINAL_NOTICE_TEXT
        subject = f"Final notice: invoice {document.number} is overdue"
        body = (
            greeting + f"This is our final notice about invoice {document.number}, issued on "
            f"{long_date(document.issue_date)} and due on {long_date(document.due_date)}, which "
            f"is {_days(reminder.days_overdue)} overdue. {still_to_pay} We will not send "
            "another reminder.\n\n"
            + f"What happens next: {next_step.strip()}\n\n"
            + _how_to_pay(document)
            + "If you have paid in the last few days, thank you, and please ignore this notice.\n"
        )
    else:
        subject = f"Reminder: invoice {document.number} is overdue"
        body = (
            greeting + f"Our records show that invoice {document.number}, issued on "
            f"{long_date(document.issue_date)} and due on {long_date(document.due_date)}, "
            f"is {_days(reminder.days_overdue)} overdue. {still_to_pay}\n\n"
            + _how_to_pay(document)
            + "If you have paid in the last few days, thank you, and please ignore this reminder.\n"
        )
    return subject, body + _sign_off(document)


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
