"""Core allocations: the free days each school is entitled to in an academic year.

The rules come from the council's model (DOMAIN.md, seeds 002/003); every number is a council
setting. `entitlements` is pure so the rules can be tested without a database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from traded_app import formatting
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    AllocationChange,
    AllocationSource,
    CoreAllocation,
    CouncilSettings,
    Partnership,
    School,
    SchoolConversion,
    User,
    Visit,
    VisitStatus,
)
from traded_app.models.base import utcnow
from traded_app.models.types import AllocationReason, Phase, Role, SchoolStatus
from traded_app.services.platform.errors import DomainError


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


def generate_core_allocations(
    year: AcademicYear, settings: CouncilSettings, user: User | None = None
) -> int:
    """Bring every open school's rule-based allocations for `year` in line with the rules.

    Idempotent: rows are updated in place, added, or removed when a rule no longer applies, and
    each change is kept in the allocation history. Two things the rules never override: an
    allocation the service manager adjusted (its latest change is an adjustment), and a school's
    core days already delivered or booked (a school whose new total would fall below them keeps
    its allocation, so its remaining days never go negative).
    Returns the total half-days allocated.
    """
    wanted = entitlements(_open_school_facts(), Rules.from_settings(settings))
    existing: dict[tuple[int, AllocationReason], CoreAllocation] = {
        (a.school_id, a.reason): a
        for a in db.session.execute(
            select(CoreAllocation).where(CoreAllocation.academic_year_id == year.id)
        ).scalars()
    }
    adjusted = _adjusted_keys(year)
    frozen = _frozen_schools(year, wanted, existing, adjusted)
    record = _change_recorder(year, user)
    for school_id, reasons in wanted.items():
        for reason, half_days in reasons.items():
            key = (school_id, reason)
            if key in adjusted or school_id in frozen:
                continue
            if key not in existing:
                db.session.add(
                    CoreAllocation(
                        school_id=school_id,
                        academic_year_id=year.id,
                        reason=reason,
                        half_days=half_days,
                    )
                )
                record(school_id, reason, 0, half_days)
            elif existing[key].half_days != half_days:
                record(school_id, reason, existing[key].half_days, half_days)
                existing[key].half_days = half_days
    for key, stale in existing.items():
        if key in adjusted or stale.school_id in frozen or key[1] in wanted.get(key[0], {}):
            continue
        record(stale.school_id, stale.reason, stale.half_days, 0)
        db.session.delete(stale)
    db.session.flush()
    total = db.session.execute(
        select(func.coalesce(func.sum(CoreAllocation.half_days), 0)).where(
            CoreAllocation.academic_year_id == year.id
        )
    ).scalar_one()
    return int(total)


def _open_school_facts() -> list[SchoolFacts]:
    """What the rules need to know of every open school."""
    # A school in a retired partnership counts as in no partnership.
    live = set(
        db.session.execute(select(Partnership.id).where(Partnership.active.is_(True))).scalars()
    )
    # An academy whose conversion has not yet taken effect gets its predecessor's days on the
    # date (moved, not allocated twice).
    waiting = select(SchoolConversion.new_school_id).where(
        SchoolConversion.transferred_at.is_(None)
    )
    rows = db.session.execute(
        select(School).where(School.status == SchoolStatus.OPEN, School.id.not_in(waiting))
    ).scalars()
    return [
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


def _frozen_schools(
    year: AcademicYear,
    wanted: dict[int, dict[AllocationReason, int]],
    existing: dict[tuple[int, AllocationReason], CoreAllocation],
    adjusted: set[tuple[int, AllocationReason]],
) -> set[int]:
    """Schools whose new total would fall below the core days they have already delivered,
    been charged or booked: the rules leave their allocations as they are."""
    committed = _core_committed(year)
    current: dict[int, int] = defaultdict(int)
    for allocation in existing.values():
        current[allocation.school_id] += allocation.half_days

    def new_total(school_id: int) -> int:
        total = 0
        for reason in AllocationReason:
            key = (school_id, reason)
            if key in adjusted and key in existing:
                total += existing[key].half_days
            else:
                total += wanted.get(school_id, {}).get(reason, 0)
        return total

    schools = set(wanted) | set(current)
    return {s for s in schools if new_total(s) < committed.get(s, 0)}


def _change_recorder(
    year: AcademicYear, user: User | None
) -> Callable[[int, AllocationReason, int, int], None]:
    """Keeps each change the rules make in the allocation history, all at one time."""
    now = utcnow()

    def record(school_id: int, reason: AllocationReason, before: int, after: int) -> None:
        db.session.add(
            AllocationChange(
                school_id=school_id,
                academic_year_id=year.id,
                reason=reason,
                from_half_days=before,
                to_half_days=after,
                source=AllocationSource.RULES,
                user_id=user.id if user else None,
                at=now,
            )
        )

    return record


def _adjusted_keys(year: AcademicYear) -> set[tuple[int, AllocationReason]]:
    """(school, reason) pairs whose latest change was the service manager's adjustment."""
    latest = (
        select(func.max(AllocationChange.id))
        .where(AllocationChange.academic_year_id == year.id)
        .group_by(AllocationChange.school_id, AllocationChange.reason)
    )
    return {
        (school_id, reason)
        for school_id, reason in db.session.execute(
            select(AllocationChange.school_id, AllocationChange.reason).where(
                AllocationChange.id.in_(latest),
                AllocationChange.source == AllocationSource.ADJUSTED,
            )
        ).tuples()
    }


