"""Long exports are built by the job queue: their files and progress

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 21:20:00

`export_build` holds, for an XLSX or PDF ZIP export, whether its file is being built, ready
(with its name in EXPORT_DIR and size) or failed (with the reason).
"""

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_build",
        sa.Column(
            "export_id", sa.Integer(), sa.ForeignKey("finance_export.id"), primary_key=True
        ),
        sa.Column(
            "status",
            sa.Enum("building", "ready", "failed", name="export_build_status",
                    native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
    )


def downgrade():
    op.drop_table("export_build")
