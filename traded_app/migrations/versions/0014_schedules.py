"""Schedules: the council's reminder policy, pauses, backups and the PDF check's findings

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 09:00:00

The council settings gain the payment-reminder policy (on or off, the friendly note's days
before the due date, reminders before the final notice, the time to send, what the final notice
says happens next) and the times of the nightly backup and the PDF check, with how many backups
to keep. Existing councils keep reminders off until they turn them on. Each reminder records its
kind (the reminders sent so far were all after the due date: `reminder`). `reminder_pause` holds
finance's pauses of one invoice's or one school's reminders (at most one open each, by partial
unique indexes); `pdf_check_finding` what the latest PDF check found wrong.

Batch mode for the two ALTERs that add CHECK constraints (SQLite rebuilds `council_settings` and
`reminder`, neither of which has triggers to lose).
"""

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FINAL_NOTICE_TEXT = (
    "If the invoice is not paid within 14 days of this notice, we will pass the debt to the "
    "council's debt recovery team."
)


def upgrade():
    with op.batch_alter_table("council_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders_on", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("friendly_note_days", sa.Integer(), server_default="7", nullable=False)
        )
        batch_op.add_column(
            sa.Column("reminders_before_final", sa.Integer(), server_default="2", nullable=False)
        )
        batch_op.add_column(
            sa.Column("reminder_send_time", sa.Time(), server_default="09:00:00", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "final_notice_text", sa.Text(), server_default=FINAL_NOTICE_TEXT, nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("backup_time", sa.Time(), server_default="02:00:00", nullable=False)
        )
        batch_op.add_column(
            sa.Column("backups_kept", sa.Integer(), server_default="14", nullable=False)
        )
        batch_op.add_column(
            sa.Column("pdf_check_time", sa.Time(), server_default="03:00:00", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_council_settings_friendly_note_range"), "friendly_note_days BETWEEN 0 AND 60"
        )
        batch_op.create_check_constraint(
            op.f("ck_council_settings_reminders_before_final_range"),
            "reminders_before_final BETWEEN 0 AND 10",
        )
        batch_op.create_check_constraint(
            op.f("ck_council_settings_backups_kept_range"), "backups_kept BETWEEN 1 AND 365"
        )

    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), server_default="reminder", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_reminder_reminder_kind"), "kind IN ('friendly', 'reminder', 'final')"
        )

    op.create_table(
        "reminder_pause",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("document.id"), nullable=True),
        sa.Column("school_id", sa.Integer(), sa.ForeignKey("school.id"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("paused_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("paused_by_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("resumed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "resumed_by_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True
        ),
        sa.CheckConstraint(
            "(document_id IS NULL) <> (school_id IS NULL)",
            name=op.f("ck_reminder_pause_one_subject"),
        ),
    )
    for column in ("document_id", "school_id"):
        op.create_index(
            f"uq_reminder_pause_open_{column.removesuffix('_id')}",
            "reminder_pause",
            [column],
            unique=True,
            sqlite_where=sa.text("resumed_at IS NULL"),
            postgresql_where=sa.text("resumed_at IS NULL"),
        )

    op.create_table(
        "pdf_check_finding",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("scheduled_run.id"), nullable=False),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("document.id"), nullable=False),
        sa.Column(
            "problem",
            sa.Enum("missing", "altered", "unreadable", name="pdf_problem", native_enum=False,
                    create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_pdf_check_finding_run_id", "pdf_check_finding", ["run_id"])


def downgrade():
    op.drop_index("ix_pdf_check_finding_run_id", table_name="pdf_check_finding")
    op.drop_table("pdf_check_finding")
    op.drop_index("uq_reminder_pause_open_school", table_name="reminder_pause")
    op.drop_index("uq_reminder_pause_open_document", table_name="reminder_pause")
    op.drop_table("reminder_pause")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reminder_reminder_kind"), type_="check")
        batch_op.drop_column("kind")
    with op.batch_alter_table("council_settings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_council_settings_backups_kept_range"), type_="check")
        batch_op.drop_constraint(
            op.f("ck_council_settings_reminders_before_final_range"), type_="check"
        )
        batch_op.drop_constraint(op.f("ck_council_settings_friendly_note_range"), type_="check")
        for column in (
            "pdf_check_time",
            "backups_kept",
            "backup_time",
            "final_notice_text",
            "reminder_send_time",
            "reminders_before_final",
            "friendly_note_days",
            "reminders_on",
        ):
            batch_op.drop_column(column)
