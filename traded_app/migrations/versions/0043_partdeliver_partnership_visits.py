"""Visits against a partnership order's lines

Revision ID: 0043
Revises: 0044
Create Date: 2026-12-02 04:45:00

`shared_visit.partnership_order_line_id`: a shared visit booked against a line of a confirmed
partnership order (services.days.partnership_visits) instead of the partnership's plan of core
days. Its half-days are drawn once from the line; each member school's `visit` row carries 0
half-days, so the schools' own ledgers are untouched (partnership days are not in a school's own
totals). `shared_visit` has no trigger, so SQLite's batch rebuild loses nothing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0043"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shared_visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partnership_order_line_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_shared_visit_partnership_order_line_id_partnership_order_line"),
            "partnership_order_line",
            ["partnership_order_line_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_shared_visit_partnership_order_line_id"), ["partnership_order_line_id"]
        )


def downgrade():
    with op.batch_alter_table("shared_visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shared_visit_partnership_order_line_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_shared_visit_partnership_order_line_id_partnership_order_line"),
            type_="foreignkey",
        )
        batch_op.drop_column("partnership_order_line_id")
