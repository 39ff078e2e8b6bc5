"""Partnership plans: for each partnership and academic year, the plan of its core days agreed
with its headteachers: activities from the council's list (every non-negotiable one appears, or
the plan says why not), the schools involved in each, when, and the half-days planned. The
service manager starts a plan and names the partnership's adviser; either of them writes it. The
plan shows, per activity, the half-days planned, booked and delivered (shared visits booked
against it, services/days/shared_visits.py).

Who sees a plan: council staff; and the staff of the partnership's own schools, never another
school's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from traded_app import formatting
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    CoreAllocation,
    DeliveryActivity,
    Partnership,
    PartnershipPlan,
    PlanItem,
    School,
    SharedVisit,
    User,
    Visit,
    VisitStatus,
)
from traded_app.models.base import utcnow
from traded_app.models.types import AllocationReason, Role, SchoolStatus
from traded_app.services.days import activities as activity_list
from traded_app.services.platform.errors import DomainError, NotFound

MAX_WHEN = 200
MAX_TEXT = 2000
MAX_PLANNED_HALF_DAYS = 400


class PlanError(DomainError, ValueError):
    """A change the plan cannot take; the message is for the person making it."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def partnership(partnership_id: int) -> Partnership:
    found = db.session.get(Partnership, partnership_id) if partnership_id < 2**31 else None
    if found is None:
        raise NotFound("There is no such partnership")
    return found


def members(partnership_id: int) -> list[School]:
    """The partnership's open schools, by name."""
    return list(
        db.session.execute(
            select(School)
            .where(School.partnership_id == partnership_id, School.status == SchoolStatus.OPEN)
            .order_by(School.name)
        ).scalars()
    )


def plan_for(partnership_id: int, year_id: int) -> PartnershipPlan | None:
    return db.session.execute(
        select(PartnershipPlan)
        .options(
            selectinload(PartnershipPlan.items).joinedload(PlanItem.activity),
            selectinload(PartnershipPlan.items).selectinload(PlanItem.schools),
            joinedload(PartnershipPlan.adviser),
        )
        .where(
            PartnershipPlan.partnership_id == partnership_id,
            PartnershipPlan.academic_year_id == year_id,
        )
    ).scalar_one_or_none()


def may_write(plan: PartnershipPlan | None, user: User) -> bool:
    """The service manager, and the plan's adviser, write a plan."""
    if user.role == Role.LA_ADMIN:
        return True
    return plan is not None and user.role == Role.ADVISER and plan.adviser_id == user.id


def _require_writer(plan: PartnershipPlan, user: User) -> None:
    if not may_write(plan, user):
        raise PlanError(
            "Only the service manager and the partnership's adviser can change its plan"
        )


def _adviser(adviser_id: int | None) -> User | None:
    if adviser_id is None:
        return None
    adviser = db.session.get(User, adviser_id)
    if adviser is None or adviser.role != Role.ADVISER or not adviser.active:
        raise PlanError("Select the partnership's adviser", "adviser_id")
    return adviser


def start_plan(
    partnership: Partnership, year: AcademicYear, adviser_id: int | None, user: User
) -> PartnershipPlan:
    """The service manager starts the partnership's plan for the year and names its adviser."""
    if user.role != Role.LA_ADMIN:
        raise PlanError("Only the service manager can start a partnership's plan")
    if plan_for(partnership.id, year.id) is not None:
        raise PlanError(f"{partnership.name} already has a plan for {year.label}")
    adviser = _adviser(adviser_id)
    plan = PartnershipPlan(
        partnership_id=partnership.id,
        academic_year_id=year.id,
        adviser_id=adviser.id if adviser else None,
        created_by_id=user.id,
        created_at=utcnow(),
    )
    db.session.add(plan)
    db.session.flush()
    return plan


def set_adviser(plan: PartnershipPlan, adviser_id: int | None, user: User) -> None:
    if user.role != Role.LA_ADMIN:
        raise PlanError("Only the service manager can name the partnership's adviser")
    adviser = _adviser(adviser_id)
    plan.adviser_id = adviser.id if adviser else None
    db.session.flush()


@dataclass(frozen=True)
class ItemDetails:
    activity_id: int | None
    school_ids: list[int]
    planned_half_days: int | None
    planned_when: str = ""
    # For a non-negotiable activity the plan leaves out: why (then nothing else is given).
    omitted_reason: str = ""


