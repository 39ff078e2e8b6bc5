"""Finding and refreshing demo records by their natural key, so loading the demo again updates
what is there rather than adding to it."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select

from traded_app.extensions import db

M = TypeVar("M")


def one(model: type[M], **keys: Any) -> M | None:
    return db.session.execute(select(model).filter_by(**keys)).scalar_one_or_none()  # type: ignore[no-any-return]


def upsert(model: type[M], keys: dict[str, Any], values: dict[str, Any]) -> M:
    """The row with `keys`, created with `values` or updated to them (only what differs)."""
    row = one(model, **keys)
    if row is None:
        row = model(**keys, **values)
        db.session.add(row)
    else:
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
    return row
