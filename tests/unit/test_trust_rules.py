"""Companies House numbers as people type them, and as Companies House writes them."""

from __future__ import annotations

import pytest

from traded_app.domain.trusts import companies_house_number


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("07318714", "07318714"),
        ("7318714", "07318714"),  # the leading zero left off
        (" 0731 8714 ", "07318714"),
        ("sc123456", "SC123456"),
        ("NI 012345", "NI012345"),
        ("R0123456", "R0123456"),
    ],
)
def test_numbers_are_stored_as_companies_house_writes_them(typed: str, stored: str) -> None:
    assert companies_house_number(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "0", "00000000", "123456789", "SC12345", "S1234567", "07318714X", "AB-12345"],
)
def test_anything_else_is_not_a_companies_house_number(typed: str) -> None:
    assert companies_house_number(typed) is None
