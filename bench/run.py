"""Benchmarks: the app under gunicorn, a page measured against a bare endpoint side by side.

Machines here are shared and noisy, so absolute numbers mean little: each case is measured
against a baseline (`/healthz`, which only asks the database for `SELECT 1`) in the same run,
with the same server and settings, interleaving rounds so both see the same noise. Printed: requests
per second, p50/p95 latency, their ratio to the baseline, and response sizes.

    .venv/bin/python bench/run.py [--seconds 3] [--rounds 3] [--concurrency 4]

The helpers here (a scratch server, signing in, `Case`, `measure`, `report`) are shared with
bench/ordering.py.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import itertools
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
WORKERS, THREADS = 2, 1  # as Procfile.production: one thread per worker (README)
BASELINE = "baseline /healthz"
REQUEST_TIMEOUT = 10.0  # seconds; a stuck request fails the benchmark instead of hanging it
SETUP_TIMEOUT = (
    600.0  # seconds for migrating and seeding (seeding PostgreSQL took over 120 at load 13)
)


def this_academic_year() -> int:
    """The academic year (its starting calendar year) holding today. The demo publishes next
    year's offer with its buy-back window open, so the catalogue asks which year is ordered:
    the benchmarks say it in the URL (`/catalogue?year=2026`)."""
    today = datetime.datetime.now(ZoneInfo("Europe/London")).date()
    return today.year if today.month >= 9 else today.year - 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Result:
    name: str
    latencies: list[float]
    seconds: float
    size: int  # the largest good response body seen, in bytes
    failed: int = 0  # answers with the wrong status or content (counted in the latencies)
    examples: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@dataclass
class Case:
    """One kind of request to hammer. `bodies` are sent in turn, one per request across all
    clients, so consecutive requests differ; every answer must have `status` and contain `expect`."""

    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    bodies: Sequence[str] = ()
    status: int = 200
    expect: bytes = b""
    concurrency: int | None = None  # clients for this case; None: the run's
    # Each client's own (path, headers), client i taking clients[i % len]: several people each
    # at their own school. Empty: every client sends `path` with `headers`.
    clients: Sequence[tuple[str, dict[str, str]]] = ()


def start_server(
    tmp: Path, database: dict[str, str] | None = None, workers: int = WORKERS
) -> tuple[subprocess.Popen[bytes], int, dict[str, str]]:
    """Migrate and seed the database, then start gunicorn on it: a scratch SQLite file in `tmp`
    unless `database` gives DATABASE_URL (and DATABASE_OWNER_URL) of an empty one."""
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        # A queue of its own: jobs the seed enqueues (and no worker runs here) must not build up
        # in the checkout's instance/queue.db, where /healthz would report them as stuck.
        "QUEUE_FILE": str(tmp / "queue.db"),
        "SECRET_KEY": "bench-secret-" + "x" * 32,
        "RATELIMIT_STORAGE_URI": "memory://",
        **(database or {}),
    }
    flask = [str(ROOT / ".venv/bin/flask"), "--app", "wsgi"]
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(
            [*flask, *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=SETUP_TIMEOUT,
        )
    port = free_port()
    log = (tmp / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(THREADS),
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # Ready when /healthz answers: gunicorn listens before its workers have loaded the app,
    # which takes many seconds on a busy machine.
    deadline = time.monotonic() + SETUP_TIMEOUT
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if fetch(port, "/healthz")[0] == 200:
                log.close()  # the server has its own copy
                return server, port, env
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
    log.close()
    server.kill()
    server.wait(timeout=10)
    raise SystemExit("gunicorn did not start")


@dataclass
class Server:
    port: int
    log: Path
    pid: int = 0  # gunicorn's master process

    def cpu_seconds(self) -> float:
        """CPU time (user and system) the master's workers have used so far; 0 where /proc
        cannot tell (not Linux)."""
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone since the listing, or not ours to read
            if int(fields[1]) == self.pid:  # its parent
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK") if ticks else 0.0

    def errors(self) -> list[str]:
        """The distinct exceptions the server logged, e.g. behind a 500."""
        text = self.log.read_text(errors="replace")
        found = re.findall(r"^((?:[\w.]+\.)?\w*(?:Error|Exception)\b.*)$", text, flags=re.M)
        return sorted({line[:300] for line in found})


@contextmanager
def serving(database: dict[str, str] | None = None, workers: int = WORKERS) -> Iterator[Server]:
    """gunicorn on loopback over a freshly seeded scratch SQLite database (or the empty one
    `database` names, see `start_server`), logging to a file in a scratch directory; stops the
    server (and removes the directory) however the block ends."""
    with tempfile.TemporaryDirectory() as tmp:
        server, port, _env = start_server(Path(tmp), database, workers)
        try:
            yield Server(port, Path(tmp) / "gunicorn.log", server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


def fetch(
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: str | None = None,
) -> tuple[int, bytes, str]:
    """One request on its own connection: the status, the body and the cookie it set, if any."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body, headers or {})
        response = conn.getresponse()
        cookie = response.getheader("Set-Cookie", "").split(";")[0]
        return response.status, response.read(), cookie
    finally:
        conn.close()


