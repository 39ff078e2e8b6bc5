"""Money between schools: the council invoices school-to-school support as the provider's agent

Revision ID: 0038
Revises: 0035
Create Date: 2026-12-01 06:00:00

- `brokering_money_settings` (the council's choice: invoice as agent for a brokerage fee, or the
  provider invoices directly; VAT and income code of the charges), `engagement_terms` (the
  choice an engagement was made under), `delivery_charge` (each confirmed delivery charged
  once), `provider_payout` (owed to the providing school: a recharge credit or a payable, until
  paid) and `provider_invoice` (a provider's own invoice, recorded).
- A document may charge or credit an engagement (`document.engagement_id`): its CHECK says a
  document has one of an order, a booking of course places or an engagement, unless brought
  forward.

PostgreSQL: plain ALTERs. SQLite cannot change a CHECK in place, so `document` is rebuilt by
SQLite's own procedure (as migrations 0016 and 0030 do), its indexes and triggers created again.
"""

import re

import sqlalchemy as sa
from alembic import op

import traded_app.models.base  # noqa: F401  (UTCDateTime in column types)

revision = "0038"
down_revision = "0035"
branch_labels = None
depends_on = None

CHECK_NAME = "ck_document_brought_forward_has_no_order"
OLD_CHECK = (
    "(brought_forward = (sequence IS NULL)) "
    "AND (brought_forward = (order_id IS NULL AND course_booking_id IS NULL)) "
    "AND (order_id IS NULL OR course_booking_id IS NULL)"
)
NEW_CHECK = (
    "(brought_forward = (sequence IS NULL)) "
    "AND (brought_forward = (order_id IS NULL AND course_booking_id IS NULL "
    "AND engagement_id IS NULL)) "
    "AND (order_id IS NULL OR course_booking_id IS NULL) "
    "AND (engagement_id IS NULL OR (order_id IS NULL AND course_booking_id IS NULL))"
)
ADDED_COLUMN = (
    "engagement_id INTEGER CONSTRAINT fk_document_engagement_id_engagement "
    "REFERENCES engagement (id)"
)


