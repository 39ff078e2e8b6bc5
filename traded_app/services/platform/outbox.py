"""E-mails on their way out: written with the change they are about, sent by a queue job.

`queue_email` adds an `OutgoingEmail` row to the caller's transaction and, once that commits,
enqueues `deliver_email`. So an e-mail exists exactly when its change does, and sending it never
slows or undoes the request. The job sends through the mail service, retrying with backoff
(about 30 s, 1, 2, 4 and 8 minutes); each failed try is recorded on the row. After the last try
the row is marked failed and appears on the list of e-mails that could not be sent, where
finance or the service manager can send it again.

A package that keeps its own record of a send (a document's send log, a reminder) registers a
`kind` with `@records_results("kind")`: its function is told `(ref_id, succeeded, error)` when the
e-mail is sent or given up. An e-mail about no document whose kind attaches a file of its own (a
visit report's stored PDF, a statement's PDF made when it goes) registers, with
`@attaches("kind")`, the function that gives that file from the e-mail's `ref_id`.

Delivery is at least once: a worker killed between the mail server's answer and the commit sends
that e-mail again on its retry; it can never be lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, func, select, update

from traded_app.extensions import db
from traded_app.models.base import utcnow
from traded_app.models.invoices import Document
from traded_app.models.jobs import EmailStatus, OutgoingEmail
from traded_app.services.platform import jobs, mail
from traded_app.services.platform.after_commit import after_commit, is_suppressed
from traded_app.services.platform.document_store import MissingPdfError, read_pdf
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.statements import run

log = logging.getLogger(__name__)

RETRIES = 5
RETRY_DELAY_SECONDS = 30
NOT_ACCEPTED = "The e-mail could not be sent: the mail server could not be reached or refused it"
PDF_UNAVAILABLE = "The stored PDF is missing or is not the one issued, so nothing was sent"


class Outcome(StrEnum):
    SENT = "sent"  # this try sent it
    NOT_SENT = "not sent"  # this try failed (the queue tries again unless it was the last)
    FAILED = "failed"  # given up: no more tries (told after the last try's NOT_SENT)


ResultRecorder = Callable[[OutgoingEmail, Outcome, str], None]
# What an e-mail of a kind attaches when it is not about one document, from its `ref_id`: a
# visit report's stored PDF, a statement's PDF made when the e-mail goes; None for nothing.
Attacher = Callable[[int], mail.Attachment | None]


@dataclass(frozen=True)
class Kind:
    record: ResultRecorder
    # An e-mail whose document's PDF is missing or altered is not sent at all (True), or sent
    # without it (False: a reminder still asks for the money).
    attachment_required: bool = True


_kinds: dict[str, Kind] = {}
_attachers: dict[str, Attacher] = {}


def records_results(
    kind: str, *, attachment_required: bool = True
) -> Callable[[ResultRecorder], ResultRecorder]:
    """Register the function told how each try of an e-mail of this kind went (SENT or NOT_SENT),
    and FAILED once the queue gives up on it."""

    def decorator(fn: ResultRecorder) -> ResultRecorder:
        _kinds[kind] = Kind(fn, attachment_required)
        return fn

    return decorator


def attaches(kind: str) -> Callable[[Attacher], Attacher]:
    """Register the function that gives an e-mail of this kind, about no document, its file from
    the e-mail's `ref_id` (made, or read from the store and checked, when the e-mail is sent),
    or None for none. A stored PDF missing or altered stops the e-mail, as a document's does."""

    def decorator(fn: Attacher) -> Attacher:
        _attachers[kind] = fn
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
    requested_by_id: int | None = None,
) -> OutgoingEmail | None:
    """Queue an e-mail in the caller's transaction; None when there is nobody to send it to."""
    recipients = [address.strip() for address in to if address and address.strip()]
    if not recipients or is_suppressed(db.session):
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
        requested_by_id=requested_by_id,
        status=EmailStatus.QUEUED,
        attempts=0,
        last_error="",
    )
    db.session.add(row)
    db.session.flush()
    after_commit(db.session, deliver_email, row.id)
    return row


def _record(row: OutgoingEmail, outcome: Outcome, error: str) -> None:
    kind = _kinds.get(row.kind)
    if kind is not None:
        kind.record(row, outcome, error)


class _CannotSend(Exception):
    """The e-mail cannot go as it is (its PDF is missing or altered): no retry helps."""


def _attachments(row: OutgoingEmail) -> list[mail.Attachment]:
    if row.document_id is None:
        return _attached(row)
    document = db.session.get(Document, row.document_id)
    if document is None or document.brought_forward:  # no PDF of ours to attach
        return []
    try:
        return [mail.Attachment(f"{document.number}.pdf", read_pdf(document))]
    except MissingPdfError:
        kind = _kinds.get(row.kind)
        if kind is None or kind.attachment_required:
            log.error(
                "Not sending e-mail %s: the PDF of %s is missing or altered",
                row.id,
                document.number,
            )
            raise _CannotSend(PDF_UNAVAILABLE) from None
        log.error(
            "E-mail %s sent without the PDF of %s (missing or altered)", row.id, document.number
        )
        return []


def _attached(row: OutgoingEmail) -> list[mail.Attachment]:
    attacher = _attachers.get(row.kind)
    if attacher is None or row.ref_id is None:
        return []
    try:
        found = attacher(row.ref_id)
    except MissingPdfError:
        log.error("Not sending e-mail %s: its %s PDF is missing or altered", row.id, row.kind)
        raise _CannotSend(PDF_UNAVAILABLE) from None
    return [found] if found is not None else []


