"""E-mails on their way out: written with the change they are about, sent by a queue job.

`queue_email` adds an `OutgoingEmail` row to the caller's transaction and, once that commits,
enqueues `deliver_email`. So an e-mail exists exactly when its change does, and sending it never
slows or undoes the request. The job sends through the mail service, retrying with backoff
(about 30 s, 1, 2, 4 and 8 minutes); each failed try is recorded on the row. After the last try
the row is marked failed and appears on the list of e-mails that could not be sent, where
finance or the service manager can send it again.

A package that keeps its own record of a send (a document's send log, a reminder) registers a
`kind` with `@records_results("kind")`: its function is told `(ref_id, succeeded, error)` when the
e-mail is sent or given up.

Delivery is at least once: a worker killed between the mail server's answer and the commit sends
that e-mail again on its retry; it can never be lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models.base import utcnow
from traded_app.models.invoices import Document
from traded_app.models.jobs import EmailStatus, OutgoingEmail
from traded_app.services.platform import jobs, mail
from traded_app.services.platform.after_commit import after_commit
from traded_app.services.platform.document_store import read_pdf

log = logging.getLogger(__name__)

RETRIES = 5
RETRY_DELAY_SECONDS = 30

ResultRecorder = Callable[[int, bool, str], None]
_recorders: dict[str, ResultRecorder] = {}


def records_results(kind: str) -> Callable[[ResultRecorder], ResultRecorder]:
    """Register the function told how each e-mail of this kind went."""

    def decorator(fn: ResultRecorder) -> ResultRecorder:
        _recorders[kind] = fn
        return fn

    return decorator


def queue_email(
    to: Sequence[str],
    subject: str,
    body: str,
    *,
    purpose: str,
    document: Document | None = None,
    school_id: int | None = None,
    kind: str = "",
    ref_id: int | None = None,
) -> OutgoingEmail | None:
    """Queue an e-mail in the caller's transaction; None when there is nobody to send it to."""
    recipients = [address.strip() for address in to if address and address.strip()]
    if not recipients:
        return None
    row = OutgoingEmail(
        purpose=purpose[:200],
        recipients=", ".join(recipients),
        subject=subject[:300],
        body=body,
        document_id=document.id if document is not None else None,
        school_id=school_id,
        kind=kind,
        ref_id=ref_id,
        status=EmailStatus.QUEUED,
        attempts=0,
        last_error="",
    )
    db.session.add(row)
    db.session.flush()
    after_commit(db.session, deliver_email, row.id)
    return row


def _record(row: OutgoingEmail, succeeded: bool, error: str) -> None:
    recorder = _recorders.get(row.kind)
    if recorder is not None and row.ref_id is not None:
        recorder(row.ref_id, succeeded, error)


def _attachments(row: OutgoingEmail) -> list[mail.Attachment]:
    if row.document_id is None:
        return []
    document = db.session.get(Document, row.document_id)
    if document is None:
        return []
    return [mail.Attachment(f"{document.number}.pdf", read_pdf(document))]


def _gave_up(email_id: int) -> None:
    row = db.session.get(OutgoingEmail, email_id)
    if row is None or row.status is EmailStatus.SENT:
        return
    row.status = EmailStatus.FAILED
    row.failed_at = utcnow()
    _record(row, False, row.last_error or "Could not be sent")


@jobs.job(
    name="outbox.deliver_email",
    retries=RETRIES,
    retry_delay=RETRY_DELAY_SECONDS,
    retry_backoff=2.0,
    on_giving_up=_gave_up,
)
def deliver_email(email_id: int) -> None:
    row = db.session.get(OutgoingEmail, email_id)
    if row is None or row.status is EmailStatus.SENT:
        return  # rolled back before it was sent, or a retry after it went
    message = (row.recipient_list, row.subject, row.body, _attachments(row))
    # Let go of the database (SQLite's write lock) while the mail server takes its time.
    db.session.commit()
    try:
        mail.deliver(*message)
    except Exception as error:
        row = db.session.get(OutgoingEmail, email_id)
        if row is not None:
            row.attempts += 1
            row.last_error = f"{error.__class__.__name__}: {error}"[:2000]
            db.session.commit()
        raise
    row = db.session.get(OutgoingEmail, email_id)
    if row is None:
        return
    row.attempts += 1
    row.status = EmailStatus.SENT
    row.sent_at = utcnow()
    row.last_error = ""
    _record(row, True, "")


class OutboxError(Exception):
    pass


def send_again(email_id: int) -> OutgoingEmail:
    """Put a failed e-mail back on the queue (its tries start again)."""
    row = db.session.get(OutgoingEmail, email_id, with_for_update=True)
    if row is None:
        raise OutboxError("There is no such e-mail")
    if row.status is not EmailStatus.FAILED:
        raise OutboxError("Only an e-mail that could not be sent can be sent again")
    row.status = EmailStatus.QUEUED
    row.failed_at = None
    after_commit(db.session, deliver_email, row.id)
    return row


@dataclass(frozen=True)
class OutboxCounts:
    queued: int
    failed: int


def counts() -> OutboxCounts:
    rows = dict(
        db.session.execute(
            select(OutgoingEmail.status, func.count()).group_by(OutgoingEmail.status)
        ).all()
    )
    return OutboxCounts(rows.get(EmailStatus.QUEUED, 0), rows.get(EmailStatus.FAILED, 0))


def failed_emails(limit: int = 200) -> list[OutgoingEmail]:
    """E-mails that could not be sent after their last try, newest first."""
    return list(
        db.session.scalars(
            select(OutgoingEmail)
            .where(OutgoingEmail.status == EmailStatus.FAILED)
            .order_by(OutgoingEmail.failed_at.desc(), OutgoingEmail.id.desc())
            .limit(limit)
        )
    )
