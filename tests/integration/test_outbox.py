"""E-mails through the outbox and the job queue: written with their change, sent by a worker,
retried with backoff, listed for finance after the last try, and sent again from the list."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import charged_order
from traded_app.extensions import db
from traded_app.models import Document, DocumentSend, EmailStatus, OutgoingEmail
from traded_app.models.base import utcnow
from traded_app.models.types import Role
from traded_app.services.platform import jobs, mail, outbox
from traded_app.services.platform.document_store import MissingPdfError


@pytest.fixture(autouse=True)
def own_outbox(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))


@pytest.fixture()
def queue(app: Flask, tmp_path: Path) -> Iterator[Any]:
    """The queue on its SQLite store with no worker: jobs wait until the test runs them."""
    jobs.configure({"QUEUE_FILE": str(tmp_path / "queue.db"), "QUEUE_IMMEDIATE": False})
    yield jobs
    jobs.huey.flush()
    jobs.configure(app.config)


@pytest.fixture()
def mail_server_down(app: Flask) -> Iterator[None]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    old = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    yield
    app.config.update(old)


def sent_files(app: Flask) -> list[Path]:
    return sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))


def emails(document: Document | None = None) -> list[OutgoingEmail]:
    """The outbox (a document's e-mails only, when given), as committed."""
    db.session.expire_all()
    query = select(OutgoingEmail).order_by(OutgoingEmail.id)
    if document is not None:
        query = query.where(OutgoingEmail.document_id == document.id)
    found = list(db.session.scalars(query))
    # Detached as read, so looking at them later opens no transaction (on SQLite, one that
    # would hold the write lock the queue's worker needs).
    for row in found:
        db.session.expunge(row)
    db.session.commit()
    return found


def sent_about(app: Flask, document: Document) -> list[Path]:
    return [p for p in sent_files(app) if document.number.encode() in p.read_bytes()]


def issued(world: Any) -> Document:
    world.school.billing_contact_email = "office@riverside.example"
    db.session.commit()
    _order, document = charged_order(world, 2)
    db.session.commit()
    return document


def test_an_email_waits_in_the_outbox_until_a_worker_sends_it(
    app: Flask, world: Any, queue: Any
) -> None:
    document = issued(world)
    [email] = emails(document)
    assert email.status == EmailStatus.QUEUED and email.recipients == "office@riverside.example"
    assert sent_files(app) == []
    assert jobs.health().waiting >= 1

    jobs.run_pending()
    [email] = emails(document)
    assert email.status == EmailStatus.SENT and email.attempts == 1 and email.sent_at
    assert len(sent_about(app, document)) == 1
    outbox.deliver_email(email.id)  # the same job again (a duplicate) sends nothing more
    jobs.run_pending()
    assert len(sent_about(app, document)) == 1


def test_a_rolled_back_change_leaves_no_email(app: Flask, world: Any, queue: Any) -> None:
    before = sent_files(app)
    outbox.queue_email(["office@riverside.example"], "Order approved", "…", purpose="An order")
    db.session.rollback()
    assert emails() == []
    assert jobs.run_pending() == 0
    assert sent_files(app) == before


def test_a_failing_email_is_retried_with_backoff_then_listed_and_sent_again(
    app: Flask, world: Any, as_role: Any, queue: Any, mail_server_down: None
) -> None:
    document = issued(world)
    jobs.run_pending()
    [email] = emails(document)
    assert (email.status, email.attempts) == (EmailStatus.QUEUED, 1)
    # Not retried at once: the next try waits its backoff.
    assert jobs.run_pending() == 0

    jobs.run_pending(retries_due_by=utcnow() + timedelta(hours=1))
    [email] = emails(document)
    assert email.status == EmailStatus.FAILED and email.attempts == 1 + outbox.RETRIES
    assert email.failed_at is not None and email.last_error == outbox.NOT_ACCEPTED
    log = list(
        db.session.scalars(select(DocumentSend).where(DocumentSend.document_id == document.id))
    )
    assert len(log) == 1 + outbox.RETRIES and not any(send.succeeded for send in log)
    db.session.commit()

    finance = as_role(Role.LA_FINANCE)
    register = finance.get("/finance/invoices").soup
    failed = sum(1 for e in emails() if e.status == EmailStatus.FAILED)
    assert f"E-mails not sent ({failed})" in text_of(register, "main")
    page = finance.get("/council/emails-not-sent").soup
    row = text_of(page, "table")
    assert document.number in row and "office@riverside.example" in row
    assert "could not be reached" in row

    app.config["MAIL_SERVER"] = ""  # the mail server is back (the outbox folder stands in)
    response = finance.post_form(f"/council/emails-not-sent/{email.id}/send")
    assert response.status_code == 302
    page = finance.get(response.location).soup
    assert "is being sent to office@riverside.example again" in text_of(
        page, ".govuk-notification-banner"
    )
    jobs.run_pending()
    [email] = emails(document)
    assert email.status == EmailStatus.SENT
    assert len(sent_about(app, document)) == 1
    assert document.number not in text_of(finance.get("/council/emails-not-sent").soup, "main")


def test_only_a_failed_email_can_be_sent_again(app: Flask, world: Any, as_role: Any) -> None:
    document = issued(world)  # sent at once by the test environment's queue
    [email] = emails(document)
    assert email.status == EmailStatus.SENT
    finance = as_role(Role.LA_FINANCE)
    response = finance.post_form(f"/council/emails-not-sent/{email.id}/send")
    page = finance.get(response.location).soup
    assert "Only an e-mail that could not be sent can be sent again" in text_of(page, "main")
    assert len(sent_about(app, document)) == 1


def test_schools_cannot_see_the_emails_not_sent(as_role: Any) -> None:
    assert as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/council/emails-not-sent").status_code in (
        403,
        404,
    )


