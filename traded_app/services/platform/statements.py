"""Statements on the hot path (the catalogue's day-count request), run at little more than the
cost of their SQL.

A statement built once at import still costs, on every run through the ORM session, the ORM's
execution steps (even for plain columns, when they come from mapped classes), and an `IN` list of
constants is an "expanding" parameter rewritten into the SQL on every run. `run` executes on the
session's connection, in the session's transaction, returning plain rows; `one_of` is `IN` as
equalities, whose SQL is compiled once and cached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from sqlalchemy import CursorResult, Executable, SQLColumnExpression, or_
from sqlalchemy.sql.elements import ColumnElement

from traded_app.extensions import db


def run(statement: Executable, params: Mapping[str, Any] | None = None) -> CursorResult[Any]:
    """`statement` on the session's connection (beginning the session's transaction if need be):
    plain rows, no ORM objects, and no ORM events (so never for a write the session must see).
    Changes the session holds are flushed first, as the session's own queries do."""
    session = db.session()
    if session.autoflush:
        session.flush()  # nothing to do, at once, when there is nothing to flush
    return session.connection().execute(statement, params or {})


def one_of(column: SQLColumnExpression[Any], values: Iterable[Enum]) -> ColumnElement[bool]:
    """`column IN (values)` for constants, as `column = a OR column = b …` in a fixed order."""
    return or_(*(column == value for value in sorted(values, key=lambda value: str(value.value))))
