"""Term dates, INSET days, bank holidays; why a visit was booked outside them or recorded late

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-01 00:30:00

`term_period` holds the council's terms per academic year, `inset_day` the council's and each
school's INSET days, `bank_holiday` England and Wales's bank holidays as last loaded from GOV.UK
(the app also ships them). A visit gains the service manager's reason for booking it on a day
the calendar refuses, and the reason a past visit was recorded after the day; an adviser the
secret token of their private calendar feed; `visit_feedback` the headteacher's rating of a
delivered visit (one per visit), asked for once (`visit.feedback_requested_at`).
"""

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0022"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "term_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academic_year_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_term_period_term_in_order")),
        sa.ForeignKeyConstraint(
            ["academic_year_id"],
            ["academic_year.id"],
            name=op.f("fk_term_period_academic_year_id_academic_year"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_term_period_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_term_period")),
        sa.UniqueConstraint("academic_year_id", "first_day", name="uq_term_period_start"),
    )
    op.create_table(
        "inset_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inset_on", sa.Date(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_inset_day_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_inset_day_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inset_day")),
    )
    op.create_index("ix_inset_day_on", "inset_day", ["inset_on", "school_id"])
    op.create_index(op.f("ix_inset_day_school_id"), "inset_day", ["school_id"])
    op.create_table(
        "bank_holiday",
        sa.Column("holiday_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("loaded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("holiday_on", name=op.f("pk_bank_holiday")),
    )
    op.add_column(
        "visit",
        sa.Column("date_override_reason", sa.Text(), server_default="", nullable=False),
    )
    op.add_column("user_account", sa.Column("calendar_token", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_user_account_calendar_token", "user_account", ["calendar_token"], unique=True
    )
    op.add_column("visit", sa.Column("feedback_requested_at", UTCDateTime(), nullable=True))
    op.create_table(
        "visit_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("given_by_id", sa.Integer(), nullable=False),
        sa.Column("given_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "rating BETWEEN 1 AND 5", name=op.f("ck_visit_feedback_rating_one_to_five")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_visit_feedback_visit_id_visit")
        ),
        sa.ForeignKeyConstraint(
            ["given_by_id"],
            ["user_account.id"],
            name=op.f("fk_visit_feedback_given_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_feedback")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_visit_feedback_visit_id")),
    )
    op.create_index(
        op.f("ix_visit_feedback_given_at"), "visit_feedback", ["given_at"], unique=False
    )
    op.add_column(
        "visit",
        sa.Column("recorded_after_reason", sa.Text(), server_default="", nullable=False),
    )


def downgrade():
    op.drop_index(op.f("ix_visit_feedback_given_at"), table_name="visit_feedback")
    op.drop_table("visit_feedback")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("feedback_requested_at")
    op.drop_index("ix_user_account_calendar_token", table_name="user_account")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("calendar_token")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("recorded_after_reason")
        batch_op.drop_column("date_override_reason")
    op.drop_table("bank_holiday")
    op.drop_index(op.f("ix_inset_day_school_id"), table_name="inset_day")
    op.drop_index("ix_inset_day_on", table_name="inset_day")
    op.drop_table("inset_day")
    op.drop_table("term_period")
