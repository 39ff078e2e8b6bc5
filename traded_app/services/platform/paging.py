"""Paged lists: one `Page[T]` and one `paginate` for every list shown a page at a time.

A page number out of range is clamped (below 1 shows the first page, past the end the last), so
an old bookmark or a hand-edited `?page=` shows results rather than an empty table.

Lists that also show figures for everything the filters match (the order queue's days and
money, the register's totals, the overview's quadrants) compute those in their own query and
hand its count in as `total`, so the page costs one count, not two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Row, Select, func, select

from traded_app.extensions import db

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its `items`, which page it is (from 1) and how many match in all."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the list has (at least 1, so "page 1 of 1" for an empty list)."""
        return page_count(self.total, self.per_page)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def numbers(self) -> list[int]:
        """The page numbers a pager links to: the first, the last and those within two of this
        one (GOV.UK pagination puts an ellipsis in each gap)."""
        last = self.pages
        near = range(max(1, self.page - 2), min(last, self.page + 2) + 1)
        return sorted({1, last, *near})

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with each item converted (rows into the dataclasses a template shows)."""
        return Page([convert(item) for item in self.items], self.total, self.page, self.per_page)


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def clamp(requested: int, total: int, per_page: int) -> int:
    """The page to show for `requested`: within 1 to the last page."""
    return max(1, min(requested, page_count(total, per_page)))


def count_rows(stmt: Select[Any]) -> int:
    """How many rows `stmt` returns (ignoring its ordering, which a count does not need)."""
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    return int(db.session.execute(counted).scalar_one())


def _window(stmt: Select[Any], page: int, per_page: int, total: int | None) -> tuple[Any, int, int]:
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    if total is None:
        total = count_rows(stmt)
    number = clamp(page, total, per_page)
    return stmt.limit(per_page).offset((number - 1) * per_page), total, number


def paginate(
    stmt: Select[tuple[T]], page: int, per_page: int, *, total: int | None = None
) -> Page[T]:
    """The page of `stmt`'s entities (one column: a model) numbered `page`, clamped.

    Runs a count of `stmt` (unless `total` is given) and `stmt` with LIMIT and OFFSET; give
    `stmt` its ORDER BY, or the pages are in no particular order.
    """
    window, total, number = _window(stmt, page, per_page, total)
    items = list(db.session.execute(window).scalars())
    return Page(items, total, number, per_page)


def paginate_rows(
    stmt: Select[Any], page: int, per_page: int, *, total: int | None = None
) -> Page[Row[Any]]:
    """As `paginate`, for a statement of several columns: the page's items are its rows."""
    window, total, number = _window(stmt, page, per_page, total)
    rows = list(db.session.execute(window).all())
    return Page(rows, total, number, per_page)
