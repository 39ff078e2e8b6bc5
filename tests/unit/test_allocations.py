"""Core allocation rules (DOMAIN.md), without a database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from traded_app.models.types import AllocationReason as R
from traded_app.models.types import Phase
from traded_app.services.days.allocations import Rules, SchoolFacts, entitlements

RULES = Rules(
    partnership_base=4,
    partnership_per_school=2,
    unpartnered=1,
    causing_concern=6,
    special_or_pru=4,
    enhanced_provision=2,
    headteacher_recruitment=2,
)


def school(
    sid: int, partnership: int | None = None, phase: Phase = Phase.PRIMARY, **flags: bool
) -> SchoolFacts:
    return SchoolFacts(
        school_id=sid,
        urn=100000 + sid,
        phase=phase,
        partnership_id=partnership,
        causing_concern=flags.get("concern", False),
        enhanced_provision=flags.get("enhanced", False),
        recruiting_headteacher=flags.get("recruiting", False),
    )


def test_a_school_in_no_partnership_gets_a_half_day_visit() -> None:
    assert entitlements([school(1)], RULES) == {1: {R.UNPARTNERED_VISIT: 1}}


def test_partnership_days_are_shared_by_size_and_given_out_exactly() -> None:
    # 3 schools: 4 + 2×3 = 10 half-days → 4, 3, 3 (the spare half-day to the lowest URN).
    result = entitlements([school(1, 7), school(2, 7), school(3, 7)], RULES)
    assert [result[i][R.PARTNERSHIP] for i in (1, 2, 3)] == [4, 3, 3]


def test_special_schools_and_prus_get_their_own_allocation_not_the_visit() -> None:
    result = entitlements([school(1, phase=Phase.SPECIAL), school(2, phase=Phase.PRU)], RULES)
    assert result == {1: {R.SPECIAL_OR_PRU: 4}, 2: {R.SPECIAL_OR_PRU: 4}}


def test_flags_add_their_days() -> None:
    result = entitlements([school(1, concern=True, enhanced=True, recruiting=True)], RULES)
    assert result[1] == {
        R.UNPARTNERED_VISIT: 1,
        R.CAUSING_CONCERN: 6,
        R.ENHANCED_PROVISION: 2,
        R.HEADTEACHER_RECRUITMENT: 2,
    }


@given(
    st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=40),
    st.integers(0, 20),
    st.integers(0, 6),
)
def test_each_partnership_pool_is_given_out_to_the_half_day(
    memberships: list[int], base: int, per: int
) -> None:
    rules = Rules(base, per, 1, 0, 0, 0, 0)
    schools = [school(i, partnership=p) for i, p in enumerate(memberships, start=1)]
    result = entitlements(schools, rules)
    for partnership in set(memberships):
        members = [s.school_id for s in schools if s.partnership_id == partnership]
        given_out = sum(result.get(m, {}).get(R.PARTNERSHIP, 0) for m in members)
        assert given_out == base + per * len(members)
        shares = [result.get(m, {}).get(R.PARTNERSHIP, 0) for m in members]
        assert max(shares) - min(shares) <= 1
