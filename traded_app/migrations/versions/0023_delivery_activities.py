"""The council's list of delivery activities (non-negotiable or agreed with schools)

Revision ID: 0023
Revises: 0015
Create Date: 2026-12-01 02:40:00

`delivery_activity` is the list visit reports and partnership plans choose from: the council's
"non-negotiable" monitoring activities and the others it agrees with schools. Seeded with the four
non-negotiable activities of the council's 2017/18 proposal, which the service manager can rename,
describe or retire.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0023"
down_revision = "0015"
branch_labels = None
depends_on = None

NON_NEGOTIABLE = (
    "Data analysis of the partnership's schools, with their headteachers",
    "Evaluation of Ofsted readiness for schools likely to be inspected this year",
    "Support for newly appointed headteachers",
    "Monitoring and support where vulnerable pupils' outcomes cause concern",
)


def upgrade():
    table = op.create_table(
        "delivery_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("non_negotiable", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_activity")),
        sa.UniqueConstraint("name", name=op.f("uq_delivery_activity_name")),
    )
    op.bulk_insert(
        table,
        [
            {
                "name": name,
                "description": "",
                "non_negotiable": True,
                "active": True,
                "position": position,
                "created_at": datetime.now(UTC),
            }
            for position, name in enumerate(NON_NEGOTIABLE, start=1)
        ],
    )


def downgrade():
    op.drop_table("delivery_activity")
