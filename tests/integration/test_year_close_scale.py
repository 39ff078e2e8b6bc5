"""Closing a year at scale (issue 15's benchmark, bench/year_close.py): the preview page, the
full preview (the CSV's) and the close run the same number of SQL statements for 5 schools as
for 50, and the close is one transaction: a failure part-way leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select

from tests.factories import make_school, make_service
from traded_app.extensions import db
from traded_app.models import (
    CoreAllocation,
    DaysTransfer,
    Order,
    OrderLine,
    OrderStatus,
    Visit,
    VisitStatus,
    YearClose,
)
from traded_app.models.types import AllocationReason, Role
from traded_app.services.days import over_time, year_close
from traded_app.services.platform.settings import ensure_academic_year, today

URL = "/council/manage/year-close"


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement the app's engine runs, with COMMIT and ROLLBACK marked."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            seen.append(" ".join(statement.split()))

    def commit(_conn: Any) -> None:
        seen.append("COMMIT")

    def rollback(_conn: Any) -> None:
        seen.append("ROLLBACK")

    listeners = (("before_cursor_execute", before), ("commit", commit), ("rollback", rollback))
    for name, listener in listeners:
        event.listen(db.engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners:
            event.remove(db.engine, name, listener)


def _last_year_with_schools(world: Any, count: int, first: int = 0) -> Any:
    """Last year: `count` more schools (numbered from `first`), each with core days, an order of two lines and a delivered
    visit, so every school has days that carry over and days that lapse."""
    last = ensure_academic_year(world.year.start_year - 1)
    admin = world.users[Role.LA_ADMIN]
    adviser = world.users[Role.ADVISER]
    audit = make_service(f"AUD{first}", last, name=f"Audit {first}")
    for n in range(first, first + count):
        school = make_school(300000 + n, f"Scale School {n:03d}", quadrant=world.quadrant)
        db.session.add(
            CoreAllocation(
                school_id=school.id,
                academic_year_id=last.id,
                reason=AllocationReason.PARTNERSHIP,
                half_days=2 + n % 3,
            )
        )
        lines = [
            OrderLine(service_id=world.service.id, half_days=3 + n % 4, price_per_day_pence=45000),
            OrderLine(service_id=audit.id, half_days=2, price_per_day_pence=45000),
        ]
        days = sum(line.half_days for line in lines)
        order = Order(
            school_id=school.id,
            academic_year_id=last.id,
            status=OrderStatus.CONFIRMED,
            created_by_id=admin.id,
            half_days=days,
            net_pence=days * 22500,
            vat_pence=0,
            gross_pence=days * 22500,
            quadrant_id=school.quadrant_id,
            lines=lines,
        )
        db.session.add(order)
        db.session.flush()
        db.session.add(
            Visit(
                school_id=school.id,
                academic_year_id=last.id,
                adviser_id=adviser.id,
                order_line_id=lines[0].id,
                visit_date=last.starts_on + timedelta(days=30),
                half_days=1 + n % 2,
                purpose="Termly visit",
                status=VisitStatus.DELIVERED,
                scheduled_by_id=admin.id,
                delivered_at=datetime(last.start_year, 10, 2, 12, tzinfo=UTC),
                delivered_by_id=adviser.id,
            )
        )
    over_time.save_rules(
        usable_half_days_per_week=2,
        warn_at_risk=True,
        lapse_warning_days=31,
        rule="carry_over",
        carry_over_max_half_days=4,
        core_carries_over=False,
    )
    db.session.commit()
    return last


def _costs(world: Any, as_role: Any, last: Any, count: int) -> tuple[int, int, int]:
    """The statements of the preview page, of the full preview and of the close, with `count`
    schools; the close is then undone (its rows deleted) for the next count."""
    client = as_role(Role.LA_ADMIN)
    client.get(f"{URL}?year={last.start_year}")  # warm: the session's user, caches
    with statements() as page:
        response = client.get(f"{URL}?year={last.start_year}")
    assert response.status_code == 200
    assert f"Schools ({count}" in response.get_data(as_text=True)
    db.session.expire_all()
    with statements() as full:
        assert len(year_close.preview(last, today()).schools) == count
    db.session.rollback()
    with statements() as close:
        closing = year_close.close_year(last, world.users[Role.LA_ADMIN], today())
        db.session.commit()
    assert closing.schools == count
    # The close is one transaction: one COMMIT, at the end.
    assert close.count("COMMIT") == 1 and close[-1] == "COMMIT"
    assert "ROLLBACK" not in close
    db.session.execute(delete(DaysTransfer))
    db.session.execute(delete(YearClose))
    db.session.commit()
    return len(page), len(full), len(close)


def test_the_preview_and_the_close_cost_the_same_statements_for_5_and_50_schools(
    app: Any, as_role: Any, world: Any
) -> None:
    last = _last_year_with_schools(world, 5)
    five = _costs(world, as_role, last, 5)
    _last_year_with_schools(world, 45, first=5)
    assert _costs(world, as_role, last, 50) == five


def test_a_close_that_fails_part_way_leaves_nothing(
    app: Any, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    last = _last_year_with_schools(world, 5)
    real = year_close._transfer_rows

    def broken(found: Any, close_id: int) -> list[dict[str, Any]]:
        # The last school's last row breaks a check constraint (no zero rows), so the insert
        # fails after the close's row and the other schools' rows went to the database.
        rows = real(found, close_id)
        rows[-1] = {**rows[-1], "half_days": 0}
        return rows

    monkeypatch.setattr(year_close, "_transfer_rows", broken)
    with pytest.raises(Exception, match=r"ck_days_transfer_not_zero|CHECK constraint"):
        year_close.close_year(last, world.users[Role.LA_ADMIN], today())
    db.session.rollback()
    assert db.session.execute(select(func.count(YearClose.id))).scalar_one() == 0
    assert db.session.execute(select(func.count(DaysTransfer.id))).scalar_one() == 0
    # Nothing was applied, so the year closes afterwards, whole.
    monkeypatch.setattr(year_close, "_transfer_rows", real)
    closing = year_close.close_year(last, world.users[Role.LA_ADMIN], today())
    db.session.commit()
    assert closing.schools == 5
    assert db.session.execute(select(func.count(DaysTransfer.id))).scalar_one() > 5
