"""Instalments of academies whose trust is on consolidated invoicing

Revision ID: 0044
Revises: 0050
Create Date: 2026-12-02 05:00:00

- `scheduled_charge.consolidate_trust_id`: set when an instalment is raised as an invoice to an
  academy whose trust is then on consolidated invoicing; the daily schedule (or an invoice run)
  lists it once on a consolidated invoice to that trust. Instalments raised before have none,
  so a trust that moves to consolidated invoicing is never sent its academies' old invoices.

`scheduled_charge` carries no trigger, so SQLite's batch rebuild (for the foreign key) loses
nothing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("scheduled_charge", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consolidate_trust_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_scheduled_charge_consolidate_trust_id_trust",
            "trust",
            ["consolidate_trust_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("scheduled_charge", schema=None) as batch_op:
        batch_op.drop_constraint("fk_scheduled_charge_consolidate_trust_id_trust", type_="foreignkey")
        batch_op.drop_column("consolidate_trust_id")
