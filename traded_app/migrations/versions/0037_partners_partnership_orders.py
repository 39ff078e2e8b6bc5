"""Partnerships buying together: partnership orders split into members' shares

Revision ID: 0037
Revises: 0038
Create Date: 2026-12-01 06:00:00

- `partnership_buying`: a partnership's lead school and who may order for it.
- `partnership_order`, `partnership_order_line`, `partnership_share` and
  `partnership_share_line`: an order placed for a partnership, its lines at frozen prices, and
  each member's share of each line (with the member's VAT treatment when ordered).
- A document may charge a member's share (`document.partnership_share_id`): its
  CHECK says a document has an order, a booking or a share unless it was brought forward. (A
  share is charged once by its confirmation, which locks the order; no unique index, which the
  append-only REPLACE guard of 0012 would have to learn.)
- `school.pupils`: the pupils on roll GIAS gave, which a split by pupil numbers uses.

PostgreSQL: plain ALTERs. SQLite cannot change a CHECK in place, so `document` is rebuilt by
SQLite's own procedure (as migrations 0016 and 0030 do), its indexes and triggers created again.
"""

import re

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0037"
down_revision = "0038"
branch_labels = None
depends_on = None

CHECK_NAME = "ck_document_brought_forward_has_no_order"
OLD_CHECK = (
    "(brought_forward = (sequence IS NULL)) "
    "AND (brought_forward = (order_id IS NULL AND course_booking_id IS NULL "
    "AND engagement_id IS NULL)) "
    "AND (order_id IS NULL OR course_booking_id IS NULL) "
    "AND (engagement_id IS NULL OR (order_id IS NULL AND course_booking_id IS NULL))"
)
NEW_CHECK = (
    "(brought_forward = (sequence IS NULL)) "
    "AND (brought_forward = (order_id IS NULL AND course_booking_id IS NULL "
    "AND engagement_id IS NULL AND partnership_share_id IS NULL)) "
    "AND (order_id IS NULL OR course_booking_id IS NULL) "
    "AND (engagement_id IS NULL OR (order_id IS NULL AND course_booking_id IS NULL))"
)
ADDED_COLUMN = (
    "partnership_share_id INTEGER CONSTRAINT fk_document_partnership_share_id_partnership_share "
    "REFERENCES partnership_share (id)"
)
VAT_TREATMENTS = "vat_treatment IN ('standard', 'reduced', 'zero', 'exempt', 'outside_scope')"


