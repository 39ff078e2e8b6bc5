"""The council's rules for days over time: a realistic pace, warnings, and the year's end

Revision ID: 0033
Revises: 0024
Create Date: 2026-12-01 03:10:00

`days_rules` is one row: the half-days a school can use in a teaching week (what makes days at
risk), whether headteachers are warned of days at risk and how long before the year ends they
are warned of days that would lapse, and the year-end rule for unused bought days (lapse, or
carry over up to a limit; core days only when it says so).
"""

import sqlalchemy as sa
from alembic import op

import traded_app.models.base  # UTCDateTime in column types

# revision identifiers, used by Alembic.
revision = "0033"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "days_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("usable_half_days_per_week", sa.Integer(), nullable=False),
        sa.Column("warn_at_risk", sa.Boolean(), nullable=False),
        sa.Column("lapse_warning_days", sa.Integer(), nullable=False),
        sa.Column(
            "rule",
            sa.Enum(
                "lapse",
                "carry_over",
                name="year_end_rule",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("carry_over_max_half_days", sa.Integer(), nullable=False),
        sa.Column("core_carries_over", sa.Boolean(), nullable=False),
        sa.Column("updated_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "carry_over_max_half_days >= 0", name=op.f("ck_days_rules_carry_not_negative")
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_days_rules_one_row")),
        sa.CheckConstraint(
            "lapse_warning_days BETWEEN 0 AND 120", name=op.f("ck_days_rules_warning_in_range")
        ),
        sa.CheckConstraint(
            "usable_half_days_per_week BETWEEN 1 AND 20", name=op.f("ck_days_rules_pace_in_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_days_rules")),
    )


def downgrade():
    op.drop_table("days_rules")
