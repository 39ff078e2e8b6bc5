"""People in bulk, opening balances and schools' details kept true

Revision ID: 0016
Revises: 0018
Create Date: 2026-12-01 00:00:00

- `user_account` records when an invitation was last sent (`invited_at`: the service manager sees
  who has not accepted, and whose link has expired) and an adviser's quadrant.
- `school` gains a billing address (when invoices go somewhere other than the GIAS address) and
  when, by whom (a name: a foreign key back to `user_account` would make a cycle of
  tables) and for which academic year its business manager last checked its details.
- `csv_import`: an uploaded CSV file (staff invitations, opening balances), checked and kept as
  JSON until it is confirmed or discarded.
- `document` holds brought-forward documents: unpaid invoices from the council's previous system,
  under their original numbers, with no order, no sequence of ours and no PDF of ours. So
  `order_id`, `sequence` and `academic_year_id` may be NULL (only for them, by a CHECK).

On PostgreSQL those are plain ALTERs. SQLite cannot drop NOT NULL, so `document` is rebuilt by
SQLite's own procedure (new table from the old one's SQL, copy, drop, rename), and its indexes and
append-only triggers are created again from the SQL they were stored with; foreign keys are
checked at commit (`defer_foreign_keys`), when every reference again finds its row.
"""

import re
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0016"
down_revision = "0018"
branch_labels = None
depends_on = None

