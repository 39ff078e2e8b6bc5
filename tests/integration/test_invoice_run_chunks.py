"""An invoice run's PDFs rendered by whichever queue workers are free (documents.run_chunks), on
the queue's real stores: the SQLite file and Redis (TEST_REDIS_URL). A second worker is stood
for by running the waiting jobs in the middle of the run, at the moment a worker would take
them; a worker killed holding a chunk by taking the chunk and never giving it back.

Whoever renders, the run is the same: numbers in order with no gap, one document per order,
every stored PDF the one its hash says, each document e-mailed once, when the run ends."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.factories import confirmed_order, invoice_in_runs
from traded_app.extensions import db
from traded_app.models import Document, InvoiceRun, InvoiceRunStatus, Order
from traded_app.models.base import utcnow
from traded_app.models.jobs import EmailStatus, OutgoingEmail
from traded_app.services.documents import pdf, run_chunks
from traded_app.services.documents import runs as invoice_runs
from traded_app.services.platform import document_store, jobs

ORDERS = 6  # three chunks of two in one batch


@pytest.fixture(autouse=True)
def own_outbox(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))


@pytest.fixture()
def waiting(world: Any) -> list[Order]:
    """Invoice runs set; six confirmed orders waiting, every school with a billing contact."""
    invoice_in_runs(world)
    world.school.billing_contact_email = "office@riverside.example"
    world.academy.billing_contact_email = "bursar@meadow.example"
    db.session.commit()
    schools = [world.school, world.academy]
    return [confirmed_order(world, 1 + n % 5, school=schools[n % 2]) for n in range(ORDERS)]


@pytest.fixture(params=["sqlite", "redis"])
def store(
    request: pytest.FixtureRequest, app: Flask, tmp_path: Path, waiting: list[Order]
) -> Iterator[str]:
    """The queue on a real store (after the orders are made), with no worker running."""
    if request.param == "redis":
        url = os.environ.get("TEST_REDIS_URL", "")
        if not url:
            pytest.skip("TEST_REDIS_URL is not set (.ci/run starts redis-server and sets it)")
        jobs.configure({"REDIS_URL": url, "QUEUE_IMMEDIATE": False})
    else:
        jobs.configure({"QUEUE_FILE": str(tmp_path / "queue.db"), "QUEUE_IMMEDIATE": False})
    jobs.huey.flush()
    db.session.commit()
    yield request.param
    jobs.huey.flush()
    jobs.configure(app.config)


@pytest.fixture()
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Who rendered each PDF: "helper" while the waiting jobs run, else "run"."""
    seen: list[str] = []
    real = pdf.render

    def render(data: Any) -> bytes:
        seen.append("helper" if helping else "run")
        return real(data)

    monkeypatch.setattr(pdf, "render", render)
    return seen


helping = False


def run_waiting_jobs() -> int:
    """Another worker, free at this moment, takes what is waiting on the queue."""
    global helping
    helping = True
    try:
        return jobs.run_pending()
    finally:
        helping = False


def run_now(**execute: Any) -> InvoiceRun:
    run = invoice_runs.start(None, source="cli")
    db.session.commit()
    return invoice_runs.execute(run.id, **execute)


def waiting_job_names() -> list[str]:
    return [task.name for task in jobs.huey.pending()]


def assert_issued_once_in_order(waiting: list[Order]) -> None:
    db.session.expire_all()
    issued = list(db.session.scalars(select(Document).order_by(Document.id)))
    assert sorted(d.order_id for d in issued) == sorted(o.id for o in waiting)
    for kind in {d.document_type for d in issued}:
        numbers = [d.sequence for d in issued if d.document_type == kind]
        assert numbers == list(range(1, len(numbers) + 1))  # in order, no gap
    for document in issued:
        assert document_store.read_pdf(document).startswith(b"%PDF-")  # its hash checked
    db.session.commit()


def emails_by_document() -> dict[int | None, list[EmailStatus]]:
    db.session.expire_all()
    found: dict[int | None, list[EmailStatus]] = {}
    for row in db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.kind == "document")):
        found.setdefault(row.document_id, []).append(row.status)
    db.session.commit()
    return found


