"""`flask backup` and `flask restore-backup`: consistent copies while the app writes, and back."""

from __future__ import annotations

import contextvars
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, text

from traded_app.extensions import db
from traded_app.models import AuditEvent
from traded_app.models.base import utcnow
from traded_app.services.council.backup import BackupError, backup_sqlite


def _is_sqlite(app: Flask) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


def _pairs(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(
            connection.execute(
                "SELECT count(*) FROM audit_event WHERE source = 'writer'"
            ).fetchone()[0]
        )


def _write_pairs(app: Flask, stop: threading.Event, written: list[int]) -> None:
    """The app writing meanwhile: two rows per transaction, so a consistent copy has an even
    number of them."""

    def run() -> None:
        with app.app_context():
            while not stop.is_set():
                row = {
                    "at": utcnow(),
                    "actor_id": None,
                    "actor_label": "System",
                    "entity": "test",
                    "entity_id": "1",
                    "entity_label": "",
                    "action": "created",
                    "changes": "{}",
                    "source": "writer",
                }
                with db.engine.begin() as connection:
                    connection.execute(insert(AuditEvent.__table__), [row, dict(row)])  # type: ignore[arg-type]
                written[0] += 2

    contextvars.Context().run(run)


def test_backup_and_restore_round_trip_while_the_app_writes(
    app: Flask, world: Any, tmp_path: Path
) -> None:
    if not _is_sqlite(app):
        pytest.skip("SQLite backups; PostgreSQL uses pg_dump (README)")
    runner = app.test_cli_runner()
    stop = threading.Event()
    written = [0]
    writer = threading.Thread(target=_write_pairs, args=(app, stop, written))
    writer.start()
    backups = []
    head = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    db.session.remove()
    try:
        while written[0] < 20:
            threading.Event().wait(0.01)
        for n in range(3):
            path = tmp_path / f"backup-{n}.db"
            result = runner.invoke(args=["backup", "--output", str(path)])
            assert result.exit_code == 0, result.output
            assert "Backed up" in result.output and f"schema {head}" in result.output
            backups.append(path)
    finally:
        stop.set()
        writer.join()
    counts = [_pairs(p) for p in backups]
    assert all(count % 2 == 0 and count > 0 for count in counts), counts
    for path in backups:
        with sqlite3.connect(path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert written[0] > counts[0]

    # Restore the first backup: the rows written since are gone, the app reads the copy.
    result = app.test_cli_runner().invoke(args=["restore-backup", "--yes", str(backups[0])])
    assert result.exit_code == 0, result.output
    db.session.remove()
    live = db.session.execute(
        text("SELECT count(*) FROM audit_event WHERE source = 'writer'")
    ).scalar_one()
    assert live == counts[0]
    assert db.session.execute(text("SELECT count(*) FROM school")).scalar_one() == 3


def test_backup_refuses_to_overwrite_and_explains_postgres(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    if not _is_sqlite(app):
        result = runner.invoke(args=["backup"])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    existing = tmp_path / "exists.db"
    existing.write_bytes(b"x")
    result = runner.invoke(args=["backup", "--output", str(existing)])
    assert result.exit_code != 0 and "already exists" in result.output
    with pytest.raises(BackupError, match="no database"):
        backup_sqlite(tmp_path / "missing.db", tmp_path / "out.db")
    not_a_backup = tmp_path / "empty.db"
    sqlite3.connect(not_a_backup).close()
    result = runner.invoke(args=["restore-backup", "--yes", str(not_a_backup)])
    assert result.exit_code != 0 and "not a backup of this app's database" in result.output
