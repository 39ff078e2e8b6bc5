"""Visit reports: versions, activities covered, actions agreed; the report deadline; the chair

Revision ID: 0025
Revises: 0031
Create Date: 2026-12-01 03:00:00

`visit_report` holds each version of a delivered visit's report (a draft, then sent and never
changed; a correction is a new version with its reason, the old one marked replaced), with its
PDF's path and SHA-256; `visit_report_activity` the delivery activities it covered;
`visit_report_action` the actions agreed (owner, due date). The council's report deadline in
working days, and a school's chair of governors (copied into reports when ticked).
"""

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0025"
down_revision = "0031"
branch_labels = None
depends_on = None

STATUSES = ("draft", "sent", "replaced")


def upgrade():
    op.create_table(
        "visit_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="visit_report_status", native_enum=False, length=32,
                    create_constraint=True),
            nullable=False,
        ),
        sa.Column("what_was_done", sa.Text(), nullable=False),
        sa.Column("next_visit_on", sa.Date(), nullable=True),
        sa.Column("copy_to_chair", sa.Boolean(), nullable=False),
        sa.Column("correction_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("recipients", sa.Text(), server_default="", nullable=False),
        sa.Column("pdf_path", sa.String(length=255), server_default="", nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), server_default="", nullable=False),
        sa.Column("replaced_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("version >= 1", name=op.f("ck_visit_report_version_from_one")),
        sa.CheckConstraint(
            "(status = 'draft') = (sent_at IS NULL)", name=op.f("ck_visit_report_sent_when")
        ),
        sa.CheckConstraint(
            "version = 1 OR correction_reason <> ''",
            name=op.f("ck_visit_report_correction_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_visit_report_visit_id_visit")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_visit_report_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["user_account.id"],
            name=op.f("fk_visit_report_sent_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_report")),
        sa.UniqueConstraint("visit_id", "version", name="uq_visit_report_version"),
    )
    op.create_index(op.f("ix_visit_report_visit_id"), "visit_report", ["visit_id"])
    op.create_index(op.f("ix_visit_report_status"), "visit_report", ["status"])
    op.create_table(
        "visit_report_activity",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["visit_report.id"],
            name=op.f("fk_visit_report_activity_report_id_visit_report"),
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["delivery_activity.id"],
            name=op.f("fk_visit_report_activity_activity_id_delivery_activity"),
        ),
        sa.PrimaryKeyConstraint("report_id", "activity_id", name=op.f("pk_visit_report_activity")),
    )
    op.create_table(
        "visit_report_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["visit_report.id"],
            name=op.f("fk_visit_report_action_report_id_visit_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_report_action")),
    )
    op.create_index(
        op.f("ix_visit_report_action_report_id"), "visit_report_action", ["report_id"]
    )
    op.add_column(
        "council_settings",
        sa.Column("visit_report_deadline_days", sa.Integer(), server_default="10", nullable=False),
    )
    op.add_column(
        "school",
        sa.Column(
            "chair_of_governors_name", sa.String(length=120), server_default="", nullable=False
        ),
    )
    op.add_column(
        "school",
        sa.Column(
            "chair_of_governors_email", sa.String(length=254), server_default="", nullable=False
        ),
    )


def downgrade():
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch rebuild: 0016's downgrade on SQLite
    # rewrites the school table's SQL as ADD COLUMN left it.
    op.drop_column("school", "chair_of_governors_email")
    op.drop_column("school", "chair_of_governors_name")
    op.drop_column("council_settings", "visit_report_deadline_days")
    op.drop_index(op.f("ix_visit_report_action_report_id"), table_name="visit_report_action")
    op.drop_table("visit_report_action")
    op.drop_table("visit_report_activity")
    op.drop_index(op.f("ix_visit_report_status"), table_name="visit_report")
    op.drop_index(op.f("ix_visit_report_visit_id"), table_name="visit_report")
    op.drop_table("visit_report")
