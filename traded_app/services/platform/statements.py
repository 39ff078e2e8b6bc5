"""Statements on the hot path (the catalogue's day-count request), run at little more than the
cost of their SQL.

A statement built once at import still costs, on every run through the ORM session, the ORM's
execution steps (even for plain columns, when they come from mapped classes), and an `IN` list of
constants is an "expanding" parameter rewritten into the SQL on every run. `run` executes on the
session's connection, in the session's transaction, returning plain rows; `one_of` is `IN` as
equalities, whose SQL is compiled once and cached.

A status the code fixes (never one a person typed) is written into the SQL as a literal by
`constant`, not bound as a parameter: SQLite runs the days summary's statement about six times
faster so (0.05 ms against 0.3 ms on the demo data, bench/daycount_profile.py), its planner
seeing the values it compares with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    CursorResult,
    Executable,
    SQLColumnExpression,
    String,
    literal_column,
    or_,
)
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

from traded_app.extensions import db

M = TypeVar("M")


def run(statement: Executable, params: Mapping[str, Any] | None = None) -> CursorResult[Any]:
    """`statement` on the session's connection (beginning the session's transaction if need be):
    plain rows, no ORM objects, and no ORM events (so never for a write the session must see).
    Changes the session holds are flushed first, as the session's own queries do."""
    return _connection().execute(statement, params or {})


def _connection() -> Connection:
    session = db.session()
    if session.autoflush:
        session.flush()  # nothing to do, at once, when there is nothing to flush
    return session.connection()


class Precompiled:
    """A statement SQLAlchemy cannot cache, compiled once per kind of database and run as its
    SQL, as `run` runs a statement. Uncached, it is compiled again on every run: PostgreSQL's
    `INSERT … ON CONFLICT` is never cached, and the day-count's one statement that holds one took
    about 2.6 ms to compile, more than the rest of the request's work."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, dict[str, Any]]] = {}

    def run(self, params: Mapping[str, Any]) -> CursorResult[Any]:
        connection = _connection()
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            made = self.statement.compile(dialect=dialect)
            compiled = self._compiled[dialect.name] = (str(made), dict(made.params))
        sql, constants = compiled
        return connection.exec_driver_sql(sql, {**constants, **params})


_PLAIN = re.compile(r"[a-z0-9_]+")


def constant(value: Enum) -> ColumnElement[Any]:
    """An enum member's stored value as an SQL literal ('confirmed'). Only plain values (lower
    case letters, digits and underscores) are taken, so nothing needs quoting."""
    text = str(value.value)
    if not _PLAIN.fullmatch(text):
        raise ValueError(f"{value!r} is not a plain value to write into SQL")
    return literal_column(f"'{text}'", String())


def one_of(column: SQLColumnExpression[Any], values: Iterable[Enum]) -> ColumnElement[bool]:
    """`column IN (values)` for constants, as `column = 'a' OR column = 'b' …` in a fixed order,
    the values written into the SQL (`constant`)."""
    ordered = sorted(values, key=lambda value: str(value.value))
    return or_(*(column == constant(value) for value in ordered))


def as_loaded(cls: type[M], **values: Any) -> M:
    """An object of the mapped class `cls` holding `values` (its columns, and related objects or
    lists of them) as a query would have loaded them, in no session and without the constructor's
    attribute events: a tenth of their cost. Only for answers built from plain rows, to be read
    and never added to a session."""
    instance: M = cls.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    instance.__dict__.update(values)
    return instance
