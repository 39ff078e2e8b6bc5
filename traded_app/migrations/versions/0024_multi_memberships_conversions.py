"""School memberships (a role at each of several schools); academy conversions on their date

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 03:00:00

`school_membership` holds each school user's role at each school they serve; every existing
school user gets one for the school and role they have today (`user_account.school_id` and
`role` stay as their first school). `school_conversion` records a GIAS academy conversion to take
effect on the academy's open date, and `days_transfer` the days it moved, on both records.
"""

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

ROLE = sa.Enum(
    "school_business_manager",
    "headteacher",
    "la_finance",
    "la_admin",
    "adviser",
    name="membership_role",
    native_enum=False,
    create_constraint=True,
    length=32,
)


def upgrade():
    op.create_table(
        "school_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("role", ROLE, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "role IN ('headteacher', 'school_business_manager')",
            name=op.f("ck_school_membership_school_role"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_school_membership_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_school_membership_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_membership")),
        sa.UniqueConstraint(
            "user_id", "school_id", name=op.f("uq_school_membership_user_id_school_id")
        ),
    )
    op.create_index(
        op.f("ix_school_membership_school_id"), "school_membership", ["school_id"], unique=False
    )
    op.create_index(
        op.f("ix_school_membership_user_id"), "school_membership", ["user_id"], unique=False
    )
    op.execute(
        "INSERT INTO school_membership (user_id, school_id, role, created_at) "
        "SELECT id, school_id, role, created_at FROM user_account WHERE school_id IS NOT NULL"
    )
    op.create_table(
        "school_conversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_school_id", sa.Integer(), nullable=False),
        sa.Column("new_school_id", sa.Integer(), nullable=False),
        sa.Column("converts_on", sa.Date(), nullable=False),
        sa.Column("old_closes_on", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("transferred_at", UTCDateTime(), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["user_account.id"],
            name=op.f("fk_school_conversion_confirmed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["new_school_id"], ["school.id"], name=op.f("fk_school_conversion_new_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["old_school_id"], ["school.id"], name=op.f("fk_school_conversion_old_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_conversion")),
        sa.UniqueConstraint("new_school_id", name=op.f("uq_school_conversion_new_school_id")),
        sa.UniqueConstraint("old_school_id", name=op.f("uq_school_conversion_old_school_id")),
    )
    op.create_index(
        op.f("ix_school_conversion_converts_on"), "school_conversion", ["converts_on"], unique=False
    )
    op.create_table(
        "days_transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversion_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("academic_year_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("half_days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("half_days <> 0", name=op.f("ck_days_transfer_not_zero")),
        sa.ForeignKeyConstraint(
            ["academic_year_id"],
            ["academic_year.id"],
            name=op.f("fk_days_transfer_academic_year_id_academic_year"),
        ),
        sa.ForeignKeyConstraint(
            ["conversion_id"],
            ["school_conversion.id"],
            name=op.f("fk_days_transfer_conversion_id_school_conversion"),
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_line.id"],
            name=op.f("fk_days_transfer_order_line_id_order_line"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_days_transfer_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_days_transfer")),
    )
    op.create_index(
        op.f("ix_days_transfer_conversion_id"), "days_transfer", ["conversion_id"], unique=False
    )
    op.create_index(op.f("ix_days_transfer_school_id"), "days_transfer", ["school_id"], unique=False)


def downgrade():
    op.drop_table("days_transfer")
    op.drop_table("school_conversion")
    op.drop_table("school_membership")
