"""Issued means issued at the SQL prompt too: no REPLACE on SQLite, no TRUNCATE on PostgreSQL

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 21:00:00

The append-only tables (issued documents, their lines and VAT bands: 0005; the audit trail:
0007; payments and the record of exports: 0008) refuse UPDATE and DELETE by trigger. Two
statements got round that.

SQLite's REPLACE (`REPLACE INTO`, `INSERT OR REPLACE`) resolves a key conflict by deleting the
row in the way, and fires no delete trigger for that deletion unless the connection has turned
on `PRAGMA recursive_triggers`. That pragma belongs to a connection, not to the database file:
the app could turn it on for its own connections, but `sqlite3 instance/traded.db` at a prompt,
a database browser or a one-off script would not, and those are exactly the ways round the app
this guard is for. So the guard lives in the schema, where every connection meets it: each
append-only table gets a BEFORE INSERT trigger that refuses a row whose rowid or any unique key
is already taken. (Which conflict resolution a statement asked for is not visible to a trigger,
so the trigger refuses every such insert: a plain INSERT would have failed anyway, "UNIQUE
constraint failed", and now fails with this message, still an IntegrityError; an `INSERT OR
IGNORE`, which would have skipped the row quietly, is refused too. The app does neither on
these tables.) The keys are written out below, one per unique constraint or index, a partial
index with its condition; tests/integration/test_sql_guard.py compares them with the live
schema, so a new unique index cannot slip past. An insert costs one index probe per key.
`finance_export` refuses only DELETE (an export's counts are written after its insert), so
`UPDATE OR REPLACE` could still delete one export by moving another onto its id: an export's
id may not change either.

PostgreSQL has no REPLACE, and its upsert (INSERT ... ON CONFLICT DO UPDATE) fires the update
triggers; but TRUNCATE fires no row trigger at all. Each append-only table gets a BEFORE
TRUNCATE statement trigger, which also fires for a table reached by TRUNCATE ... CASCADE. The
app's own role has no TRUNCATE privilege (DATABASE_OWNER_URL, README), so this trigger is what
stops the tables' owner at a prompt, who can get round it only deliberately, by dropping it.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Written out here, not imported: a migration must not change when the models do. Each table's
# unique keys as (columns, a partial index's condition or None, with `{row}` where the row's name
# goes: "" for the existing row, "NEW." for the new one). The rowid is checked for every table.
UNIQUE_KEYS = {
    "document": [
        (("number",), None),
        (("document_type", "financial_year", "sequence"), None),
        (("order_id",), "{row}document_type <> 'credit_note'"),
    ],
    "document_line": [(("document_id", "position"), None)],
    "document_vat_band": [(("document_id", "position"), None)],
    "audit_event": [],
    "payment": [(("stripe_payment_intent",), None), (("reverses_payment_id",), None)],
    "document_export": [(("export_id", "document_id"), None)],
    "finance_export": [],
}
PROTECTED_TABLES = tuple(UNIQUE_KEYS)
# finance_export allows UPDATE (0008), so it alone needs its id held still.
UPDATABLE_TABLES = ("finance_export",)


def _replace_message(table: str) -> str:
    return f"{table} rows are kept for good: a row with this key exists and cannot be replaced"


def _truncate_message(table: str) -> str:
    return f"{table} rows are kept for good and cannot be truncated"


def _conflicts(table: str) -> str:
    """SQL true when the new row's rowid or any unique key is already taken."""
    checks = [f"EXISTS (SELECT 1 FROM {table} WHERE rowid = NEW.rowid)"]
    for columns, condition in UNIQUE_KEYS[table]:
        where = " AND ".join(f"{column} = NEW.{column}" for column in columns)
        if condition is not None:
            where += f" AND {condition.format(row='')} AND {condition.format(row='NEW.')}"
        checks.append(f"EXISTS (SELECT 1 FROM {table} WHERE {where})")
    return "\n   OR ".join(checks)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in PROTECTED_TABLES:
            name = f"{table}_refuse_truncate"
            op.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ "
                f"BEGIN RAISE EXCEPTION '{_truncate_message(table)}'; END; $$ LANGUAGE plpgsql"
            )
            op.execute(
                f"CREATE TRIGGER {name} BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
        return
    for table in PROTECTED_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_refuse_replace BEFORE INSERT ON {table}\n"
            f"WHEN {_conflicts(table)}\n"
            f"BEGIN SELECT RAISE(ABORT, '{_replace_message(table)}'); END"
        )
    for table in UPDATABLE_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_refuse_id_change BEFORE UPDATE ON {table}\n"
            "WHEN NEW.id IS NOT OLD.id\n"
            f"BEGIN SELECT RAISE(ABORT, '{table} rows are kept for good: an id cannot change'); END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in PROTECTED_TABLES:
            name = f"{table}_refuse_truncate"
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        return
    for table in UPDATABLE_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_id_change")
    for table in PROTECTED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_replace")
