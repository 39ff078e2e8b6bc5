"""Work that must happen only once a transaction has really committed: the one queue.

A service that wants something done after its change is committed (an e-mail, a document sent,
an invoice run started) calls `after_commit(session, fn, *args)`. The call is kept on the
database session and made after the real commit; if the transaction rolls back, it is dropped.
So nothing is said or started about a change that did not happen, and a fault in the work
(logged here) never undoes the change, which is already committed.

Savepoints: releasing one (`begin_nested()` committing) fires SQLAlchemy's after_commit too, but
nothing runs until the outermost transaction commits; rolling one back keeps what the outer
transaction has queued (and what was queued inside it: the work must cope with a row that is
not there, which is why it is given ids, not objects).

The calls run in the order they were queued, each on its own: one that raises is logged and the
rest still run. They get only the arguments given here (ids, not the session's objects), and a
call that writes opens a session of its own. A job queue can later sit behind `after_commit`
without its callers changing.

`suppressed(session)` drops everything queued inside it (loading demo data, a benchmark: no
e-mail to anyone, nothing started).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)

QUEUE_KEY = "traded_after_commit"
SUPPRESS_KEY = "traded_after_commit_suppressed"

AnySession = Session | scoped_session[Any]
Work = tuple[Callable[..., object], tuple[Any, ...]]


def init_app() -> None:
    """Attach the queue's hooks to every session (once per process)."""
    if getattr(init_app, "_done", False):
        return
    init_app._done = True  # type: ignore[attr-defined]
    event.listen(Session, "after_commit", _run_queued)
    event.listen(Session, "after_rollback", _drop_queued)


def after_commit(session: AnySession, fn: Callable[..., object], *args: Any) -> None:
    """Call `fn(*args)` once this session's transaction commits; never if it rolls back."""
    if session.info.get(SUPPRESS_KEY):
        return
    session.info.setdefault(QUEUE_KEY, []).append((fn, args))


@contextmanager
def suppressed(session: AnySession) -> Iterator[None]:
    """Nothing queued inside this block runs after commit (demo data must not write to anyone)."""
    before = session.info.get(SUPPRESS_KEY, False)
    session.info[SUPPRESS_KEY] = True
    try:
        yield
    finally:
        if before:
            session.info[SUPPRESS_KEY] = before
        else:
            session.info.pop(SUPPRESS_KEY, None)


def is_suppressed(session: AnySession) -> bool:
    """Inside `suppressed`: work that would be queued should not even be recorded."""
    return bool(session.info.get(SUPPRESS_KEY))


def queued(session: AnySession) -> list[Work]:
    """What is waiting for this session's commit (for tests and checks)."""
    return list(session.info.get(QUEUE_KEY, []))


def hold_queued(session: AnySession) -> list[Work]:
    """Take what is waiting for this session's commit, for the caller to `release` later itself
    (an invoice run hands its documents' e-mails to the queue when the run ends, not after each
    batch). Call it just before the commit: if the commit fails, drop what it returned."""
    return list(session.info.pop(QUEUE_KEY, []))


def release(work: list[Work]) -> None:
    """Do held work now, in order, each on its own (one that raises is logged)."""
    for fn, args in work:
        try:
            fn(*args)
        except Exception:
            # The change is committed; a fault here must not turn that into an error.
            log.exception("After-commit work %s%r failed", _name(fn), args)


def _run_queued(session: Session) -> None:
    # Releasing a savepoint fires after_commit too: only the real commit runs the work.
    if session.in_nested_transaction():
        return
    release(session.info.pop(QUEUE_KEY, []))


def _drop_queued(session: Session) -> None:
    # Rolling back a savepoint keeps what the outer transaction has queued.
    if session.in_nested_transaction():
        return
    session.info.pop(QUEUE_KEY, None)


def _name(fn: Callable[..., object]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
