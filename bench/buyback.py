"""The buy-back morning: hundreds of business managers ordering at once, finance at work beside them.

When the buy-back window opens, each school's business manager signs in, opens the catalogue,
changes day counts (eight changes, each sent as htmx sends it), continues to check answers and
submits; they arrive ramped over `--ramp` seconds, with a person's think time between steps.
Meanwhile `--finance` finance officers load the register and aged debt in turn, and `/healthz`
is sampled every quarter second on the same server, under the same load: each kind of request's
p50 and p95 are printed as a ratio to the baseline's. See bench/journeys.py for what is sent and
what counts as an error, a conflict or an unexpected error summary.

The server is as in production: gunicorn (`--workers`, `--threads`) and a queue worker (two
threads; it sends the orders' e-mails to files), behind a proxy that reports each person's
address (`TRUSTED_PROXIES=1`, so sign-in limits count per school as they would). The database
is a scratch copy of the demo data topped up to `--documents` documents (bench/datasets.py),
with a business manager at each of `--users` Essex schools and the finance officers added by
bench/accounts.py:

- SQLite (default): a file in a temporary folder; the queue in a file beside it.
- PostgreSQL (`--postgres`, or `BUYBACK_DATABASE_URL` set): the database at `BUYBACK_DATABASE_URL`,
  **emptied** (its `public` schema dropped) and migrated as `BUYBACK_DATABASE_OWNER_URL`'s role
  when set, the app connecting as the first; the queue and sign-in limits in Redis at
  `BUYBACK_REDIS_URL` (emptied) when set.

Issue 12's run is `BUYBACK_FULL=1`: 200 users over 2 minutes on PostgreSQL with `-w 4`, 50 on
SQLite with `-w 2`, one thread per worker as in production (`--threads 2` before 2 December
2026, evening). Without it (as in `make bench`), 20 users at twice a person's
pace over 20 seconds. Goal: no errors (exit status 1 otherwise); conflicts are printed apart.

    .venv/bin/python bench/buyback.py [--postgres] [--users 50] [--ramp 120] [--documents 10000]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import redis
from accounts import Manager, add_accounts
from datasets import top_up
from journeys import Browser, Tally, business_manager, finance_officer, probe, run_person
from run import HOST, SETUP_TIMEOUT, free_port
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from traded_app.config import parse_database_url  # noqa: E402 - after the path is set
from traded_app.models import Order, OrderStatus, User  # noqa: E402

BASELINE = "baseline /healthz"
# Demo accounts that warm the server up (bench/accounts.py's are kept for the morning).
WARM_UP_ACCOUNTS = [f"sbm{n}@example.org" for n in range(3, 12)]
FINANCE = "finance@example.org"
FULL = os.environ.get("BUYBACK_FULL", "") not in ("", "0")
DATABASE_URL = os.environ.get("BUYBACK_DATABASE_URL", "")
OWNER_URL = os.environ.get("BUYBACK_DATABASE_OWNER_URL", "")
REDIS_URL = os.environ.get("BUYBACK_REDIS_URL", "")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", action="store_true", default=bool(DATABASE_URL))
    parser.add_argument("--sqlite", dest="postgres", action="store_false")
    parser.add_argument("--users", type=int, help="business managers (200 PG, 50 SQLite full)")
    parser.add_argument("--ramp", type=float, help="seconds over which they arrive (120 full)")
    parser.add_argument("--think", type=float, help="think time scale, 1.0 a person's (full)")
    parser.add_argument("--finance", type=int, default=5, help="finance officers")
    parser.add_argument("--documents", type=int, default=10_000, help="documents in the data")
    parser.add_argument("--workers", type=int, help="gunicorn workers (4 PG, 2 SQLite)")
    parser.add_argument(
        "--threads", type=int, help="threads per worker (default 1, as Procfile.production)"
    )
    args = parser.parse_args()
    if args.postgres and not DATABASE_URL:
        parser.error("--postgres needs BUYBACK_DATABASE_URL (a scratch database: it is emptied)")
    full_users = 200 if args.postgres else 50
    args.users = args.users or (full_users if FULL else 20)
    args.ramp = args.ramp if args.ramp is not None else (120.0 if FULL else 20.0)
    args.think = args.think if args.think is not None else (1.0 if FULL else 0.5)
    args.workers = args.workers or (4 if args.postgres else 2)
    args.threads = args.threads or 1
    return args


# --- The data and the server ------------------------------------------------------------------


@dataclass
class Scratch:
    tmp: Path
    database_url: str  # the app's
    environ: dict[str, str]


def _flask(environ: dict[str, str], *command: str) -> None:
    done = subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", *command],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        timeout=SETUP_TIMEOUT * 3,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"flask {' '.join(command)} failed:\n{done.stderr.decode()[-3000:]}")


def prepare(tmp: Path, args: argparse.Namespace) -> tuple[Scratch, list[Manager], list[str]]:
    """Migrate, seed the demo, top up the documents and add the accounts."""
    url = DATABASE_URL if args.postgres else f"sqlite:///{tmp / 'bench.db'}"
    environ = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "APP_ENV": "development",
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret-" + "x" * 32,
        "TRUSTED_PROXIES": "1",
        "QUEUE_IMMEDIATE": "0",
        "QUEUE_FILE": str(tmp / "queue.db"),
        "INVOICE_DIR": str(tmp / "invoices"),
        "EXPORT_DIR": str(tmp / "exports"),
        "MAIL_OUTBOX_DIR": str(tmp / "outbox"),
        "MAIL_SERVER": "",
        "REDIS_URL": REDIS_URL if args.postgres else "",
        "RATELIMIT_STORAGE_URI": "" if args.postgres and REDIS_URL else "memory://",
    }
    if args.postgres:
        engine = create_engine(parse_database_url(OWNER_URL or url))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        if REDIS_URL:
            redis.Redis.from_url(REDIS_URL).flushdb()
    _flask({**environ, "DATABASE_OWNER_URL": OWNER_URL} if OWNER_URL else environ, "db", "upgrade")
    _flask(environ, "seed-demo")
    top_up(OWNER_URL or url if args.postgres else tmp / "bench.db", args.documents)
    managers, officers = add_accounts(url, args.users, args.finance)
    return Scratch(tmp, url, environ), managers, officers


@dataclass
class Server:
    base: str
    logs: list[Path]
    pids: list[int]  # gunicorn's master and the queue worker

    def cpu_seconds(self) -> float:
        """CPU time used so far by the app's processes (gunicorn's workers included)."""
        total = 0
        pids = list(self.pids)
        for pid in self.pids:
            children = Path(f"/proc/{pid}/task/{pid}/children")
            if children.exists():
                pids += [int(child) for child in children.read_text().split()]
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a worker that has just gone
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def errors(self) -> list[str]:
        """The distinct exceptions the web and the queue worker logged, and gunicorn's own
        errors (a worker timed out and killed mid-request, say)."""
        found: set[str] = set()
        for log in self.logs:
            body = log.read_text(errors="replace")
            lines = re.findall(r"^((?:[\w.]+\.)?\w*(?:Error|Exception)\b.*)$", body, flags=re.M)
            lines += re.findall(
                r"^\[[^]]*\] \[\d+\] \[(?:CRITICAL|ERROR)\] (.*)$", body, flags=re.M
            )
            found.update(re.sub(r"\(pid:\d+\)", "(pid)", line)[:300] for line in lines)
        return sorted(found)


def _start(scratch: Scratch, name: str, command: list[str]) -> subprocess.Popen[bytes]:
    with (scratch.tmp / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            command, cwd=ROOT, env=scratch.environ, stdout=log, stderr=subprocess.STDOUT
        )


@contextmanager
def serving(scratch: Scratch, args: argparse.Namespace) -> Iterator[Server]:
    """gunicorn and a queue worker over the scratch data, until the block ends."""
    port = free_port()
    bin_ = ROOT / ".venv/bin"
    web = [str(bin_ / "gunicorn"), "--bind", f"{HOST}:{port}", "--workers", str(args.workers)]
    web += ["--threads", str(args.threads), "--no-control-socket", "wsgi:app"]
    worker = [str(bin_ / "huey_consumer"), "traded_app.worker.huey", "--workers", "2"]
    worker += ["--worker-type", "thread"]
    processes = [_start(scratch, "web", web), _start(scratch, "worker", worker)]
    try:
        server = Server(
            f"http://{HOST}:{port}",
            [scratch.tmp / "web.log", scratch.tmp / "worker.log"],
            [p.pid for p in processes],
        )
        _wait_until_answering(server.base)
        yield server
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_until_answering(base: str, seconds: float = 90.0) -> None:
    """gunicorn takes connections before its workers have loaded the app."""
    deadline = time.monotonic() + seconds
    checker = Browser(base, "127.0.0.1", Tally(), 0.0, 0)
    while True:
        try:
            if checker.session.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the server did not answer /healthz")
        time.sleep(0.5)


# --- The morning ------------------------------------------------------------------------------


def _person(tally: Tally, journey: Callable[[], object], business: bool) -> threading.Thread:
    return threading.Thread(target=run_person, args=(tally, journey, business))


def warm_up(base: str, args: argparse.Namespace) -> Tally:
    """Every worker warm, as at eight in the morning (templates compiled, connections open):
    demo business managers through the whole journey at full speed, finance officers beside
    them, two per worker thread; not counted in the morning's figures."""
    tally = Tally()
    over = threading.Event()
    count = min(len(WARM_UP_ACCOUNTS), args.workers * args.threads * 2)
    schools = [
        _person(tally, partial(business_manager, _browser(base, tally, n, 0.0), email, n), True)
        for n, email in enumerate(WARM_UP_ACCOUNTS[:count])
    ]
    finance = [
        _person(
            tally,
            partial(finance_officer, _browser(base, tally, 250 + n, 0.0), FINANCE, over),
            False,
        )
        for n in range(2)
    ]
    for thread in schools + finance:
        thread.start()
    for thread in schools:
        thread.join()
    over.set()
    for thread in finance:
        thread.join()
    return tally


