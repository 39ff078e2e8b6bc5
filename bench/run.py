"""Benchmarks: the app under gunicorn, a page measured against a bare endpoint side by side.

Machines here are shared and noisy, so absolute numbers mean little: each case is measured
against a baseline (`/healthz`, which only asks the database for `SELECT 1`) in the same run,
with the same server and settings, interleaving rounds so both see the same noise. Printed: requests
per second, p50/p95 latency, their ratio to the baseline, and response sizes.

    .venv/bin/python bench/run.py [--seconds 5] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Result:
    name: str
    latencies: list[float]
    seconds: float
    size: int

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], int, dict[str, str]]:
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "SECRET_KEY": "bench-secret-" + "x" * 32,
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    flask = [str(ROOT / ".venv/bin/flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            "2",
            "--threads",
            "2",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return server, port, env
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def sign_in(port: int, email: str) -> str:
    """Sign in through the real form; returns the Cookie header for later requests."""
    conn = http.client.HTTPConnection(HOST, port)
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
    assert response.status == 302, f"sign-in failed: {response.status}"
    return response.getheader("Set-Cookie", "").split(";")[0]


def hammer(
    name: str, port: int, path: str, headers: dict[str, str], seconds: float, concurrency: int
) -> Result:
    latencies: list[float] = []
    sizes: list[int] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        mine: list[float] = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            data = response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
            if not sizes:
                sizes.append(len(data))
        with lock:
            latencies.extend(mine)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(name, latencies, time.monotonic() - began, sizes[0] if sizes else 0)


def merge(results: list[Result]) -> Result:
    return Result(
        results[0].name,
        [x for r in results for x in r.latencies],
        sum(r.seconds for r in results),
        results[0].size,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per round per case")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server, port, _env = start_server(Path(tmp))
        try:
            cookie = sign_in(port, "sbm@example.org")
            cases = {
                "baseline /healthz": ("/healthz", {}),
                "school home /school": ("/school", {"Cookie": cookie}),
                "catalogue /catalogue": ("/catalogue", {"Cookie": cookie}),
            }
            hammer("warm-up", port, "/healthz", {}, 1.0, args.concurrency)
            runs: dict[str, list[Result]] = {name: [] for name in cases}
            for _ in range(args.rounds):
                for name, (path, headers) in cases.items():
                    runs[name].append(
                        hammer(name, port, path, headers, args.seconds, args.concurrency)
                    )
        finally:
            server.terminate()
            server.wait(timeout=10)

    results = {name: merge(r) for name, r in runs.items()}
    base = results["baseline /healthz"]
    print(
        f"gunicorn 2 workers x 2 threads, {args.concurrency} clients, {args.rounds} x {args.seconds:g}s interleaved"
    )
    print(f"{'case':<24}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'rps ratio':>11}{'bytes':>9}")
    for result in results.values():
        ratio = result.rps / base.rps if base.rps else 0.0
        print(
            f"{result.name:<24}{result.rps:>9.0f}{result.pct(0.5):>9.1f}{result.pct(0.95):>9.1f}"
            f"{ratio:>10.2f}x{result.size:>9}"
        )
    rounds = [r.rps for r in runs["baseline /healthz"]]
    spread = statistics.pstdev(rounds) / statistics.mean(rounds)
    print(f"baseline spread between rounds: {spread:.0%} (noise on this machine)")


if __name__ == "__main__":
    sys.exit(main())
