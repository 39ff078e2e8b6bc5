"""A transaction of its own, committed at once: for the rare GET that must record something.

Everything else follows the one commit point (services flush; the request commits or rolls back
at its end). A GET runs read-only (on SQLite a plain BEGIN, no write lock), so a page that must
write during a GET ends that transaction, writes in one that takes the write lock, and commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

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