def save_item(plan: PartnershipPlan, details: ItemDetails, user: User) -> PlanItem:
    """Add an activity to the plan, or change it (one line per activity)."""
    _require_writer(plan, user)
    if details.activity_id is None:
        raise PlanError("Select the activity", "activity_id")
    try:
        activity = activity_list.activity_by_id(details.activity_id)
    except NotFound:
        raise PlanError("Select the activity", "activity_id") from None
    item = next((i for i in plan.items if i.activity_id == activity.id), None)
    if not activity.active and item is None:
        raise PlanError(f"{activity.name} is no longer offered", "activity_id")
    reason = " ".join(details.omitted_reason.split())
    when = " ".join(details.planned_when.split())
    if len(reason) > MAX_TEXT:
        raise PlanError(f"The reason must be {MAX_TEXT} characters or fewer", "omitted_reason")
    if len(when) > MAX_WHEN:
        raise PlanError(f"When must be {MAX_WHEN} characters or fewer", "planned_when")
    if reason:
        if not activity.non_negotiable:
            raise PlanError(
                "Only a non-negotiable activity is left out with a reason: "
                "remove an agreed activity instead",
                "omitted_reason",
            )
        schools: list[School] = []
        half_days = 0
    else:
        half_days = _planned_days(details.planned_half_days)
        schools = _member_schools(plan, details.school_ids)
    if item is None:
        item = PlanItem(activity_id=activity.id, activity=activity)
        plan.items.append(item)
    item.planned_half_days = half_days
    item.planned_when = "" if reason else when
    item.omitted_reason = reason
    item.schools = schools
    plan.updated_at = utcnow()
    db.session.flush()
    return item


def _planned_days(half_days: int | None) -> int:
    if half_days is None or half_days <= 0:
        raise PlanError("Enter the days planned, like 2 or 1.5", "planned_days")
    if half_days > MAX_PLANNED_HALF_DAYS:
        raise PlanError(
            f"Plan at most {formatting.days(MAX_PLANNED_HALF_DAYS)} for one activity",
            "planned_days",
        )
    return half_days


def _member_schools(plan: PartnershipPlan, school_ids: list[int]) -> list[School]:
    chosen = set(school_ids)
    if not chosen:
        raise PlanError("Select the schools involved", "school_ids")
    found = [s for s in members(plan.partnership_id) if s.id in chosen]
    if len(found) != len(chosen):
        raise PlanError(
            f"Select schools of {plan.partnership.name}: other schools are not in its plan",
            "school_ids",
        )
    return found


def remove_item(plan: PartnershipPlan, item_id: int, user: User) -> DeliveryActivity:
    """Take an activity out of the plan; not one with visits booked against it."""
    _require_writer(plan, user)
    item = next((i for i in plan.items if i.id == item_id), None)
    if item is None:
        raise PlanError("That activity is not in the plan")
    booked = db.session.execute(
        select(func.count()).select_from(SharedVisit).where(SharedVisit.plan_item_id == item.id)
    ).scalar_one()
    if booked:
        raise PlanError(
            f"{item.activity.name} has visits booked against it: cancel them, or keep it"
        )
    plan.items.remove(item)
    plan.updated_at = utcnow()
    db.session.flush()
    return item.activity


def missing_non_negotiables(plan: PartnershipPlan) -> list[DeliveryActivity]:
    """The council's non-negotiable activities the plan neither plans nor explains."""
    present = {item.activity_id for item in plan.items}
    return [a for a in activity_list.activities() if a.non_negotiable and a.id not in present]


def agree(plan: PartnershipPlan, note: str, user: User) -> PartnershipPlan:
    """Record the plan as agreed with the partnership's headteachers; refused while a
    non-negotiable activity is neither planned nor left out with a reason."""
    _require_writer(plan, user)
    text = " ".join(note.split())
    if not text:
        raise PlanError("Say how and when the headteachers agreed the plan", "agreed_note")
    if len(text) > MAX_TEXT:
        raise PlanError(f"The note must be {MAX_TEXT} characters or fewer", "agreed_note")
    missing = missing_non_negotiables(plan)
    if missing:
        names = "; ".join(a.name for a in missing)
        raise PlanError(
            "Every non-negotiable activity must be in the plan, or the plan must say why not. "
            f"Missing: {names}",
            "agreed_note",
        )
    if not any(item.planned_half_days for item in plan.items):
        raise PlanError("Plan at least one activity before it is agreed", "agreed_note")
    plan.agreed_note = text
    plan.agreed_at = utcnow()
    db.session.flush()
    return plan


