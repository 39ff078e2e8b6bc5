"""An invoice run of 1,000 documents done by real queue workers: two workers against one.

Issue 13's goal: with 2 workers the run takes at most 0.6x the time it takes with 1. Each pass
is a fresh copy of one scratch database (an SQLite file: the demo data and 1,000 confirmed
orders waiting for a run), a fresh queue store (an SQLite file, or Redis at --redis, whose
database is emptied first) and N worker processes started as Procfile starts them
(`huey_consumer traded_app.worker.huey --workers 1`, one process each). Once every worker is
up, this process records the run and puts it on the queue as the web does; the time is the run's
own, from its start to its finish as the database records them (the workers' start-up is not
in it; the e-mails, sent after the run, are not either).

Machines here are shared and noisy (2 cores, several other jobs), so passes alternate between
one worker and two (1, 2, 2, 1, ...) and the medians are compared. The load average at each
pass is printed beside it: two workers cannot be faster than one when the cores are already
busy with other work.

    .venv/bin/python bench/queue_runs.py [--documents 1000] [--rounds 1] [--stores sqlite,redis]
        [--redis redis://127.0.0.1:6379/6]

BENCH_KEEP=DIR copies each pass's worker logs there (which worker ran which job, and how long).

Printed as met or NOT MET: a figure, not a test (exit status 0 unless the benchmark failed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from redis import Redis  # noqa: E402

from bench.invoice_run_timing import _bench_orders  # noqa: E402
from traded_app import create_app  # noqa: E402
from traded_app.demo import load_demo  # noqa: E402
from traded_app.extensions import db  # noqa: E402
from traded_app.services.documents import runs  # noqa: E402
from traded_app.services.platform.after_commit import suppressed  # noqa: E402
from traded_app.services.platform.settings import council_settings  # noqa: E402

GOAL = 0.6  # two workers' time over one worker's, at most
SECRET = "bench-secret-key-long-enough-for-any-check"  # noqa: S105 (a scratch app)
WORKER_START_TIMEOUT = 180.0  # seconds for a worker to import the app on a loaded machine
RUN_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Pass:
    store: str
    workers: int
    seconds: float
    issued: int
    load_before: float
    load_after: float
    busiest_cpu: float  # CPU seconds of the busiest worker during the run


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settings(tmp: Path, database: Path, store: str, redis_url: str) -> dict[str, str]:
    queue = {"REDIS_URL": redis_url} if store == "redis" else {"QUEUE_FILE": str(tmp / "q.db")}
    return {
        "APP_ENV": "development",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"sqlite:///{database}",
        "INVOICE_DIR": str(tmp / "invoices"),
        "MAIL_OUTBOX_DIR": str(tmp / "outbox"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "QUEUE_IMMEDIATE": "0",
        **queue,
    }


def build_template(tmp: Path, documents: int) -> Path:
    """The demo data with `documents` confirmed orders waiting for an invoice run."""
    database = tmp / "template.db"
    app = create_app(settings(tmp, database, "sqlite", ""))
    with app.app_context():
        upgrade()
        with suppressed(db.session):
            load_demo()
            council = council_settings()
            assert council is not None
            council.invoice_timing = "invoice_run"
            made = 0
            while made < documents:
                more = len(_bench_orders(documents - made))
                if not more:
                    raise SystemExit("the demo data has no school to order for")
                made += more
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return database


def start_workers(count: int, environ: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    command = [str(ROOT / ".venv/bin/huey_consumer"), "traded_app.worker.huey"]
    command += ["--workers", "1", "--worker-type", "thread", "--max-delay", "1"]
    workers = []
    for index in range(count):
        log = logs / f"worker{index}.log"
        with log.open("wb") as out:
            workers.append(subprocess.Popen(command, cwd=ROOT, env=environ, stdout=out, stderr=out))
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    for index, worker in enumerate(workers):
        log = logs / f"worker{index}.log"
        while "consumer started" not in log.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                stop(workers)
                raise SystemExit(f"worker {index} did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
    return workers


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def one_pass(
    tmp: Path, template: Path, store: str, workers: int, redis_url: str, documents: int
) -> Pass:
    here = tmp / f"{store}-{workers}-{time.monotonic_ns()}"
    here.mkdir()
    database = here / "run.db"
    shutil.copyfile(template, database)
    config = settings(here, database, store, redis_url)
    if store == "redis":
        Redis.from_url(redis_url).flushdb()
    processes = start_workers(workers, {**os.environ, **config, "PYTHONPATH": str(ROOT)}, here)
    load_before = os.getloadavg()[0]
    cpu_before = [cpu_seconds(p.pid) for p in processes]
    try:
        app = create_app(config)
        with app.app_context():
            run = runs.start(None, source="web")
            runs.start_after_commit(run)
            db.session.commit()  # the run goes on the queue: a worker takes it
            run_id = run.id
            db.session.remove()
            db.engine.dispose()
        seconds, issued = wait_for(database, run_id)
        busiest = max(cpu_seconds(p.pid) - b for p, b in zip(processes, cpu_before, strict=True))
    finally:
        load_after = os.getloadavg()[0]
        stop(processes)
    if issued != documents:
        raise SystemExit(f"the run issued {issued} documents, not {documents}: see {here}")
    if os.environ.get("BENCH_KEEP"):
        shutil.copytree(
            here,
            Path(os.environ["BENCH_KEEP"]) / here.name,
            ignore=shutil.ignore_patterns("*.db*", "invoices", "outbox"),
        )
        return Pass(store, workers, seconds, issued, load_before, load_after, busiest)
    shutil.rmtree(here, ignore_errors=True)
    return Pass(store, workers, seconds, issued, load_before, load_after, busiest)


def wait_for(database: Path, run_id: int) -> tuple[float, int]:
    """The run's own time (started to finished, as recorded) and what it issued."""
    deadline = time.monotonic() + RUN_TIMEOUT
    with sqlite3.connect(database) as conn:  # reading alone: never holds the write lock
        while time.monotonic() < deadline:
            status, started, finished, issued, error = conn.execute(
                "SELECT status, started_at, finished_at, issued, error FROM invoice_run "
                "WHERE id = ?",
                (run_id,),
            ).fetchone()
            conn.commit()
            if status != "running":
                if status != "finished":
                    raise SystemExit(f"the run ended {status}: {error}")
                took = datetime.fromisoformat(finished) - datetime.fromisoformat(started)
                return took.total_seconds(), int(issued)
            time.sleep(0.2)
    raise SystemExit("the run did not finish in time")


