"""The job queue: work that happens after a request, in a worker process (Huey).

One machine keeps the queue in an SQLite file beside the database (`QUEUE_FILE`, default
`instance/queue.db`); many machines share Redis (`REDIS_URL`). The web process only enqueues;
`huey_consumer traded_app.worker.huey` (started by `make run`, or one systemd unit per worker)
runs the jobs. With `QUEUE_IMMEDIATE` on (the test environment's default) a job runs at once in
the process that enqueued it, in an app context of its own, exactly as a worker would run it.

A job is a plain function decorated with `@job(...)`. Calling it enqueues it (with the time it
was enqueued, which `/healthz` reports for the oldest waiting job); the worker runs it as one
unit of work in its own app context: the database session commits when the function returns and
rolls back when it raises, and huey retries it with the job's backoff. After its last try
`on_giving_up(*args)` runs (in a fresh unit of work), so a job can record that it failed for a
person to see (an e-mail that could not be sent is listed for finance with "Send again").

Jobs must be idempotent: a worker killed mid-job leaves it to run again.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.api import Task, TaskWrapper
from huey.constants import EmptyData
from huey.exceptions import HueyException
from huey.signals import SIGNAL_ERROR
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from traded_app.extensions import db

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

QUEUE_NAME = "traded"
ENQUEUED_AT = "_enqueued_at"

# The one queue. Its storage is chosen by `configure` from the app's settings, before any job
# is enqueued; until then (imports, type checks) it is an in-memory placeholder.
huey = Huey(QUEUE_NAME, storage_class=MemoryStorage, results=False, utc=True)

_bound_app: Flask | None = None
_giving_up: dict[str, Callable[..., None]] = {}


class QueueFile(SqliteStorage):
    """The SQLite store with `synchronous=NORMAL`, as the app's own SQLite database has it: in
    WAL mode a commit no longer waits for the disk (huey's default waits, about 10 ms on a busy
    disk, in every request that queues an e-mail). A power cut may lose the last jobs queued,
    never corrupt the file; an e-mail's job lost so is queued again from its outbox row after
    an hour (outbox.requeue_lost), an invoice run's from its heartbeat (runs.recover_stalled),
    and a schedule's tick comes round again."""

    def _create_connection(self) -> sqlite3.Connection:
        conn = super()._create_connection()
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn


class QueueUnavailable(RuntimeError):
    """The queue's store cannot be reached; the message says which and what to do."""


def configure(config: Mapping[str, Any]) -> None:
    """Point the queue at its store: Redis when REDIS_URL is set, else the SQLite file."""
    redis_url = config.get("REDIS_URL") or ""
    immediate = bool(config.get("QUEUE_IMMEDIATE"))
    huey.immediate_use_memory = True
    huey._immediate = immediate
    if immediate:
        huey.storage = MemoryStorage(QUEUE_NAME)
    elif redis_url:
        huey.storage = RedisStorage(QUEUE_NAME, url=redis_url)
    else:
        path = Path(config["QUEUE_FILE"])
        path.parent.mkdir(parents=True, exist_ok=True)
        huey.storage = QueueFile(QUEUE_NAME, filename=str(path), timeout=10)


def bind_app(app: Flask) -> None:
    """The app a worker process runs its jobs in (the web process uses the current app)."""
    global _bound_app
    _bound_app = app


def _app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
    if _bound_app is None:
        raise RuntimeError("No app for this job: the worker must call jobs.bind_app(app).")
    return _bound_app


class Job:
    """A function that runs on the queue. Calling it enqueues it; `.run_now` runs it here."""

    def __init__(self, wrapper: TaskWrapper, fn: Callable[..., Any]) -> None:
        self._wrapper = wrapper
        self.fn = fn
        self.name = wrapper.name

    def __call__(self, *args: Any) -> None:
        self._wrapper(*args, **{ENQUEUED_AT: time.time()})

    def schedule(self, *args: Any, delay: float) -> None:
        self._wrapper.schedule(args=args, kwargs={ENQUEUED_AT: time.time()}, delay=delay)

    def run_now(self, *args: Any) -> Any:
        return self.fn(*args)


def job(
    *,
    retries: int = 0,
    retry_delay: int = 0,
    retry_backoff: float = 2.0,
    name: str | None = None,
    on_giving_up: Callable[..., None] | None = None,
) -> Callable[[Callable[..., Any]], Job]:
    """Declare a job. `retry_delay` seconds before the first retry, × `retry_backoff` each time."""

    def decorator(fn: Callable[..., Any]) -> Job:
        task_name = name or f"{fn.__module__}.{fn.__qualname__}"

        def unit_of_work(*args: Any, **kwargs: Any) -> Any:
            kwargs.pop(ENQUEUED_AT, None)
            with _app().app_context():
                try:
                    result = fn(*args, **kwargs)
                    db.session.commit()
                except BaseException:
                    db.session.rollback()
                    raise
                return result

        unit_of_work.__name__ = fn.__name__
        wrapper = huey.task(
            retries=retries,
            retry_delay=retry_delay,
            retry_backoff=retry_backoff,
            name=task_name,
        )(unit_of_work)
        if on_giving_up is not None:
            _giving_up[task_name] = on_giving_up
        return Job(wrapper, fn)

    return decorator


