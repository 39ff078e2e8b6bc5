"""Whole numbers typed by a person or carried in a URL: ids, URNs, page numbers, codes.

Only the ASCII digits 0-9 count. Python's `str.isdigit` and `int` also take other scripts'
digits ("１", "٣") and `isdigit` even superscripts ("²"), which `int` then refuses; and a number
longer than the database's integer makes the query fail. So every such value goes through here
and anything else is "not a number" (a field's error, an ignored filter or a 404), never a
server error.
"""

from __future__ import annotations

import re

# Nine digits always fit a 32-bit signed integer column (the largest is 2,147,483,647).
MAX_DIGITS = 9

_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def is_digits(raw: str, length: int | None = None) -> bool:
    """Whether `raw` is only ASCII digits (exactly `length` of them, when given)."""
    return _DIGITS.fullmatch(raw) is not None and (length is None or len(raw) == length)


def whole_number(raw: str | None, *, max_digits: int = MAX_DIGITS) -> int | None:
    """`raw` (spaces around it ignored) as a whole number of at most `max_digits` ASCII digits,
    else None."""
    text = (raw or "").strip()
    if not is_digits(text) or len(text) > max_digits:
        return None
    return int(text)
