"""Consolidated trust invoices: one per trust per invoice run, listing its academies' invoices

Revision ID: 0039
Revises: 0040
Create Date: 2026-12-02 00:10:00

- `consolidated_invoice` (its own number series, the trust and seller as they were, totals and
  its PDF's SHA-256) and `consolidated_invoice_part` (one academy invoice each, its figures
  copied; a document is a part of one consolidated invoice at most).
- Both are append-only as documents are: UPDATE and DELETE refused by trigger (as 0005), REPLACE
  refused on SQLite for every unique key and TRUNCATE on PostgreSQL (as 0012).
- `trust.invoice_to` may be "consolidated": its CHECK constraint is replaced, which SQLite can do
  only by building the table again (the trust table is referenced by school and user_account,
  so foreign keys are deferred while it is rebuilt, as 0036 does).
"""

import re

import sqlalchemy as sa
from alembic import op

import traded_app.models.base  # UTCDateTime in column types

revision = "0039"
down_revision = "0040"
branch_labels = None
depends_on = None

CHECK = "ck_trust_trust_invoice_to"
OLD_CHECK = "invoice_to IN ('academy', 'trust')"
NEW_CHECK = "invoice_to IN ('academy', 'trust', 'consolidated')"

# Written out here, not imported (a migration must not change when the models do): each table's
# unique keys, for SQLite's REPLACE guard (see 0012).
UNIQUE_KEYS = {
    "consolidated_invoice": [("number",), ("financial_year", "sequence"), ("trust_id", "run_id")],
    "consolidated_invoice_part": [("document_id",), ("consolidated_invoice_id", "position")],
}
TABLES = tuple(UNIQUE_KEYS)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade():
    op.create_table(
        "consolidated_invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("seller_name", sa.String(length=200), nullable=False),
        sa.Column("seller_address", sa.Text(), nullable=False),
        sa.Column("seller_vat_number", sa.String(length=32), nullable=False),
        sa.Column("seller_email", sa.String(length=254), nullable=False),
        sa.Column("seller_phone", sa.String(length=40), nullable=False),
        sa.Column("bank_name", sa.String(length=120), nullable=False),
        sa.Column("bank_account_name", sa.String(length=120), nullable=False),
        sa.Column("bank_sort_code", sa.String(length=8), nullable=False),
        sa.Column("bank_account_number", sa.String(length=8), nullable=False),
        sa.Column("buyer_name", sa.String(length=200), nullable=False),
        sa.Column("buyer_address", sa.Text(), nullable=False),
        sa.Column("buyer_email", sa.String(length=254), nullable=False),
        sa.Column("buyer_company_number", sa.String(length=8), nullable=False),
        sa.Column("net_pence", sa.Integer(), nullable=False),
        sa.Column("vat_pence", sa.Integer(), nullable=False),
        sa.Column("gross_pence", sa.Integer(), nullable=False),
        sa.Column("pdf_path", sa.String(length=255), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_bytes", sa.Integer(), nullable=False),
        sa.CheckConstraint("sequence > 0", name=op.f("ck_consolidated_invoice_sequence_positive")),
        sa.CheckConstraint(
            "net_pence >= 0 AND vat_pence >= 0",
            name=op.f("ck_consolidated_invoice_amounts_not_negative"),
        ),
        sa.CheckConstraint(
            "gross_pence = net_pence + vat_pence",
            name=op.f("ck_consolidated_invoice_gross_is_net_plus_vat"),
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trust.id"], name=op.f("fk_consolidated_invoice_trust_id_trust")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["invoice_run.id"],
            name=op.f("fk_consolidated_invoice_run_id_invoice_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consolidated_invoice")),
        sa.UniqueConstraint(
            "financial_year",
            "sequence",
            name=op.f("uq_consolidated_invoice_financial_year_sequence"),
        ),
        sa.UniqueConstraint("number", name=op.f("uq_consolidated_invoice_number")),
        sa.UniqueConstraint(
            "trust_id", "run_id", name=op.f("uq_consolidated_invoice_trust_id_run_id")
        ),
    )
    op.create_index(op.f("ix_consolidated_invoice_trust_id"), "consolidated_invoice", ["trust_id"])
    op.create_table(
        "consolidated_invoice_part",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consolidated_invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("document_number", sa.String(length=32), nullable=False),
        sa.Column("school_name", sa.String(length=200), nullable=False),
        sa.Column("school_urn", sa.Integer(), nullable=False),
        sa.Column("net_pence", sa.Integer(), nullable=False),
        sa.Column("vat_pence", sa.Integer(), nullable=False),
        sa.Column("gross_pence", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "gross_pence = net_pence + vat_pence",
            name=op.f("ck_consolidated_invoice_part_gross_is_net_plus_vat"),
        ),
        sa.ForeignKeyConstraint(
            ["consolidated_invoice_id"],
            ["consolidated_invoice.id"],
            name=op.f("fk_consolidated_invoice_part_consolidated_invoice_id_consolidated_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_consolidated_invoice_part_document_id_document"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_consolidated_invoice_part_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consolidated_invoice_part")),
        sa.UniqueConstraint(
            "consolidated_invoice_id",
            "position",
            name=op.f("uq_consolidated_invoice_part_consolidated_invoice_id_position"),
        ),
        sa.UniqueConstraint("document_id", name=op.f("uq_consolidated_invoice_part_document_id")),
    )
    op.create_index(
        op.f("ix_consolidated_invoice_part_consolidated_invoice_id"),
        "consolidated_invoice_part",
        ["consolidated_invoice_id"],
    )
    op.create_index(
        op.f("ix_consolidated_invoice_part_school_id"), "consolidated_invoice_part", ["school_id"]
    )
    for table in TABLES:
        for action in ("UPDATE", "DELETE"):
            _create_refusal(table, action)
        _create_guard(table)
    _replace_check(OLD_CHECK, NEW_CHECK)


def downgrade():
    # A trust on "consolidated" goes back to invoices addressed to each academy (its academies'
    # own documents were addressed to them all along).
    op.execute("UPDATE trust SET invoice_to = 'academy' WHERE invoice_to = 'consolidated'")
    _replace_check(NEW_CHECK, OLD_CHECK)
    for table in reversed(TABLES):
        _drop_guard(table)
        for action in ("UPDATE", "DELETE"):
            _drop_refusal(table, action)
    op.drop_index(
        op.f("ix_consolidated_invoice_part_school_id"), table_name="consolidated_invoice_part"
    )
    op.drop_index(
        op.f("ix_consolidated_invoice_part_consolidated_invoice_id"),
        table_name="consolidated_invoice_part",
    )
    op.drop_table("consolidated_invoice_part")
    op.drop_index(op.f("ix_consolidated_invoice_trust_id"), table_name="consolidated_invoice")
    op.drop_table("consolidated_invoice")


# --- Append-only, as documents are (0005, 0012) ---------------------------------------------


def _create_refusal(table: str, action: str) -> None:
    name = f"{table}_refuse_{action.lower()}"
    message = f"{table} rows are issued documents and cannot be changed or deleted"
    if _sqlite():
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
        return
    op.execute(
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql"
    )
    op.execute(
        f"CREATE TRIGGER {name} BEFORE {action} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
    )


def _drop_refusal(table: str, action: str) -> None:
    name = f"{table}_refuse_{action.lower()}"
    if _sqlite():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")


def _conflicts(table: str) -> str:
    """SQL true when the new row's rowid or any unique key is already taken."""
    checks = [f"EXISTS (SELECT 1 FROM {table} WHERE rowid = NEW.rowid)"]
    for columns in UNIQUE_KEYS[table]:
        where = " AND ".join(f"{column} = NEW.{column}" for column in columns)
        checks.append(f"EXISTS (SELECT 1 FROM {table} WHERE {where})")
    return "\n   OR ".join(checks)


def _create_guard(table: str) -> None:
    if _sqlite():
        message = (
            f"{table} rows are kept for good: a row with this key exists and cannot be replaced"
        )
        op.execute(
            f"CREATE TRIGGER {table}_refuse_replace BEFORE INSERT ON {table}\n"
            f"WHEN {_conflicts(table)}\n"
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
        return
    name = f"{table}_refuse_truncate"
    op.execute(
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} rows are kept for good and cannot be truncated'; END; "
        "$$ LANGUAGE plpgsql"
    )
    op.execute(
        f"CREATE TRIGGER {name} BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
    )


def _drop_guard(table: str) -> None:
    if _sqlite():
        op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_replace")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_truncate ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_refuse_truncate()")


# --- trust.invoice_to ------------------------------------------------------------------------


def _replace_check(old: str, new: str) -> None:
    if not _sqlite():
        op.drop_constraint(op.f(CHECK), "trust", type_="check")
        op.create_check_constraint(op.f(CHECK), "trust", new)
        return
    _rebuild_trust_on_sqlite(
        f"CONSTRAINT {CHECK} CHECK ({old})", f"CONSTRAINT {CHECK} CHECK ({new})"
    )


def _rebuild_trust_on_sqlite(before: str, after: str) -> None:
    """The trust table again with its CHECK changed: a new table from the old one's SQL, rows
    copied, old dropped and new renamed, its indexes and triggers created again as stored."""
    connection = op.get_bind()
    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    (table_sql,) = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'trust'"
    ).one()
    extras = connection.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'trust' "
        "AND type IN ('index', 'trigger') AND sql IS NOT NULL"
    ).all()
    if before not in table_sql:
        raise RuntimeError(f"Unexpected SQL for the trust table: no {before}")
    new_sql, renamed = re.subn(
        r'^CREATE TABLE "?trust"? \(', "CREATE TABLE trust_new (", table_sql.replace(before, after)
    )
    if renamed != 1:
        raise RuntimeError("Unexpected SQL for the trust table")
    columns = ", ".join(row[1] for row in connection.exec_driver_sql("PRAGMA table_info(trust)"))
    for kind, name, _sql in extras:
        op.execute(f'DROP {kind.upper()} "{name}"')
    op.execute(new_sql)
    op.execute(f"INSERT INTO trust_new ({columns}) SELECT {columns} FROM trust")
    op.execute("DROP TABLE trust")
    op.execute("ALTER TABLE trust_new RENAME TO trust")
    for _kind, _name, sql in extras:
        op.execute(sql)
