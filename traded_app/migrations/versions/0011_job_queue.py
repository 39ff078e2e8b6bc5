"""The job queue's records: the e-mail outbox and scheduled runs

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 20:00:00

`outgoing_email` holds every e-mail from the transaction that caused it until a queue job has
sent it (or given up after its last try); `scheduled_run` records each run of a schedule, unique
per schedule and period so two workers cannot both run it.
"""

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outgoing_email",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("document.id"), nullable=True),
        sa.Column("school_id", sa.Integer(), sa.ForeignKey("school.id"), nullable=True),
        sa.Column(
            "requested_by_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True
        ),
        sa.Column(
            "status",
            sa.Enum("queued", "sent", "failed", name="email_status", native_enum=False,
                    create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("queued_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outgoing_email_status_queued", "outgoing_email", ["status", "queued_at"])
    op.create_index("ix_outgoing_email_document_id", "outgoing_email", ["document_id"])
    op.create_index("ix_outgoing_email_school_id", "outgoing_email", ["school_id"])
    op.create_table(
        "scheduled_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("schedule", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.UniqueConstraint("schedule", "period", name="uq_scheduled_run_period"),
    )


def downgrade():
    op.drop_table("scheduled_run")
    op.drop_index("ix_outgoing_email_school_id", table_name="outgoing_email")
    op.drop_index("ix_outgoing_email_document_id", table_name="outgoing_email")
    op.drop_index("ix_outgoing_email_status_queued", table_name="outgoing_email")
    op.drop_table("outgoing_email")
