"""The one paging mechanism: page numbers out of range are clamped, the count is the filter's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from traded_app.models import School
from traded_app.services.platform.paging import Page, paginate


def test_page_arithmetic() -> None:
    assert Page([], 0, 1, 50).pages == 1  # "page 1 of 1" for an empty list
    page = Page(["a", "b"], 5, 2, 2)
    assert (page.pages, page.has_previous, page.has_next) == (3, True, True)
    assert not Page(["e"], 5, 3, 2).has_next
    assert not Page(["a", "b"], 5, 1, 2).has_previous
    assert page.map(str.upper) == Page(["A", "B"], 5, 2, 2)


def test_paginate_counts_and_clamps(world: Any) -> None:
    by_name = select(School).order_by(School.name, School.urn)
    names = [s.name for s in paginate(by_name, 1, 100).items]
    assert len(names) >= 3
    second = paginate(by_name, 2, 1)
    assert (second.total, second.page, [s.name for s in second.items]) == (
        len(names),
        2,
        [names[1]],
    )
    past_the_end = paginate(by_name, 10_000, 1)
    assert (past_the_end.page, [s.name for s in past_the_end.items]) == (len(names), [names[-1]])
    before_the_start = paginate(by_name, -3, 1)
    assert (before_the_start.page, [s.name for s in before_the_start.items]) == (1, [names[0]])


def test_paginate_of_nothing_is_page_one(world: Any) -> None:
    nothing = paginate(select(School).where(School.name == "No such school"), 7, 10)
    assert (nothing.items, nothing.total, nothing.page, nothing.pages) == ([], 0, 1, 1)


def test_a_pager_links_to_the_first_and_last_pages_and_two_either_side() -> None:
    def numbers(page: int, total: int) -> list[int]:
        return Page([], total, page, 10).numbers

    assert numbers(1, 0) == [1]
    assert numbers(1, 35) == [1, 2, 3, 4]
    assert numbers(10, 200) == [1, 8, 9, 10, 11, 12, 20]
    assert numbers(20, 200) == [1, 18, 19, 20]
