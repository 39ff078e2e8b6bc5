"""Invoice schedules: charge plans per billing route, scheduled charges, instalment documents

Revision ID: 0034
Revises: 0036
Create Date: 2026-12-01 06:10:00

- `charge_plan` (one per billing route: on confirmation, at the start of the year, or in
  instalments) and its `charge_plan_part`s (share in twelfths, day, month, which calendar year).
- `scheduled_charge`: one row per instalment of a confirmed order, raised once as a document.
- `document.instalment_number` / `instalment_count` (0 for every existing document: a whole
  charge), and the one-charge-per-order index becomes one charge per order and instalment.

Plain ADD COLUMNs and index changes on `document` (no table rebuild), so its append-only
triggers stay.
"""

import sqlalchemy as sa
from alembic import op

import traded_app.models.base  # UTCDateTime in column types

revision = "0034"
down_revision = "0036"
branch_labels = None
depends_on = None

NOT_CREDIT = sa.text("document_type <> 'credit_note'")

# SQLite's guard against INSERT OR REPLACE on `document` (0012) names each unique key: the one
# charge per order becomes one per order and instalment there too.
GUARD = "document_refuse_replace"
ONE_PER_ORDER = "WHERE order_id = NEW.order_id AND"
ONE_PER_INSTALMENT = (
    "WHERE order_id = NEW.order_id AND instalment_number = NEW.instalment_number AND"
)


def _rewrite_guard(old: str, new: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    sql = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (GUARD,)
        )
        .scalar()
    )
    if sql is None or sql.count(old) != 1:
        raise RuntimeError(f"Unexpected SQL for the trigger {GUARD}")
    op.execute(f"DROP TRIGGER {GUARD}")
    op.execute(sql.replace(old, new))


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade():
    op.create_table(
        "charge_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("billing_route", _enum("billing_route", "invoice", "recharge"), nullable=False),
        sa.Column(
            "timing",
            _enum("charge_timing", "on_confirmation", "year_start", "instalments"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("updated_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_charge_plan_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charge_plan")),
        sa.UniqueConstraint("billing_route", name=op.f("uq_charge_plan_billing_route")),
    )
    op.create_table(
        "charge_plan_part",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("share", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("in_end_year", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "month BETWEEN 1 AND 12 AND day BETWEEN 1 AND 31",
            name=op.f("ck_charge_plan_part_day_and_month"),
        ),
        sa.CheckConstraint(
            "share > 0 AND share <= 12", name=op.f("ck_charge_plan_part_share_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["charge_plan.id"], name=op.f("fk_charge_plan_part_plan_id_charge_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charge_plan_part")),
        sa.UniqueConstraint(
            "plan_id", "position", name=op.f("uq_charge_plan_part_plan_id_position")
        ),
    )
    op.create_index(
        op.f("ix_charge_plan_part_plan_id"), "charge_plan_part", ["plan_id"], unique=False
    )
    op.create_table(
        "scheduled_charge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("share", sa.Integer(), nullable=False),
        sa.Column("whole", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("gross_pence", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            _enum("scheduled_charge_status", "scheduled", "raised", "cancelled"),
            nullable=False,
        ),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("created_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "number BETWEEN 1 AND count", name=op.f("ck_scheduled_charge_number_in_count")
        ),
        sa.CheckConstraint(
            "(status = 'raised') = (document_id IS NOT NULL)",
            name=op.f("ck_scheduled_charge_raised_has_document"),
        ),
        sa.CheckConstraint(
            "share > 0 AND share <= whole", name=op.f("ck_scheduled_charge_share_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_scheduled_charge_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["school_order.id"],
            name=op.f("fk_scheduled_charge_order_id_school_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_charge")),
        sa.UniqueConstraint("document_id", name=op.f("uq_scheduled_charge_document_id")),
        sa.UniqueConstraint("order_id", "number", name=op.f("uq_scheduled_charge_order_id_number")),
    )
    op.create_index(
        op.f("ix_scheduled_charge_due_on"), "scheduled_charge", ["due_on"], unique=False
    )
    op.create_index(
        op.f("ix_scheduled_charge_order_id"), "scheduled_charge", ["order_id"], unique=False
    )
    for name in ("instalment_number", "instalment_count"):
        op.add_column("document", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.drop_index(
        "uq_document_one_charge_per_order",
        table_name="document",
        sqlite_where=NOT_CREDIT,
        postgresql_where=NOT_CREDIT,
    )
    op.create_index(
        "uq_document_one_charge_per_instalment",
        "document",
        ["order_id", "instalment_number"],
        unique=True,
        sqlite_where=NOT_CREDIT,
        postgresql_where=NOT_CREDIT,
    )
    _rewrite_guard(ONE_PER_ORDER, ONE_PER_INSTALMENT)


def downgrade():
    _rewrite_guard(ONE_PER_INSTALMENT, ONE_PER_ORDER)
    op.drop_index(
        "uq_document_one_charge_per_instalment",
        table_name="document",
        sqlite_where=NOT_CREDIT,
        postgresql_where=NOT_CREDIT,
    )
    op.create_index(
        "uq_document_one_charge_per_order",
        "document",
        ["order_id"],
        unique=True,
        sqlite_where=NOT_CREDIT,
        postgresql_where=NOT_CREDIT,
    )
    # ALTER TABLE ... DROP COLUMN on both backends: a batch rebuild would drop the triggers.
    op.execute("ALTER TABLE document DROP COLUMN instalment_count")
    op.execute("ALTER TABLE document DROP COLUMN instalment_number")
    op.drop_index(op.f("ix_scheduled_charge_order_id"), table_name="scheduled_charge")
    op.drop_index(op.f("ix_scheduled_charge_due_on"), table_name="scheduled_charge")
    op.drop_table("scheduled_charge")
    op.drop_index(op.f("ix_charge_plan_part_plan_id"), table_name="charge_plan_part")
    op.drop_table("charge_plan_part")
    op.drop_table("charge_plan")
