"""The queue's absence gives a clear start-up error, not a hang (issue 13, part 7).

A queue worker whose Redis is not there stops at once, non-zero, saying which store it could not
reach and what to do; it never sits waiting for work that cannot arrive. Needs no Redis: the
port it is pointed at is one nothing listens on.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask

from traded_app.services.platform import jobs

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
UNREACHABLE = "QueueUnavailable: The job queue's store (Redis at REDIS_URL) cannot be reached"


def closed_port() -> int:
    """A port nothing listens on (taken from the system, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_worker_without_its_queue_stops_at_once_and_says_why(tmp_path: Path) -> None:
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),  # this checkout's traded_app
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "INVOICE_DIR": str(tmp_path / "invoices"),
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
    }
    # Most of its time is importing the app; a worker that hung would meet the timeout.
    finished = subprocess.run(
        [str(BIN / "huey_consumer"), "traded_app.worker.huey", "--workers", "1"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        timeout=120,
    )
    said = finished.stderr.decode(errors="replace")
    assert finished.returncode != 0
    assert UNREACHABLE in said
    assert "Start it (for Redis: systemctl start redis-server) or correct the setting." in said


def test_checking_a_closed_queue_answers_within_seconds(app: Flask) -> None:
    jobs.configure({"REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"})
    try:
        started = time.monotonic()
        with pytest.raises(jobs.QueueUnavailable, match="cannot be reached"):
            jobs.check_reachable()
        assert time.monotonic() - started < 5
    finally:
        jobs.configure(app.config)
