"""Courses and events: courses, their prices and sessions, bookings and places

Revision ID: 0030
Revises: 0025
Create Date: 2026-12-01 00:00:00

- `course`, `course_price` (per customer type, with VAT), `course_session`, `course_booking` and
  `course_place` (issue 20).
- A document may charge or credit a booking of course places (`document.course_booking_id`):
  its CHECK says a document has an order or a booking (never both) unless it was brought
  forward. A document line may count places (`document_line.places`, 0 for days).
- The council's settings say when places are charged (`course_charge_timing`).

PostgreSQL: plain ALTERs. SQLite cannot change a CHECK in place, so `document` is rebuilt by
SQLite's own procedure (as migration 0016 does), its indexes and triggers created again.
"""

import re

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0030"
down_revision = "0025"
branch_labels = None
depends_on = None

CHECK_NAME = "ck_document_brought_forward_has_no_order"
OLD_CHECK = "(brought_forward = (order_id IS NULL)) AND (brought_forward = (sequence IS NULL))"
NEW_CHECK = (
    "(brought_forward = (sequence IS NULL)) "
    "AND (brought_forward = (order_id IS NULL AND course_booking_id IS NULL)) "
    "AND (order_id IS NULL OR course_booking_id IS NULL)"
)

CUSTOMER_TYPES = "customer_type IN ('maintained', 'academy', 'other')"
VAT_TREATMENTS = "vat_treatment IN ('standard', 'reduced', 'zero', 'exempt', 'outside_scope')"