def sign_in(port: int, email: str) -> str:
    """Sign in through the real form; returns the Cookie header for later requests.

    Sign-in is rate limited per account, so a benchmark signs in once and reuses the cookie."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    conn.request("GET", "/sign-in")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page)
    token = re.search(r'value="([^"]+)"', tag.group(0)) if tag else None
    assert token is not None, "no CSRF token on the sign-in page"
    value = token.group(1)
    body = urlencode({"csrf_token": value, "email": email, "password": "demo-password"})
    conn.request(
        "POST",
        "/sign-in",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 302, f"sign-in failed: {response.status}"
    return response.getheader("Set-Cookie", "").split(";")[0]


def hammer(case: Case, port: int, seconds: float, concurrency: int) -> Result:
    """`concurrency` clients, each on one kept-alive connection, for `seconds`. An answer with
    the wrong status or content is counted as failed (and the first kept to show); a broken
    connection stops the benchmark."""
    latencies: list[float] = []
    sizes: list[int] = [0]
    failed: list[str] = []
    broken: list[str] = []
    lock = threading.Lock()
    turn = itertools.count()
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        path, headers = (
            case.clients[index % len(case.clients)] if case.clients else (case.path, case.headers)
        )
        conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        mine: list[float] = []
        largest = 0
        try:
            while time.monotonic() < stop and not broken:
                body = None
                if case.bodies:
                    with lock:
                        body = case.bodies[next(turn) % len(case.bodies)]
                started = time.perf_counter()
                conn.request(case.method, path, body, headers)
                response = conn.getresponse()
                data = response.read()
                mine.append(time.perf_counter() - started)
                if response.status != case.status or case.expect not in data:
                    with lock:
                        failed.append(f"{case.method} {path} {body or ''} -> {response.status}")
                    if response.will_close:
                        conn.close()
                else:
                    largest = max(largest, len(data))
        except (OSError, http.client.HTTPException) as error:
            broken.append(f"{case.method} {path}: {error!r}")
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)
                sizes.append(largest)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    if broken:  # a thread cannot stop the program, so the failure is raised here
        raise SystemExit(f"{case.name}: {broken[0]}")
    return Result(case.name, latencies, elapsed, max(sizes), len(failed), failed[:1])


def merge(results: list[Result]) -> Result:
    return Result(
        results[0].name,
        [x for r in results for x in r.latencies],
        sum(r.seconds for r in results),
        max(r.size for r in results),
        sum(r.failed for r in results),
        [x for r in results for x in r.examples][:1],
    )


def measure(
    port: int, cases: Sequence[Case], rounds: int, seconds: float, concurrency: int
) -> tuple[dict[str, Result], dict[str, list[Result]]]:
    """Warm up, then run every case in turn, `rounds` times, so all see the same noise.
    Returns the merged results and each round's."""
    hammer(Case("warm-up", "/healthz"), port, 1.0, concurrency)
    runs: dict[str, list[Result]] = {case.name: [] for case in cases}
    for _ in range(rounds):
        for case in cases:
            clients = case.concurrency or concurrency
            runs[case.name].append(hammer(case, port, seconds, clients))
    return {name: merge(r) for name, r in runs.items()}, runs


def report(
    results: dict[str, Result],
    runs: dict[str, list[Result]],
    rounds: int,
    seconds: float,
    concurrency: int,
    server_errors: Sequence[str] = (),
    baseline: str = BASELINE,
    workers: int = WORKERS,
) -> None:
    """The table: throughput and latency, and each case's ratio to the baseline's."""
    base = results[baseline]
    print(
        f"gunicorn {workers} workers x {THREADS} threads, {concurrency} clients, "
        f"{rounds} x {seconds:g}s interleaved"
    )
    print(
        f"{'case':<28}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'rps ratio':>11}{'p50 ratio':>11}{'p95 ratio':>11}{'bytes':>8}{'failed':>8}"
    )
    for result in results.values():
        rps = result.rps / base.rps if base.rps else 0.0
        p50 = result.pct(0.5) / base.pct(0.5) if base.latencies else 0.0
        p95 = result.pct(0.95) / base.pct(0.95) if base.latencies else 0.0
        print(
            f"{result.name:<28}{result.rps:>8.0f}{result.pct(0.5):>8.1f}{result.pct(0.95):>8.1f}"
            f"{rps:>10.2f}x{p50:>10.2f}x{p95:>10.2f}x{result.size:>8}{result.failed:>8}"
        )
    per_round = [r.rps for r in runs[baseline]]
    spread = statistics.pstdev(per_round) / statistics.mean(per_round) if per_round else 0.0
    print(f"baseline spread between rounds: {spread:.0%} (noise on this machine)")
    for result in results.values():
        if result.failed:
            print(
                f"FAILED: {result.failed} of {len(result.latencies)} {result.name} answers were "
                f"wrong, e.g. {result.examples[0]}"
            )
    for line in server_errors:
        print(f"server logged: {line}")


def failures(results: dict[str, Result]) -> int:
    """The exit status: 1 when any answer was wrong, so `make bench` notices."""
    return 1 if any(r.failed for r in results.values()) else 0


def arguments(description: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per round per case")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    return parser.parse_args()


def main() -> int:
    args = arguments(__doc__)
    with serving() as server:
        port = server.port
        cookie = sign_in(port, "sbm@example.org")
        cases = [
            Case(BASELINE, "/healthz"),
            Case("school home /school", "/school", {"Cookie": cookie}),
            Case(
                "catalogue /catalogue",
                f"/catalogue?year={this_academic_year()}",
                {"Cookie": cookie},
            ),
        ]
        results, runs = measure(port, cases, args.rounds, args.seconds, args.concurrency)
        errors = server.errors()
    report(results, runs, args.rounds, args.seconds, args.concurrency, errors)
    return failures(results)


if __name__ == "__main__":
    sys.exit(main())