def periodic(validate: Callable[[Any], bool], *, name: str) -> Callable[[Callable[[], Any]], Any]:
    """Declare a job the worker's scheduler runs by itself (`validate` is a huey crontab), as
    one unit of work in an app context. Every worker's scheduler fires it: the work must be
    safe to run twice at once (claim what you do, as schedules and invoice runs do)."""

    def decorator(fn: Callable[[], Any]) -> Any:
        def unit_of_work() -> None:
            with _app().app_context():
                try:
                    fn()
                    db.session.commit()
                except BaseException:
                    db.session.rollback()
                    raise

        unit_of_work.__name__ = fn.__name__
        return huey.periodic_task(validate, name=name)(unit_of_work)

    return decorator


@huey.signal(SIGNAL_ERROR)
def _after_error(signal: str, task: Task, exc: BaseException | None = None) -> None:
    """After a job's last try, let it record that it gave up (and always log it)."""
    if task.retries:
        log.warning("Job %s failed (%s); %d tries left", task.name, exc, task.retries)
        return
    log.error("Job %s gave up after its last try: %s", task.name, exc)
    handler = _giving_up.get(task.name)
    if handler is None:
        return
    try:
        with _app().app_context():
            handler(*task.args)
            db.session.commit()
    except Exception:
        log.exception("Recording that job %s gave up failed", task.name)


def report_progress(key: str, done: int) -> None:
    """A running job says how far it has got (kept in the queue's store, so any web worker,
    on any host, can show it without the job writing to the database as it goes)."""
    huey.put(f"progress:{key}", done)


def progress(key: str) -> int:
    """What the job last reported for `key` (0 before it reports)."""
    try:
        value = huey.get(f"progress:{key}", peek=True)
    except Exception:
        return 0
    return value if isinstance(value, int) else 0


def share(key: str, value: Any) -> None:
    """Keep `value` (anything picklable, never None) in the queue's store under `key`, where
    any worker on any host can take it."""
    huey.put(key, value)


def take(key: str) -> Any:
    """Take what is under `key` and remove it, in one step: of workers asking at once, exactly
    one gets it (an exclusive transaction on the SQLite store, MULTI on Redis). None if empty."""
    return huey.get(key)


def has(key: str) -> bool:
    """Whether anything is under `key` (without reading it)."""
    return bool(huey.storage.has_data_for_key(key))


def peek(key: str) -> Any:
    """What is under `key`, left in place (None if empty)."""
    return huey.get(key, peek=True)


@dataclass(frozen=True)
class QueueHealth:
    reachable: bool
    waiting: int
    oldest_waiting_seconds: float | None
    reason: str = ""


def health(now: float | None = None) -> QueueHealth:
    """Whether the queue's store answers, how many jobs wait, and how long the oldest has."""
    now = time.time() if now is None else now
    try:
        waiting = huey.pending_count()
        oldest = huey.pending(limit=1)
    except Exception as error:  # any store: redis, sqlite3 and OS errors differ
        return QueueHealth(False, 0, None, f"queue store unreachable: {error.__class__.__name__}")
    age = None
    if oldest:
        enqueued_at = oldest[0].kwargs.get(ENQUEUED_AT)
        if isinstance(enqueued_at, int | float):
            age = max(0.0, now - enqueued_at)
    return QueueHealth(True, waiting, age)


def check_reachable() -> None:
    """Raise QueueUnavailable with a clear message when the store does not answer (start-up)."""
    try:
        huey.pending_count()
    except Exception as error:
        where = "Redis at REDIS_URL" if isinstance(huey.storage, RedisStorage) else "QUEUE_FILE"
        raise QueueUnavailable(
            f"The job queue's store ({where}) cannot be reached: {error}. "
            "Start it (for Redis: systemctl start redis-server) or correct the setting."
        ) from error


def run_pending(limit: int = 1000, *, retries_due_by: datetime | None = None) -> int:
    """Run waiting jobs in this process, oldest first (tests and `flask jobs run-pending`);
    with `retries_due_by`, also the retries that fall due up to that moment, each run as if
    at its due time (so its own next retry is scheduled from then)."""
    ran = 0
    while ran < limit:
        if retries_due_by is not None:
            due = retries_due_by.astimezone(UTC).replace(tzinfo=None)
            scheduled = huey.read_schedule(due)
            if scheduled:
                for task in sorted(scheduled, key=lambda t: t.eta or due):
                    huey.execute(task, timestamp=task.eta or due)
                    ran += 1
                continue
        try:
            task = huey.dequeue()
        except HueyException:
            break
        if task is None:
            break
        huey.execute(task)
        ran += 1
    return ran


def discard_pending() -> int:
    """Drop every waiting job (tests only)."""
    count = huey.pending_count()
    huey.flush()
    return count


__all__ = [
    "EmptyData",
    "Job",
    "QueueFile",
    "QueueHealth",
    "QueueUnavailable",
    "bind_app",
    "check_reachable",
    "configure",
    "crontab",
    "discard_pending",
    "has",
    "health",
    "huey",
    "job",
    "peek",
    "progress",
    "report_progress",
    "run_pending",
    "share",
    "take",
]
