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
import functools
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, cast

from sqlalchemy import BindParameter, Integer, Table, bindparam, func, insert, select, true

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
from traded_app.services.days import year_close_totals
from traded_app.services.days.over_time import days_rules, year_end_rule
from traded_app.services.days.year_close_totals import Totals
from traded_app.services.platform.audit import safe_cell
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.paging import Page

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
    totals: Totals  # the county's, over every open school
    # Open schools with days left or visits still booked: all of them, or one page's.
    schools: list[SchoolClose]
    closed: YearClose | None
    refusal: str  # why the year cannot be closed now ("" when it can)
    page: Page[SchoolClose] | None = None

    @property
    def carried(self) -> int:
        return self.totals.carried

    @property
    def lapsed(self) -> int:
        return self.totals.lapsed

    @property
    def booked_half_days(self) -> int:
        return self.totals.booked_half_days

    @property
    def schools_booked(self) -> int:
        return self.totals.schools_booked


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


@functools.lru_cache(maxsize=2)
def _queries(filtered: bool) -> dict[str, Any]:
    """The five reads of `_unused_by_school`, built once (for every school, or `filtered` to the
    expanding `ids`), with the year bound at execution: building them costs more than running
    them."""
    year: BindParameter[int] = bindparam("year_id", type_=Integer)
    ids: BindParameter[Any] = bindparam("ids", expanding=True)

    def of(column: Any) -> Any:
        return column.in_(ids) if filtered else true()

    lines = (
        select(
            OrderLine.id,
            Order.school_id,
            Order.status,
            Order.academic_year_id == year,
            OrderLine.half_days,
            Service.name,
            Order.id,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .join(Service, Service.id == OrderLine.service_id)
    )
    statuses = list(days_ledger.LEDGER_STATUSES)
    return {
        "core": select(CoreAllocation.school_id, func.sum(CoreAllocation.half_days))
        .where(CoreAllocation.academic_year_id == year, of(CoreAllocation.school_id))
        .group_by(CoreAllocation.school_id),
        "moved": select(
            DaysTransfer.school_id, DaysTransfer.order_line_id, func.sum(DaysTransfer.half_days)
        )
        .where(DaysTransfer.academic_year_id == year, of(DaysTransfer.school_id))
        .group_by(DaysTransfer.school_id, DaysTransfer.order_line_id),
        "visits": select(*days_ledger.visit_sums(Visit.school_id, Visit.order_line_id))
        .where(Visit.academic_year_id == year, of(Visit.school_id))
        .group_by(Visit.school_id, Visit.order_line_id),
        "lines": lines.where(
            Order.academic_year_id == year, Order.status.in_(statuses), of(Order.school_id)
        ),
        "extra": lines.where(
            OrderLine.id.in_(bindparam("extra", expanding=True)), Order.status.in_(statuses)
        ),
    }


def _unused_by_school(
    year_id: int, school_ids: Any = None
) -> tuple[dict[int, list[LineClose]], dict[int, int]]:
    """Per school (every one, or those of `school_ids`): each line's days left (as the ledger has
    them) before any rule, with the core allocation last; and the half-days of visits still
    booked. Five queries (Core's execute: the ORM's costs more than these small reads)."""
    queries = _queries(school_ids is not None)
    values = {"year_id": year_id, "ids": list(school_ids or [])}

    def read(name: str, **more: Any) -> list[Any]:
        return list(db.session.connection().execute(queries[name], {**values, **more}).tuples())

    core = {school_id: half_days for school_id, half_days in read("core")}
    moved: dict[tuple[int, int | None], int] = {
        (school_id, line_id): int(half_days) for school_id, line_id, half_days in read("moved")
    }
    used: dict[tuple[int, int | None], int] = defaultdict(int)
    booked: dict[int, int] = defaultdict(int)
    for school_id, line_id, scheduled, delivered, charged in read("visits"):
        used[(school_id, line_id)] += int(delivered) + int(charged)
        booked[school_id] += int(scheduled)
    line_rows = read("lines")
    known = {row[0] for row in line_rows}
    missing = {line for _school, line in moved if line is not None} - known
    if missing:
        line_rows += read("extra", extra=sorted(missing))
    lines = {
        line_id: _Line(school_id, status, bool(this_year), int(half_days), name, order_id)
        for line_id, school_id, status, this_year, half_days, name, order_id in line_rows
    }

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


def _schools(
    rule: year_end.Rule, year_id: int, rows: Iterable[tuple[int, int, str, str]], ids: Any = None
) -> list[SchoolClose]:
    unused, booked = _unused_by_school(year_id, ids)
    return [
        SchoolClose(
            school_id,
            urn,
            name,
            quadrant,
            _apply_rule(rule, unused.get(school_id, [])),
            booked.get(school_id, 0),
        )
        for school_id, urn, name, quadrant in rows
        if school_id in unused or booked.get(school_id)
    ]


def _finished(found: Preview, on: date) -> Preview:
    return replace(found, refusal=_refusal(found, on))


def preview(year: AcademicYear, on: date) -> Preview:
    """What closing `year` would do to each open school, every school read line by line (what
    the close applies, and the CSV)."""
    rule = year_end_rule(days_rules())
    rows = db.session.execute(
        select(School.id, School.urn, School.name, func.coalesce(Quadrant.name, "No quadrant"))
        .outerjoin(Quadrant, Quadrant.id == School.quadrant_id)
        .where(School.status == SchoolStatus.OPEN)
        .order_by(School.name, School.urn)
    ).tuples()
    schools = _schools(rule, year.id, rows)
    unused = sum(school.unused for school in schools)
    totals = Totals(
        len(schools),
        unused,
        sum(school.carried for school in schools),
        sum(school.booked_half_days for school in schools),
        sum(1 for school in schools if school.booked_half_days),
    )
    to_year = year_by_start(year.start_year + 1)
    found = Preview(year, to_year, rule, totals, schools, closing_of(year.id), "")
    return _finished(found, on)


def preview_page(year: AcademicYear, on: date, page: int, per_page: int = 50) -> Preview:
    """The preview page: the county's totals summed by the database, and one page of schools
    read line by line, so its cost hardly grows with the number of schools."""
    rule = year_end_rule(days_rules())
    totals, rows, page = year_close_totals.totals_and_page(year.id, rule, page, per_page)
    schools = _schools(rule, year.id, rows, [row[0] for row in rows]) if rows else []
    to_year = year_by_start(year.start_year + 1)
    found = Preview(
        year,
        to_year,
        rule,
        totals,
        schools,
        closing_of(year.id),
        "",
        Page(schools, totals.schools, page, per_page),
    )
    return _finished(found, on)


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
        schools=found.totals.schools,
        carried_half_days=found.carried,
        lapsed_half_days=found.lapsed,
        closed_by_id=user.id,
    )
    db.session.add(closing)
    db.session.flush()
    rows = _transfer_rows(found, closing.id)
    if rows:
        # The table's insert: one executemany (the ORM's bulk insert splits the rows into runs
        # by which values are NULL: a statement per school).
        db.session.execute(insert(cast(Table, DaysTransfer.__table__)), rows)
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
