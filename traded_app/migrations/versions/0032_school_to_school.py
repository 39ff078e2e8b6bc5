"""School-to-school support: areas, offers, requests, shortlists, engagements and deliveries

Revision ID: 0032
Revises: 0033
Create Date: 2026-12-01 02:30:00

`support_area` is the council's list of areas of expertise (loaded with a starting list the
service manager can change); `support_offer` what a school offers other schools, checked by the
service manager before it is listed; `support_request` a school's private request for support;
`shortlist_entry` the providers the council's broker puts side by side (a school's offer or a
council service); `engagement` what the buyer chose and the provider accepted, with the price per
day frozen; `engagement_delivery` half-days the provider delivered, confirmed by the buyer.
"""

import sqlalchemy as sa
from alembic import op

import traded_app.models.base  # UTCDateTime in column types

revision = "0032"
down_revision = "0033"
branch_labels = None
depends_on = None


AREAS = (
    "Leadership",
    "Governance",
    "SEND",
    "Safeguarding",
    "English",
    "Mathematics",
    "Science",
    "Early years",
    "Curriculum design",
    "Pupil premium and disadvantaged pupils",
    "Behaviour and attendance",
)


def upgrade():
    areas = op.create_table(
        "support_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_area")),
        sa.UniqueConstraint("name", name=op.f("uq_support_area_name")),
    )
    op.create_table(
        "support_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column(
            "phase",
            sa.Enum(
                "any",
                "primary",
                "secondary",
                "special",
                name="support_phase",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("practitioner_name", sa.String(length=120), nullable=False),
        sa.Column("practitioner_role", sa.String(length=120), nullable=False),
        sa.Column("half_days_per_term", sa.Integer(), nullable=False),
        sa.Column("daily_rate_pence", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "awaiting_check",
                "listed",
                "paused",
                "declined",
                name="offer_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'declined') = (decline_reason <> '')",
            name=op.f("ck_support_offer_declined_with_reason"),
        ),
        sa.CheckConstraint("daily_rate_pence > 0", name=op.f("ck_support_offer_rate_positive")),
        sa.CheckConstraint("half_days_per_term > 0", name=op.f("ck_support_offer_days_offered")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["support_area.id"], name=op.f("fk_support_offer_area_id_support_area")
        ),
        sa.ForeignKeyConstraint(
            ["checked_by_id"],
            ["user_account.id"],
            name=op.f("fk_support_offer_checked_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_support_offer_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_support_offer_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_offer")),
    )
    with op.batch_alter_table("support_offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_offer_school_id"), ["school_id"], unique=False)
        batch_op.create_index("ix_support_offer_status_area", ["status", "area_id"], unique=False)

    op.create_table(
        "support_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column(
            "phase",
            sa.Enum(
                "any",
                "primary",
                "secondary",
                "special",
                name="support_phase",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("wanted_when", sa.String(length=200), nullable=False),
        sa.Column("half_days", sa.Integer(), nullable=False),
        sa.Column("budget_pence", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "shortlist_sent",
                "chosen",
                "closed",
                name="request_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("broker_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "shortlist_sent_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("chosen_service_id", sa.Integer(), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "budget_pence IS NULL OR budget_pence > 0",
            name=op.f("ck_support_request_budget_positive"),
        ),
        sa.CheckConstraint("half_days > 0", name=op.f("ck_support_request_days_wanted")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["support_area.id"], name=op.f("fk_support_request_area_id_support_area")
        ),
        sa.ForeignKeyConstraint(
            ["broker_id"],
            ["user_account.id"],
            name=op.f("fk_support_request_broker_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["chosen_service_id"],
            ["service.id"],
            name=op.f("fk_support_request_chosen_service_id_service"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_support_request_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_support_request_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_request")),
    )
    with op.batch_alter_table("support_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_request_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_support_request_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index("ix_support_request_status", ["status"], unique=False)

    op.create_table(
        "engagement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("buyer_school_id", sa.Integer(), nullable=False),
        sa.Column("provider_school_id", sa.Integer(), nullable=False),
        sa.Column("half_days", sa.Integer(), nullable=False),
        sa.Column("daily_rate_pence", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "accepted",
                "declined",
                "completed",
                name="engagement_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("chosen_by_id", sa.Integer(), nullable=False),
        sa.Column("chosen_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("completed_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "buyer_school_id <> provider_school_id", name=op.f("ck_engagement_two_schools")
        ),
        sa.CheckConstraint("daily_rate_pence > 0", name=op.f("ck_engagement_rate_positive")),
        sa.CheckConstraint("half_days > 0", name=op.f("ck_engagement_days_agreed")),
        sa.CheckConstraint(
            "rating IS NULL OR rating BETWEEN 1 AND 5",
            name=op.f("ck_engagement_rating_one_to_five"),
        ),
        sa.CheckConstraint("starts_on <= ends_on", name=op.f("ck_engagement_dates_in_order")),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["user_account.id"],
            name=op.f("fk_engagement_answered_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["buyer_school_id"], ["school.id"], name=op.f("fk_engagement_buyer_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["chosen_by_id"],
            ["user_account.id"],
            name=op.f("fk_engagement_chosen_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["support_offer.id"], name=op.f("fk_engagement_offer_id_support_offer")
        ),
        sa.ForeignKeyConstraint(
            ["provider_school_id"],
            ["school.id"],
            name=op.f("fk_engagement_provider_school_id_school"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_request.id"],
            name=op.f("fk_engagement_request_id_support_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement")),
    )
    with op.batch_alter_table("engagement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_engagement_buyer_school_id"), ["buyer_school_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_engagement_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_engagement_provider_school_id"), ["provider_school_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_engagement_request_id"), ["request_id"], unique=False)

    op.create_table(
        "shortlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("added_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(offer_id IS NULL) <> (service_id IS NULL)",
            name=op.f("ck_shortlist_entry_an_offer_or_a_service"),
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["user_account.id"],
            name=op.f("fk_shortlist_entry_added_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["support_offer.id"],
            name=op.f("fk_shortlist_entry_offer_id_support_offer"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_request.id"],
            name=op.f("fk_shortlist_entry_request_id_support_request"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_shortlist_entry_service_id_service")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shortlist_entry")),
    )
    with op.batch_alter_table("shortlist_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shortlist_entry_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index("uq_shortlist_offer", ["request_id", "offer_id"], unique=True)
        batch_op.create_index("uq_shortlist_service", ["request_id", "service_id"], unique=True)

    op.create_table(
        "engagement_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("half_days", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("queried_reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "confirmed_at IS NULL OR queried_reason = ''",
            name=op.f("ck_engagement_delivery_confirmed_or_queried"),
        ),
        sa.CheckConstraint(
            "half_days IN (1, 2)", name=op.f("ck_engagement_delivery_half_or_whole_day")
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["user_account.id"],
            name=op.f("fk_engagement_delivery_confirmed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagement.id"],
            name=op.f("fk_engagement_delivery_engagement_id_engagement"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_engagement_delivery_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_delivery")),
    )
    with op.batch_alter_table("engagement_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_engagement_delivery_engagement_id"), ["engagement_id"], unique=False
        )
    op.bulk_insert(
        areas,
        [{"name": name, "active": True, "position": n} for n, name in enumerate(AREAS, start=1)],
    )


def downgrade():
    with op.batch_alter_table("engagement_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagement_delivery_engagement_id"))

    op.drop_table("engagement_delivery")
    with op.batch_alter_table("shortlist_entry", schema=None) as batch_op:
        batch_op.drop_index("uq_shortlist_service")
        batch_op.drop_index("uq_shortlist_offer")
        batch_op.drop_index(batch_op.f("ix_shortlist_entry_request_id"))

    op.drop_table("shortlist_entry")
    with op.batch_alter_table("engagement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagement_request_id"))
        batch_op.drop_index(batch_op.f("ix_engagement_provider_school_id"))
        batch_op.drop_index(batch_op.f("ix_engagement_offer_id"))
        batch_op.drop_index(batch_op.f("ix_engagement_buyer_school_id"))

    op.drop_table("engagement")
    with op.batch_alter_table("support_request", schema=None) as batch_op:
        batch_op.drop_index("ix_support_request_status")
        batch_op.drop_index(batch_op.f("ix_support_request_school_id"))
        batch_op.drop_index(batch_op.f("ix_support_request_created_at"))

    op.drop_table("support_request")
    with op.batch_alter_table("support_offer", schema=None) as batch_op:
        batch_op.drop_index("ix_support_offer_status_area")
        batch_op.drop_index(batch_op.f("ix_support_offer_school_id"))

    op.drop_table("support_offer")
    op.drop_table("support_area")
