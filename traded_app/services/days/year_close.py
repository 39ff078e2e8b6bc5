"""Closing an academic year (issue 15 part 6): each open school's unused days carried over into
the next year or lapsed, by the council's year-end rule (domain/year_end), as days ledger rows.

The service manager first sees a preview (per school: the days left on each order line and the
core allocation, what carries over and what lapses; the county's totals; a CSV), then applies
it in one transaction: a `YearClose` row (who, when, the rule as it was, the totals; the audit
trail records it) and, for each line with days left, `DaysTransfer` rows: carried-over days less
on the closed year and more on the next (same order line, or core), lapsed days less on the
closed year. A year is closed once (the unique year, checked under the year's row lock).

A year can be closed once it has ended, when the next year is set up and no visit in it is still
booked (recorded as delivered or cancelled first: a booked visit would otherwise use days that
have gone). Schools that are no longer open are left as they are.

The figures are the days ledger's (services/days/ledger), computed for every school at once in
a few grouped queries, so a preview of 600 schools costs the same queries as one of 6."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select

from traded_app import formatting
from traded_app.domain import year_end
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    CoreAllocation,
    DaysTransfer,
    DaysTransferKind,
    Order,
    OrderLine,
    Quadrant,
    School,
    Service,
    User,
    Visit,
    YearClose,
    YearEndRule,
)
from traded_app.models.orders import SOLD_STATUSES
from traded_app.models.types import Role, SchoolStatus
from traded_app.services.days import ledger as days_ledger
from traded_app.services.days.over_time import days_rules, year_end_rule
from traded_app.services.platform.audit import safe_cell
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.paging import Page, page_count

CORE = "Core allocation"


class YearCloseError(DomainError, ValueError):
    pass


@dataclass(frozen=True)
class LineClose:
    """One order line's (or the core allocation's) unused days and what happens to them."""

    what: str  # the service's name, or "Core allocation"
    order_line_id: int | None
    order_reference: str
    unused: int
    carried: int

    @property
    def lapsed(self) -> int:
        return self.unused - self.carried


@dataclass(frozen=True)
class SchoolClose:
    school_id: int
    urn: int
    name: str
    quadrant_name: str
    lines: list[LineClose]
    booked_half_days: int  # visits still booked in the year

    @property
    def unused(self) -> int:
        return sum(line.unused for line in self.lines)

    @property
    def carried(self) -> int:
        return sum(line.carried for line in self.lines)

    @property
    def lapsed(self) -> int:
        return sum(line.lapsed for line in self.lines)


@dataclass(frozen=True)
class Preview:
    year: AcademicYear
    to_year: AcademicYear | None
    rule: year_end.Rule
    schools: list[SchoolClose]  # open schools with days left or visits still booked
    closed: YearClose | None
    refusal: str  # why the year cannot be closed now ("" when it can)

    @property
    def carried(self) -> int:
        return sum(school.carried for school in self.schools)

    @property
    def lapsed(self) -> int:
        return sum(school.lapsed for school in self.schools)

    @property
    def booked_half_days(self) -> int:
        return sum(school.booked_half_days for school in self.schools)

    @property
    def schools_booked(self) -> int:
        return sum(1 for school in self.schools if school.booked_half_days)

    def page(self, number: int, per_page: int = 50) -> Page[SchoolClose]:
        """A page of the schools (clamped like every paged list)."""
        total = len(self.schools)
        number = min(max(1, number), page_count(total, per_page))
        start = (number - 1) * per_page
        return Page(self.schools[start : start + per_page], total, number, per_page)


# --- Years -----------------------------------------------------------------------------------


def year_by_start(start_year: int) -> AcademicYear | None:
    return db.session.execute(
        select(AcademicYear).where(AcademicYear.start_year == start_year)
    ).scalar_one_or_none()


def years() -> list[AcademicYear]:
    return list(
        db.session.execute(select(AcademicYear).order_by(AcademicYear.start_year)).scalars()
    )


def default_year(on: date) -> AcademicYear | None:
    """The year to show first: the latest ended year not yet closed, else the latest ended."""
    ended = [year for year in years() if year.ends_on < on]
    open_ = [year for year in ended if closing_of(year.id) is None]
    chosen = open_ or ended
    return chosen[-1] if chosen else None


def closing_of(year_id: int) -> YearClose | None:
    return db.session.execute(
        select(YearClose).where(YearClose.academic_year_id == year_id)
    ).scalar_one_or_none()


def closer_name(closed: YearClose) -> str:
    user = db.session.get(User, closed.closed_by_id)
    return user.name if user is not None else "someone"


# --- The figures, for every school at once ---------------------------------------------------


@dataclass
class _Line:
    school_id: int
    status: Any
    this_year: bool
    half_days: int
    service_name: str
    order_id: int


def _line_info(year_id: int, extra_ids: set[int]) -> dict[int, _Line]:
    """The year's order lines in the ledger, and lines of other years days were moved onto."""
    statuses = days_ledger.LEDGER_STATUSES
    columns = (
        OrderLine.id,
        Order.school_id,
        Order.status,
        Order.academic_year_id == year_id,
        OrderLine.half_days,
        Service.name,
        Order.id,
    )
    query = (
        select(*columns)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Service, Service.id == OrderLine.service_id)
    )
    rows = list(
        db.session.execute(
            query.where(Order.academic_year_id == year_id, Order.status.in_(statuses))
        ).tuples()
    )
    known = {row[0] for row in rows}
    missing = extra_ids - known
    if missing:
        rows += db.session.execute(
            query.where(OrderLine.id.in_(sorted(missing)), Order.status.in_(statuses))
        ).tuples()
    return {
        line_id: _Line(school_id, status, bool(this_year), int(half_days), name, order_id)
        for line_id, school_id, status, this_year, half_days, name, order_id in rows
    }


