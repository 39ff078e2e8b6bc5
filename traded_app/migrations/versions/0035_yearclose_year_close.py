"""Closing the academic year: unused days carried over or lapsed, in the days ledger

Revision ID: 0035
Revises: 0026
Create Date: 2026-12-01 06:00:00

`year_close` is one row per closed academic year (who closed it, when, the rule as it was, the
totals). `days_transfer` records the year's end as well as academy conversions: a `kind`
(conversion, carry_over, lapse), `conversion_id` only for a conversion, and the `year_close`
that carried over or lapsed the days (batch: SQLite rebuilds the table).
"""

import sqlalchemy as sa
from alembic import op

import traded_app.models.base  # UTCDateTime in column types

# revision identifiers, used by Alembic.
revision = "0035"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "year_close",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academic_year_id", sa.Integer(), nullable=False),
        sa.Column("to_year_id", sa.Integer(), nullable=False),
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
        sa.Column("schools", sa.Integer(), nullable=False),
        sa.Column("carried_half_days", sa.Integer(), nullable=False),
        sa.Column("lapsed_half_days", sa.Integer(), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "carried_half_days >= 0", name=op.f("ck_year_close_carried_not_negative")
        ),
        sa.CheckConstraint("lapsed_half_days >= 0", name=op.f("ck_year_close_lapsed_not_negative")),
        sa.ForeignKeyConstraint(
            ["academic_year_id"],
            ["academic_year.id"],
            name=op.f("fk_year_close_academic_year_id_academic_year"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["user_account.id"],
            name=op.f("fk_year_close_closed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["to_year_id"],
            ["academic_year.id"],
            name=op.f("fk_year_close_to_year_id_academic_year"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_year_close")),
        sa.UniqueConstraint("academic_year_id", name=op.f("uq_year_close_academic_year_id")),
    )
    with op.batch_alter_table("days_transfer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "conversion",
                    "carry_over",
                    "lapse",
                    name="days_transfer_kind",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=False,
                server_default="conversion",
            )
        )
        batch_op.add_column(sa.Column("year_close_id", sa.Integer(), nullable=True))
        batch_op.alter_column("conversion_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_days_transfer_year_close_id"), ["year_close_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_days_transfer_year_close_id_year_close"),
            "year_close",
            ["year_close_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_days_transfer_conversion_has_id"),
            "(kind = 'conversion') = (conversion_id IS NOT NULL)",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_days_transfer_year_end_has_close"),
            "(kind = 'conversion') OR (year_close_id IS NOT NULL)",
        )
    with op.batch_alter_table("days_transfer", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None)


def downgrade():
    op.execute("DELETE FROM days_transfer WHERE kind <> 'conversion'")
    with op.batch_alter_table("days_transfer", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_days_transfer_year_end_has_close"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_days_transfer_conversion_has_id"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_days_transfer_year_close_id_year_close"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_days_transfer_year_close_id"))
        batch_op.alter_column("conversion_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("year_close_id")
        # The kind's own CHECK (its enum) goes first: SQLite's batch copy would keep it.
        batch_op.drop_constraint(batch_op.f("ck_days_transfer_days_transfer_kind"), type_="check")
        batch_op.drop_column("kind")
    op.drop_table("year_close")