def upgrade():
    _create_tables()
    op.add_column("school", sa.Column("pupils", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE document ADD COLUMN {ADDED_COLUMN}")
        _rebuild_document_on_sqlite(OLD_CHECK, NEW_CHECK)
    else:
        op.add_column("document", sa.Column("partnership_share_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_document_partnership_share_id_partnership_share",
            "document",
            "partnership_share",
            ["partnership_share_id"],
            ["id"],
        )
        op.drop_constraint(CHECK_NAME, "document", type_="check")
        op.create_check_constraint(CHECK_NAME, "document", NEW_CHECK)
    op.create_index(
        "ix_document_partnership_share_id", "document", ["partnership_share_id"], unique=False
    )


def _create_tables():
    op.create_table(
        "partnership_buying",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("lead_school_id", sa.Integer(), nullable=True),
        sa.Column("who_orders", sa.String(length=32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "who_orders IN ('lead_headteacher', 'business_managers')",
            name=op.f("ck_partnership_buying_who_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_school_id"],
            ["school.id"],
            name=op.f("fk_partnership_buying_lead_school_id_school"),
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_partnership_buying_partnership_id_partnership"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership_buying")),
        sa.UniqueConstraint("partnership_id", name=op.f("uq_partnership_buying_partnership_id")),
    )
    op.create_table(
        "partnership_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("academic_year_id", sa.Integer(), nullable=False),
        sa.Column("quadrant_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("split_rule", sa.String(length=32), nullable=False),
        sa.Column("half_days", sa.Integer(), nullable=False),
        sa.Column("net_pence", sa.Integer(), nullable=False),
        sa.Column("placed_by_id", sa.Integer(), nullable=False),
        sa.Column("placed_for_school_id", sa.Integer(), nullable=False),
        sa.Column("placed_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("half_days > 0", name=op.f("ck_partnership_order_days_positive")),
        sa.CheckConstraint("net_pence >= 0", name=op.f("ck_partnership_order_net_not_negative")),
        sa.CheckConstraint(
            "status IN ('awaiting_approval', 'submitted', 'confirmed', 'declined', 'rejected', "
            "'withdrawn')",
            name=op.f("ck_partnership_order_partnership_order_status"),
        ),
        sa.CheckConstraint(
            "split_rule IN ('equal', 'pupils', 'typed')",
            name=op.f("ck_partnership_order_split_rule"),
        ),
        sa.ForeignKeyConstraint(
            ["academic_year_id"],
            ["academic_year.id"],
            name=op.f("fk_partnership_order_academic_year_id_academic_year"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_partnership_order_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_partnership_order_partnership_id_partnership"),
        ),
        sa.ForeignKeyConstraint(
            ["placed_by_id"],
            ["user_account.id"],
            name=op.f("fk_partnership_order_placed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["placed_for_school_id"],
            ["school.id"],
            name=op.f("fk_partnership_order_placed_for_school_id_school"),
        ),
        sa.ForeignKeyConstraint(
            ["quadrant_id"], ["quadrant.id"], name=op.f("fk_partnership_order_quadrant_id_quadrant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership_order")),
    )
    for column in ("partnership_id", "academic_year_id", "quadrant_id", "status"):
        op.create_index(
            op.f(f"ix_partnership_order_{column}"), "partnership_order", [column], unique=False
        )
    op.create_table(
        "partnership_order_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("half_days", sa.Integer(), nullable=False),
        sa.Column("price_per_day_pence", sa.Integer(), nullable=False),
        sa.Column("net_pence", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "half_days > 0", name=op.f("ck_partnership_order_line_half_days_positive")
        ),
        sa.CheckConstraint(
            "price_per_day_pence >= 0", name=op.f("ck_partnership_order_line_price_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["partnership_order.id"],
            name=op.f("fk_partnership_order_line_order_id_partnership_order"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_partnership_order_line_service_id_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership_order_line")),
        sa.UniqueConstraint(
            "order_id", "service_id", name=op.f("uq_partnership_order_line_order_id_service_id")
        ),
    )
    op.create_index(
        op.f("ix_partnership_order_line_order_id"),
        "partnership_order_line",
        ["order_id"],
        unique=False,
    )
    op.create_table(
        "partnership_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_lead", sa.Boolean(), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=True),
        sa.Column("net_pence", sa.Integer(), nullable=False),
        sa.Column("approval", sa.String(length=32), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("po_number", sa.String(length=40), nullable=False),
        sa.CheckConstraint("net_pence >= 0", name=op.f("ck_partnership_share_net_not_negative")),
        sa.CheckConstraint(
            "approval IN ('not_needed', 'waiting', 'approved', 'rejected')",
            name=op.f("ck_partnership_share_share_approval"),
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_partnership_share_approved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["partnership_order.id"],
            name=op.f("fk_partnership_share_order_id_partnership_order"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_partnership_share_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership_share")),
        sa.UniqueConstraint(
            "order_id", "school_id", name=op.f("uq_partnership_share_order_id_school_id")
        ),
    )
    for column in ("order_id", "school_id"):
        op.create_index(
            op.f(f"ix_partnership_share_{column}"), "partnership_share", [column], unique=False
        )
    op.create_table(
        "partnership_share_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("net_pence", sa.Integer(), nullable=False),
        sa.Column("vat_treatment", sa.String(length=32), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "net_pence >= 0", name=op.f("ck_partnership_share_line_net_not_negative")
        ),
        sa.CheckConstraint(VAT_TREATMENTS, name=op.f("ck_partnership_share_line_vat_treatment")),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["partnership_order_line.id"],
            name=op.f("fk_partnership_share_line_order_line_id_partnership_order_line"),
        ),
        sa.ForeignKeyConstraint(
            ["share_id"],
            ["partnership_share.id"],
            name=op.f("fk_partnership_share_line_share_id_partnership_share"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership_share_line")),
        sa.UniqueConstraint(
            "share_id",
            "order_line_id",
            name=op.f("uq_partnership_share_line_share_id_order_line_id"),
        ),
    )
    op.create_index(
        op.f("ix_partnership_share_line_share_id"),
        "partnership_share_line",
        ["share_id"],
        unique=False,
    )


def _rebuild_document_on_sqlite(
    old_check: str, new_check: str, *, drop_column: bool = False
) -> None:
    """The document table again with its CHECK changed: a new table from the old one's SQL,
    rows copied, old dropped and new renamed, its indexes and triggers created again as stored
    (SQLite's own procedure, as in migrations 0016 and 0030)."""
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
    if drop_column:
        if f", {ADDED_COLUMN}" not in table_sql:
            raise RuntimeError("Unexpected SQL for the document table: no partnership_share_id")
        table_sql = table_sql.replace(f", {ADDED_COLUMN}", "")
    new_sql, renamed = re.subn(
        r'^CREATE TABLE "?document"? \(', "CREATE TABLE document_new (", table_sql
    )
    if renamed != 1:
        raise RuntimeError("Unexpected SQL for the document table")
    columns = [
        row[1]
        for row in connection.exec_driver_sql("PRAGMA table_info(document)")
        if not (drop_column and row[1] == "partnership_share_id")
    ]
    for kind, name, _sql in extras:
        op.execute(f'DROP {kind.upper()} "{name}"')
    op.execute(new_sql)
    names = ", ".join(columns)
    op.execute(f"INSERT INTO document_new ({names}) SELECT {names} FROM document")
    op.execute("DROP TABLE document")
    op.execute("ALTER TABLE document_new RENAME TO document")
    for _kind, _name, sql in extras:
        op.execute(sql)


def downgrade():
    connection = op.get_bind()
    if connection.exec_driver_sql(
        "SELECT count(*) FROM document WHERE partnership_share_id IS NOT NULL"
    ).scalar():
        raise RuntimeError(
            "Documents for partnership shares exist: this migration cannot be undone"
        )
    op.drop_index("ix_document_partnership_share_id", table_name="document")
    if connection.dialect.name == "sqlite":
        _rebuild_document_on_sqlite(NEW_CHECK, OLD_CHECK, drop_column=True)
    else:
        op.drop_constraint(CHECK_NAME, "document", type_="check")
        op.create_check_constraint(CHECK_NAME, "document", OLD_CHECK)
        op.drop_constraint("fk_document_partnership_share_id_partnership_share", "document")
        op.drop_column("document", "partnership_share_id")
    op.drop_column("school", "pupils")
    for table in (
        "partnership_share_line",
        "partnership_share",
        "partnership_order_line",
        "partnership_order",
        "partnership_buying",
    ):
        op.drop_table(table)