def _browser(base: str, tally: Tally, n: int, think: float) -> Browser:
    """The n-th person's browser, behind an address of their own (their school's network)."""
    return Browser(base, f"10.{n // 250}.{n % 250}.1", tally, think, n)


def morning(
    base: str, args: argparse.Namespace, managers: list[Manager], officers: list[str]
) -> tuple[Tally, float]:
    """Everyone's journeys, the business managers ramped; returns the tally and the seconds."""
    tally = Tally()
    over = threading.Event()
    background = [threading.Thread(target=probe, args=(base, tally, over))]
    for n, email in enumerate(officers):
        browser = _browser(base, tally, 1000 + n, args.think)
        background.append(_person(tally, partial(finance_officer, browser, email, over), False))
    people = [
        _person(
            tally,
            partial(business_manager, _browser(base, tally, 2000 + n, args.think), m.email, m.urn),
            True,
        )
        for n, m in enumerate(managers)
    ]
    began = time.monotonic()
    for thread in background:
        thread.start()
    for n, thread in enumerate(people):
        time.sleep(max(0.0, began + args.ramp * n / len(people) - time.monotonic()))
        thread.start()
    for thread in people:
        thread.join()
    over.set()
    for thread in background:
        thread.join()
    return tally, time.monotonic() - began


