"""The job queue on its embedded store (an SQLite file) and on Redis (TEST_REDIS_URL)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import ScheduledRun
from traded_app.services.platform import jobs, schedules

calls: list[tuple[str, Any]] = []


def _record(name: str, period: str) -> None:
    db.session.add(ScheduledRun(schedule=name, period=period, outcome="ok", detail=""))


@jobs.job(name="tests.write_row")
def write_row(period: str) -> None:
    _record("job", period)


@jobs.job(name="tests.write_then_fail", retries=2)
def write_then_fail(period: str) -> None:
    calls.append(("try", period))
    _record("job", period)
    raise RuntimeError("the mail server said no")


def _gave_up(period: str) -> None:
    calls.append(("gave up", period))
    _record("gave-up", period)


@jobs.job(name="tests.always_fails", retries=2, on_giving_up=_gave_up)
def always_fails(period: str) -> None:
    calls.append(("try", period))
    raise RuntimeError("still down")


def rows(schedule: str) -> list[str]:
    """What is committed (the test's own session then lets go of SQLite's write lock)."""
    db.session.expire_all()
    found = list(
        db.session.scalars(
            select(ScheduledRun.period)
            .where(ScheduledRun.schedule == schedule)
            .order_by(ScheduledRun.id)
        )
    )
    db.session.commit()
    return found


STORES = ["sqlite", "redis"]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, app: Flask, tmp_path: Path) -> Iterator[str]:
    """The queue on a real store, with no worker: jobs wait until the test runs them."""
    if request.param == "redis":
        url = os.environ.get("TEST_REDIS_URL", "")
        if not url:
            pytest.skip("TEST_REDIS_URL is not set (.ci/run starts redis-server and sets it)")
        jobs.configure({"REDIS_URL": url, "QUEUE_IMMEDIATE": False})
    else:
        jobs.configure({"QUEUE_FILE": str(tmp_path / "queue.db"), "QUEUE_IMMEDIATE": False})
    jobs.huey.flush()
    calls.clear()
    db.session.commit()
    yield request.param
    jobs.huey.flush()
    jobs.configure(app.config)


def test_a_job_waits_for_a_worker_then_commits_its_work(store: str) -> None:
    write_row("a")
    write_row("b")
    assert rows("job") == []
    health = jobs.health()
    assert health.reachable and health.waiting == 2
    assert health.oldest_waiting_seconds is not None and health.oldest_waiting_seconds < 60

    assert jobs.run_pending() == 2
    assert rows("job") == ["a", "b"]
    assert jobs.health().waiting == 0
    assert jobs.health().oldest_waiting_seconds is None


def test_the_oldest_waiting_job_is_reported_with_its_age(store: str) -> None:
    write_row("old")
    later = time.time() + 90
    assert jobs.health(now=later).oldest_waiting_seconds == pytest.approx(90, abs=5)


def test_a_failing_job_is_rolled_back_and_retried(store: str) -> None:
    write_then_fail("x")
    jobs.run_pending()
    assert calls == [("try", "x")] * 3  # the first try and two retries
    assert rows("job") == []  # each try's write was rolled back


def test_after_its_last_retry_a_job_records_that_it_gave_up(store: str) -> None:
    always_fails("p")
    jobs.run_pending()
    assert calls == [("try", "p")] * 3 + [("gave up", "p")]
    assert rows("gave-up") == ["p"]


@jobs.job(name="tests.backoff", retries=1, retry_delay=60)
def flaky() -> None:
    calls.append(("try", "b"))
    raise RuntimeError("later")


def test_retries_wait_for_their_backoff(store: str) -> None:
    flaky()
    jobs.run_pending()
    assert calls == [("try", "b")]
    assert jobs.huey.scheduled_count() == 1  # waiting its minute, not retried at once


def test_an_unreachable_redis_is_a_clear_error_not_a_hang(app: Flask) -> None:
    jobs.configure({"REDIS_URL": "redis://127.0.0.1:1/0", "QUEUE_IMMEDIATE": False})
    try:
        started = time.monotonic()
        with pytest.raises(jobs.QueueUnavailable, match="REDIS_URL"):
            jobs.check_reachable()
        health = jobs.health()
        assert not health.reachable and "unreachable" in health.reason
        assert time.monotonic() - started < 10
    finally:
        jobs.configure(app.config)


def test_an_unusable_queue_file_is_a_clear_error(app: Flask, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the queue's folder should be")
    with pytest.raises(OSError):
        jobs.configure({"QUEUE_FILE": str(blocker / "queue.db"), "QUEUE_IMMEDIATE": False})
    jobs.configure(app.config)


def test_in_the_test_environment_jobs_run_at_once_in_their_own_unit_of_work(app: Flask) -> None:
    assert app.config["QUEUE_IMMEDIATE"]
    write_row("now")
    assert rows("job") == ["now"]


# Schedules ------------------------------------------------------------------------------------


def daily(now: datetime) -> str | None:
    return now.date().isoformat()


@pytest.fixture()
def test_schedule() -> Iterator[schedules.Schedule]:
    runs: list[str] = []

    def work(_run: ScheduledRun) -> str:
        runs.append("ran")
        time.sleep(0.05)
        return f"{len(runs)} run"

    item = schedules.Schedule("test-daily", "A test schedule", daily, work)
    schedules.SCHEDULES[item.name] = item
    yield item
    del schedules.SCHEDULES[item.name]


def test_a_schedule_runs_once_a_period(app: Flask, test_schedule: schedules.Schedule) -> None:
    monday = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    first = schedules.run_if_due(test_schedule, monday)
    assert first is not None and first.outcome == "ok" and first.detail == "1 run"
    assert schedules.run_if_due(test_schedule, monday.replace(hour=9)) is None
    tuesday = schedules.run_if_due(test_schedule, datetime(2026, 12, 1, 7, tzinfo=UTC))
    assert tuesday is not None and tuesday.period == "2026-12-01"


def test_two_workers_ticking_at_once_run_a_schedule_once(
    app: Flask, test_schedule: schedules.Schedule
) -> None:
    moment = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    db.session.commit()
    outcomes: list[Any] = []

    def worker() -> None:
        with app.app_context():
            run = schedules.run_if_due(test_schedule, moment)
            outcomes.append(run.period if run else None)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == ["2026-11-30", None]
    count = db.session.scalar(
        select(func.count()).select_from(ScheduledRun).where(ScheduledRun.schedule == "test-daily")
    )
    assert count == 1


def test_a_failed_run_is_recorded_with_its_reason(app: Flask) -> None:
    def work(_run: ScheduledRun) -> str:
        raise ValueError("the backup folder is full")

    item = schedules.Schedule("test-failing", "Fails", daily, work)
    run = schedules.run_if_due(item, datetime(2026, 11, 30, tzinfo=UTC))
    assert run is not None
    assert run.outcome == "failed" and "backup folder is full" in run.detail
    assert run.finished_at is not None


def test_the_queue_file_commits_without_waiting_for_the_disk(app: Flask, tmp_path: Path) -> None:
    # WAL with synchronous=NORMAL, as the app's SQLite database: a power cut may lose the last
    # jobs (queued again from the database), never corrupt the file; no request waits on fsync.
    jobs.configure({"QUEUE_FILE": str(tmp_path / "queue.db"), "QUEUE_IMMEDIATE": False})
    try:
        storage = jobs.huey.storage
        assert isinstance(storage, jobs.QueueFile)
        assert storage.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert storage.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    finally:
        jobs.configure(app.config)