def report(store: str, passes: list[Pass]) -> bool:
    for each in passes:
        print(
            f"  {store:6} {each.workers} worker{'s' if each.workers > 1 else ' '}: "
            f"{each.seconds:7.1f} s for {each.issued} documents, busiest worker "
            f"{each.busiest_cpu:6.1f} s of CPU "
            f"(load average {each.load_before:.1f} -> {each.load_after:.1f})"
        )
    one = statistics.median(p.seconds for p in passes if p.workers == 1)
    two = statistics.median(p.seconds for p in passes if p.workers == 2)
    ratio = two / one
    met = ratio <= GOAL
    print(
        f"{store} store: 2 workers / 1 worker = {ratio:.2f}x "
        f"(goal <= {GOAL}x): {'met' if met else 'NOT MET'}"
    )
    cpu_one = statistics.median(p.busiest_cpu for p in passes if p.workers == 1)
    cpu_two = statistics.median(p.busiest_cpu for p in passes if p.workers == 2)
    print(
        f"{store} store: the busiest worker's CPU time, 2 workers / 1 worker = "
        f"{cpu_two / cpu_one:.2f}x (the time with two cores free for the workers)"
    )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1, help="pairs of passes per store")
    parser.add_argument("--stores", default="sqlite,redis")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", ""))
    args = parser.parse_args()
    stores = [s for s in args.stores.split(",") if s != "redis" or args.redis]
    if "redis" in args.stores and not args.redis:
        print("Redis: skipped (give --redis redis://127.0.0.1:6379/N or BENCH_REDIS_URL)")
    print(
        f"Invoice run of {args.documents} documents, 1 queue worker against 2 "
        f"({os.cpu_count()} cores; load average now {os.getloadavg()[0]:.1f})"
    )
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        template = build_template(tmp, args.documents)
        for index, store in enumerate(stores):
            order = ([1, 2, 2, 1] * args.rounds)[: 2 * args.rounds]
            if index % 2:
                order.reverse()  # 1, 2 on the first store, 2, 1 on the next: the same noise
            passes = [
                one_pass(tmp, template, store, workers, args.redis, args.documents)
                for workers in order
            ]
            report(store, passes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
