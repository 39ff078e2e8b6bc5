"""A transaction of its own, committed at once: for the rare GET that must record something;
a write that holds the lock only while it writes, for a hot request that reads, writes a little
and answers; and a reading-only stretch inside work that writes, for long reads that must not
hold the lock.

Everything else follows the one commit point (services flush; the request commits or rolls back
at its end). A GET runs read-only (on SQLite a plain BEGIN, no write lock), so a page that must
write during a GET ends that transaction, writes in one that takes the write lock, and commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from psycopg.pq import TransactionStatus
from sqlalchemy.orm import Session

from traded_app.database import reset_read_only, set_read_only
from traded_app.extensions import db

T = TypeVar("T")


def commit_now(work: Callable[[], T]) -> T:
    """Run `work` in a writing transaction of its own and commit it; roll back and re-raise if
    anything in it fails. What the request read before is ended first (rolled back)."""
    db.session.rollback()
    token = set_read_only(False)
    try:
        result = work()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        reset_read_only(token)
    return result


# On PostgreSQL, a request that reads first and then writes (web.late_write_lock) reads statement
# by statement: its connection in autocommit until commit_write, so its reads cost no BEGIN and
# no COMMIT round trip. They read what they would in a transaction: at READ COMMITTED every
# statement takes its own snapshot anyway, and they lock nothing. The request keeps its one
# connection throughout (each checkout costs a ping).
_READING_ALONE = "traded_reading_statement_by_statement"
_MAY_BE_ALONE = "traded_statement_may_be_alone"


def read_statement_by_statement() -> None:
    """Begin a reads-first request's reading (before its first query): on PostgreSQL in
    autocommit until `commit_write`; on SQLite a reader's transaction, as the request is marked
    read-only (database.set_read_only) until then."""
    session = db.session()
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        # Set through SQLAlchemy, which sets the connection back when it returns to the pool.
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        session.info[_READING_ALONE] = True


def _driver(session: Session) -> Any:
    return session.connection().connection.driver_connection


def commit_write(work: Callable[[], T]) -> T:
    """Run `work` in a writing transaction of its own, taken only for it, and commit it; roll
    back and re-raise if anything in it fails.

    For a request that reads first (as a reader, web.late_write_lock), then writes: on SQLite
    what it read is ended by a commit that keeps the loaded objects as they are (nothing was
    changed, so nothing is stale that the request itself did not read), the write takes the
    lock (on PostgreSQL, its row locks) and commits at once, and what it wrote stays loaded too,
    so the answer is built after the commit, without the lock, from what was written and fresh
    reads. On PostgreSQL, reads made statement by statement end there (on the same connection,
    nothing to commit), and `work` may begin with `statement_alone`."""
    session = db.session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        if session.info.pop(_READING_ALONE, False):
            _driver(session).autocommit = False
            session.info[_MAY_BE_ALONE] = True
        elif session.get_bind().dialect.name == "sqlite":
            # End the reading transaction: SQLite's write lock is taken when a transaction
            # begins. PostgreSQL locks rows as the write reads them, so its reading goes on.
            session.commit()
        token = set_read_only(False)
        try:
            result = work()
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.info.pop(_MAY_BE_ALONE, None)
            reset_read_only(token)
    finally:
        session.expire_on_commit = expire_on_commit
    return result


def statement_alone(statement: Callable[[], T]) -> T:
    """Run `statement`, one statement whole alone: as the first of `commit_write`'s work after
    reads made statement by statement (PostgreSQL), as a transaction of its own (autocommit: no
    BEGIN or COMMIT round trip), the statements after it in a transaction as usual; anywhere
    else, as any other statement, in the session's transaction."""
    session = db.session()
    if not session.info.pop(_MAY_BE_ALONE, False):
        return statement()
    driver = _driver(session)
    if driver.info.transaction_status != TransactionStatus.IDLE:
        return statement()  # a transaction is under way: the statement is part of it
    driver.autocommit = True
    try:
        return statement()
    finally:
        driver.autocommit = False


@contextmanager
def reading_only() -> Iterator[None]:
    """Read in a transaction that takes no write lock (on SQLite a plain BEGIN; PostgreSQL's
    readers never block writers anyway), so a long read (checking every stored PDF, copying the
    database) does not keep every writer waiting. The caller must have nothing unflushed to keep:
    the transaction before is ended (rolled back) first, and the reading one after."""
    db.session.rollback()
    token = set_read_only(True)
    try:
        yield
    finally:
        db.session.rollback()
        reset_read_only(token)