def _unused_by_school(year_id: int) -> tuple[dict[int, list[LineClose]], dict[int, int]]:
    """Per school: each line's days left (as the ledger has them) before any rule, with the
    core allocation last; and the half-days of visits still booked. Five queries."""
    core = dict(
        db.session.execute(
            select(CoreAllocation.school_id, func.sum(CoreAllocation.half_days))
            .where(CoreAllocation.academic_year_id == year_id)
            .group_by(CoreAllocation.school_id)
        )
        .tuples()
        .all()
    )
    moved: dict[tuple[int, int | None], int] = {
        (school_id, line_id): int(half_days)
        for school_id, line_id, half_days in db.session.execute(
            select(
                DaysTransfer.school_id, DaysTransfer.order_line_id, func.sum(DaysTransfer.half_days)
            )
            .where(DaysTransfer.academic_year_id == year_id)
            .group_by(DaysTransfer.school_id, DaysTransfer.order_line_id)
        ).tuples()
    }
    used: dict[tuple[int, int | None], int] = defaultdict(int)
    booked: dict[int, int] = defaultdict(int)
    for school_id, line_id, scheduled, delivered, charged in db.session.execute(
        select(*days_ledger.visit_sums(Visit.school_id, Visit.order_line_id))
        .where(Visit.academic_year_id == year_id)
        .group_by(Visit.school_id, Visit.order_line_id)
    ).tuples():
        used[(school_id, line_id)] += int(delivered) + int(charged)
        booked[school_id] += int(scheduled)
    lines = _line_info(year_id, {line for _school, line in moved if line is not None})

    keys: set[tuple[int, int]] = {
        (info.school_id, line_id) for line_id, info in lines.items() if info.this_year
    }
    keys |= {(school, line) for school, line in moved if line is not None and line in lines}
    traded: dict[int, list[tuple[tuple[str, int, int], LineClose]]] = defaultdict(list)
    for school_id, line_id in keys:
        info = lines[line_id]
        own = info.school_id == school_id and info.this_year
        bought = info.half_days if own else 0
        line_used = used.get((school_id, line_id), 0)
        allocated = line_used  # an own cancelled line keeps only its used days
        if info.status in SOLD_STATUSES or not own:
            allocated = bought + moved.get((school_id, line_id), 0)
        left = allocated - line_used
        if left > 0:
            reference = f"ORD-{info.order_id:06d}"
            traded[school_id].append(
                (
                    (info.service_name, info.order_id, line_id),
                    LineClose(info.service_name, line_id, reference, left, 0),
                )
            )
    result: dict[int, list[LineClose]] = {}
    for school_id in set(traded) | set(core) | {s for s, line in moved if line is None}:
        ordered = [line for _key, line in sorted(traded.get(school_id, []), key=lambda t: t[0])]
        core_left = (
            int(core.get(school_id) or 0)
            + moved.get((school_id, None), 0)
            - used.get((school_id, None), 0)
        )
        if core_left > 0:
            ordered.append(LineClose(CORE, None, "", core_left, 0))
        if ordered:
            result[school_id] = ordered
    return result, dict(booked)


