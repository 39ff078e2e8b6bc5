"""One line's days set on a school's existing draft: the request every business manager repeats,
eight times or more, on the buy-back morning. Plain statements built once; no ORM objects loaded
or flushed.

The draft is touched first: its version bumped, as `basket.set_days` does through the ORM (a
checkout made against the basket before is caught), which also locks its row on PostgreSQL, so
changes to one basket take turns (SQLite's writer holds the database's lock already). Then the
line is set (added only when there was none, taken out for 0 days), and the lines read back for
the answer.

SQLite runs these as four statements in its own process. PostgreSQL runs them as one (data-
modifying common table expressions), a round trip to the database server in place of three: each
round trip costs the server's CPU and the app's, on the busiest morning of the year. One
statement reads from one snapshot, taken before it waited for the draft's row lock; if someone
else's change to the basket committed in that wait, the draft's version shows it and the lines
are read again, afresh. That statement also reads the school's days in the year (the summary's
figures, which a change of days leaves as they are), a round trip fewer again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Row,
    Table,
    bindparam,
    delete,
    exists,
    insert,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from traded_app.extensions import db
from traded_app.models import AcademicYear, Order, OrderLine, OrderStatus, Quote, School
from traded_app.models.base import utcnow
from traded_app.services.days import position as days_position
from traded_app.services.days.position import YearPosition
from traded_app.services.platform.statements import Precompiled, as_loaded, constant, run
from traded_app.services.platform.transactions import statement_alone

_ORDERS = cast(Table, Order.__table__)
_LINES = cast(Table, OrderLine.__table__)
_DAYS = bindparam("days", type_=Integer)
_SERVICE = bindparam("service", type_=Integer)

_TOUCH_DRAFT = (
    update(_ORDERS)
    .where(
        _ORDERS.c.school_id == bindparam("school"),
        _ORDERS.c.academic_year_id == bindparam("year"),
        _ORDERS.c.status == constant(OrderStatus.DRAFT),
    )
    .values(version=_ORDERS.c.version + 1, updated_at=bindparam("now"))
    .returning(_ORDERS.c.id, _ORDERS.c.version, _ORDERS.c.quote_id)
)

# --- Any database: four statements ------------------------------------------------------------

_LINE_OF = (_LINES.c.order_id == bindparam("order")) & (_LINES.c.service_id == _SERVICE)
_SET_LINE = update(_LINES).where(_LINE_OF).values(half_days=_DAYS)
_ADD_LINE = insert(_LINES).values(order_id=bindparam("order"), service_id=_SERVICE, half_days=_DAYS)
_REMOVE_LINE = delete(_LINES).where(_LINE_OF)
_LINES_OF = (
    select(_LINES.c.id, _LINES.c.service_id, _LINES.c.half_days)
    .where(_LINES.c.order_id == bindparam("order"))
    .order_by(_LINES.c.id)
)

# --- PostgreSQL: one statement ----------------------------------------------------------------


def _in_one_statement() -> Any:
    """touched (the draft's version bumped, its row locked), then the line: changed where it is,
    else added (ON CONFLICT: a line someone else added while this waited for the lock is set,
    not duplicated), or removed for 0 days. The answer's rows: the draft's id, new version and
    quote, its version as this statement's snapshot saw it, and one row per line (none for an
    empty basket), the set line as written and the others as the snapshot saw them."""
    touched = _TOUCH_DRAFT.cte("touched")
    here = (_LINES.c.order_id == touched.c.id) & (_LINES.c.service_id == _SERVICE)
    changed = (
        update(_LINES)
        .where(here, _DAYS > 0)
        .values(half_days=_DAYS)
        .returning(_LINES.c.id, _LINES.c.service_id, _LINES.c.half_days)
        .cte("changed")
    )
    adding = pg_insert(_LINES).from_select(
        ["order_id", "service_id", "half_days"],
        select(touched.c.id, _SERVICE, _DAYS).where(_DAYS > 0, ~exists(select(changed.c.id))),
    )
    added = (
        adding.on_conflict_do_update(
            index_elements=[_LINES.c.order_id, _LINES.c.service_id],
            set_={"half_days": adding.excluded.half_days},
        )
        .returning(_LINES.c.id, _LINES.c.service_id, _LINES.c.half_days)
        .cte("added")
    )
    removed = delete(_LINES).where(here, _DAYS == 0).returning(_LINES.c.id).cte("removed")
    others = select(_LINES.c.id, _LINES.c.service_id, _LINES.c.half_days).where(
        _LINES.c.order_id == touched.c.id, _LINES.c.service_id != _SERVICE
    )
    lines = union_all(
        others,
        select(changed.c.id, changed.c.service_id, changed.c.half_days),
        select(added.c.id, added.c.service_id, added.c.half_days),
    ).subquery("lines")
    seen = select(_ORDERS.c.version).where(_ORDERS.c.id == touched.c.id).scalar_subquery()
    days = days_position.POSITION.subquery("days")
    return (
        select(
            touched.c.id,
            touched.c.version,
            touched.c.quote_id,
            seen.label("seen_version"),
            lines.c.id.label("line_id"),
            lines.c.service_id,
            lines.c.half_days,
            *days.c,
        )
        .select_from(touched.outerjoin(lines, true()).join(days, true()))
        .add_cte(removed)
        .order_by(lines.c.id)
    )


_SET_LINE_IN_ONE = Precompiled(_in_one_statement())


def reads_position() -> bool:
    """Whether `set_line` reads the school's days in the year too (on PostgreSQL)."""
    return db.session().get_bind().dialect.name == "postgresql"


