"""Partnership plans, shared visits, and schools' requests for services not in the catalogue

Revision ID: 0026
Revises: 0023
Create Date: 2026-12-01 03:00:00

`partnership_plan` and `plan_item` (with `plan_item_school`) hold each partnership's plan of its
core days for a year; `shared_visit` is one adviser's visit for several of a partnership's
schools, each school's part a `visit` row (its new `shared_visit_id`) whose half-days are its
share, which may be 0. `service_request` is a school's request for a service the catalogue does
not list, and the council's answer (a bespoke service and price) or refusal.
"""

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0026"
down_revision = "0029"
branch_labels = None
depends_on = None

VAT = ("standard", "reduced", "zero", "exempt", "outside_scope")


def upgrade():
    op.create_table(
        "partnership_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("academic_year_id", sa.Integer(), nullable=False),
        sa.Column("adviser_id", sa.Integer(), nullable=True),
        sa.Column("agreed_note", sa.Text(), nullable=False),
        sa.Column("agreed_at", UTCDateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["academic_year_id"],
            ["academic_year.id"],
            name=op.f("fk_partnership_plan_academic_year_id_academic_year"),
        ),
        sa.ForeignKeyConstraint(
            ["adviser_id"],
            ["user_account.id"],
            name=op.f("fk_partnership_plan_adviser_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_partnership_plan_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_partnership_plan_partnership_id_partnership"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership_plan")),
        sa.UniqueConstraint(
            "partnership_id",
            "academic_year_id",
            name=op.f("uq_partnership_plan_partnership_id_academic_year_id"),
        ),
    )
    op.create_index(
        op.f("ix_partnership_plan_partnership_id"), "partnership_plan", ["partnership_id"]
    )
    op.create_index(
        op.f("ix_partnership_plan_academic_year_id"), "partnership_plan", ["academic_year_id"]
    )
    op.create_table(
        "plan_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("planned_half_days", sa.Integer(), nullable=False),
        sa.Column("planned_when", sa.String(length=200), nullable=False),
        sa.Column("omitted_reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "planned_half_days >= 0", name=op.f("ck_plan_item_planned_not_negative")
        ),
        sa.CheckConstraint(
            "omitted_reason = '' OR planned_half_days = 0",
            name=op.f("ck_plan_item_omitted_plans_nothing"),
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["delivery_activity.id"],
            name=op.f("fk_plan_item_activity_id_delivery_activity"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["partnership_plan.id"],
            name=op.f("fk_plan_item_plan_id_partnership_plan"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_item")),
        sa.UniqueConstraint(
            "plan_id", "activity_id", name=op.f("uq_plan_item_plan_id_activity_id")
        ),
    )
    op.create_index(op.f("ix_plan_item_plan_id"), "plan_item", ["plan_id"])
    op.create_table(
        "plan_item_school",
        sa.Column("plan_item_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_item_id"],
            ["plan_item.id"],
            name=op.f("fk_plan_item_school_plan_item_id_plan_item"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_plan_item_school_school_id_school")
        ),
        sa.PrimaryKeyConstraint("plan_item_id", "school_id", name=op.f("pk_plan_item_school")),
    )
    op.create_table(
        "shared_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("academic_year_id", sa.Integer(), nullable=False),
        sa.Column("plan_item_id", sa.Integer(), nullable=True),
        sa.Column("adviser_id", sa.Integer(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("half_days", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("half_days IN (1, 2)", name=op.f("ck_shared_visit_half_or_whole_day")),
        sa.ForeignKeyConstraint(
            ["academic_year_id"],
            ["academic_year.id"],
            name=op.f("fk_shared_visit_academic_year_id_academic_year"),
        ),
        sa.ForeignKeyConstraint(
            ["adviser_id"],
            ["user_account.id"],
            name=op.f("fk_shared_visit_adviser_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_shared_visit_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_shared_visit_partnership_id_partnership"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_item_id"], ["plan_item.id"], name=op.f("fk_shared_visit_plan_item_id_plan_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_visit")),
    )
    op.create_index(op.f("ix_shared_visit_partnership_id"), "shared_visit", ["partnership_id"])
    op.create_index(op.f("ix_shared_visit_plan_item_id"), "shared_visit", ["plan_item_id"])
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shared_visit_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_visit_shared_visit_id_shared_visit"),
            "shared_visit",
            ["shared_visit_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_visit_shared_visit_id"), ["shared_visit_id"])
        batch_op.drop_constraint(batch_op.f("ck_visit_half_or_whole_day"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_visit_half_or_whole_day"),
            "half_days IN (1, 2) OR (half_days = 0 AND shared_visit_id IS NOT NULL)",
        )
    op.create_table(
        "service_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("academic_year_id", sa.Integer(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("when_wanted", sa.String(length=200), nullable=False),
        sa.Column("rough_half_days", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "answered",
                "declined",
                name="request_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("half_days", sa.Integer(), nullable=True),
        sa.Column("price_per_day_pence", sa.Integer(), nullable=True),
        sa.Column(
            "vat_treatment",
            sa.Enum(
                *VAT, name="vat_treatment", native_enum=False, create_constraint=True, length=32
            ),
            nullable=True,
        ),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=True),
        sa.Column("answer_note", sa.Text(), nullable=False),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "rough_half_days IS NULL OR rough_half_days > 0",
            name=op.f("ck_service_request_rough_positive"),
        ),
        sa.CheckConstraint(
            "(status = 'answered') = (service_id IS NOT NULL)",
            name=op.f("ck_service_request_answered_with_a_line"),
        ),
        sa.CheckConstraint(
            "(status = 'declined') = (decline_reason <> '')",
            name=op.f("ck_service_request_declined_with_a_reason"),
        ),
        sa.CheckConstraint(
            "half_days IS NULL OR half_days > 0", name=op.f("ck_service_request_days_positive")
        ),
        sa.CheckConstraint(
            "price_per_day_pence IS NULL OR price_per_day_pence >= 0",
            name=op.f("ck_service_request_price_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["academic_year_id"],
            ["academic_year.id"],
            name=op.f("fk_service_request_academic_year_id_academic_year"),
        ),
        sa.ForeignKeyConstraint(
            ["asked_by_id"],
            ["user_account.id"],
            name=op.f("fk_service_request_asked_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_service_request_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_service_request_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_service_request_service_id_service")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_request")),
        sa.UniqueConstraint("service_id", name=op.f("uq_service_request_service_id")),
    )
    op.create_index(op.f("ix_service_request_status"), "service_request", ["status"])
    op.create_index(
        "ix_service_request_school_year", "service_request", ["school_id", "academic_year_id"]
    )


def downgrade():
    op.drop_table("service_request")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_visit_half_or_whole_day"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_visit_half_or_whole_day"), "half_days IN (1, 2)"
        )
        batch_op.drop_index(batch_op.f("ix_visit_shared_visit_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_visit_shared_visit_id_shared_visit"), type_="foreignkey"
        )
        batch_op.drop_column("shared_visit_id")
    op.drop_table("shared_visit")
    op.drop_table("plan_item_school")
    op.drop_table("plan_item")
    op.drop_table("partnership_plan")
