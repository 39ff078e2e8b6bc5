"""Issued means issued at the SQL prompt too (issue 12 part 7, migration 0013).

On SQLite a REPLACE into an append-only table is refused, for every key it could replace by, even
from a bare connection (as `sqlite3 instance/traded.db` opens it: no pragmas). On PostgreSQL
TRUNCATE is refused, and the app's role, which owns no table, cannot drop, disable or alter the
triggers or the tables. Each backend's tests skip on the other where the statement or the roles
do not exist there.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DatabaseError

from tests.conftest import owner_engine
from tests.factories import issue_document
from tests.partnership_factories import confirmed_partnership_order
from traded_app.extensions import db
from traded_app.models import (
    AuditEvent,
    DocumentCounter,
    DocumentExport,
    DocumentType,
    FinanceExport,
    InvoiceRun,
    InvoiceRunStatus,
    Order,
    Payment,
)
from traded_app.models.finance import ExportKind
from traded_app.models.orders import OrderStatus
from traded_app.models.payments import PaymentKind
from traded_app.models.types import Role
from traded_app.services.documents import consolidated
from traded_app.services.platform.settings import today

ON_POSTGRES = os.environ.get("TRADED_TEST_DB") == "postgres"
sqlite_only = pytest.mark.skipif(
    ON_POSTGRES,
    reason="PostgreSQL has no REPLACE: its upsert (ON CONFLICT DO UPDATE) meets the update triggers",
)
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="SQLite has no TRUNCATE and no roles: whoever may write the file may change the schema",
)

# The append-only tables: those whose rows the database refuses to delete (0005, 0007, 0008).
PROTECTED_TABLES = (
    "document",
    "document_line",
    "document_vat_band",
    "audit_event",
    "payment",
    "document_export",
    "finance_export",
    "consolidated_invoice",  # and its parts: issued trust invoices (0039)
    "consolidated_invoice_part",
)


@dataclass
class Rows:
    """One row of every append-only table (two where a key case needs a second), and an order
    that has no document yet."""

    document: int
    spare_order: int
    stripe_payment: int
    reversal: int
    exports: tuple[int, int]
    share_document: int  # a member's share of a partnership order, charged
    spare_run: int
    spare_document: int


@pytest.fixture()
def rows(world: Any) -> Rows:
    document = issue_document(world)
    spare = Order(
        school_id=world.academy.id,
        academic_year_id=world.year.id,
        status=OrderStatus.CONFIRMED,
        po_number="PO-2",
        created_by_id=world.users[Role.LA_ADMIN].id,
        half_days=2,
        net_pence=1,
        vat_pence=0,
        gross_pence=1,
    )
    paid = Payment(
        document_id=document.id,
        kind=PaymentKind.CARD,
        amount_pence=100,
        received_on=date(2026, 1, 5),
        reference="Card",
        stripe_payment_intent="pi_guard",
    )
    db.session.add_all([spare, paid])
    db.session.flush()
    reversal = Payment(
        document_id=document.id,
        kind=PaymentKind.CARD,
        amount_pence=-100,
        received_on=date(2026, 1, 6),
        reference="Reversal",
        reverses_payment_id=paid.id,
    )
    exports = [
        FinanceExport(
            kind=ExportKind.SALES_CSV, date_from=date(2026, 1, 1), date_to=date(2026, 1, 31)
        )
        for _ in range(2)
    ]
    db.session.add_all([reversal, *exports])
    db.session.flush()
    db.session.add(DocumentExport(export_id=exports[0].id, document_id=document.id))
    db.session.add(
        AuditEvent(actor_label="System", entity="school", entity_id="1", action="created")
    )
    # The share documents take real numbers: past those issue_document gives itself.
    for document_type in (DocumentType.INVOICE, DocumentType.RECHARGE):
        for year in (today().year - 1, today().year):
            db.session.add(
                DocumentCounter(document_type=document_type, financial_year=year, last_number=9000)
            )
    db.session.commit()
    _order, share_documents = confirmed_partnership_order(world)
    runs = [
        InvoiceRun(status=InvoiceRunStatus.FINISHED, source="cli", issue_date=today())
        for _ in range(2)
    ]
    db.session.add_all(runs)
    db.session.flush()
    consolidated.issue_for_trust(world.trust, [document], today(), runs[0])
    spare_document = issue_document(world)
    db.session.commit()
    return Rows(
        document.id,
        spare.id,
        paid.id,
        reversal.id,
        (exports[0].id, exports[1].id),
        share_documents[0].id,
        runs[1].id,
        spare_document.id,
    )


# --- SQLite: REPLACE -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A REPLACE of a copy of one existing row that collides on `key` alone: the columns of every
    other key of the table are given fresh values (SQL expressions, `{...}` from Rows)."""

    table: str
    key: str  # "id" (or "rowid" where the table has no id column) or a unique key's columns
    source: str  # the Rows field naming the row copied, or "" for the table's first row
    fresh: dict[str, str]