def test_an_email_whose_job_was_lost_is_put_back_on_the_queue(
    app: Flask, world: Any, queue: Any
) -> None:
    document = issued(world)
    waiting = len(emails())
    jobs.huey.flush()  # the store lost the jobs (Redis restarted, a worker killed mid-job)
    assert outbox.requeue_lost() == 0  # still young: their jobs may just be waiting
    db.session.commit()
    assert outbox.requeue_lost(now=utcnow() + timedelta(hours=2)) == waiting
    db.session.commit()
    jobs.run_pending()
    [email] = emails(document)
    assert email.status == EmailStatus.SENT
    assert all(e.status == EmailStatus.SENT for e in emails())


# A kind whose e-mails attach a file of their own (as visit reports and statements do): the
# file for ref_id 1, none for 2, and for 3 a stored PDF found missing when the e-mail goes.
@outbox.attaches("test_own_file")
def _own_file(ref_id: int) -> mail.Attachment | None:
    if ref_id == 3:
        raise MissingPdfError("gone")
    return mail.Attachment("notes-1.pdf", b"%PDF-1.7 notes") if ref_id == 1 else None


def test_an_email_about_no_document_goes_with_the_file_its_kind_attaches(
    app: Flask, world: Any, queue: Any
) -> None:
    for ref_id in (1, 2, 3):
        outbox.queue_email(
            ["office@riverside.example"],
            f"Notes {ref_id}",
            "…",
            purpose="Notes",
            kind="test_own_file",
            ref_id=ref_id,
        )
    db.session.commit()
    jobs.run_pending()
    by_subject = {e.subject: e for e in emails()}
    assert by_subject["Notes 1"].status == EmailStatus.SENT
    assert by_subject["Notes 2"].status == EmailStatus.SENT
    # A stored file missing or altered stops the e-mail at once: no retry brings it back.
    assert by_subject["Notes 3"].status == EmailStatus.FAILED
    assert by_subject["Notes 3"].last_error == outbox.PDF_UNAVAILABLE
    sent = {p.read_bytes().count(b"notes-1.pdf") > 0 for p in sent_files(app)}
    assert len(sent_files(app)) == 2 and sent == {True, False}
