"""How a shared visit's half-days are shared among its schools (services/days/shared_visits)."""

from __future__ import annotations

from traded_app.services.days.shared_visits import Claimant, split


def test_a_whole_day_for_two_schools_is_half_a_day_each() -> None:
    assert split(2, [Claimant(1, 100, 4), Claimant(2, 200, 4)]) == {1: 1, 2: 1}


def test_a_half_day_for_two_schools_is_drawn_from_the_one_with_more_days_left() -> None:
    assert split(1, [Claimant(1, 100, 2), Claimant(2, 200, 6)]) == {1: 0, 2: 1}
    # With as many left, the lower URN, as the allocation rules give out leftover half-days.
    assert split(1, [Claimant(1, 300, 4), Claimant(2, 200, 4)]) == {1: 0, 2: 1}


def test_the_shares_always_add_up_to_the_visit() -> None:
    for half_days in (1, 2):
        for count in range(1, 9):
            schools = [Claimant(i, 1000 + i, i % 3) for i in range(count)]
            shares = split(half_days, schools)
            assert sum(shares.values()) == half_days
            assert set(shares) == {s.school_id for s in schools}
            assert max(shares.values()) - min(shares.values()) <= 1


def test_one_school_takes_the_whole_visit() -> None:
    assert split(2, [Claimant(7, 100, 0)]) == {7: 2}
