"""Next year's offer and its buy-back window; one draft order per school and academic year

Revision ID: 0031
Revises: 0032
Create Date: 2026-12-01 03:00:00

`academic_year` gains when its offer was published to schools and its buy-back window (plain
ADD COLUMNs, so SQLite keeps the table and its catalogue-stamp triggers). The council settings
gain the rule for orders placed after the window closes (batch: SQLite rebuilds
`council_settings`, which has no triggers). A school may now hold a draft for this year and one
for next year, so the one-draft index covers the school and the year.
"""

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0031"
down_revision = "0032"
branch_labels = None
depends_on = None

DRAFT = sa.text("status = 'draft'")


def upgrade():
    with op.batch_alter_table("academic_year", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offer_published_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("buy_back_opens_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("buy_back_closes_on", sa.Date(), nullable=True))
    with op.batch_alter_table("council_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "late_buy_back_rule", sa.String(length=24), server_default="allowed", nullable=False
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_council_settings_late_buy_back_rule_known"),
            "late_buy_back_rule IN ('allowed', 'subject_to_capacity')",
        )
    op.drop_index(
        "uq_school_order_one_draft",
        table_name="school_order",
        sqlite_where=DRAFT,
        postgresql_where=DRAFT,
    )
    op.create_index(
        "uq_school_order_one_draft",
        "school_order",
        ["school_id", "academic_year_id"],
        unique=True,
        sqlite_where=DRAFT,
        postgresql_where=DRAFT,
    )


def downgrade():
    op.drop_index(
        "uq_school_order_one_draft",
        table_name="school_order",
        sqlite_where=DRAFT,
        postgresql_where=DRAFT,
    )
    op.create_index(
        "uq_school_order_one_draft",
        "school_order",
        ["school_id"],
        unique=True,
        sqlite_where=DRAFT,
        postgresql_where=DRAFT,
    )
    with op.batch_alter_table("council_settings", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_council_settings_late_buy_back_rule_known"), type_="check"
        )
        batch_op.drop_column("late_buy_back_rule")
    with op.batch_alter_table("academic_year", schema=None) as batch_op:
        batch_op.drop_column("buy_back_closes_on")
        batch_op.drop_column("buy_back_opens_on")
        batch_op.drop_column("offer_published_at")