def _apply_rule(rule: year_end.Rule, lines: list[LineClose]) -> list[LineClose]:
    traded = [(index, line.unused) for index, line in enumerate(lines) if line.order_line_id]
    core_left = sum(line.unused for line in lines if line.order_line_id is None)
    carried = {}
    for outcome in year_end.close_school(rule, traded, core_left):
        carried[outcome.line] = outcome.carried
    return [
        LineClose(
            line.what,
            line.order_line_id,
            line.order_reference,
            line.unused,
            carried.get(index if line.order_line_id else None, 0),
        )
        for index, line in enumerate(lines)
    ]


# --- Preview ---------------------------------------------------------------------------------


def preview(year: AcademicYear, on: date) -> Preview:
    """What closing `year` would do to each open school (or did, once closed: then the figures
    are what is left now, nothing)."""
    rule = year_end_rule(days_rules())
    unused, booked = _unused_by_school(year.id)
    rows = db.session.execute(
        select(School.id, School.urn, School.name, Quadrant.name)
        .outerjoin(Quadrant, Quadrant.id == School.quadrant_id)
        .where(School.status == SchoolStatus.OPEN)
        .order_by(School.name, School.urn)
    ).tuples()
    schools = [
        SchoolClose(
            school_id,
            urn,
            name,
            quadrant or "No quadrant",
            _apply_rule(rule, unused.get(school_id, [])),
            booked.get(school_id, 0),
        )
        for school_id, urn, name, quadrant in rows
        if school_id in unused or booked.get(school_id)
    ]
    to_year = year_by_start(year.start_year + 1)
    closed = closing_of(year.id)
    found = Preview(year, to_year, rule, schools, closed, "")
    return Preview(year, to_year, rule, schools, closed, _refusal(found, on))


def _refusal(found: Preview, on: date) -> str:
    year = found.year
    if found.closed is not None:
        return (
            f"{year.label} was closed on {formatting.long_date(found.closed.closed_at)} by "
            f"{closer_name(found.closed)}. A year is closed once."
        )
    if on <= year.ends_on:
        return (
            f"{year.label} ends on {formatting.long_date(year.ends_on)}: it can be closed from "
            "the next day."
        )
    if found.to_year is None:
        return (
            f"Set up {year.start_year + 1}/{str(year.start_year + 2)[-2:]} before closing "
            f"{year.label}: carried-over days go into it."
        )
    if found.booked_half_days:
        visits = found.schools_booked
        return (
            f"{visits} school{'' if visits == 1 else 's'} still "
            f"{'has' if visits == 1 else 'have'} visits booked in {year.label} "
            f"({formatting.days(found.booked_half_days)}). Record them as delivered or cancel "
            "them before closing the year."
        )
    return ""


