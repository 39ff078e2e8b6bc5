"""Invoice runs: confirmed orders wait, finance issues them in one action outside the request
(progress in the database, htmx polling, a summary), an interrupted or failed run is finished by
the next without issuing anything twice, the CLI rendering in a pool of processes.
(Rendering shared by the queue's workers: test_invoice_run_chunks.py.)

Runs on an SQLite file and, in CI, on PostgreSQL."""

from __future__ import annotations

import pickle
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from bench.invoice_run_timing import benchmark_run
from tests.conftest import text_of
from tests.factories import confirmed_order, invoice_in_runs
from traded_app.extensions import db
from traded_app.models import (
    Document,
    DocumentSend,
    InvoiceRun,
    InvoiceRunStatus,
    Order,
    OrderLine,
)
from traded_app.models.base import utcnow
from traded_app.models.types import Role
from traded_app.services.documents import issuing as invoicing
from traded_app.services.documents import pdf
from traded_app.services.documents import runs as invoice_runs
from traded_app.services.platform import document_store, jobs

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def own_outbox(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))


@pytest.fixture()
def waiting(world: Any) -> list[Order]:
    """Invoice runs set; three confirmed orders waiting (two maintained, one academy)."""
    invoice_in_runs(world)
    world.school.billing_contact_email = "office@riverside.example"
    db.session.commit()
    return [
        confirmed_order(world, 2),
        confirmed_order(world, 3, school=world.academy),
        confirmed_order(world, 4),
    ]


def documents() -> list[Document]:
    return list(db.session.execute(select(Document).order_by(Document.id)).scalars())


def charges_per_order() -> dict[int, int]:
    rows = db.session.execute(
        select(Document.order_id, func.count()).group_by(Document.order_id)
    ).tuples()
    return dict(rows.all())


def sequences(document_type: str) -> list[int]:
    return sorted(d.sequence for d in documents() if d.document_type.value == document_type)


def run_now(user: Any = None, **execute: Any) -> InvoiceRun:
    """Start and execute a run in this thread (as the CLI does)."""
    run = invoice_runs.start(user, source="cli", workers=execute.pop("workers", 1))
    db.session.commit()
    return invoice_runs.execute(run.id, **execute)


def test_in_invoice_run_mode_confirmed_orders_wait_for_finance(
    as_role: Any, waiting: list[Order]
) -> None:
    assert documents() == []
    page = as_role(Role.LA_FINANCE).get("/council/invoices").soup
    listed = text_of(page, "main")
    assert all(order.reference in listed for order in waiting)
    assert "The council issues its invoices and recharges in runs" in listed
    assert page.select_one("main form button").get_text(strip=True) == "Issue 3 documents now"


def test_finance_runs_everything_pending_in_the_background(
    as_role: Any, waiting: list[Order], world: Any
) -> None:
    finance = as_role(Role.LA_FINANCE)
    response = finance.post_form("/council/invoice-runs")
    # The test environment's queue ran the job as soon as the request committed.
    assert response.status_code == 302
    run = db.session.execute(select(InvoiceRun)).scalar_one()
    assert response.location == f"/council/invoice-runs/{run.id}"

    page = finance.get(response.location).soup
    assert page.h1.get_text(strip=True) == f"Invoice run {run.id}"
    assert text_of(page, "#run-progress .govuk-tag") == "Finished"
    assert "3 of 3 orders done (100%)" in text_of(page, "#run-progress")
    assert page.select_one("progress")["value"] == "3"
    assert "3 issued, 0 failed" in text_of(page, "#run-progress")
    issued = documents()
    assert sorted(d.order_id for d in issued) == sorted(o.id for o in waiting)
    assert {d.number for d in issued} <= set(text_of(page, "#run-progress").split())
    assert all(d.issued_by_id == world.users[Role.LA_FINANCE].id for d in issued)
    # Finished: the fragment no longer asks htmx to poll.
    fragment = finance.get(response.location, headers=HX)
    assert fragment.soup.find("h1") is None
    assert not fragment.soup.select_one("#run-progress").has_attr("hx-trigger")
    assert "HX-Request" in fragment.headers["Vary"]
    # Nothing left: the list is empty and a second run is refused with a reason.
    assert invoicing.orders_awaiting_charge() == []
    again = finance.post_form("/council/invoice-runs")
    banner = text_of(finance.get(again.location).soup, ".govuk-notification-banner")
    assert "No confirmed orders are waiting to be charged" in banner
    assert db.session.execute(select(func.count()).select_from(InvoiceRun)).scalar_one() == 1