# --- Figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFigures:
    """Half-days of one planned activity: planned, booked (scheduled visits) and delivered."""

    item: PlanItem | None  # None: visits booked against no planned activity
    planned: int = 0
    booked: int = 0
    delivered: int = 0
    visits: list[SharedVisit] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.item.activity.name if self.item else "Not in the plan"


@dataclass(frozen=True)
class PlanFigures:
    items: list[ItemFigures]
    partnership_half_days: int  # the members' partnership core allocations, summed
    planned: int
    booked: int
    delivered: int

    @property
    def unplanned(self) -> int:
        return self.partnership_half_days - self.planned


def shared_visits(partnership_id: int, year_id: int) -> list[SharedVisit]:
    """The partnership's shared visits of its core days in the year, by date, with their schools'
    visits (not those against a partnership order: they draw bought days, not the plan's)."""
    return list(
        db.session.execute(
            select(SharedVisit)
            .options(
                selectinload(SharedVisit.visits).joinedload(Visit.school),
                joinedload(SharedVisit.adviser),
            )
            .where(
                SharedVisit.partnership_id == partnership_id,
                SharedVisit.academic_year_id == year_id,
                SharedVisit.partnership_order_line_id.is_(None),
            )
            .order_by(SharedVisit.visit_date, SharedVisit.id)
        ).scalars()
    )


def status_of(shared: SharedVisit) -> VisitStatus:
    """A shared visit's status: its schools' visits move together."""
    return shared.visits[0].status if shared.visits else VisitStatus.CANCELLED


def partnership_half_days(partnership_id: int, year_id: int) -> int:
    """The partnership's core days: its open members' partnership allocations, summed."""
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(CoreAllocation.half_days), 0))
            .join(School, School.id == CoreAllocation.school_id)
            .where(
                School.partnership_id == partnership_id,
                School.status == SchoolStatus.OPEN,
                CoreAllocation.academic_year_id == year_id,
                CoreAllocation.reason == AllocationReason.PARTNERSHIP,
            )
        ).scalar_one()
    )


def figures(plan: PartnershipPlan | None, partnership_id: int, year_id: int) -> PlanFigures:
    """Planned, booked and delivered half-days per activity of the plan (and for shared visits
    booked against no activity), with the partnership's core days."""
    by_item: dict[int | None, list[SharedVisit]] = {}
    for shared in shared_visits(partnership_id, year_id):
        by_item.setdefault(shared.plan_item_id, []).append(shared)

    def sums(visits: list[SharedVisit]) -> tuple[int, int]:
        booked = sum(v.half_days for v in visits if status_of(v) == VisitStatus.SCHEDULED)
        done = sum(v.half_days for v in visits if status_of(v) == VisitStatus.DELIVERED)
        return booked, done

    rows = []
    for item in plan.items if plan else []:
        booked, done = sums(by_item.get(item.id, []))
        rows.append(
            ItemFigures(item, item.planned_half_days, booked, done, by_item.get(item.id, []))
        )
    loose = by_item.get(None, [])
    if loose:
        booked, done = sums(loose)
        rows.append(ItemFigures(None, 0, booked, done, loose))
    return PlanFigures(
        items=rows,
        partnership_half_days=partnership_half_days(partnership_id, year_id),
        planned=sum(r.planned for r in rows),
        booked=sum(r.booked for r in rows),
        delivered=sum(r.delivered for r in rows),
    )


@dataclass(frozen=True)
class PlanRow:
    partnership: Partnership
    members: int
    plan: PartnershipPlan | None


def plan_list(year_id: int) -> list[PlanRow]:
    """Every active partnership, its size and its plan for the year (if any)."""
    counts = dict(
        db.session.execute(
            select(School.partnership_id, func.count())
            .where(School.status == SchoolStatus.OPEN, School.partnership_id.is_not(None))
            .group_by(School.partnership_id)
        )
        .tuples()
        .all()
    )
    plans = {
        p.partnership_id: p
        for p in db.session.execute(
            select(PartnershipPlan)
            .options(joinedload(PartnershipPlan.adviser))
            .where(PartnershipPlan.academic_year_id == year_id)
        ).scalars()
    }
    rows = db.session.execute(
        select(Partnership)
        .options(joinedload(Partnership.quadrant))
        .where(Partnership.active.is_(True))
        .order_by(Partnership.name)
    ).scalars()
    return [PlanRow(p, counts.get(p.id, 0), plans.get(p.id)) for p in rows]


def school_partnership(user: User) -> Partnership | None:
    """A school user's own school's partnership: the only plan they may see."""
    school = user.school
    if school is None or school.partnership_id is None:
        return None
    return db.session.get(Partnership, school.partnership_id)