@dataclass(frozen=True)
class LineSet:
    order: Order  # the draft as it now is, for the basket's summary
    position: YearPosition | None  # the school's days in the year, when `reads_position()`


def set_line(school: School, year: AcademicYear, service_id: int, half_days: int) -> LineSet | None:
    """Set the line on the school's draft of `year` (0 takes it out) and answer the draft as it
    now is: an object for the basket's summary (its school, year, version, quote and lines), in
    no session. None, having written nothing, when the school has no draft of `year` yet."""
    params = {
        "school": school.id,
        "year": year.id,
        "now": utcnow(),
        "service": service_id,
        "days": half_days,
        "school_id": school.id,
        "year_id": year.id,
    }
    if reads_position():
        with_position = _set_in_one(params)
        if with_position is None:
            return None
        (order, lines), position = with_position
        return LineSet(_draft(school, year, order, lines), position)
    found = _set_in_four(params)
    if found is None:
        return None
    return LineSet(_draft(school, year, *found), None)


def _draft(
    school: School,
    year: AcademicYear,
    order: tuple[int, int, int | None],
    lines: list[tuple[int, int, int]],
) -> Order:
    order_id, version, quote_id = order
    return as_loaded(
        Order,
        id=order_id,
        school_id=school.id,
        academic_year_id=year.id,
        status=OrderStatus.DRAFT,
        version=version,
        quote_id=quote_id,
        lines=[
            as_loaded(OrderLine, id=id_, order_id=order_id, service_id=service, half_days=days)
            for id_, service, days in lines
        ],
        school=school,
        academic_year=year,
        quote=None if quote_id is None else db.session.get(Quote, quote_id),
    )


_Found = tuple[tuple[int, int, int | None], list[tuple[int, int, int]]]


def _set_in_four(params: dict[str, Any]) -> _Found | None:
    touched = run(_TOUCH_DRAFT, params).first()
    if touched is None:
        return None
    line = {**params, "order": touched.id}
    if params["days"] == 0:
        run(_REMOVE_LINE, line)
    elif run(_SET_LINE, line).rowcount == 0:
        run(_ADD_LINE, line)
    return (touched.id, touched.version, touched.quote_id), _rows(run(_LINES_OF, line))


def _set_in_one(params: dict[str, Any]) -> tuple[_Found, YearPosition] | None:
    rows = statement_alone(lambda: _SET_LINE_IN_ONE.run(params).all())
    if not rows:
        return None
    order_id, version, quote_id, seen = rows[0][:4]
    if seen == version - 1:
        lines = [
            (row.line_id, row.service_id, row.half_days) for row in rows if row.line_id is not None
        ]
    else:  # someone else's change committed while this waited for the draft's row lock
        lines = _rows(run(_LINES_OF, {"order": order_id}))
    position = days_position.position_of(*rows[0][7:])
    return ((order_id, version, quote_id), lines), position


def _rows(result: Any) -> list[tuple[int, int, int]]:
    return [(row[0], row[1], row[2]) for row in cast(list[Row[Any]], result)]