COPY = "number || '-copy'"
CASES = [
    Case(
        "document",
        "id",
        "document",
        {"number": COPY, "sequence": "sequence + 1000", "order_id": "{spare_order}"},
    ),
    Case(
        "document",
        "number",
        "document",
        {"id": "NULL", "sequence": "sequence + 1000", "order_id": "{spare_order}"},
    ),
    Case(
        "document",
        "document_type, financial_year, sequence",
        "document",
        {"id": "NULL", "number": COPY, "order_id": "{spare_order}"},
    ),
    Case(
        "document",
        "order_id, instalment_number",  # one charge per order and instalment (0034)
        "document",
        {"id": "NULL", "number": COPY, "sequence": "sequence + 1000"},
    ),
    Case(
        "document",
        "partnership_share_id",  # one charge per partnership share (0042)
        "share_document",
        {"id": "NULL", "number": COPY, "sequence": "sequence + 1000"},
    ),
    Case("document_line", "id", "", {"position": "position + 100"}),
    Case("document_line", "document_id, position", "", {"id": "NULL"}),
    Case("document_vat_band", "id", "", {"position": "position + 100"}),
    Case("document_vat_band", "document_id, position", "", {"id": "NULL"}),
    Case("audit_event", "id", "", {}),
    Case("payment", "id", "stripe_payment", {"stripe_payment_intent": "NULL"}),
    Case("payment", "stripe_payment_intent", "stripe_payment", {"id": "NULL"}),
    Case("payment", "reverses_payment_id", "reversal", {"id": "NULL"}),
    Case("document_export", "rowid", "", {"export_id": "{exports[1]}"}),
    Case("document_export", "export_id, document_id", "", {"rowid": "NULL"}),
    Case("finance_export", "id", "", {}),
    Case(
        "consolidated_invoice",
        "id",
        "",
        {"number": COPY, "sequence": "sequence + 1000", "run_id": "{spare_run}"},
    ),
    Case(
        "consolidated_invoice",
        "number",
        "",
        {"id": "NULL", "sequence": "sequence + 1000", "run_id": "{spare_run}"},
    ),
    Case(
        "consolidated_invoice",
        "financial_year, sequence",
        "",
        {"id": "NULL", "number": COPY, "run_id": "{spare_run}"},
    ),
    Case(
        "consolidated_invoice",
        "trust_id, run_id",
        "",
        {"id": "NULL", "number": COPY, "sequence": "sequence + 1000"},
    ),
    Case(
        "consolidated_invoice_part",
        "id",
        "",
        {"position": "position + 100", "document_id": "{spare_document}"},
    ),
    Case(
        "consolidated_invoice_part", "document_id", "", {"id": "NULL", "position": "position + 100"}
    ),
    Case(
        "consolidated_invoice_part",
        "consolidated_invoice_id, position",
        "",
        {"id": "NULL", "document_id": "{spare_document}"},
    ),
]


@pytest.fixture()
def prompt(app: Any) -> Iterator[sqlite3.Connection]:
    """The test database as a bare `sqlite3` prompt opens it: none of the app's pragmas."""
    db.session.remove()
    connection = sqlite3.connect(db.engine.url.database, isolation_level=None, timeout=15)
    yield connection
    connection.close()


def replace_statement(connection: sqlite3.Connection, case: Case, rows: Rows) -> tuple[str, int]:
    columns = [row[1] for row in connection.execute(f"PRAGMA table_info({case.table})")]
    if "id" not in columns:
        columns.insert(0, "rowid")
    values = [case.fresh.get(c, c).format(**vars(rows)) for c in columns]
    rowid = (
        getattr(rows, case.source)
        if case.source
        else connection.execute(f"SELECT min(rowid) FROM {case.table}").fetchone()[0]
    )
    statement = (
        f"INSERT OR REPLACE INTO {case.table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {case.table} WHERE rowid = {rowid}"
    )
    return statement, rowid


def contents(connection: sqlite3.Connection, table: str) -> list[Any]:
    return connection.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall()