def test_a_running_run_is_polled_and_has_a_check_progress_link(
    as_role: Any, waiting: list[Order]
) -> None:
    run = invoice_runs.start(None, source="cli")
    db.session.commit()
    finance = as_role(Role.LA_ADMIN)
    page = finance.get(f"/council/invoice-runs/{run.id}").soup
    progress = page.select_one("#run-progress")
    assert progress["hx-get"] == f"/council/invoice-runs/{run.id}"
    assert progress["hx-trigger"] == "every 2s"
    assert "0 of 3 orders done (0%)" in text_of(progress, "label")
    link = progress.find("a", string="Check progress")
    assert link["href"] == f"/council/invoice-runs/{run.id}"
    fragment = finance.get(f"/council/invoice-runs/{run.id}", headers=HX).soup
    assert fragment.find("h1") is None and fragment.select_one("#run-progress[hx-trigger]")
    # While it runs, no second run may start.
    listing = finance.get("/council/invoices").soup
    assert "is running" in text_of(listing, ".govuk-inset-text")
    assert listing.select_one("form[action='/council/invoice-runs']") is None
    with pytest.raises(invoice_runs.InvoiceRunError, match="already running"):
        invoice_runs.start(None)


def test_a_run_whose_process_stopped_is_finished_by_the_next(
    as_role: Any, waiting: list[Order]
) -> None:
    # A run that issued the first order, then its process died (no heartbeat since).
    lost = run_now(batch_size=1, on_batch=_stop_after_first_batch)
    assert lost.status == InvoiceRunStatus.RUNNING and lost.issued == 1
    lost.heartbeat_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    page = as_role(Role.LA_FINANCE).get(f"/council/invoice-runs/{lost.id}").soup
    assert text_of(page, "#run-progress .govuk-tag") == "Interrupted"
    assert not page.select_one("#run-progress").has_attr("hx-trigger")
    listing = as_role(Role.LA_FINANCE).get("/council/invoices").soup
    assert "its process was interrupted" in text_of(listing, ".govuk-warning-text")

    resumed = run_now()
    db.session.refresh(lost)
    assert lost.status == InvoiceRunStatus.INTERRUPTED
    assert resumed.status == InvoiceRunStatus.FINISHED and resumed.issued == 2
    assert charges_per_order() == {order.id: 1 for order in waiting}
    assert sequences("recharge") == [1, 2] and sequences("invoice") == [1]


@pytest.fixture()
def queue_without_worker(app: Flask, tmp_path: Path) -> Any:
    """The queue on its SQLite store with no worker: jobs wait until the test runs them."""
    jobs.configure({"QUEUE_FILE": str(tmp_path / "queue.db"), "QUEUE_IMMEDIATE": False})
    yield jobs
    jobs.huey.flush()
    jobs.configure(app.config)


def test_a_run_started_from_the_web_waits_on_the_queue_for_a_worker(
    as_role: Any, waiting: list[Order], queue_without_worker: Any
) -> None:
    response = as_role(Role.LA_FINANCE).post_form("/council/invoice-runs")
    assert response.status_code == 302
    run = db.session.execute(select(InvoiceRun)).scalar_one()
    assert run.status == InvoiceRunStatus.RUNNING and run.issued == 0
    assert jobs.health().waiting == 1
    db.session.commit()

    assert jobs.run_pending() >= 1  # the worker takes the run (and the e-mails it queues)
    db.session.refresh(run)
    assert run.status == InvoiceRunStatus.FINISHED and run.issued == 3
    assert charges_per_order() == {order.id: 1 for order in waiting}