def upgrade():
    _create_tables()
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE document ADD COLUMN {ADDED_COLUMN}")
        _rebuild_document_on_sqlite(OLD_CHECK, NEW_CHECK)
    else:
        op.add_column("document", sa.Column("engagement_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_document_engagement_id_engagement",
            "document",
            "engagement",
            ["engagement_id"],
            ["id"],
        )
        op.drop_constraint(CHECK_NAME, "document", type_="check")
        op.create_check_constraint(CHECK_NAME, "document", NEW_CHECK)
    op.create_index("ix_document_engagement_id", "document", ["engagement_id"])


def _create_tables():
    op.create_table(
        "brokering_money_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "billing",
            sa.Enum(
                "council_agent",
                "direct",
                name="brokering_billing",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("fee_bp", sa.Integer(), nullable=False),
        sa.Column(
            "vat_treatment",
            sa.Enum(
                "standard",
                "reduced",
                "zero",
                "exempt",
                "outside_scope",
                name="vat_treatment",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("income_code", sa.String(length=32), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "fee_bp BETWEEN 0 AND 5000", name=op.f("ck_brokering_money_settings_fee_zero_to_half")
        ),
        sa.CheckConstraint(
            "vat_rate_bp BETWEEN 0 AND 10000",
            name=op.f("ck_brokering_money_settings_vat_rate_a_percentage"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_brokering_money_settings_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brokering_money_settings")),
    )
    op.create_table(
        "engagement_terms",
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column(
            "billing",
            sa.Enum(
                "council_agent",
                "direct",
                name="brokering_billing",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("fee_bp", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "fee_bp BETWEEN 0 AND 5000", name=op.f("ck_engagement_terms_fee_zero_to_half")
        ),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagement.id"],
            name=op.f("fk_engagement_terms_engagement_id_engagement"),
        ),
        sa.PrimaryKeyConstraint("engagement_id", name=op.f("pk_engagement_terms")),
    )
    op.create_table(
        "provider_invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_provider_invoice_amount_positive")),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagement.id"],
            name=op.f("fk_provider_invoice_engagement_id_engagement"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_provider_invoice_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_invoice")),
    )
    with op.batch_alter_table("provider_invoice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_invoice_engagement_id"), ["engagement_id"], unique=False
        )
        batch_op.create_index(
            "uq_provider_invoice_reference", ["engagement_id", "reference"], unique=True
        )

    op.create_table(
        "delivery_charge",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["engagement_delivery.id"],
            name=op.f("fk_delivery_charge_delivery_id_engagement_delivery"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_delivery_charge_document_id_document")
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_delivery_charge")),
    )
    with op.batch_alter_table("delivery_charge", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_charge_document_id"), ["document_id"], unique=False
        )

    op.create_table(
        "provider_payout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("provider_school_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "recharge_credit",
                "payable",
                name="payout_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("charged_pence", sa.Integer(), nullable=False),
        sa.Column("fee_bp", sa.Integer(), nullable=False),
        sa.Column("fee_pence", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("provider_name", sa.String(length=200), nullable=False),
        sa.Column("provider_urn", sa.Integer(), nullable=False),
        sa.Column("provider_cost_centre", sa.String(length=32), nullable=False),
        sa.Column("created_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_by_id", sa.Integer(), nullable=True),
        sa.Column("payment_reference", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "(paid_on IS NULL) = (paid_at IS NULL) AND (paid_on IS NULL OR payment_reference <> '')",
            name=op.f("ck_provider_payout_paid_with_a_reference"),
        ),
        sa.CheckConstraint(
            "charged_pence = fee_pence + amount_pence",
            name=op.f("ck_provider_payout_fee_and_share_add_up"),
        ),
        sa.CheckConstraint(
            "fee_pence >= 0 AND amount_pence >= 0",
            name=op.f("ck_provider_payout_amounts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_provider_payout_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagement.id"],
            name=op.f("fk_provider_payout_engagement_id_engagement"),
        ),
        sa.ForeignKeyConstraint(
            ["paid_by_id"],
            ["user_account.id"],
            name=op.f("fk_provider_payout_paid_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_school_id"],
            ["school.id"],
            name=op.f("fk_provider_payout_provider_school_id_school"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_payout")),
        sa.UniqueConstraint("document_id", name=op.f("uq_provider_payout_document_id")),
    )
    with op.batch_alter_table("provider_payout", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_payout_created_on"), ["created_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_provider_payout_engagement_id"), ["engagement_id"], unique=False
        )
        batch_op.create_index(
            "ix_provider_payout_unpaid", ["provider_school_id", "paid_on"], unique=False
        )


def _rebuild_document_on_sqlite(
    old_check: str, new_check: str, *, drop_column: bool = False
) -> None:
    """The document table again with its CHECK changed: a new table from the old one's SQL,
    rows copied, old dropped and new renamed, its indexes and triggers created again as stored
    (SQLite's own procedure, as in migrations 0016 and 0030)."""
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
            raise RuntimeError("Unexpected SQL for the document table: no engagement_id")
        table_sql = table_sql.replace(f", {ADDED_COLUMN}", "")
    new_sql, renamed = re.subn(
        r'^CREATE TABLE "?document"? \(', "CREATE TABLE document_new (", table_sql
    )
    if renamed != 1:
        raise RuntimeError("Unexpected SQL for the document table")
    columns = [
        row[1]
        for row in connection.exec_driver_sql("PRAGMA table_info(document)")
        if not (drop_column and row[1] == "engagement_id")
    ]
    extras = [e for e in extras if e[1] != "ix_document_engagement_id" or not drop_column]
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
        "SELECT count(*) FROM document WHERE engagement_id IS NOT NULL"
    ).scalar():
        raise RuntimeError(
            "Documents for school-to-school engagements exist: this migration cannot be undone"
        )
    op.drop_index("ix_document_engagement_id", table_name="document")
    if connection.dialect.name == "sqlite":
        _rebuild_document_on_sqlite(NEW_CHECK, OLD_CHECK, drop_column=True)
    else:
        op.drop_constraint(CHECK_NAME, "document", type_="check")
        op.create_check_constraint(CHECK_NAME, "document", OLD_CHECK)
        op.drop_constraint("fk_document_engagement_id_engagement", "document")
        op.drop_column("document", "engagement_id")
    with op.batch_alter_table("provider_payout", schema=None) as batch_op:
        batch_op.drop_index("ix_provider_payout_unpaid")
        batch_op.drop_index(batch_op.f("ix_provider_payout_engagement_id"))
        batch_op.drop_index(batch_op.f("ix_provider_payout_created_on"))

    op.drop_table("provider_payout")
    with op.batch_alter_table("delivery_charge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_charge_document_id"))

    op.drop_table("delivery_charge")
    with op.batch_alter_table("provider_invoice", schema=None) as batch_op:
        batch_op.drop_index("uq_provider_invoice_reference")
        batch_op.drop_index(batch_op.f("ix_provider_invoice_engagement_id"))

    op.drop_table("provider_invoice")
    op.drop_table("engagement_terms")
    op.drop_table("brokering_money_settings")
