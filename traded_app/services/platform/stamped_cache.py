"""Per-process caches of what changes a few times a year and is read on every request: the
priced catalogue and the academic years.

Each use asks the database for the catalogue's stamp (one small query: `catalogue_stamp`, which
triggers renew in every transaction that changes a service, a price, a VAT rule or a year) and
uses what it keeps only when it was loaded under that same stamp; otherwise it loads afresh. So
a price change made by any process on any host, or at the SQL prompt, is seen by every process
at its next request: never stale, and no time to live to tune. The stamp is read before the
rows, so a change committed in between is kept under the old stamp and loaded again next time.

What is kept must be plain values (frozen dataclasses), or detached ORM objects handed to a
request's session only through `attach`, never shared between sessions or threads.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, make_transient_to_detached

from traded_app.extensions import db
from traded_app.models import Base, CatalogueStamp
from traded_app.services.platform.statements import run

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
M = TypeVar("M", bound=Base)

_STAMP = select(CatalogueStamp.stamp).where(CatalogueStamp.id == 1)


_SEEN = "catalogue_stamp_seen"  # in session.info: (the transaction, the stamp it read)


def catalogue_stamp() -> str | None:
    """The stamp as this transaction sees it; None when there is no row yet (nothing is kept).

    Read once per transaction until the transaction writes anything (which may renew it)."""
    session = db.session()
    transaction = session.get_transaction()
    seen = session.info.get(_SEEN)
    if transaction is not None and seen is not None and seen[0] is transaction:
        return seen[1]  # type: ignore[no-any-return]
    stamp = run(_STAMP).scalar_one_or_none()
    session.info[_SEEN] = (session.get_transaction(), stamp)
    return stamp


def stamp_column() -> Any:
    """The stamp as a column another query can carry (a scalar subquery), so a request's first
    query can bring it along and spare the stamp's own (`remember_stamp`)."""
    return _STAMP.scalar_subquery()


def remember_stamp(stamp: str | None) -> None:
    """The stamp this transaction read through `stamp_column`, as `catalogue_stamp` keeps it."""
    session = db.session()
    transaction = session.get_transaction()
    if transaction is not None:
        session.info[_SEEN] = (transaction, stamp)


@event.listens_for(Session, "after_flush")
def _forget_stamp_after_flush(session: Session, _context: object) -> None:
    session.info.pop(_SEEN, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_stamp_on_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info.pop(_SEEN, None)


class StampedCache(Generic[K, V]):
    """Values by key, each kept with the stamp it was loaded under.

    Safe across threads: a lookup reads one dict entry, and a load replaces one whole entry
    (two threads loading at once both load, and either's value is right)."""

    def __init__(self) -> None:
        self._entries: dict[K, tuple[str, V]] = {}

    def get(self, key: K, load: Callable[[], V]) -> V:
        stamp = catalogue_stamp()
        if stamp is not None:
            kept = self._entries.get(key)
            if kept is not None and kept[0] == stamp:
                return kept[1]
        value = load()
        if stamp is not None:
            self._entries[key] = (stamp, value)
        return value

    def clear(self) -> None:
        self._entries.clear()


def detached_copy(instance: M) -> M:
    """A copy of a loaded row's columns that belongs to no session, for keeping."""
    mapper = instance.__mapper__
    copy = mapper.class_(
        **{column.key: getattr(instance, column.key) for column in mapper.column_attrs}
    )
    make_transient_to_detached(copy)
    return copy


def attach(kept: M) -> M:
    """The kept row as an object of this request's session, without a query (the kept copy
    itself stays out of every session). One the session holds already wins, as with
    `Session.get`: merging over it would undo its unflushed changes."""
    session = db.session()
    key = inspect(kept).key
    present = session.identity_map.get(key) if key is not None else None
    if present is not None:
        return cast(M, present)
    return session.merge(kept, load=False)