def _core_committed(year: AcademicYear, school_id: int | None = None) -> dict[int, int]:
    """Core half-days delivered, charged or booked per school: the floor of its allocation."""
    stmt = (
        select(Visit.school_id, func.sum(Visit.half_days))
        .where(
            Visit.academic_year_id == year.id,
            Visit.order_line_id.is_(None),
            or_(Visit.status != VisitStatus.CANCELLED, Visit.chargeable.is_(True)),
        )
        .group_by(Visit.school_id)
    )
    if school_id is not None:
        stmt = stmt.where(Visit.school_id == school_id)
    return {k: int(v) for k, v in db.session.execute(stmt).tuples()}


class AllocationError(DomainError, ValueError):
    """An adjustment that cannot be made; the message is for the service manager."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


MAX_NOTE_LENGTH = 500


def adjust(
    school: School,
    year: AcademicYear,
    reason: AllocationReason,
    half_days: int,
    note: str,
    user: User,
) -> AllocationChange:
    """The service manager sets a school's allocation for one reason, saying why.

    Refused when it would leave the school fewer core days than it has used or booked.
    Later rule-based generation leaves an adjusted allocation alone.
    """
    if user.role != Role.LA_ADMIN:
        raise AllocationError("Only the council's service manager can adjust allocations")
    if half_days < 0:
        raise AllocationError("Days must be 0 or more", "days")
    text = note.strip()
    if not text:
        raise AllocationError("Enter the reason for the change", "note")
    if len(text) > MAX_NOTE_LENGTH:
        raise AllocationError(f"Reason must be {MAX_NOTE_LENGTH} characters or fewer", "note")
    db.session.execute(select(School.id).where(School.id == school.id).with_for_update())
    rows = {
        a.reason: a
        for a in db.session.execute(
            select(CoreAllocation).where(
                CoreAllocation.school_id == school.id, CoreAllocation.academic_year_id == year.id
            )
        ).scalars()
    }
    row = rows.get(reason)
    before = row.half_days if row else 0
    if before == half_days:
        raise AllocationError(
            f"{reason.label} is already {days_text(half_days)}: enter a different number", "days"
        )
    new_total = sum(a.half_days for a in rows.values()) - before + half_days
    committed = _core_committed(year, school.id).get(school.id, 0)
    if new_total < committed:
        raise AllocationError(
            f"{school.name} has used or booked {days_text(committed)} of core days in "
            f"{year.label}: its core allocation cannot be less than that",
            "days",
        )
    if row is None:
        db.session.add(
            CoreAllocation(
                school_id=school.id, academic_year_id=year.id, reason=reason, half_days=half_days
            )
        )
    else:
        row.half_days = half_days
    change = AllocationChange(
        school_id=school.id,
        academic_year_id=year.id,
        reason=reason,
        from_half_days=before,
        to_half_days=half_days,
        source=AllocationSource.ADJUSTED,
        note=text,
        user_id=user.id,
        at=utcnow(),
    )
    db.session.add(change)
    db.session.flush()
    return change


def days_text(half_days: int) -> str:
    return formatting.days(half_days)


def history(school: School, year: AcademicYear) -> list[AllocationChange]:
    """Every change to the school's allocation in the year, newest first."""
    return list(
        db.session.execute(
            select(AllocationChange)
            .options(joinedload(AllocationChange.user))
            .where(
                AllocationChange.school_id == school.id,
                AllocationChange.academic_year_id == year.id,
            )
            .order_by(AllocationChange.id.desc())
        ).scalars()
    )


def recent_changes(year: AcademicYear, limit: int = 20) -> list[AllocationChange]:
    return list(
        db.session.execute(
            select(AllocationChange)
            .options(joinedload(AllocationChange.school), joinedload(AllocationChange.user))
            .where(AllocationChange.academic_year_id == year.id)
            .order_by(AllocationChange.id.desc())
            .limit(limit)
        ).scalars()
    )


def allocations_of(school: School, year: AcademicYear) -> dict[AllocationReason, int]:
    return {
        reason: int(days)
        for reason, days in db.session.execute(
            select(CoreAllocation.reason, CoreAllocation.half_days).where(
                CoreAllocation.school_id == school.id, CoreAllocation.academic_year_id == year.id
            )
        ).tuples()
    }


def partnerships() -> list[Partnership]:
    return list(
        db.session.execute(
            select(Partnership).where(Partnership.active.is_(True)).order_by(Partnership.name)
        ).scalars()
    )