def upgrade():
    _create_tables()
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column(
        "council_settings",
        sa.Column(
            "course_charge_timing",
            sa.String(length=16),
            nullable=False,
            server_default="on_booking",
        ),
    )
    op.add_column(
        "document_line", sa.Column("places", sa.Integer(), nullable=False, server_default="0")
    )
    if sqlite:
        op.execute(
            "ALTER TABLE document ADD COLUMN course_booking_id INTEGER "
            "CONSTRAINT fk_document_course_booking_id_course_booking "
            "REFERENCES course_booking (id)"
        )
        _rebuild_document_on_sqlite(OLD_CHECK, NEW_CHECK)
    else:
        op.add_column("document", sa.Column("course_booking_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_document_course_booking_id_course_booking",
            "document",
            "course_booking",
            ["course_booking_id"],
            ["id"],
        )
        op.drop_constraint(CHECK_NAME, "document", type_="check")
        op.create_check_constraint(CHECK_NAME, "document", NEW_CHECK)
    op.create_index("ix_document_course_booking_id", "document", ["course_booking_id"])


def _create_tables():
    op.create_table(
        "course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("audience", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("income_code", sa.String(length=32), nullable=False),
        sa.Column("free_until_days", sa.Integer(), nullable=False),
        sa.Column("late_percent", sa.Integer(), nullable=False),
        sa.Column("no_show_percent", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("free_until_days >= 0", name=op.f("ck_course_free_days_not_negative")),
        sa.CheckConstraint(
            "late_percent BETWEEN 0 AND 100", name=op.f("ck_course_late_percent_range")
        ),
        sa.CheckConstraint(
            "no_show_percent BETWEEN 0 AND 100", name=op.f("ck_course_no_show_percent_range")
        ),
        sa.CheckConstraint(
            "kind IN ('course', 'briefing', 'conference')", name=op.f("ck_course_course_kind")
        ),
        sa.CheckConstraint(
            "audience IN ('staff', 'headteachers', 'governors', 'business_managers')",
            name=op.f("ck_course_course_audience"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course")),
        sa.UniqueConstraint("code", name=op.f("uq_course_code")),
    )
    op.create_table(
        "course_price",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("customer_type", sa.String(length=32), nullable=False),
        sa.Column("price_per_place_pence", sa.Integer(), nullable=False),
        sa.Column("vat_treatment", sa.String(length=32), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "price_per_place_pence >= 0", name=op.f("ck_course_price_price_not_negative")
        ),
        sa.CheckConstraint(
            "vat_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_course_price_rate_in_range")
        ),
        sa.CheckConstraint(CUSTOMER_TYPES, name=op.f("ck_course_price_customer_type")),
        sa.CheckConstraint(VAT_TREATMENTS, name=op.f("ck_course_price_vat_treatment")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_course_price_course_id_course")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_price")),
        sa.UniqueConstraint(
            "course_id", "customer_type", name=op.f("uq_course_price_course_id_customer_type")
        ),
    )
    op.create_index(op.f("ix_course_price_course_id"), "course_price", ["course_id"])
    op.create_table(
        "course_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.String(length=5), nullable=False),
        sa.Column("end_time", sa.String(length=5), nullable=False),
        sa.Column("venue", sa.Text(), nullable=False),
        sa.Column("online_link", sa.String(length=500), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("booking_deadline", sa.Date(), nullable=False),
        sa.Column("trainer_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("register_taken_at", UTCDateTime(), nullable=True),
        sa.Column("needs_erased_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("places > 0", name=op.f("ck_course_session_places_positive")),
        sa.CheckConstraint(
            "booking_deadline <= session_date",
            name=op.f("ck_course_session_deadline_before_session"),
        ),
        sa.CheckConstraint(
            "(cancelled_at IS NULL) = (cancel_reason IS NULL)",
            name=op.f("ck_course_session_cancelled_with_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_course_session_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["trainer_id"],
            ["user_account.id"],
            name=op.f("fk_course_session_trainer_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_session")),
    )
    op.create_index(op.f("ix_course_session_course_id"), "course_session", ["course_id"])
    op.create_index(op.f("ix_course_session_session_date"), "course_session", ["session_date"])
    op.create_index(op.f("ix_course_session_trainer_id"), "course_session", ["trainer_id"])
    op.create_table(
        "course_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("booked_by_id", sa.Integer(), nullable=False),
        sa.Column("booked_at", UTCDateTime(), nullable=False),
        sa.Column("po_number", sa.String(length=40), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["course_session.id"],
            name=op.f("fk_course_booking_session_id_course_session"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_course_booking_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["booked_by_id"],
            ["user_account.id"],
            name=op.f("fk_course_booking_booked_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_course_booking_approved_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_booking")),
    )
    op.create_index(op.f("ix_course_booking_session_id"), "course_booking", ["session_id"])
    op.create_index(op.f("ix_course_booking_school_id"), "course_booking", ["school_id"])
    op.create_table(
        "course_place",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("needs", sa.Text(), nullable=False),
        sa.Column("price_pence", sa.Integer(), nullable=False),
        sa.Column("vat_treatment", sa.String(length=32), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("waiting_since", UTCDateTime(), nullable=True),
        sa.Column("offer_expires_at", UTCDateTime(), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("owed_pence", sa.Integer(), nullable=False),
        sa.Column("charged_pence", sa.Integer(), nullable=False),
        sa.Column("credited_pence", sa.Integer(), nullable=False),
        sa.Column("charge_document_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("price_pence >= 0", name=op.f("ck_course_place_price_not_negative")),
        sa.CheckConstraint(
            "(status = 'offered') = (offer_expires_at IS NOT NULL)",
            name=op.f("ck_course_place_offer_has_deadline"),
        ),
        sa.CheckConstraint(
            "status IN ('awaiting_approval', 'confirmed', 'waiting', 'offered', 'cancelled', "
            "'rejected', 'session_cancelled', 'attended', 'no_show')",
            name=op.f("ck_course_place_place_status"),
        ),
        sa.CheckConstraint(VAT_TREATMENTS, name=op.f("ck_course_place_vat_treatment")),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["course_booking.id"],
            name=op.f("fk_course_place_booking_id_course_booking"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["course_session.id"],
            name=op.f("fk_course_place_session_id_course_session"),
        ),
        sa.ForeignKeyConstraint(
            ["charge_document_id"],
            ["document.id"],
            name=op.f("fk_course_place_charge_document_id_document"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_place")),
    )
    op.create_index(op.f("ix_course_place_booking_id"), "course_place", ["booking_id"])
    op.create_index("ix_course_place_session_status", "course_place", ["session_id", "status"])
    op.create_index(
        "ix_course_place_waiting",
        "course_place",
        ["session_id", "waiting_since"],
        sqlite_where=sa.text("status = 'waiting'"),
        postgresql_where=sa.text("status = 'waiting'"),
    )


ADDED_COLUMN = (
    "course_booking_id INTEGER CONSTRAINT fk_document_course_booking_id_course_booking "
    "REFERENCES course_booking (id)"
)


def _rebuild_document_on_sqlite(
    old_check: str, new_check: str, *, drop_column: bool = False
) -> None:
    """The document table again with its CHECK changed: a new table from the old one's SQL,
    rows copied, old dropped and new renamed, its indexes and triggers created again as stored
    (SQLite's own procedure, as in migration 0016)."""
    connection = op.get_bind()
    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    (table_sql,) = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'document'"
    ).one()
    extras = connection.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'document' "
        "AND type IN ('index', 'trigger') AND sql IS NOT NULL"
    ).all()
    before = f"CONSTRAINT {CHECK_NAME} CHECK ({old_check})"
    if before not in table_sql:
        raise RuntimeError("Unexpected SQL for the document table: its CHECK is not as expected")
    table_sql = table_sql.replace(before, f"CONSTRAINT {CHECK_NAME} CHECK ({new_check})")
    if drop_column:
        if f", {ADDED_COLUMN}" not in table_sql:
            raise RuntimeError("Unexpected SQL for the document table: no course_booking_id")
        table_sql = table_sql.replace(f", {ADDED_COLUMN}", "")
    new_sql, renamed = re.subn(
        r'^CREATE TABLE "?document"? \(', "CREATE TABLE document_new (", table_sql
    )
    if renamed != 1:
        raise RuntimeError("Unexpected SQL for the document table")
    columns = [
        row[1]
        for row in connection.exec_driver_sql("PRAGMA table_info(document)")
        if not (drop_column and row[1] == "course_booking_id")
    ]
    extras = [e for e in extras if e[1] != "ix_document_course_booking_id" or not drop_column]
    for kind, name, _sql in extras:
        op.execute(f'DROP {kind.upper()} "{name}"')
    op.execute(new_sql)
    names = ", ".join(columns)
    op.execute(f"INSERT INTO document_new ({names}) SELECT {names} FROM document")
    op.execute("DROP TABLE document")
    op.execute("ALTER TABLE document_new RENAME TO document")
    for _kind, _name, sql in extras:
        op.execute(sql)


def downgrade():
    connection = op.get_bind()
    if connection.exec_driver_sql(
        "SELECT count(*) FROM document WHERE course_booking_id IS NOT NULL"
    ).scalar():
        raise RuntimeError("Documents for course places exist: this migration cannot be undone")
    op.drop_index("ix_document_course_booking_id", table_name="document")
    if connection.dialect.name == "sqlite":
        _rebuild_document_on_sqlite(NEW_CHECK, OLD_CHECK, drop_column=True)
    else:
        op.drop_constraint(CHECK_NAME, "document", type_="check")
        op.create_check_constraint(CHECK_NAME, "document", OLD_CHECK)
        op.drop_constraint("fk_document_course_booking_id_course_booking", "document")
        op.drop_column("document", "course_booking_id")
    op.drop_column("document_line", "places")
    op.drop_column("council_settings", "course_charge_timing")
    for table in ("course_place", "course_booking", "course_session", "course_price", "course"):
        op.drop_table(table)
