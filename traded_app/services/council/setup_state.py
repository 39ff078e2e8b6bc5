"""Where "Set up the service" stands: each task's status, what it waits for, and the gate on
inviting schools' staff.

A task is Completed when the service manager has said so (a `setup_task` row) and what it needs
is there (a quadrant with districts, a priced service, schools…): removing the last quadrant
makes its task Incomplete again. A task whose prerequisites are not all Completed "Cannot start
yet". Schools' staff cannot be invited while a council set up from an empty database
(`setup_in_progress`) has an incomplete task they depend on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, exists, select

from traded_app.extensions import db
from traded_app.models import (
    CouncilSettings,
    Quadrant,
    QuadrantDistrict,
    School,
    Service,
    ServicePrice,
    SetupTask,
    User,
)
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import council_settings, current_academic_year


class Status(StrEnum):
    COMPLETED = "Completed"
    INCOMPLETE = "Incomplete"
    CANNOT_START = "Cannot start yet"


@dataclass(frozen=True)
class TaskDef:
    key: str
    title: str
    hint: str
    needs: tuple[str, ...] = ()


TASKS = (
    TaskDef("details", "Council details", "Legal name, address, VAT and bank details, logo"),
    TaskDef("la_finance", "Local authority code and financial year", "For GIAS and numbering"),
    TaskDef("academic_years", "Academic years", "The dates of this year and the years ahead"),
    TaskDef("quadrants", "Quadrant teams", "Create teams and the districts each serves"),
    TaskDef("partnerships", "Partnerships", "Groups of schools", ("quadrants",)),
    TaskDef("catalogue", "Catalogue and prices", "Enter, import or copy", ("academic_years",)),
    TaskDef("schools", "Schools", "Import them from GIAS", ("la_finance", "quadrants")),
    TaskDef("approvals", "Approval and reminder settings", "Approval limit, payment reminders"),
    TaskDef("numbering", "Document numbering", "Prefixes and first numbers", ("la_finance",)),
    TaskDef("payments", "Payment options", "Terms, invoice timing, card payments", ("details",)),
)
TASK_KEYS = tuple(task.key for task in TASKS)
# What inviting schools' staff waits for (partnerships can come later).
INVITE_NEEDS = tuple(key for key in TASK_KEYS if key != "partnerships")


class SetupError(DomainError, ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _has(stmt: Select[Any]) -> bool:
    return bool(db.session.execute(select(exists(stmt))).scalar())


def _details_ready(settings: CouncilSettings | None) -> str:
    return "" if settings is not None and settings.details_set else "Enter the council's details"


def _la_ready(settings: CouncilSettings | None) -> str:
    if settings is None or not settings.la_code:
        return "Enter the council's local authority code"
    return ""


def _years_ready(_settings: CouncilSettings | None) -> str:
    return "" if current_academic_year() else "Set up this academic year"


def _quadrants_ready(_settings: CouncilSettings | None) -> str:
    served = (
        select(QuadrantDistrict.id)
        .join(Quadrant, Quadrant.id == QuadrantDistrict.quadrant_id)
        .where(Quadrant.active.is_(True))
    )
    return "" if _has(served) else "Add a quadrant team with at least one district"


def _catalogue_ready(_settings: CouncilSettings | None) -> str:
    year = current_academic_year()
    if year is None:
        return "Set up this academic year first"
    priced = (
        select(ServicePrice.id)
        .join(Service, Service.id == ServicePrice.service_id)
        .where(Service.active.is_(True), ServicePrice.academic_year_id == year.id)
    )
    return "" if _has(priced) else f"Add at least one service with a price for {year.label}"


def _schools_ready(_settings: CouncilSettings | None) -> str:
    open_school = select(School.id).where(School.closed_on.is_(None))
    return "" if _has(open_school) else "Import the council's schools from GIAS"


def _nothing_needed(_settings: CouncilSettings | None) -> str:
    return ""


# What each task needs in the data before it can be marked complete ("" when it is there).
READY: dict[str, Callable[[CouncilSettings | None], str]] = {
    "details": _details_ready,
    "la_finance": _la_ready,
    "academic_years": _years_ready,
    "quadrants": _quadrants_ready,
    "partnerships": _nothing_needed,
    "catalogue": _catalogue_ready,
    "schools": _schools_ready,
    "approvals": _nothing_needed,
    "numbering": _nothing_needed,
    "payments": _nothing_needed,
}


@dataclass(frozen=True)
class TaskRow:
    task: TaskDef
    status: Status
    waiting_for: tuple[str, ...]  # titles of the tasks it cannot start without


def task_def(key: str) -> TaskDef:
    for task in TASKS:
        if task.key == key:
            return task
    raise KeyError(key)


def marked_complete() -> set[str]:
    return set(db.session.execute(select(SetupTask.key)).scalars())


def task_rows() -> list[TaskRow]:
    """Every task with its status, in the order the page lists them."""
    settings = council_settings()
    marked = marked_complete()
    done = {key for key in TASK_KEYS if key in marked and not READY[key](settings)}
    rows = []
    for task in TASKS:
        waiting = tuple(task_def(need).title for need in task.needs if need not in done)
        if waiting:
            status = Status.CANNOT_START
        elif task.key in done:
            status = Status.COMPLETED
        else:
            status = Status.INCOMPLETE
        rows.append(TaskRow(task, status, waiting))
    return rows


def completed_keys() -> set[str]:
    return {row.task.key for row in task_rows() if row.status == Status.COMPLETED}


def invite_waiting_for() -> list[str]:
    """The titles of the tasks inviting schools' staff still waits for (none: it can start).

    Only a council being set up from an empty database waits: one set up before "Set up the
    service" existed (or with the demo data) invites as it always has."""
    settings = council_settings()
    if settings is not None and not settings.setup_in_progress:
        return []
    done = completed_keys()
    return [task_def(key).title for key in INVITE_NEEDS if key not in done]


def mark(key: str, complete: bool, by: User | None) -> None:
    """Say a task is complete (refused, with what is missing, until its data is there) or not."""
    task = task_def(key)
    row = db.session.get(SetupTask, key)
    if not complete:
        if row is not None:
            db.session.delete(row)
            db.session.flush()
        return
    rows = {r.task.key: r for r in task_rows()}
    if rows[key].waiting_for:
        raise SetupError(
            f"{task.title} cannot start yet: complete {', '.join(rows[key].waiting_for)} first",
            "completed",
        )
    missing = READY[key](council_settings())
    if missing:
        raise SetupError(f"{missing} before marking {task.title.lower()} as complete", "completed")
    if row is None:
        db.session.add(SetupTask(key=key, completed_by_id=by.id if by else None))
        db.session.flush()