def test_a_killed_workers_run_is_taken_over_automatically_without_gaps_or_duplicates(
    app: Flask, waiting: list[Order], queue_without_worker: Any
) -> None:
    # A worker issued the first order, then was killed (no heartbeat since, no job left).
    lost = run_now(batch_size=1, on_batch=_stop_after_first_batch)
    assert lost.status == InvoiceRunStatus.RUNNING and lost.issued == 1
    db.session.commit()

    # While its heartbeat is fresh nothing happens: it may just be slow.
    with app.app_context():
        invoice_runs.recover_stalled_runs.call_local()
    assert db.session.scalar(select(func.count()).select_from(InvoiceRun)) == 1
    db.session.commit()

    lost.heartbeat_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    # The scheduler's minute comes round: the stale run is taken over and the new run queued.
    invoice_runs.recover_stalled_runs.call_local()
    jobs.run_pending()
    db.session.expire_all()
    runs = list(db.session.scalars(select(InvoiceRun).order_by(InvoiceRun.id)))
    assert [r.status for r in runs] == [InvoiceRunStatus.INTERRUPTED, InvoiceRunStatus.FINISHED]
    assert runs[1].source == "recovery" and runs[1].issued == 2
    assert charges_per_order() == {order.id: 1 for order in waiting}
    assert sequences("recharge") == [1, 2] and sequences("invoice") == [1]


def test_a_stalled_run_that_wakes_after_being_replaced_stops_and_issues_nothing_twice(
    waiting: list[Order],
) -> None:
    later: list[InvoiceRun] = []

    def stall_and_be_replaced(run: InvoiceRun) -> None:
        if later:
            return
        run.heartbeat_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
        later.append(invoice_runs.start(None, source="cli", workers=1))
        db.session.commit()

    stalled = run_now(batch_size=1, on_batch=stall_and_be_replaced)
    assert stalled.status == InvoiceRunStatus.INTERRUPTED and stalled.issued == 1
    finishing = invoice_runs.execute(later[0].id)
    assert finishing.status == InvoiceRunStatus.FINISHED and finishing.issued == 2
    assert charges_per_order() == {order.id: 1 for order in waiting}


class _Stop(BaseException):
    """Stands for the process dying: nothing after it runs, not even the failure handling."""


def _stop_after_first_batch(_run: InvoiceRun) -> None:
    raise _Stop


@pytest.fixture(autouse=True)
def _catch_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    original = invoice_runs.execute

    def execute(run_id: int, **kwargs: Any) -> InvoiceRun:
        try:
            return original(run_id, **kwargs)
        except _Stop:
            db.session.rollback()
            return db.session.get(InvoiceRun, run_id)  # type: ignore[return-value]

    monkeypatch.setattr(invoice_runs, "execute", execute)