def test_a_free_worker_renders_chunks_while_the_run_renders_the_rest(
    store: str, waiting: list[Order], renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    share = run_chunks.SharedRender._share_filling

    def share_then_let_a_worker_take_it(self: run_chunks.SharedRender) -> None:
        share(self)
        if len(self.chunks) == 1:  # the first chunk: a free worker takes it at once
            assert run_waiting_jobs() == 1

    monkeypatch.setattr(run_chunks.SharedRender, "_share_filling", share_then_let_a_worker_take_it)
    run = run_now(batch_size=ORDERS)

    assert run.status == InvoiceRunStatus.FINISHED and run.issued == ORDERS
    assert renders == ["helper"] * 2 + ["run"] * (ORDERS - 2)
    assert_issued_once_in_order(waiting)
    # The run leaves nothing behind in the store; the jobs of the chunks it rendered itself end
    # at once, rendering nothing.
    assert waiting_job_names().count("documents.render_chunk") == 2
    assert jobs.huey.storage.result_store_size() == 0


def test_each_document_is_emailed_once_when_the_run_ends(
    store: str, waiting: list[Order], renders: list[str]
) -> None:
    def no_email_on_the_queue_yet(_run: InvoiceRun) -> None:
        assert "outbox.deliver_email" not in waiting_job_names()

    run = run_now(batch_size=2, on_batch=no_email_on_the_queue_yet)
    assert run.status == InvoiceRunStatus.FINISHED
    assert waiting_job_names().count("outbox.deliver_email") == ORDERS
    db.session.commit()  # (the test's session lets go of SQLite's write lock)
    run_waiting_jobs()
    statuses = emails_by_document()
    assert len(statuses) == ORDERS
    assert all(each == [EmailStatus.SENT] for each in statuses.values())
    assert renders.count("helper") == 0  # the chunks' jobs came too late to take any


def test_a_chunk_whose_worker_was_killed_is_rendered_by_the_run(
    store: str, waiting: list[Order], renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_chunks, "STALE_AFTER_SECONDS", 0.5)
    share = run_chunks.SharedRender._share_filling
    lost: list[str] = []

    def a_worker_takes_it_and_dies(self: run_chunks.SharedRender) -> None:
        share(self)
        if len(self.chunks) == 2:  # a worker takes the second chunk, starts, and is killed
            key = f"invoice-run-chunk:{self.token}:1"
            assert jobs.take(key) is not None
            jobs.share(f"invoice-run-alive:{self.token}:1", time.time())
            lost.append(key)

    monkeypatch.setattr(run_chunks.SharedRender, "_share_filling", a_worker_takes_it_and_dies)
    started = time.monotonic()
    run = run_now(batch_size=ORDERS)

    assert lost and time.monotonic() - started >= 0.5  # it waited for the worker, then took over
    assert run.status == InvoiceRunStatus.FINISHED and run.issued == ORDERS
    assert renders == ["run"] * ORDERS  # the lost chunk too, by the run
    assert_issued_once_in_order(waiting)
    assert jobs.huey.storage.result_store_size() == 0


def test_a_pdf_a_worker_could_not_make_is_reported_and_its_number_goes_to_the_next(
    store: str, waiting: list[Order], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pdf.render

    def broken_for_the_second(data: Any) -> bytes:
        if data.order_reference == waiting[1].reference:
            raise ValueError("font missing")
        return real(data)

    monkeypatch.setattr(pdf, "render", broken_for_the_second)
    share = run_chunks.SharedRender._share_filling

    def share_then_let_a_worker_take_it(self: run_chunks.SharedRender) -> None:
        share(self)
        if len(self.chunks) == 1:
            run_waiting_jobs()

    monkeypatch.setattr(run_chunks.SharedRender, "_share_filling", share_then_let_a_worker_take_it)
    run = run_now(batch_size=ORDERS)
    assert (run.status, run.issued, run.failed) == (InvoiceRunStatus.FINISHED, ORDERS - 1, 1)
    items = invoice_runs.items_of(run)
    assert [i.order_id for i in items.failed] == [waiting[1].id]
    assert "Its PDF could not be made: ValueError: font missing" in items.failed[0].error
    assert_issued_once_in_order([o for o in waiting if o.id != waiting[1].id])


def test_a_killed_runs_emails_are_sent_by_the_run_that_takes_over(
    store: str, waiting: list[Order]
) -> None:
    class Killed(BaseException):
        pass

    def killed_after_the_first_batch(_run: InvoiceRun) -> None:
        raise Killed

    with pytest.raises(Killed):
        run_now(batch_size=2, on_batch=killed_after_the_first_batch)
    db.session.rollback()
    lost = db.session.scalars(select(InvoiceRun)).one()
    assert lost.issued == 2 and "outbox.deliver_email" not in waiting_job_names()
    lost.heartbeat_at = utcnow() - invoice_runs.STALE_AFTER * 2
    db.session.commit()

    invoice_runs.recover_stalled_runs.call_local()  # the scheduler's minute comes round
    run_waiting_jobs()
    db.session.expire_all()
    runs = list(db.session.scalars(select(InvoiceRun).order_by(InvoiceRun.id)))
    assert [r.status for r in runs] == [InvoiceRunStatus.INTERRUPTED, InvoiceRunStatus.FINISHED]
    db.session.commit()
    assert_issued_once_in_order(waiting)
    statuses = emails_by_document()
    assert len(statuses) == ORDERS
    assert all(each == [EmailStatus.SENT] for each in statuses.values())
    assert db.session.scalar(select(func.count()).select_from(OutgoingEmail)) >= ORDERS
