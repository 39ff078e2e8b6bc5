"""Engine set-up: SQLite pragmas and up-front write locks; PostgreSQL needs nothing special.

SQLite allows one writer at a time. A transaction that starts as a reader and later writes can
fail at once with "database is locked" when another writer got in first, whatever the busy
timeout. So every transaction that may write starts with BEGIN IMMEDIATE, taking the write lock
up front and waiting (busy_timeout) for it; read-only requests (GET, HEAD) use a plain BEGIN so
readers never queue behind writers (WAL lets them read alongside).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

SQLITE_BUSY_TIMEOUT_MS = 15_000

_read_only: ContextVar[bool] = ContextVar("sqlite_read_only", default=False)


def set_read_only(value: bool) -> Any:
    return _read_only.set(value)


def reset_read_only(token: Any) -> None:
    _read_only.reset(token)


def configure_engine(engine: Engine) -> None:
    """Attach the per-backend connection behaviour to `engine` (idempotent)."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_traded_configured", False):
        return
    engine._traded_configured = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN" if _read_only.get() else "BEGIN IMMEDIATE")