def test_a_failure_rolls_back_its_batch_and_the_next_run_finishes(
    world: Any, waiting: list[Order], monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting.append(confirmed_order(world, 1))
    waiting.append(confirmed_order(world, 1, school=world.academy))
    stored = 0
    real_store = invoicing.store_pdf

    def disk_full_on_the_third(path: str, content: bytes) -> str:
        nonlocal stored
        stored += 1
        if stored == 3:
            raise OSError(28, "No space left on device")
        return real_store(path, content)

    monkeypatch.setattr(invoicing, "store_pdf", disk_full_on_the_third)
    failed = run_now(batch_size=2)
    assert failed.status == InvoiceRunStatus.FAILED
    assert "No space left on device" in failed.error
    assert failed.issued == 2  # the first batch stands; the second was rolled back whole
    assert len(documents()) == 2
    monkeypatch.setattr(invoicing, "store_pdf", real_store)

    finishing = run_now(batch_size=2)
    assert finishing.status == InvoiceRunStatus.FINISHED and finishing.issued == 3
    assert charges_per_order() == {order.id: 1 for order in waiting}
    assert sequences("recharge") == [1, 2, 3] and sequences("invoice") == [1, 2]  # no gap


def test_an_order_that_cannot_be_charged_is_reported_and_the_rest_are_issued(
    as_role: Any, waiting: list[Order], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One order lost its frozen price (refused before a number is taken) and one order's PDF
    # cannot be rendered (refused after): both are reported with a reason; no number is lost.
    unpriced = db.session.get(OrderLine, waiting[0].lines[0].id)
    unpriced.price_per_day_pence = None
    db.session.commit()
    real_render = pdf.render

    def broken_for_the_academy(data: Any) -> bytes:
        if data.buyer_name == "Meadow Academy":
            raise ValueError("font missing")
        return real_render(data)

    monkeypatch.setattr(pdf, "render", broken_for_the_academy)
    run = run_now(as_role.world.users[Role.LA_FINANCE])
    assert run.status == InvoiceRunStatus.FINISHED
    assert (run.issued, run.failed) == (1, 2)
    assert [d.order_id for d in documents()] == [waiting[2].id]
    assert sequences("recharge") == [1]
    page = as_role(Role.LA_FINANCE).get(f"/council/invoice-runs/{run.id}").soup
    failures = text_of(page, "table")
    assert "has a line without a frozen price" in failures
    assert "Its PDF could not be made: ValueError: font missing" in failures
    assert {o.id for o in invoicing.orders_awaiting_charge()} == {waiting[0].id, waiting[1].id}


def test_a_run_emails_each_document_once_it_ends(app: Flask, waiting: list[Order]) -> None:
    run_now(batch_size=2)
    sends = db.session.execute(select(DocumentSend).order_by(DocumentSend.id)).scalars().all()
    by_document = {s.document_id: s for s in sends}
    assert set(by_document) == {d.id for d in documents()}
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    mailed = [p for p in outbox.glob("*.eml") if b"application/pdf" in p.read_bytes()]
    assert len(mailed) == 2  # the academy has no billing contact: logged, not sent
    academy = next(d for d in documents() if d.buyer_name == "Meadow Academy")
    assert not by_document[academy.id].succeeded


def test_document_data_can_cross_to_another_process(world: Any, waiting: list[Order]) -> None:
    prepared = invoicing.prepare_charge(waiting[1], None)
    copy = pickle.loads(pickle.dumps(prepared.data))  # noqa: S301 (our own bytes)
    assert copy == prepared.data
    db.session.rollback()


def test_the_cli_renders_in_parallel_and_reports(
    app: Flask, waiting: list[Order], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["invoices", "run", "--workers", "2", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "3 orders, 2 rendering processes" in result.output
    assert "2 of 3 done" in result.output and "3 of 3 done" in result.output
    assert "finished: 3 issued, 0 failed" in result.output
    issued = documents()
    assert len(issued) == 3
    for document in issued:
        assert document_store.read_pdf(document).startswith(b"%PDF-")  # stored and hash-checked
    run = db.session.execute(select(InvoiceRun)).scalar_one()
    assert (run.source, run.workers, run.started_by_id) == ("cli", 2, None)

    again = runner.invoke(args=["invoices", "run"])
    assert again.exit_code == 0 and "No confirmed orders are waiting" in again.output
    assert len(documents()) == 3


def test_the_cli_exits_with_failure_when_an_order_was_not_charged(
    app: Flask, waiting: list[Order]
) -> None:
    unpriced = db.session.get(OrderLine, waiting[0].lines[0].id)
    unpriced.price_per_day_pence = None
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["invoices", "run", "--workers", "1"])
    assert result.exit_code == 1
    assert f"Not issued: {waiting[0].reference}" in result.output


def test_the_benchmark_hook_times_serial_and_parallel_and_leaves_nothing(
    world: Any,
) -> None:
    world.council.bank_account_name = "Testshire County Council"
    db.session.commit()
    timings = benchmark_run(orders=3, workers=2)
    assert timings.documents == 3 and timings.workers == 2
    assert timings.serial_seconds > 0 and timings.parallel_seconds > 0
    db.session.rollback()
    assert documents() == []
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 0