@sqlite_only
@pytest.mark.parametrize("verb", ["INSERT OR REPLACE INTO", "REPLACE INTO"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.table}[{c.key}]")
def test_replace_into_an_append_only_table_is_refused(
    rows: Rows, prompt: sqlite3.Connection, case: Case, verb: str
) -> None:
    statement, _rowid = replace_statement(prompt, case, rows)
    statement = statement.replace("INSERT OR REPLACE INTO", verb)
    before = contents(prompt, case.table)
    with pytest.raises(sqlite3.IntegrityError, match="cannot be replaced"):
        prompt.execute(statement)
    assert contents(prompt, case.table) == before


@sqlite_only
def test_every_key_of_every_append_only_table_is_guarded_and_tested(
    prompt: sqlite3.Connection,
) -> None:
    """Every key of every append-only table, as the live schema has them, is checked by that
    table's REPLACE guard and has its case above. A new unique index, or a new append-only
    table, needs its line in the migration's UNIQUE_KEYS and in CASES: otherwise REPLACE could
    delete a row by it."""
    refusing_delete = {
        name
        for (name,) in prompt.execute(
            "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_refuse_delete'"
        )
    }
    assert refusing_delete == set(PROTECTED_TABLES)
    for table in PROTECTED_TABLES:
        guard = prompt.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
            (f"{table}_refuse_replace",),
        ).fetchone()
        assert guard is not None, f"{table} has no REPLACE guard"
        assert "rowid = NEW.rowid" in guard[0]
        columns = [row[1] for row in prompt.execute(f"PRAGMA table_info({table})")]
        keys = {"id" if "id" in columns else "rowid"}
        for _seq, index, unique, *_ in prompt.execute(f"PRAGMA index_list({table})"):
            if unique:
                key = [row[2] for row in prompt.execute(f"PRAGMA index_info({index})")]
                keys.add(", ".join(key))
                assert all(f"{column} = NEW.{column}" in guard[0] for column in key), (table, key)
        assert keys == {case.key for case in CASES if case.table == table}, table


@sqlite_only
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.table}[{c.key}]")
def test_each_replace_case_collides_on_its_key_alone(
    rows: Rows, prompt: sqlite3.Connection, case: Case
) -> None:
    """Without the guard each case's REPLACE would delete exactly the row it copies, so each case
    tests its own key. Checked with the guard lifted, in a transaction rolled back."""
    statement, rowid = replace_statement(prompt, case, rows)
    prompt.execute("BEGIN")
    try:
        prompt.execute(f"DROP TRIGGER {case.table}_refuse_replace")
        before = {row[0] for row in contents(prompt, case.table)}
        prompt.execute(statement)
        after = {row[0] for row in contents(prompt, case.table)}
    finally:
        prompt.execute("ROLLBACK")
    # By its id the copy takes the row's place; by another key it gets a new id.
    deleted = set() if case.key in ("id", "rowid") else {rowid}
    assert (len(after), before - after) == (len(before), deleted)


@sqlite_only
@pytest.mark.parametrize("column", ["id", "rowid"])
def test_an_export_cannot_be_moved_onto_another_by_update_or_replace(
    rows: Rows, prompt: sqlite3.Connection, column: str
) -> None:
    first, second = rows.exports
    before = contents(prompt, "finance_export")
    with pytest.raises(sqlite3.IntegrityError, match="an id cannot change"):
        prompt.execute(
            f"UPDATE OR REPLACE finance_export SET {column} = {first} WHERE id = {second}"
        )
    assert contents(prompt, "finance_export") == before


# --- PostgreSQL: TRUNCATE and the app's role ------------------------------------------------


def truncate_triggers(connection: Connection) -> list[tuple[str, str]]:
    return [
        (table, name)
        for table, name in connection.execute(
            text(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgtype & 32 <> 0"
            )
        )
    ]


@postgres_only
@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_truncate_of_an_append_only_table_is_refused_even_to_its_owner(
    rows: Rows, table: str
) -> None:
    """As the owner, with every other table's TRUNCATE trigger lifted (in a transaction rolled
    back), so only this table's own trigger can refuse."""
    db.session.remove()
    with owner_engine().connect() as connection:
        transaction = connection.begin()
        try:
            for other, name in truncate_triggers(connection):
                if other != table:
                    connection.execute(text(f'ALTER TABLE {other} DISABLE TRIGGER "{name}"'))
            with pytest.raises(DatabaseError, match=f"{table} rows are kept for good"):
                with connection.begin_nested():
                    connection.execute(text(f"TRUNCATE {table} CASCADE"))
            count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        finally:
            transaction.rollback()
    assert count >= 1


