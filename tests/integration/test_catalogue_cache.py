"""The day-count request on the buy-back morning: the priced catalogue and the academic years
kept per process yet never stale, and the write lock held only while the basket is written.

Runs on the suite's database: an SQLite file, and PostgreSQL in CI (TRADED_TEST_DB=postgres).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, event, text

from tests.conftest import text_of
from traded_app.extensions import db
from traded_app.models import AcademicYear
from traded_app.models.types import Role
from traded_app.services.council import catalogue
from traded_app.services.ordering.offer import catalogue_for
from traded_app.services.platform.settings import (
    academic_year_bounds,
    current_academic_year,
)

HX = {"HX-Request": "true"}
STAMPED_TABLES = ("service", "service_price", "service_vat", "academic_year")


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement the app's engine runs, with COMMIT and ROLLBACK marked."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
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


def _change_days(client: Any, service_id: int, days: str) -> Any:
    response = client.post(
        f"/catalogue/services/{service_id}/days",
        data={f"days-{service_id}": days},
        headers={**HX, "X-CSRFToken": client.csrf},
    )
    assert response.status_code == 200
    return response


def _line_cost(response: Any, service_id: int) -> str:
    return text_of(response.soup, f"#days-{service_id}-result")


def _sbm(as_role: Any) -> Any:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    client.csrf = client.csrf_token()
    return client


def test_a_price_changed_by_the_council_is_on_the_next_fragment(as_role: Any, world: Any) -> None:
    client = _sbm(as_role)
    service_id = world.service.id
    assert _line_cost(_change_days(client, service_id, "1"), service_id) == "£450.00"
    with statements() as seen:
        _change_days(client, service_id, "2")
    assert not [s for s in seen if "service_price" in s], "the kept catalogue was read again"

    catalogue.set_price(world.service, world.year, 50_000)
    db.session.commit()
    assert _line_cost(_change_days(client, service_id, "1"), service_id) == "£500.00"


def test_a_price_changed_elsewhere_is_on_the_next_fragment(
    app: Flask, as_role: Any, world: Any
) -> None:
    """Another worker, another host or the SQL prompt: a connection of its own, not the app."""
    client = _sbm(as_role)
    service_id = world.service.id
    assert _line_cost(_change_days(client, service_id, "1"), service_id) == "£450.00"
    elsewhere = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with elsewhere.begin() as connection:
            connection.execute(
                text("UPDATE service_price SET price_per_day_pence = 61000 WHERE service_id = :id"),
                {"id": service_id},
            )
    finally:
        elsewhere.dispose()
    assert _line_cost(_change_days(client, service_id, "1"), service_id) == "£610.00"
    # A service retired elsewhere is no longer offered either.
    elsewhere = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with elsewhere.begin() as connection:
            connection.execute(
                text("UPDATE service SET active = false WHERE id = :id"), {"id": service_id}
            )
    finally:
        elsewhere.dispose()
    refused = _change_days(client, service_id, "2")
    assert "That service is not available to order" in _line_cost(refused, service_id)


def test_a_price_change_rolled_back_leaves_the_kept_catalogue_right(world: Any) -> None:
    customer = world.school.customer_type
    assert catalogue_for(customer, world.year)[0].price_per_day_pence == 45_000
    catalogue.set_price(world.service, world.year, 70_000)
    # Read inside the changing transaction: its own, uncommitted price, kept under its stamp.
    assert catalogue_for(customer, world.year)[0].price_per_day_pence == 70_000
    db.session.rollback()
    assert catalogue_for(customer, world.year)[0].price_per_day_pence == 45_000
    db.session.commit()
    assert catalogue_for(customer, world.year)[0].price_per_day_pence == 45_000


def test_an_academic_year_set_up_later_is_found(world: Any) -> None:
    next_start = world.year.start_year + 1
    starts_on, ends_on = academic_year_bounds(next_start)
    assert current_academic_year(starts_on) is None
    db.session.add(AcademicYear(start_year=next_start, starts_on=starts_on, ends_on=ends_on))
    db.session.commit()
    found = current_academic_year(starts_on)
    assert found is not None and found.start_year == next_start
    assert current_academic_year() is not None and current_academic_year().id == world.year.id


def test_every_catalogue_table_renews_the_stamp(world: Any) -> None:
    """A table rebuilt by a later batch migration on SQLite loses its triggers: they must all
    be there, or a change to it would leave every process's catalogue stale."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                "SELECT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgname LIKE '%renews_catalogue_stamp'"
            )
        ).scalars()
        assert set(rows) == set(STAMPED_TABLES)
    else:
        rows = connection.execute(
            text(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE '%renews_catalogue_stamp'"
            )
        ).all()
        assert sorted(rows) == sorted(
            (table, f"{table}_{action}_renews_catalogue_stamp")
            for table in STAMPED_TABLES
            for action in ("insert", "update", "delete")
        )


def test_the_write_lock_is_held_only_for_the_write(as_role: Any, world: Any) -> None:
    """Everything the answer needs is read before the basket is locked: while it is locked, only
    the draft's version bumped (which locks it), the line set and the lines read back; then the
    commit, and nothing more. On PostgreSQL those three are one statement (one round trip), which
    reads the school's days too."""
    client = _sbm(as_role)
    service_id = world.service.id
    _change_days(client, service_id, "1")
    with statements() as seen:
        response = _change_days(client, service_id, "2")
    assert "Order updated: 2 days" in text_of(response.soup, "#order-announcement")
    # The draft's row is locked by its update (SQLite's BEGIN IMMEDIATE takes the database's lock
    # just before it), and the lock is held until the next COMMIT.
    update = next(i for i, s in enumerate(seen) if "UPDATE school_order" in s)
    end = update + seen[update:].index("COMMIT")
    written = seen[update:end]
    if db.engine.dialect.name == "postgresql":
        assert len(written) == 1, written
        assert written[0].startswith("WITH touched AS") and "ON CONFLICT" in written[0]
    else:
        assert len(written) == 3, written
        assert "RETURNING" in written[0]
        assert written[1].startswith("UPDATE order_line SET half_days")
        assert written[2].startswith("SELECT order_line.id") and "JOIN" not in written[2]
    # The days summary is read with the rest, before the write (on PostgreSQL, by the write's
    # one statement); nothing is read after it (on SQLite the lock is taken once, for the write,
    # and the reading transaction is not reopened).
    if db.engine.dialect.name == "postgresql":
        assert "core_allocation" in written[0]
        assert not any("core_allocation" in s for s in seen[:update])
    else:
        assert any("core_allocation" in s for s in seen[:update])
    assert seen[end + 1 :] == [], seen[end + 1 :]
    if db.engine.dialect.name == "sqlite":
        assert [s for s in seen if s.startswith("BEGIN")].count("BEGIN IMMEDIATE") == 1
        assert seen[update - 2 : update] == ["COMMIT", "BEGIN IMMEDIATE"]