def preview_csv(found: Preview) -> str:
    """The preview, one row per school and line, for a spreadsheet (formula-safe cells)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "URN",
            "School",
            "Quadrant",
            "Days of",
            "Order",
            "Days left",
            f"Carry over to {found.to_year.label if found.to_year else 'next year'}",
            "Lapse",
            "Days still booked",
        ]
    )
    for school in found.schools:
        for line in school.lines or [LineClose("", None, "", 0, 0)]:
            writer.writerow(
                [
                    school.urn,
                    safe_cell(school.name),
                    safe_cell(school.quadrant_name),
                    safe_cell(line.what),
                    line.order_reference,
                    formatting.days_number(line.unused),
                    formatting.days_number(line.carried),
                    formatting.days_number(line.lapsed),
                    formatting.days_number(school.booked_half_days),
                ]
            )
    writer.writerow(
        [
            "",
            "All schools",
            "",
            "",
            "",
            formatting.days_number(sum(s.unused for s in found.schools)),
            formatting.days_number(found.carried),
            formatting.days_number(found.lapsed),
            formatting.days_number(found.booked_half_days),
        ]
    )
    return out.getvalue()


# --- Applying it ------------------------------------------------------------------------------


def close_year(
    year: AcademicYear,
    user: User,
    on: date,
    *,
    expected: tuple[int, int] | None = None,
) -> YearClose:
    """Close `year`: every open school's unused days carried over or lapsed, in one flush of
    the caller's transaction. `expected` is (carried, lapsed) as the service manager previewed
    them: refused if the figures have changed since."""
    if user.role != Role.LA_ADMIN:
        raise YearCloseError("Only the service manager closes a year")
    # Serialise closings of the year (SQLite: the write lock at BEGIN).
    db.session.execute(select(AcademicYear.id).where(AcademicYear.id == year.id).with_for_update())
    found = preview(year, on)
    if found.refusal:
        raise YearCloseError(found.refusal)
    assert found.to_year is not None  # refused above
    if expected is not None and expected != (found.carried, found.lapsed):
        raise YearCloseError(
            "The figures have changed since you looked (days were used or booked). Check the "
            "preview again before closing the year."
        )
    closing = YearClose(
        academic_year_id=year.id,
        to_year_id=found.to_year.id,
        rule=YearEndRule.CARRY_OVER if found.rule.carry_over else YearEndRule.LAPSE,
        carry_over_max_half_days=found.rule.max_half_days,
        core_carries_over=found.rule.core_carries_over,
        schools=len(found.schools),
        carried_half_days=found.carried,
        lapsed_half_days=found.lapsed,
        closed_by_id=user.id,
    )
    db.session.add(closing)
    db.session.flush()
    rows = _transfer_rows(found, closing.id)
    if rows:
        db.session.execute(insert(DaysTransfer), rows)
    return closing


def _transfer_rows(found: Preview, close_id: int) -> list[dict[str, Any]]:
    """The ledger rows of a close: carried over (less on the closed year, more on the next) and
    lapsed (less on the closed year), per line."""
    assert found.to_year is not None
    old, new = found.year, found.to_year
    carry, lapse = DaysTransferKind.CARRY_OVER, DaysTransferKind.LAPSE
    moves: list[tuple[int, LineClose, int, int, DaysTransferKind, str]] = []
    for school in found.schools:
        for line in school.lines:
            if line.carried:
                moves.append(
                    (
                        school.school_id,
                        line,
                        old.id,
                        -line.carried,
                        carry,
                        f"Carried over to {new.label}",
                    )
                )
                moves.append(
                    (
                        school.school_id,
                        line,
                        new.id,
                        line.carried,
                        carry,
                        f"Carried over from {old.label}",
                    )
                )
            if line.lapsed:
                moves.append(
                    (
                        school.school_id,
                        line,
                        old.id,
                        -line.lapsed,
                        lapse,
                        f"Lapsed at the end of {old.label}",
                    )
                )
    return [
        {
            "kind": kind,
            "year_close_id": close_id,
            "school_id": school_id,
            "academic_year_id": year_id,
            "order_line_id": line.order_line_id,
            "half_days": half_days,
            "reason": reason,
        }
        for school_id, line, year_id, half_days, kind, reason in moves
    ]
