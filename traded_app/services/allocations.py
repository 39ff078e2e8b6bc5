"""Core allocations: the free days each school is entitled to in an academic year.

The rules come from the council's model (DOMAIN.md, seeds 002/003); every number is a council
setting. `entitlements` is pure so the rules can be tested without a database.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import AcademicYear, CoreAllocation, CouncilSettings, Partnership, School
from traded_app.models.types import AllocationReason, Phase, SchoolStatus


@dataclass(frozen=True)
class Rules:
    partnership_base: int
    partnership_per_school: int
    unpartnered: int
    causing_concern: int
    special_or_pru: int
    enhanced_provision: int
    headteacher_recruitment: int

    @classmethod
    def from_settings(cls, s: CouncilSettings) -> Rules:
        return cls(
            partnership_base=s.core_partnership_base_half_days,
            partnership_per_school=s.core_partnership_per_school_half_days,
            unpartnered=s.core_unpartnered_half_days,
            causing_concern=s.core_causing_concern_half_days,
            special_or_pru=s.core_special_or_pru_half_days,
            enhanced_provision=s.core_enhanced_provision_half_days,
            headteacher_recruitment=s.core_headteacher_recruitment_half_days,
        )


@dataclass(frozen=True)
class SchoolFacts:
    school_id: int
    urn: int
    phase: Phase
    partnership_id: int | None
    causing_concern: bool
    enhanced_provision: bool
    recruiting_headteacher: bool


def entitlements(
    schools: list[SchoolFacts], rules: Rules
) -> dict[int, dict[AllocationReason, int]]:
    """Half-days per school and reason.

    A partnership's days are `base + per_school × members`, shared equally in half-days; the
    half-days left over go one each to members in URN order, so the pool is given out exactly.
    Special schools and PRUs are not grouped into partnerships and get their own allocation; a
    mainstream school in no partnership gets the annual visit.
    """
    members: dict[int, list[SchoolFacts]] = defaultdict(list)
    for school in schools:
        if school.partnership_id is not None:
            members[school.partnership_id].append(school)

    result: dict[int, dict[AllocationReason, int]] = {}
    for group in members.values():
        group.sort(key=lambda s: s.urn)
        pool = rules.partnership_base + rules.partnership_per_school * len(group)
        share, extra = divmod(pool, len(group))
        for index, school in enumerate(group):
            days = share + (1 if index < extra else 0)
            if days:
                result.setdefault(school.school_id, {})[AllocationReason.PARTNERSHIP] = days

    for school in schools:
        own = result.setdefault(school.school_id, {})
        special = school.phase in (Phase.SPECIAL, Phase.PRU)
        if special and rules.special_or_pru:
            own[AllocationReason.SPECIAL_OR_PRU] = rules.special_or_pru
        if school.partnership_id is None and not special and rules.unpartnered:
            own[AllocationReason.UNPARTNERED_VISIT] = rules.unpartnered
        if school.causing_concern and rules.causing_concern:
            own[AllocationReason.CAUSING_CONCERN] = rules.causing_concern
        if school.enhanced_provision and rules.enhanced_provision:
            own[AllocationReason.ENHANCED_PROVISION] = rules.enhanced_provision
        if school.recruiting_headteacher and rules.headteacher_recruitment:
            own[AllocationReason.HEADTEACHER_RECRUITMENT] = rules.headteacher_recruitment
    return {k: v for k, v in result.items() if v}


def generate_core_allocations(year: AcademicYear, settings: CouncilSettings) -> int:
    """Bring every open school's rule-based allocations for `year` in line with the rules.

    Idempotent: rows are updated in place, added, or removed when a rule no longer applies.
    Returns the total half-days allocated.
    """
    # A school in a retired partnership counts as in no partnership.
    live = set(
        db.session.execute(select(Partnership.id).where(Partnership.active.is_(True))).scalars()
    )
    rows = db.session.execute(select(School).where(School.status == SchoolStatus.OPEN)).scalars()
    facts = [
        SchoolFacts(
            school_id=s.id,
            urn=s.urn,
            phase=s.phase,
            partnership_id=s.partnership_id if s.partnership_id in live else None,
            causing_concern=s.causing_concern,
            enhanced_provision=s.enhanced_provision,
            recruiting_headteacher=s.recruiting_headteacher,
        )
        for s in rows
    ]
    wanted = entitlements(facts, Rules.from_settings(settings))

    existing = {
        (a.school_id, a.reason): a
        for a in db.session.execute(
            select(CoreAllocation).where(CoreAllocation.academic_year_id == year.id)
        ).scalars()
    }
    for school_id, reasons in wanted.items():
        for reason, half_days in reasons.items():
            row = existing.pop((school_id, reason), None)
            if row is None:
                db.session.add(
                    CoreAllocation(
                        school_id=school_id,
                        academic_year_id=year.id,
                        reason=reason,
                        half_days=half_days,
                    )
                )
            elif row.half_days != half_days:
                row.half_days = half_days
    for row in existing.values():
        db.session.delete(row)
    db.session.flush()
    return sum(sum(r.values()) for r in wanted.values())
