"""Partnership shares credited, confirmed partnership orders cancelled

Revision ID: 0042
Revises: 0034
Create Date: 2026-12-02 00:05:00

- `partnership_order.status` may be "cancelled" (by the council after confirmation), with
  `cancelled_at` / `cancelled_by_id`, and a CHECK that a cancelled order says when.
- `uq_document_one_charge_per_share`: a member's share is charged by one document only (credit
  notes against it aside), whatever races; SQLite's REPLACE guard on `document` (0012, rewritten
  by 0034) learns the key, so a REPLACE cannot delete a share's charge by it.

`partnership_order` is rebuilt by a batch on SQLite (a CHECK cannot change in place; no trigger
lives on it); `document` only gains an index, so its append-only triggers stay.
"""

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0042"
down_revision = "0034"
branch_labels = None
depends_on = None

NOT_CREDIT = sa.text("document_type <> 'credit_note'")
STATUS_CHECK = "ck_partnership_order_partnership_order_status"
CANCELLED_CHECK = "ck_partnership_order_cancelled_when"
OLD_STATUSES = (
    "status IN ('awaiting_approval', 'submitted', 'confirmed', 'declined', 'rejected', "
    "'withdrawn')"
)
NEW_STATUSES = (
    "status IN ('awaiting_approval', 'submitted', 'confirmed', 'declined', 'rejected', "
    "'withdrawn', 'cancelled')"
)

GUARD = "document_refuse_replace"
GUARD_END = "\nBEGIN SELECT RAISE"
SHARE_KEY = (
    "\n   OR EXISTS (SELECT 1 FROM document WHERE partnership_share_id = NEW.partnership_share_id"
    " AND document_type <> 'credit_note' AND NEW.document_type <> 'credit_note')"
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


def upgrade():
    with op.batch_alter_table("partnership_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("cancelled_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_partnership_order_cancelled_by_id_user_account",
            "user_account",
            ["cancelled_by_id"],
            ["id"],
        )
        batch_op.drop_constraint(op.f(STATUS_CHECK), type_="check")
        batch_op.create_check_constraint(op.f(STATUS_CHECK), sa.text(NEW_STATUSES))
        batch_op.create_check_constraint(
            op.f(CANCELLED_CHECK), sa.text("(status = 'cancelled') = (cancelled_at IS NOT NULL)")
        )
    op.create_index(
        "uq_document_one_charge_per_share",
        "document",
        ["partnership_share_id"],
        unique=True,
        sqlite_where=NOT_CREDIT,
        postgresql_where=NOT_CREDIT,
    )
    _rewrite_guard(GUARD_END, SHARE_KEY + GUARD_END)


def downgrade():
    cancelled = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM partnership_order WHERE status = 'cancelled'"
    )
    if cancelled.scalar():
        raise RuntimeError(
            "Cancelled partnership orders exist: the schema before 0042 cannot record them"
        )
    _rewrite_guard(SHARE_KEY + GUARD_END, GUARD_END)
    op.drop_index(
        "uq_document_one_charge_per_share",
        table_name="document",
        sqlite_where=NOT_CREDIT,
        postgresql_where=NOT_CREDIT,
    )
    with op.batch_alter_table("partnership_order", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CANCELLED_CHECK), type_="check")
        batch_op.drop_constraint(op.f(STATUS_CHECK), type_="check")
        batch_op.create_check_constraint(op.f(STATUS_CHECK), sa.text(OLD_STATUSES))
        batch_op.drop_constraint(
            "fk_partnership_order_cancelled_by_id_user_account", type_="foreignkey"
        )
        batch_op.drop_column("cancelled_by_id")
        batch_op.drop_column("cancelled_at")
