"""Engine set-up: SQLite pragmas and up-front write locks; on PostgreSQL, the app role's grants.

SQLite allows one writer at a time. A transaction that starts as a reader and later writes can
fail at once with "database is locked" when another writer got in first, whatever the busy
timeout. So every transaction that may write starts with BEGIN IMMEDIATE, taking the write lock
up front and waiting (busy_timeout) for it; read-only requests (GET, HEAD) use a plain BEGIN so
readers never queue behind writers (WAL lets them read alongside).

On PostgreSQL the app may connect as a role that does not own the tables (DATABASE_URL), with
migrations run as the owner (DATABASE_OWNER_URL): a role that owns no table cannot drop, disable
or alter the triggers that keep issued documents unchanged. `grant_app_role` gives it the rest.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

SQLITE_BUSY_TIMEOUT_MS = 15_000
WRITE_LOCK_FIRST_PAUSE, WRITE_LOCK_LONGEST_PAUSE = 0.0002, 0.002  # seconds

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
        if _read_only.get():
            connection.exec_driver_sql("BEGIN")
        else:
            _begin_immediate(connection)


def _begin_immediate(connection: Connection) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock by polling every few tenths of a millisecond.

    SQLite's own wait (busy_timeout) sleeps 1, 2, 5, 10, 15, 20, 25 ms… between tries, so a
    writer queued behind one that holds the lock for a millisecond often sleeps ten times that:
    under a burst of short writes (the catalogue's day counts) that was most of their latency.
    Here the lock is tried without SQLite's wait, again after 0.2 ms, doubling up to 2 ms, for
    as long as busy_timeout; every other statement keeps SQLite's wait."""
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        pause = WRITE_LOCK_FIRST_PAUSE
        while True:
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as error:
                if "locked" not in str(error.orig) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, WRITE_LOCK_LONGEST_PAUSE)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


ALEMBIC_VERSION_TABLE = "alembic_version"
# Tables the app reads and never writes, with who writes them: Alembic's bookkeeping, and each
# document's figures, which the triggers on documents and payments keep (migrations 0019, 0049).
READ_ONLY_FOR_APP = {
    ALEMBIC_VERSION_TABLE: "the migrations",
    "document_figures": "the database's triggers on document and payment",
}


def grant_app_role(connection: Connection, role: str) -> None:
    """As the tables' owner, give the app's `role` what it needs and no more: read and write rows
    (SELECT, INSERT, UPDATE, DELETE on every table, USAGE on every sequence) in the current
    schema, now and, through default privileges, on tables the owner creates later. No TRUNCATE,
    REFERENCES or TRIGGER, and no ownership, so no DDL. Idempotent; nothing on SQLite or when
    `role` is the owner itself. `flask db upgrade` runs it after migrating (migrations/env.py)."""
    if connection.dialect.name != "postgresql":
        return
    owner, schema = connection.execute(text("SELECT current_user, current_schema()")).one()
    if role == owner:
        return
    quote = connection.dialect.identifier_preparer.quote
    grantee, where = quote(role), quote(schema)
    rows = "SELECT, INSERT, UPDATE, DELETE"
    for statement in (
        f"GRANT USAGE ON SCHEMA {where} TO {grantee}",
        f"GRANT {rows} ON ALL TABLES IN SCHEMA {where} TO {grantee}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {where} TO {grantee}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT {rows} ON TABLES TO {grantee}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT USAGE ON SEQUENCES TO {grantee}",
    ):
        connection.exec_driver_sql(statement)
    for table in READ_ONLY_FOR_APP:
        found = connection.execute(
            text("SELECT to_regclass(:name)"), {"name": f"{where}.{table}"}
        ).scalar()
        if found is not None:
            connection.exec_driver_sql(
                f"REVOKE INSERT, UPDATE, DELETE ON {where}.{quote(table)} FROM {grantee}"
            )