def _fail(row: OutgoingEmail, error: str) -> None:
    row.status = EmailStatus.FAILED
    row.failed_at = utcnow()
    row.last_error = error
    _record(row, Outcome.FAILED, error)


def _gave_up(email_id: int) -> None:
    row = db.session.get(OutgoingEmail, email_id)
    if row is None or row.status is not EmailStatus.QUEUED:
        return
    _fail(row, row.last_error or NOT_ACCEPTED)


@jobs.job(
    name="outbox.deliver_email",
    retries=RETRIES,
    retry_delay=RETRY_DELAY_SECONDS,
    retry_backoff=2.0,
    on_giving_up=_gave_up,
)
def deliver_email(email_id: int) -> None:
    row = db.session.get(OutgoingEmail, email_id)
    if row is None or row.status is not EmailStatus.QUEUED:
        return  # rolled back before it was sent, or a retry after it went
    # Claim this try: if a second job for the same e-mail (one put back as lost while the first
    # was still alive) got here first, it has moved queued_at on and this one stops.
    claimed = db.session.execute(
        update(OutgoingEmail)
        .where(
            OutgoingEmail.id == email_id,
            OutgoingEmail.status == EmailStatus.QUEUED,
            OutgoingEmail.queued_at == row.queued_at,
        )
        .values(queued_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return
    try:
        message = (row.recipient_list, row.subject, row.body, _attachments(row))
    except _CannotSend as error:
        row.attempts += 1
        _record(row, Outcome.NOT_SENT, str(error))
        _fail(row, str(error))
        return
    # Let go of the database (SQLite's write lock) while the mail server takes its time.
    db.session.commit()
    try:
        mail.deliver(*message)
    except Exception as error:
        log.warning(
            "Could not send e-mail %s %r to %s: %s", email_id, message[1], message[0], error
        )
        row = db.session.get(OutgoingEmail, email_id)
        if row is not None:
            row.attempts += 1
            row.last_error = NOT_ACCEPTED
            _record(row, Outcome.NOT_SENT, NOT_ACCEPTED)
            db.session.commit()
        raise
    row = db.session.get(OutgoingEmail, email_id)
    if row is None:
        return
    row.attempts += 1
    row.status = EmailStatus.SENT
    row.sent_at = utcnow()
    row.last_error = ""
    _record(row, Outcome.SENT, "")


class OutboxError(DomainError, ValueError):
    """An e-mail that cannot be sent again; the message is for the person asking."""


def send_again(email_id: int) -> OutgoingEmail:
    """Put a failed e-mail back on the queue (its tries start again)."""
    row = db.session.get(OutgoingEmail, email_id, with_for_update=True)
    if row is None:
        raise OutboxError("There is no such e-mail")
    if row.status is not EmailStatus.FAILED:
        raise OutboxError("Only an e-mail that could not be sent can be sent again")
    row.status = EmailStatus.QUEUED
    row.failed_at = None
    row.queued_at = utcnow()
    after_commit(db.session, deliver_email, row.id)
    return row


@dataclass(frozen=True)
class OutboxCounts:
    queued: int
    failed: int


def counts() -> OutboxCounts:
    rows: dict[EmailStatus, int] = {
        status: count
        for status, count in db.session.execute(
            select(OutgoingEmail.status, func.count()).group_by(OutgoingEmail.status)
        )
    }
    return OutboxCounts(rows.get(EmailStatus.QUEUED, 0), rows.get(EmailStatus.FAILED, 0))


# Longer than every retry's backoff together (30 s + 1 + 2 + 4 + 8 minutes): a queued e-mail
# this old has lost its job (the queue's store was down at commit, or a worker was killed).
LOST_AFTER = timedelta(hours=1)


def requeue_lost(now: datetime | None = None) -> int:
    """Put back on the queue every e-mail still waiting long after its job should have ended."""
    now = now or utcnow()
    lost = list(
        db.session.scalars(
            select(OutgoingEmail).where(
                OutgoingEmail.status == EmailStatus.QUEUED,
                OutgoingEmail.queued_at < now - LOST_AFTER,
            )
        )
    )
    for row in lost:
        row.queued_at = now
        after_commit(db.session, deliver_email, row.id)
    return len(lost)


def requeue_for_documents(document_ids: Select[tuple[int | None]]) -> int:
    """Put on the queue, once this transaction commits, the waiting e-mails of these documents
    (an invoice run hands its e-mails to the queue when it ends; one whose worker stopped first
    left them waiting). A second job for an e-mail already on its way stops at its claim."""
    waiting = list(
        db.session.scalars(
            select(OutgoingEmail.id).where(
                OutgoingEmail.status == EmailStatus.QUEUED,
                OutgoingEmail.document_id.in_(document_ids),
            )
        )
    )
    for email_id in waiting:
        after_commit(db.session, deliver_email, email_id)
    return len(waiting)


@jobs.periodic(jobs.crontab(minute="*/10"), name="outbox.requeue_lost")
def requeue_lost_emails() -> None:
    """Every ten minutes, in whichever worker's scheduler fires it."""
    requeue_lost()


# Built once: the count is shown beside a link on every page of the finance register.
_FAILED = (
    select(func.count())
    .select_from(OutgoingEmail)
    .where(OutgoingEmail.status == EmailStatus.FAILED)
)


def failed_count() -> int:
    """How many e-mails could not be sent (shown beside the link to their list)."""
    return int(run(_FAILED).scalar_one())


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