def needs_separate_owner() -> None:
    if owner_engine() is db.engine:
        pytest.skip(
            "The app's role owns the tables here: set TEST_DATABASE_OWNER_URL (as .ci/run does)"
        )


@postgres_only
@pytest.mark.parametrize("table", PROTECTED_TABLES)
@pytest.mark.parametrize(
    "statement",
    [
        "DROP TRIGGER {table}_refuse_delete ON {table}",
        "ALTER TABLE {table} DISABLE TRIGGER {table}_refuse_truncate",
        "ALTER TABLE {table} DISABLE TRIGGER USER",
        "DROP TABLE {table} CASCADE",
        "TRUNCATE {table} CASCADE",
        "CREATE OR REPLACE FUNCTION {table}_refuse_delete() RETURNS trigger AS $$ "
        "BEGIN RETURN NULL; END; $$ LANGUAGE plpgsql",
    ],
)
def test_the_app_role_cannot_lift_the_guards(rows: Rows, table: str, statement: str) -> None:
    needs_separate_owner()
    db.session.remove()
    with db.engine.connect() as connection:
        transaction = connection.begin()
        try:
            with pytest.raises(DatabaseError, match=r"must be owner|permission denied"):
                connection.exec_driver_sql(statement.format(table=table))
        finally:
            transaction.rollback()


ALL_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
ROWS_ONLY = {"SELECT", "INSERT", "UPDATE", "DELETE"}


@postgres_only
def test_the_app_role_may_read_and_write_rows_only_now_and_in_tables_made_later(
    rows: Rows,
) -> None:
    """Its privileges come from grants (and default privileges, for the owner's later tables):
    rows, but no TRUNCATE, TRIGGER or REFERENCES; only reading Alembic's version; owning nothing."""
    needs_separate_owner()
    db.session.remove()
    with db.engine.connect() as connection:
        app_role = connection.execute(text("SELECT current_user")).scalar_one()
        owned = connection.execute(
            text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND pg_has_role(c.relowner, 'USAGE')"
            )
        ).scalar_one()
    assert owned == 0

    def held(connection: Connection, table: str) -> set[str]:
        return {
            privilege
            for privilege in ALL_PRIVILEGES
            if connection.execute(
                text("SELECT has_table_privilege(:role, :table, :privilege)"),
                {"role": app_role, "table": table, "privilege": privilege},
            ).scalar_one()
        }

    with owner_engine().connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(text("CREATE TABLE later_table (id serial PRIMARY KEY)"))
            privileges = {
                table: held(connection, table) for table in (*PROTECTED_TABLES, "later_table")
            }
            version = held(connection, "alembic_version")
            sequence = connection.execute(
                text("SELECT has_sequence_privilege(:role, 'later_table_id_seq', 'USAGE')"),
                {"role": app_role},
            ).scalar_one()
        finally:
            transaction.rollback()
    assert privileges == dict.fromkeys((*PROTECTED_TABLES, "later_table"), ROWS_ONLY)
    assert version == {"SELECT"}
    assert sequence


# --- Both: the migration is reversible -------------------------------------------------------


def guards(connection: Connection) -> set[str]:
    """The names of migration 0013's triggers (and, on PostgreSQL, their functions)."""
    if connection.dialect.name == "postgresql":
        statement = (
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE '%refuse_truncate' "
            "UNION SELECT proname || '()' FROM pg_proc WHERE proname LIKE '%refuse_truncate'"
        )
    else:
        statement = (
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND (name LIKE '%refuse_replace' OR name LIKE '%refuse_id_change')"
        )
    return set(connection.execute(text(statement)).scalars())


def test_the_migration_downgrades_and_upgrades_again(app: Any) -> None:
    if ON_POSTGRES:
        expected = {f"{t}_refuse_truncate" for t in PROTECTED_TABLES}
        expected |= {f"{name}()" for name in expected}
    else:
        expected = {f"{t}_refuse_replace" for t in PROTECTED_TABLES}
        expected.add("finance_export_refuse_id_change")
    db.session.remove()
    with owner_engine().connect() as connection:
        assert guards(connection) == expected
    downgrade(revision="0011")  # the migration before the guards
    try:
        with owner_engine().connect() as connection:
            assert guards(connection) == set()
    finally:
        upgrade()
    with owner_engine().connect() as connection:
        assert guards(connection) == expected