NULLABLE = ("sequence", "order_id", "academic_year_id")
CHECK = "(brought_forward = (order_id IS NULL)) AND (brought_forward = (sequence IS NULL))"
CHECK_NAME = "ck_document_brought_forward_has_no_order"


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    _add_fk_column(
        "user_account", "quadrant_id", "quadrant", "fk_user_account_quadrant_id_quadrant"
    )
    op.add_column("user_account", sa.Column("invited_at", UTCDateTime(), nullable=True))
    op.create_index("ix_user_account_quadrant_id", "user_account", ["quadrant_id"])

    op.add_column(
        "school",
        sa.Column("billing_address", sa.Text(), nullable=False, server_default=""),
    )
    op.add_column("school", sa.Column("details_checked_year", sa.Integer(), nullable=True))
    op.add_column("school", sa.Column("details_checked_at", UTCDateTime(), nullable=True))
    op.add_column(
        "school",
        sa.Column("details_checked_by", sa.String(length=120), nullable=False, server_default=""),
    )

    op.create_table(
        "csv_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("applied_at", UTCDateTime(), nullable=True),
        sa.Column("applied_by_id", sa.Integer(), nullable=True),
        sa.Column("rows", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('staff', 'opening_balances')", name=op.f("ck_csv_import_csv_import_kind")
        ),
        sa.CheckConstraint(
            "status IN ('previewed', 'applied', 'discarded')",
            name=op.f("ck_csv_import_csv_import_status"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["user_account.id"], name=op.f("fk_csv_import_uploaded_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["applied_by_id"], ["user_account.id"], name=op.f("fk_csv_import_applied_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csv_import")),
    )

    if sqlite:
        _rebuild_on_sqlite("document", _document_for_brought_forward)
    else:
        op.add_column(
            "document",
            sa.Column("brought_forward", sa.Boolean(), nullable=False, server_default=sa.false()),
        )
        for column in NULLABLE:
            op.alter_column("document", column, existing_type=sa.Integer(), nullable=True)
        op.create_check_constraint(CHECK_NAME, "document", CHECK)


def _add_fk_column(table: str, column: str, target: str, name: str) -> None:
    """A nullable foreign key column. SQLite adds it with its REFERENCES clause inline (it has no
    ALTER TABLE ... ADD CONSTRAINT), so no rebuild of a table others refer to."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
            f"CONSTRAINT {name} REFERENCES {target} (id)"
        )
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, target, [column], ["id"])


def _rebuild_on_sqlite(table: str, transform: Callable[[str], str]) -> None:
    """SQLite's own way to change what ALTER TABLE cannot: a new table from the old one's SQL as
    `transform` rewrites it, the rows copied (the columns both have), the old table dropped and
    the new one renamed, then the old table's indexes and triggers created again as stored."""
    connection = op.get_bind()
    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    (table_sql,) = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).one()
    extras = connection.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? "
        "AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        (table,),
    ).all()
    # A renamed table's SQL names it in quotes ("document"); either way, the new one is _new.
    new_sql, renamed = re.subn(
        rf'^CREATE TABLE "?{table}"? \(', f"CREATE TABLE {table}_new (", transform(table_sql)
    )
    if renamed != 1:
        raise RuntimeError(f"Unexpected SQL for the {table} table")
    old_columns = [row[1] for row in connection.exec_driver_sql(f"PRAGMA table_info({table})")]
    for kind, name, _sql in extras:
        op.execute(f'DROP {kind.upper()} "{name}"')
    op.execute(new_sql)
    new_columns = {row[1] for row in connection.exec_driver_sql(f"PRAGMA table_info({table}_new)")}
    names = ", ".join(c for c in old_columns if c in new_columns)
    op.execute(f"INSERT INTO {table}_new ({names}) SELECT {names} FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    for _kind, _name, sql in extras:
        op.execute(sql)


def _replace_once(sql: str, before: str, after: str) -> str:
    if before not in sql:
        raise RuntimeError(f"The table is not as the migrations made it: no {before.strip()!r}")
    return sql.replace(before, after, 1)


def _document_for_brought_forward(sql: str) -> str:
    for column in NULLABLE:
        sql = _replace_once(sql, f"\t{column} INTEGER NOT NULL, ", f"\t{column} INTEGER, ")
    sql = _replace_once(
        sql,
        "payment_link VARCHAR(255) DEFAULT '' NOT NULL, ",
        "payment_link VARCHAR(255) DEFAULT '' NOT NULL, "
        "brought_forward BOOLEAN DEFAULT 0 NOT NULL, ",
    )
    closing = sql.rindex(")")
    return sql[:closing].rstrip() + f", \n\tCONSTRAINT {CHECK_NAME} CHECK ({CHECK})\n" + sql[closing:]


def _document_as_before(sql: str) -> str:
    for column in NULLABLE:
        sql = _replace_once(sql, f"\t{column} INTEGER, ", f"\t{column} INTEGER NOT NULL, ")
    sql = _replace_once(sql, "brought_forward BOOLEAN DEFAULT 0 NOT NULL, ", "")
    return _replace_once(sql, f", \n\tCONSTRAINT {CHECK_NAME} CHECK ({CHECK})\n", "\n")


def _without_columns(*columns: str) -> Callable[[str], str]:
    """Drop the columns this migration added: SQLite's ADD COLUMN wrote each after the last
    column as `name definition, ` (no definition here has a comma)."""

    def transform(sql: str) -> str:
        for column in columns:
            sql = re.sub(rf"(?<=, ){column} [^,]*, ", "", sql, count=1)
        return sql

    return transform


def downgrade():
    connection = op.get_bind()
    if connection.exec_driver_sql("SELECT count(*) FROM document WHERE brought_forward").scalar():
        # They cannot go back into a table that requires an order for every document.
        raise RuntimeError("Brought-forward documents exist: this migration cannot be undone")
    op.drop_table("csv_import")
    op.drop_index("ix_user_account_quadrant_id", table_name="user_account")
    if connection.dialect.name == "sqlite":
        _rebuild_on_sqlite("document", _document_as_before)
        _rebuild_on_sqlite(
            "school",
            _without_columns(
                "billing_address", "details_checked_year", "details_checked_at",
                "details_checked_by",
            ),
        )
        _rebuild_on_sqlite("user_account", _without_columns("quadrant_id", "invited_at"))
        return
    op.drop_constraint(CHECK_NAME, "document", type_="check")
    for column in NULLABLE:
        op.alter_column("document", column, existing_type=sa.Integer(), nullable=False)
    op.drop_column("document", "brought_forward")
    for table, column in (
        ("school", "details_checked_by"),
        ("school", "details_checked_at"),
        ("school", "details_checked_year"),
        ("school", "billing_address"),
        ("user_account", "invited_at"),
        ("user_account", "quadrant_id"),
    ):
        op.drop_column(table, column)
