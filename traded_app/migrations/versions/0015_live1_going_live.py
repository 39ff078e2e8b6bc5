"""Going live: set-up tasks, the council's logo and remittance e-mail, retiring quadrants

Revision ID: 0015
Revises: 0016
Create Date: 2026-12-01 00:00:00

`setup_task` records which tasks of "Set up the service" the service manager has finished;
`council_logo` keeps each uploaded logo (a PNG) by its SHA-256. The council settings gain the
remittance e-mail, the current logo, whether the details are real (`details_set`: existing
councils' are) and whether the service is being set up from an empty database
(`setup_in_progress`: not for existing councils). Documents keep the remittance e-mail and logo
they were issued with (plain ADD COLUMNs: the append-only triggers on `document` stay).
Quadrants can be retired (`active`).
"""

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0015"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "setup_task",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=False),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["completed_by_id"],
            ["user_account.id"],
            name=op.f("fk_setup_task_completed_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setup_task")),
    )
    op.create_table(
        "council_logo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_logo")),
        sa.UniqueConstraint("sha256", name=op.f("uq_council_logo_sha256")),
    )
    with op.batch_alter_table("council_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("remittance_email", sa.String(length=254), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("logo_sha256", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("details_set", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("setup_in_progress", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("quadrant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.add_column(
        "document",
        sa.Column("remittance_email", sa.String(length=254), nullable=False, server_default=""),
    )
    op.add_column(
        "document",
        sa.Column("logo_sha256", sa.String(length=64), nullable=False, server_default=""),
    )


def downgrade():
    # ALTER TABLE ... DROP COLUMN on both backends: a batch rebuild would drop the append-only
    # triggers with the old `document` table.
    op.execute("ALTER TABLE document DROP COLUMN logo_sha256")
    op.execute("ALTER TABLE document DROP COLUMN remittance_email")
    with op.batch_alter_table("quadrant", schema=None) as batch_op:
        batch_op.drop_column("active")
    with op.batch_alter_table("council_settings", schema=None) as batch_op:
        batch_op.drop_column("setup_in_progress")
        batch_op.drop_column("details_set")
        batch_op.drop_column("logo_sha256")
        batch_op.drop_column("remittance_email")
    op.drop_table("council_logo")
    op.drop_table("setup_task")
