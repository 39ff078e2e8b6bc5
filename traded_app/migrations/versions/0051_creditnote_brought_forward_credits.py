"""Credit notes against brought-forward documents

Revision ID: 0051
Revises: 0047
Create Date: 2026-12-02 05:50:00

A credit note finance raises against a brought-forward invoice (services.documents.crediting)
is numbered in this service's series, so it is not brought forward, but it has no order, course
booking, engagement or partnership share to name: its original had none. The document table's
CHECK `brought_forward_has_no_order` said every document of ours names one; now a credit note
may name none (a brought-forward document still names none, every other charge still names
one). On SQLite the table is rebuilt with its rows, indexes and triggers, as in 0037.
"""

import re

from alembic import op

revision = "0051"
down_revision = "0047"
branch_labels = None
depends_on = None

CHECK_NAME = "ck_document_brought_forward_has_no_order"
NO_LINK = (
    "(order_id IS NULL AND course_booking_id IS NULL "
    "AND engagement_id IS NULL AND partnership_share_id IS NULL)"
)
OLD_CHECK = (
    "(brought_forward = (sequence IS NULL)) "
    "AND (brought_forward = (order_id IS NULL AND course_booking_id IS NULL "
    "AND engagement_id IS NULL AND partnership_share_id IS NULL)) "
    "AND (order_id IS NULL OR course_booking_id IS NULL) "
    "AND (engagement_id IS NULL OR (order_id IS NULL AND course_booking_id IS NULL))"
)
NEW_CHECK = (
    "(brought_forward = (sequence IS NULL)) "
    f"AND (NOT brought_forward OR {NO_LINK}) "
    f"AND (brought_forward OR document_type = 'credit_note' OR NOT {NO_LINK}) "
    "AND (order_id IS NULL OR course_booking_id IS NULL) "
    "AND (engagement_id IS NULL OR (order_id IS NULL AND course_booking_id IS NULL))"
)


def upgrade():
    _change_check(OLD_CHECK, NEW_CHECK)


def downgrade():
    connection = op.get_bind()
    if connection.exec_driver_sql(
        "SELECT count(*) FROM document WHERE document_type = 'credit_note' "
        "AND sequence IS NOT NULL AND order_id IS NULL AND course_booking_id IS NULL "
        "AND engagement_id IS NULL AND partnership_share_id IS NULL"
    ).scalar():
        raise RuntimeError(
            "Credit notes against brought-forward documents exist: this migration cannot be undone"
        )
    _change_check(NEW_CHECK, OLD_CHECK)


def _change_check(old_check: str, new_check: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_document_on_sqlite(old_check, new_check)
    else:
        op.drop_constraint(CHECK_NAME, "document", type_="check")
        op.create_check_constraint(CHECK_NAME, "document", new_check)


def _rebuild_document_on_sqlite(old_check: str, new_check: str) -> None:
    """The document table again with its CHECK changed: a new table from the old one's SQL,
    rows copied, old dropped and new renamed, its indexes and triggers created again as stored
    (SQLite's own procedure, as in migrations 0016, 0030 and 0037)."""
    connection = op.get_bind()
    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    (table_sql,) = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'document'"
    ).one()
    extras = connection.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'document' "
        "AND type IN ('index', 'trigger') AND sql IS NOT NULL"
    ).all()
    before = f"CONSTRAINT {CHECK_NAME} CHECK ({old_check})"
    if before not in table_sql:
        raise RuntimeError("Unexpected SQL for the document table: its CHECK is not as expected")
    table_sql = table_sql.replace(before, f"CONSTRAINT {CHECK_NAME} CHECK ({new_check})")
    new_sql, renamed = re.subn(
        r'^CREATE TABLE "?document"? \(', "CREATE TABLE document_new (", table_sql
    )
    if renamed != 1:
        raise RuntimeError("Unexpected SQL for the document table")
    columns = [row[1] for row in connection.exec_driver_sql("PRAGMA table_info(document)")]
    for kind, name, _sql in extras:
        op.execute(f'DROP {kind.upper()} "{name}"')
    op.execute(new_sql)
    names = ", ".join(columns)
    op.execute(f"INSERT INTO document_new ({names}) SELECT {names} FROM document")
    op.execute("DROP TABLE document")
    op.execute("ALTER TABLE document_new RENAME TO document")
    for _kind, _name, sql in extras:
        op.execute(sql)
