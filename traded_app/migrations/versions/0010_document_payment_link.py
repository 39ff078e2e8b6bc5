"""Documents keep the card-payment link printed on their PDF

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 01:00:00

A plain ADD COLUMN (no table rebuild), so the append-only triggers on `document` stay as they
are; existing documents printed no link, so they get an empty one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "document",
        sa.Column("payment_link", sa.String(length=255), nullable=False, server_default=""),
    )


def downgrade():
    # ALTER TABLE ... DROP COLUMN on both backends (SQLite 3.35+): a batch rebuild would drop
    # the append-only triggers with the old table.
    op.execute("ALTER TABLE document DROP COLUMN payment_link")
