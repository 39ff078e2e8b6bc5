"""The council's list of delivery activities: its non-negotiable monitoring activities and the
others it agrees with schools. Visit reports record which a visit covered; partnership plans plan
them. The service manager adds, renames, describes, orders and retires them; a retired activity
keeps its place in past reports and plans but is offered no more."""

from __future__ import annotations

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import DeliveryActivity
from traded_app.services.platform.errors import DomainError, NotFound

MAX_NAME = 120
MAX_DESCRIPTION = 1000

# The council's 2017/18 proposal (seed 003) names these as the activities that keep its
# monitoring role; migration 0023 loads them into a new database.
NON_NEGOTIABLE = (
    "Data analysis of the partnership's schools, with their headteachers",
    "Evaluation of Ofsted readiness for schools likely to be inspected this year",
    "Support for newly appointed headteachers",
    "Monitoring and support where vulnerable pupils' outcomes cause concern",
)


class ActivityError(DomainError, ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def activities(*, with_retired: bool = False) -> list[DeliveryActivity]:
    """Non-negotiable activities first, then the others, each in the council's order."""
    stmt = select(DeliveryActivity).order_by(
        DeliveryActivity.non_negotiable.desc(),
        DeliveryActivity.position,
        DeliveryActivity.name,
    )
    if not with_retired:
        stmt = stmt.where(DeliveryActivity.active.is_(True))
    return list(db.session.execute(stmt).scalars())


def activity_by_id(activity_id: int) -> DeliveryActivity:
    activity = db.session.get(DeliveryActivity, activity_id)
    if activity is None:
        raise NotFound("There is no such activity")
    return activity


def activities_by_ids(ids: list[int]) -> list[DeliveryActivity]:
    """The active activities with these ids; an unknown or retired one is refused by name."""
    wanted = set(ids)
    found = {a.id: a for a in activities() if a.id in wanted}
    if len(found) != len(wanted):
        raise ActivityError("Select activities from the list", "activities")
    return [found[i] for i in ids if i in found]


def save_activity(
    activity: DeliveryActivity | None, name: str, description: str, non_negotiable: bool
) -> DeliveryActivity:
    """Add an activity to the list, or change one (its name stays unique, in any case)."""
    name = " ".join(name.split())
    description = description.strip()
    if not name:
        raise ActivityError("Enter the activity's name", "name")
    if len(name) > MAX_NAME:
        raise ActivityError(f"Name must be {MAX_NAME} characters or fewer", "name")
    if len(description) > MAX_DESCRIPTION:
        raise ActivityError(
            f"Description must be {MAX_DESCRIPTION} characters or fewer", "description"
        )
    clash = db.session.execute(
        select(DeliveryActivity.id).where(func.lower(DeliveryActivity.name) == name.lower())
    ).scalar_one_or_none()
    if clash is not None and (activity is None or clash != activity.id):
        raise ActivityError(f"There is already an activity called {name}", "name")
    if activity is None:
        last = db.session.execute(
            select(func.coalesce(func.max(DeliveryActivity.position), 0))
        ).scalar_one()
        activity = DeliveryActivity(
            name=name,
            description=description,
            non_negotiable=non_negotiable,
            active=True,
            position=last + 1,
        )
        db.session.add(activity)
    else:
        if activity.name != name:
            activity.name = name
        if activity.description != description:
            activity.description = description
        if activity.non_negotiable != non_negotiable:
            activity.non_negotiable = non_negotiable
    db.session.flush()
    return activity


def set_activity_active(activity: DeliveryActivity, active: bool) -> None:
    """Retire an activity (offered no more; past reports and plans keep it) or bring it back."""
    if activity.active != active:
        activity.active = active
    db.session.flush()


def ensure_non_negotiable_activities() -> None:
    """Add the council's non-negotiable activities where missing (demo data; a new database
    gets them from its migration)."""
    for name in NON_NEGOTIABLE:
        exists = db.session.execute(
            select(DeliveryActivity.id).where(DeliveryActivity.name == name)
        ).scalar_one_or_none()
        if exists is None:
            save_activity(None, name, "", True)