def submitted(database_url: str) -> int:
    """Orders the bench's business managers submitted, as the database has them."""
    engine = create_engine(parse_database_url(database_url))
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(Order)
                    .join(User, User.id == Order.created_by_id)
                    .where(User.email.like("bm.%"), Order.status != OrderStatus.DRAFT)
                ).scalar_one()
            )
    finally:
        engine.dispose()


def report(tally: Tally, seconds: float, args: argparse.Namespace, in_database: int) -> None:
    base50, base95 = tally.pct(BASELINE, 0.5), tally.pct(BASELINE, 0.95)
    print(
        f"{args.users} business managers over {args.ramp:g} s (think x{args.think:g}, "
        f"at most {tally.peak_active} at once with the finance officers), {args.finance} finance "
        f"officers; {tally.requests():,} requests in {seconds:.0f} s"
    )
    print(
        f"{'request':<34}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p50 ratio':>11}{'p95 ratio':>11}"
    )
    for name in sorted(tally.latencies, key=lambda n: (n != BASELINE, n)):
        p50, p95 = tally.pct(name, 0.5), tally.pct(name, 0.95)
        print(
            f"{name:<34}{len(tally.latencies[name]):>7}{p50:>9.1f}{p95:>9.1f}"
            f"{p50 / base50 if base50 else 0:>10.2f}x{p95 / base95 if base95 else 0:>10.2f}x"
        )
    print(
        f"orders submitted: {tally.finished} of {args.users} ({in_database} in the database); "
        f"errors: {len(tally.errors)}; conflicts: {len(tally.conflicts)}; "
        f"unexpected error summaries: {len(tally.summaries)}"
    )
    for kind, found in (
        ("error", tally.errors),
        ("conflict", tally.conflicts),
        ("error summary", tally.summaries),
    ):
        for line in sorted(set(found))[:8]:
            print(f"  {kind}: {line} (x{found.count(line)})")


def main() -> int:
    args = arguments()
    where = "PostgreSQL" if args.postgres else "SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        scratch, managers, officers = prepare(Path(tmp), args)
        print(
            f"Buy-back morning on {where}, gunicorn {args.workers} workers x {args.threads} "
            f"threads, {args.documents:,} documents (set up in {time.perf_counter() - began:.0f} s)"
        )
        with serving(scratch, args) as server:
            warm = warm_up(server.base, args)
            if warm.errors or warm.summaries:
                print(f"warming up: {(warm.errors + warm.summaries)[0]}")
            cpu = server.cpu_seconds()
            tally, seconds = morning(server.base, args, managers, officers)
            cpu = server.cpu_seconds() - cpu
            logged = server.errors()
        in_database = submitted(scratch.database_url)
    report(tally, seconds, args, in_database)
    print(
        f"the app's CPU time: {cpu:.0f} s ({1000 * cpu / max(tally.requests(), 1):.0f} ms a "
        f"request, {cpu / args.users:.2f} s a business manager with the rest of the load, "
        f"{cpu / seconds:.2f} of a core on average; the machine has "
        f"{os.cpu_count()}, shared, load average {os.getloadavg()[0]:.1f})"
    )
    for line in logged:
        print(f"server logged: {line}")
    wrong = len(tally.errors) + len(tally.summaries) + len(logged) + (in_database != tally.finished)
    print(f"goal: no errors in the buy-back morning: {'met' if not wrong else 'NOT MET'}")
    return 1 if wrong or tally.finished < args.users else 0


if __name__ == "__main__":
    sys.exit(main())
