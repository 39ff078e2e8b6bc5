"""Trust staff may order for the trust's academies, where the trust says so

Revision ID: 0048
Revises: 0043
Create Date: 2026-12-02 05:00:00

- `trust.staff_may_order` (default false): the trust's decision, recorded by the service
  manager, that its finance staff may order days for its open academies. Orders stay the
  academy's (`school_order.school_id`); who placed one is its `submitted_by_id`, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0048"
down_revision = "0043"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: no CHECK or key changes, so SQLite needs no rebuild.
    op.add_column(
        "trust",
        sa.Column("staff_may_order", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade():
    op.drop_column("trust", "staff_may_order")
