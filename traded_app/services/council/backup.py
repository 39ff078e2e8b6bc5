"""Backups of an SQLite database, consistent while the app runs, and their restore.

SQLite's online backup API copies the database page by page under a read transaction, so the
copy is the database as it was at one moment, whatever the app writes meanwhile (WAL lets the
app keep writing). The copy is written beside its destination, checked (`PRAGMA
integrity_check`) and then renamed into place, so a backup file is complete or absent.

PostgreSQL is backed up with pg_dump (README), not here.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from traded_app.models.base import utcnow
from traded_app.services.platform.errors import DomainError


class BackupError(DomainError):
    pass


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    alembic_revision: str | None


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            "This database is PostgreSQL: back it up with pg_dump "
            '(pg_dump --format=custom --file=traded.dump "$DATABASE_URL"), as the README says.'
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory database cannot be backed up")
    return Path(url.database)


def default_destination(instance_dir: Path) -> Path:
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return instance_dir / "backups" / f"traded-{stamp}.db"


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def _check(connection: sqlite3.Connection, what: str) -> None:
    result = connection.execute("PRAGMA integrity_check").fetchone()
    if not result or result[0] != "ok":
        raise BackupError(f"{what} failed SQLite's integrity check: {result[0] if result else '?'}")


def backup_sqlite(source: Path, destination: Path) -> BackupResult:
    """Copy the live database at `source` to `destination` (which must not exist)."""
    if not source.exists():
        raise BackupError(f"There is no database at {source}")
    if destination.exists():
        raise BackupError(f"{destination} already exists: choose another file")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        src.execute("PRAGMA busy_timeout = 30000")
        dst = sqlite3.connect(partial)
        try:
            # pages=-1: the whole database in one step, under one read transaction: a snapshot.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
            _check(dst, "The backup")
            revision = _revision(dst)
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, destination)
    return BackupResult(destination, destination.stat().st_size, revision)


def restore_sqlite(backup: Path, target: Path) -> BackupResult:
    """Replace the database at `target` with the backup's contents.

    Uses the backup API in the other direction, so connections open on `target` see the
    restored database as one change (the copy takes the write lock; it waits for a writer to
    finish). Run `flask db upgrade` afterwards if the backup is from an older release."""
    if not backup.exists():
        raise BackupError(f"There is no backup at {backup}")
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        _check(src, "The backup file")
        revision = _revision(src)
        if revision is None:
            raise BackupError(f"{backup} is not a backup of this app's database")
        dst = sqlite3.connect(target, timeout=30)
        try:
            dst.execute("PRAGMA busy_timeout = 30000")
            src.backup(dst, pages=-1)
            _check(dst, "The restored database")
        finally:
            dst.close()
    finally:
        src.close()
    return BackupResult(target, target.stat().st_size, revision)
