"""Schedules: work the service does by itself, once a period, recorded with its outcome.

Each schedule is registered by the package that owns the work (payment reminders in finance, the
nightly backup in council, the PDF check in documents) with `@schedule(name, ...)`: a function
that says whether the schedule is due now (from the council's settings) and which period "now"
belongs to (`daily_at` for the usual "once a day, from a time of day"), a line saying when it
runs for the schedules page, and the function that does the work, given its run (its period, and
the moment it started, which stands for "now" in the work). The queue's worker fires `tick` every
few minutes; a due schedule claims its period by inserting a `ScheduledRun` row (unique per
schedule and period) and committing, so however many workers tick at once, one runs it. The
run's outcome (ok or failed, with a line of detail) is kept for the schedules page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models.base import utcnow
from traded_app.models.jobs import ScheduledRun
from traded_app.services.platform import jobs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    name: str
    title: str
    # The period a moment belongs to ("2026-11-30"), or None when the schedule is not due then
    # (switched off, or before its time of day).
    period_at: Callable[[datetime], str | None]
    # Does the work of its run (started at run.started_at, for run.period); returns a line for
    # the record ("12 reminders sent").
    work: Callable[[ScheduledRun], str]
    # When it runs, for people ("Every day at 09:00"), from the settings as they are now.
    describe: Callable[[], str] | None = None

    @property
    def timing(self) -> str:
        return self.describe() if self.describe is not None else ""


SCHEDULES: dict[str, Schedule] = {}

Work = Callable[[ScheduledRun], str]


def schedule(
    name: str,
    title: str,
    period_at: Callable[[datetime], str | None],
    describe: Callable[[], str] | None = None,
) -> Callable[[Work], Work]:
    def decorator(fn: Work) -> Work:
        SCHEDULES[name] = Schedule(name, title, period_at, fn, describe)
        return fn

    return decorator


def daily_at(now: datetime, at: time) -> str | None:
    """The day (in Europe/London) that `now` falls on, once its local time has reached `at`:
    the period of a schedule that runs once a day from a time of day."""
    local = now.astimezone(LONDON)
    if local.time() < at:
        return None
    return local.date().isoformat()


def run_if_due(item: Schedule, now: datetime | None = None) -> ScheduledRun | None:
    """Claim and run this schedule's current period, unless it is not due or already claimed."""
    now = now or utcnow()
    period = item.period_at(now)
    if period is None:
        return None
    run = ScheduledRun(schedule=item.name, period=period, started_at=now)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None  # another worker claimed this period
    try:
        detail = item.work(run)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        log.exception("Schedule %s failed for %s", item.name, period)
        run = db.session.get(ScheduledRun, run.id)  # type: ignore[assignment]
        assert run is not None
        run.outcome, run.detail = "failed", f"{error.__class__.__name__}: {error}"[:2000]
    else:
        run.outcome, run.detail = "ok", detail
    run.finished_at = utcnow()
    db.session.commit()
    return run


def run_due(now: datetime | None = None) -> list[ScheduledRun]:
    """Run every schedule that is due now (what the worker's tick does)."""
    runs = []
    for item in SCHEDULES.values():
        run = run_if_due(item, now)
        if run is not None:
            runs.append(run)
    return runs


def latest_run(name: str, outcome: str | None = None) -> ScheduledRun | None:
    """The schedule's latest run (with that outcome, when given)."""
    stmt = select(ScheduledRun).where(ScheduledRun.schedule == name)
    if outcome is not None:
        stmt = stmt.where(ScheduledRun.outcome == outcome)
    return db.session.scalars(
        stmt.order_by(ScheduledRun.started_at.desc(), ScheduledRun.id.desc()).limit(1)
    ).first()


def recent_runs(limit: int = 50) -> list[ScheduledRun]:
    return list(
        db.session.scalars(
            select(ScheduledRun).order_by(ScheduledRun.started_at.desc()).limit(limit)
        )
    )


@jobs.periodic(jobs.crontab(minute="*/5"), name="schedules.tick")
def tick() -> None:
    """Every five minutes, in whichever worker's scheduler fires it."""
    run_due()
