"""Backups of an SQLite database, consistent while the app runs, and their restore; and the
nightly backup schedule.

SQLite's online backup API copies the database page by page under a read transaction, so the
copy is the database as it was at one moment, whatever the app writes meanwhile (WAL lets the
app keep writing). The copy is written beside its destination, checked (`PRAGMA
integrity_check`) and then renamed into place, so a backup file is complete or absent.

On SQLite a schedule backs up every night, at the council's `backup_time`, into BACKUP_DIR
(instance/backups unless set), and keeps the newest `backups_kept` of the files it names
(`traded-<UTC time>.db`; nothing else in the folder is touched). The folder is a setting of the
server's environment, not of the council's settings page: a page that chose where the app
writes copies of its database would let a web account put them anywhere the app can write.

PostgreSQL is backed up with pg_dump (README), not here: there the schedule is never due.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from sqlalchemy.engine import make_url

from traded_app.models import ScheduledRun
from traded_app.models.base import utcnow
from traded_app.services.platform import schedules
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import app_config, council_settings
from traded_app.services.platform.transactions import reading_only

SCHEDULE_NAME = "sqlite-backup"
DEFAULT_TIME = time(2, 0)
DEFAULT_KEPT = 14
# The names this module gives its backups: the only files pruning may delete.
BACKUP_FILE = re.compile(r"traded-\d{8}T\d{6}Z\.db")


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


def backups_folder(instance_dir: Path | None = None) -> Path:
    """BACKUP_DIR (instance/backups unless the environment sets it)."""
    configured = app_config("BACKUP_DIR")
    if configured or instance_dir is None:
        return Path(configured)
    return instance_dir / "backups"


def backup_name(at: datetime) -> str:
    return f"traded-{at.strftime('%Y%m%dT%H%M%SZ')}.db"


def default_destination(instance_dir: Path) -> Path:
    """A new file in the backups folder, named for the moment (UTC)."""
    return backups_folder(instance_dir) / backup_name(utcnow())


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


def backups_in(folder: Path) -> list[Path]:
    """The backups in `folder`, oldest first (only files named as this module names them,
    whose names sort by time)."""
    if not folder.is_dir():
        return []
    return sorted(
        path for path in folder.iterdir() if BACKUP_FILE.fullmatch(path.name) and path.is_file()
    )


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `folder`; returns those deleted."""
    backups = backups_in(folder)
    old = backups[: max(0, len(backups) - max(1, keep))]
    for path in old:
        path.unlink(missing_ok=True)
    return old


# --- The nightly backup schedule -------------------------------------------------------------


def on_sqlite() -> bool:
    url = make_url(app_config("SQLALCHEMY_DATABASE_URI"))
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def _timing() -> tuple[time, int]:
    settings = council_settings()
    if settings is None:
        return DEFAULT_TIME, DEFAULT_KEPT
    return settings.backup_time, settings.backups_kept


def _period(now: datetime) -> str | None:
    if not on_sqlite():
        return None  # PostgreSQL: pg_dump, the database's own backup
    return schedules.daily_at(now, _timing()[0])


def _describe() -> str:
    if not on_sqlite():
        return (
            "Not run by the app: the database is PostgreSQL, backed up by its own tools "
            "(pg_dump, as the README says)"
        )
    at, kept = _timing()
    return (
        f"Every night from {at:%H:%M} (Europe/London), into {backups_folder()}, "
        f"keeping the newest {kept}"
    )


def _size(size_bytes: int) -> str:
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:,.0f} KB"
    return f"{size_bytes / (1024 * 1024):,.1f} MB"


@schedules.schedule(SCHEDULE_NAME, "Backup of the SQLite database", _period, _describe)
def nightly_backup(run: ScheduledRun) -> str:
    """The schedule's work: a backup named for the run's start, then the oldest pruned. The copy
    is taken with the app's own session holding no write lock, so requests keep writing."""
    with reading_only():
        _at, kept = _timing()
        started_at = run.started_at
        source = sqlite_path(app_config("SQLALCHEMY_DATABASE_URI"))
        folder = backups_folder()
        result = backup_sqlite(source, folder / backup_name(started_at))
    removed = prune(folder, kept)
    count = len(backups_in(folder))
    return (
        f"Backed up to {result.path} ({_size(result.size_bytes)}, schema "
        f"{result.alembic_revision}); {count} {'backup' if count == 1 else 'backups'} kept"
        + (f", {len(removed)} older removed" if removed else "")
    )
