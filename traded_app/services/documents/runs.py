"""Invoice runs: issue the documents of every confirmed order waiting to be charged.

When the council's setting `invoice_timing` is "invoice_run", confirming an order does not charge
it; finance issues everything pending in one action, from the web (the run is a job on the
queue, done by a worker process) or with `flask --app wsgi invoices run`.

A run works in batches. Each batch is one transaction, and unlike a request this job commits
(it is its own commit point): take the batch's numbers and build its documents, have their PDFs
rendered by every queue worker that is free (documents.run_chunks: the batch's data in chunks of
two that any worker takes, the run's own worker among them), store the files, insert the
documents, record each order's outcome and the run's progress, commit. So:

- progress is in the database, and any worker can show it;
- the more workers, the sooner a run ends (two workers take about half the time of one);
- a failure rolls back only the batch it happened in (its numbers are returned, nothing is
  half-issued), and the run stops; run again and it finishes the rest;
- nothing is issued twice: a run charges only what `orders_awaiting_charge` lists at each
  batch, and the unique index on charge documents refuses a second charge whatever races;
- an order whose PDF cannot be made is recorded as failed, with the reason, and its batch is
  done again without it, so its number is not lost from the series;
- each document's e-mail is written in its batch's transaction and handed to the queue when the
  run ends (after each batch, the other workers' e-mail jobs would wait on SQLite's write lock,
  which the run holds while a batch renders, instead of rendering).

A run whose worker stopped (a deploy, a crash, a killed process) stays "running" with an old
heartbeat; within a minute of it going stale the queue's scheduler marks it interrupted and
starts a new run that finishes its work and sends the stopped run's e-mails
(`recover_stalled`), with no one having to ask.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from traded_app.extensions import db
from traded_app.models import InvoiceRun, InvoiceRunItem, InvoiceRunStatus, Order, User
from traded_app.models.base import utcnow
from traded_app.models.orders import SOLD_STATUSES
from traded_app.services.documents import consolidated, instalments, pdf
from traded_app.services.documents import issuing as invoicing
from traded_app.services.documents.document_data import DocumentData
from traded_app.services.documents.issuing import PreparedDocument
from traded_app.services.documents.run_chunks import SharedRender, Submit, describe
from traded_app.services.platform import jobs, outbox
from traded_app.services.platform.after_commit import Work, after_commit, hold_queued, release
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import today
from traded_app.services.platform.transactions import reading_only

log = logging.getLogger(__name__)

BATCH_SIZE = 20
# A running run that has not committed a batch for this long has lost its process.
STALE_AFTER = timedelta(minutes=2)


class InvoiceRunError(DomainError, ValueError):
    """A run that cannot start; the message is for the person asking."""


class NothingToIssue(InvoiceRunError):
    pass


def available_cores() -> int:
    """The cores this process may use (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# --- Reading ----------------------------------------------------------------------------------


def pending_orders() -> list[Order]:
    return invoicing.orders_awaiting_charge()


def running_run() -> InvoiceRun | None:
    return db.session.execute(
        select(InvoiceRun).where(InvoiceRun.status == InvoiceRunStatus.RUNNING)
    ).scalar_one_or_none()


def is_stale(run: InvoiceRun) -> bool:
    return run.status == InvoiceRunStatus.RUNNING and utcnow() - run.heartbeat_at > STALE_AFTER


def latest_runs(limit: int = 5) -> list[InvoiceRun]:
    return list(
        db.session.execute(select(InvoiceRun).order_by(InvoiceRun.id.desc()).limit(limit)).scalars()
    )


def get_run(run_id: int) -> InvoiceRun | None:
    return db.session.get(InvoiceRun, run_id)


@dataclass(frozen=True)
class RunItems:
    issued: list[InvoiceRunItem]
    failed: list[InvoiceRunItem]


def items_of(run: InvoiceRun) -> RunItems:
    """What the run did to each order, with the orders, schools and documents loaded at once."""
    items = db.session.execute(
        select(InvoiceRunItem)
        .where(InvoiceRunItem.run_id == run.id)
        .options(
            selectinload(InvoiceRunItem.order).selectinload(Order.school),
            selectinload(InvoiceRunItem.document),
        )
        .order_by(InvoiceRunItem.id)
    ).scalars()
    issued: list[InvoiceRunItem] = []
    failed: list[InvoiceRunItem] = []
    for item in items:
        (issued if item.succeeded else failed).append(item)
    return RunItems(issued, failed)


# --- Starting ---------------------------------------------------------------------------------


def start(user: User | None, *, source: str = "web", workers: int = 1) -> InvoiceRun:
    """Record a new run (flushed, not committed). Refused while another run is alive or when
    nothing is waiting; a run whose process stopped is marked interrupted first, and the
    e-mails of what it issued go on the queue. `workers`: processes rendering in the run's own
    process besides the queue's workers (the CLI's choice; a queue worker renders in itself)."""
    running = running_run()
    if running is not None:
        if not is_stale(running):
            raise InvoiceRunError(
                f"Invoice run {running.id} is already running: wait for it to finish"
            )
        running.status = InvoiceRunStatus.INTERRUPTED
        running.finished_at = utcnow()
        running.error = "Its process stopped before it finished; a later run finished its work."
        _send_emails_of(running)
        db.session.flush()
    pending = pending_orders()
    if not pending and not instalments.due_order_ids(today()):
        raise NothingToIssue("No confirmed orders are waiting to be charged")
    invoicing.require_council_details()  # no council details, no documents: say so now
    run = InvoiceRun(
        status=InvoiceRunStatus.RUNNING,
        source=source,
        started_by_id=user.id if user else None,
        issue_date=today(),
        workers=max(1, workers),
        orders_total=len(pending),
        heartbeat_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(run)
    except IntegrityError:  # another run started at the same moment (one running at a time)
        raise InvoiceRunError(
            "Another invoice run has just started: wait for it to finish"
        ) from None
    return run


def start_after_commit(run: InvoiceRun) -> None:
    """Put the run on the job queue once the transaction that recorded it commits (a run that
    was never committed never starts)."""
    after_commit(db.session, run_job, run.id)


@jobs.job(name="documents.invoice_run")
def run_job(run_id: int) -> None:
    """A queue worker runs the recorded run (each batch commits on its own)."""
    run = db.session.get(InvoiceRun, run_id)
    if run is None or run.status != InvoiceRunStatus.RUNNING:
        return  # already finished, or taken over after its worker stopped
    # A queue worker renders in itself, never in a pool of its own (a process worker may not
    # start one); the other workers are its help. (A run recorded before said the cores.)
    run.workers = 1
    db.session.commit()  # the run commits batch by batch itself
    execute(run_id)


def recover_stalled() -> InvoiceRun | None:
    """A run whose worker stopped (killed, or deployed over) is taken over by a new run, with
    no one having to ask: the stale run is marked interrupted and the new one, which issues
    only what is still waiting, goes on the queue. Nothing is issued twice (each order's charge
    is unique) and no number is skipped (a batch is one transaction)."""
    running = running_run()
    if running is None or not is_stale(running):
        return None
    try:
        run = start(None, source="recovery")
    except NothingToIssue:
        # The stopped run had issued everything (its last commit was its last batch).
        running = running_run()
        if running is not None:
            running.status = InvoiceRunStatus.INTERRUPTED
            running.finished_at = utcnow()
            running.error = "Its worker stopped after issuing everything that was waiting."
            _send_emails_of(running)
        return None
    except InvoiceRunError:
        return None  # another worker took it over at the same moment
    log.warning("Invoice run %s taken over by run %s after its worker stopped", running.id, run.id)
    start_after_commit(run)
    return run


def _send_emails_of(stopped: InvoiceRun) -> None:
    """The e-mails of a run whose worker stopped before handing them to the queue."""
    outbox.requeue_for_documents(
        select(InvoiceRunItem.document_id).where(InvoiceRunItem.run_id == stopped.id)
    )


@jobs.periodic(jobs.crontab(), name="documents.recover_invoice_runs")
def recover_stalled_runs() -> None:
    """Every minute, in whichever worker's scheduler fires it. It looks first without taking
    SQLite's write lock (a run's batch holds it while its PDFs render: a worker waiting for it
    here would be one fewer rendering)."""
    with reading_only():
        running = running_run()
        stale = running is not None and is_stale(running)
    if stale:
        recover_stalled()


# --- Running ----------------------------------------------------------------------------------


@contextmanager
def renderer(workers: int) -> Iterator[Submit]:
    """A way to render PDFs: in this process, or in a pool of `workers` processes.

    The pool's processes are forked from a fork server that has already imported the renderer
    (WeasyPrint), so they start quickly and never inherit a web worker's threads or database
    connections. They get only DocumentData (a frozen, picklable dataclass) and return bytes."""
    if workers <= 1:

        def render_here(data: DocumentData) -> Future[bytes]:
            future: Future[bytes] = Future()
            try:
                future.set_result(pdf.render(data))
            except Exception as error:
                future.set_exception(error)
            return future

        yield render_here
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(["traded_app.services.documents.pdf"])  # type: ignore[attr-defined]
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield lambda data: pool.submit(pdf.render, data)


class _Superseded(Exception):
    pass


@dataclass
class _RenderFailed(Exception):
    order_id: int
    reason: str


def execute(
    run_id: int,
    *,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[InvoiceRun], Any] | None = None,
) -> InvoiceRun:
    """Issue every order waiting to be charged for the recorded run, batch by batch (each batch
    committed), and mark the run finished, or failed with the error that stopped it. The
    e-mails of its documents go on the queue at the end (see the module's notes)."""
    run = db.session.get(InvoiceRun, run_id)
    if run is None or run.status != InvoiceRunStatus.RUNNING:
        raise InvoiceRunError(f"Invoice run {run_id} is not waiting to run")
    # Instalments whose date has come are raised too (the daily schedule raises them anyway).
    instalments.raise_due(run.issue_date, run.started_by)
    order_ids = [order.id for order in pending_orders()]
    run.orders_total = len(order_ids) + run.done
    run.heartbeat_at = utcnow()
    db.session.commit()
    emails: list[Work] = []
    try:
        with renderer(run.workers) as submit:
            for first in range(0, len(order_ids), batch_size):
                emails += _batch(run_id, order_ids[first : first + batch_size], submit)
                if on_batch is not None:
                    on_batch(_run(run_id))
        emails += _consolidate(run_id)
    except _Superseded:
        db.session.rollback()
        log.warning("Invoice run %s stopped: a later run took over its work", run_id)
        release(emails)
        return _run(run_id)
    except Exception as error:
        db.session.rollback()
        log.exception("Invoice run %s stopped", run_id)
        run = _run(run_id)
        run.status = InvoiceRunStatus.FAILED
        run.error = describe(error)
        run.finished_at = utcnow()
        db.session.commit()
        release(emails)
        return run
    run = _run(run_id)
    run.status = InvoiceRunStatus.FINISHED
    run.finished_at = utcnow()
    db.session.commit()
    release(emails)
    return run


def _run(run_id: int) -> InvoiceRun:
    run = db.session.get(InvoiceRun, run_id)
    assert run is not None
    return run


def _batch(run_id: int, order_ids: list[int], submit: Submit) -> list[Work]:
    """One committed transaction for these orders. An order whose PDF cannot be rendered is
    recorded as failed and the batch is done again without it (its number goes back). Returns
    the e-mails it queued, held for the end of the run."""
    left_out: set[int] = set()
    while True:
        run = _run(run_id)
        if run.status != InvoiceRunStatus.RUNNING:
            # Marked interrupted by a later run while this one was stalled: that run does the rest.
            raise _Superseded
        try:
            _issue_batch(run, [i for i in order_ids if i not in left_out], submit)
            emails = hold_queued(db.session)
            db.session.commit()
            return emails
        except _RenderFailed as failure:
            db.session.rollback()
            left_out.add(failure.order_id)
            run = _run(run_id)
            _record(run, failure.order_id, error=failure.reason)
            run.heartbeat_at = utcnow()
            db.session.commit()


def _consolidate(run_id: int) -> list[Work]:
    """After the batches, one committed transaction: a consolidated invoice to each trust on
    "consolidated" listing the invoices issued to its academies (documents.consolidated).
    Returns the e-mails it queued, held for the end of the run."""
    run = _run(run_id)
    if run.status != InvoiceRunStatus.RUNNING:
        raise _Superseded
    consolidated.issue_for_run(run)
    run.heartbeat_at = utcnow()
    emails = hold_queued(db.session)
    db.session.commit()
    return emails


def _issue_batch(run: InvoiceRun, order_ids: list[int], submit: Submit) -> None:
    user = run.started_by
    prepared: list[tuple[Order, PreparedDocument]] = []
    rendering = SharedRender(submit)
    for order_id in order_ids:
        order = db.session.get(Order, order_id)
        if (
            order is None
            or order.status not in SOLD_STATUSES
            or invoicing.charge_document_for(order) is not None
        ):
            # Cancelled or charged since the run began: nothing left to do for it.
            run.orders_total -= 1
            continue
        try:
            ready = invoicing.prepare_charge(order, user, on=run.issue_date)
        except invoicing.InvoicingError as error:  # refused before any number was taken
            _record(run, order.id, error=str(error))
            continue
        prepared.append((order, ready))
        rendering.add(ready.data)  # free workers start on it while the next order is prepared
    for (order, ready), rendered in zip(prepared, rendering.rendered(), strict=True):
        if rendered.content is None:
            raise _RenderFailed(order.id, f"Its PDF could not be made: {rendered.error}")
        document = invoicing.finish(ready, rendered.content)
        _record(run, order.id, document_id=document.id)
    run.heartbeat_at = utcnow()
    db.session.flush()


def _record(
    run: InvoiceRun, order_id: int, *, document_id: int | None = None, error: str = ""
) -> None:
    db.session.add(
        InvoiceRunItem(
            run_id=run.id,
            order_id=order_id,
            document_id=document_id,
            succeeded=document_id is not None,
            error=error,
        )
    )
    if document_id is not None:
        run.issued += 1
    else:
        run.failed += 1
