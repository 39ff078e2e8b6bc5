"""Remittances from trusts: a remittance's payer is a school or a trust, never both

Revision ID: 0040
Revises: 0042
Create Date: 2026-12-02 00:05:00

`remittance.trust_id` (the trust whose finance staff sent it, covering documents of its member
academies); `remittance.school_id` becomes nullable; a CHECK that exactly one of the two is
given (`ck_remittance_one_payer`); the one-time form key is unique per trust as it is per school
(`uq_remittance_trust_form_key`).

SQLite cannot change a column's nullability or add a CHECK in place, so there the table is built
again from this migration's own definition (rows copied, old table dropped, new one renamed,
foreign keys deferred to the commit so `remittance_document`'s references still hold).
`remittance` has no triggers. The downgrade deletes trust remittances (and the documents they
list: their payments, if matched, stay) and builds the table back as 0027 made it.
"""

import sqlalchemy as sa
from alembic import op

from traded_app.models.base import UTCDateTime

revision = "0040"
down_revision = "0042"
branch_labels = None
depends_on = None

ONE_PAYER = "(school_id IS NULL) <> (trust_id IS NULL)"
COLUMNS = (
    "id, school_id, form_key, amount_pence, paid_on, reference, note, submitted_at, "
    "submitted_by_id, status, matched_at, matched_by_id, file_name, file_type, file_content, "
    "file_bytes"
)


def _remittance_table(name: str, with_trust: bool) -> None:
    """The remittance table as 0027 made it, or (with_trust) as this migration leaves it."""
    trust_parts = []
    if with_trust:
        trust_parts = [
            sa.Column("trust_id", sa.Integer(), nullable=True),
            sa.CheckConstraint(ONE_PAYER, name=op.f("ck_remittance_one_payer")),
            sa.ForeignKeyConstraint(
                ["trust_id"], ["trust.id"], name=op.f("fk_remittance_trust_id_trust")
            ),
            sa.UniqueConstraint("trust_id", "form_key", name=op.f("uq_remittance_trust_form_key")),
        ]
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=with_trust),
        sa.Column("form_key", sa.String(length=64), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "matched",
                name="remittance_status",
                native_enum=False,
                create_constraint=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("matched_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("matched_by_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=120), nullable=False),
        sa.Column("file_type", sa.String(length=8), nullable=False),
        sa.Column("file_content", sa.LargeBinary(), nullable=True),
        sa.Column("file_bytes", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(file_content IS NULL) = (file_name = '')",
            name=op.f("ck_remittance_file_named_when_present"),
        ),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_remittance_amount_positive")),
        sa.CheckConstraint(
            "status IN ('waiting', 'matched')", name=op.f("ck_remittance_remittance_status")
        ),
        sa.ForeignKeyConstraint(
            ["matched_by_id"], ["user_account.id"], name=op.f("fk_remittance_matched_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_remittance_school_id_school")),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["user_account.id"],
            name=op.f("fk_remittance_submitted_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remittance")),
        sa.UniqueConstraint("school_id", "form_key", name=op.f("uq_remittance_form_key")),
        *trust_parts,
    )


def _rebuild_on_sqlite(with_trust: bool) -> None:
    connection = op.get_bind()
    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    op.drop_index("ix_remittance_status", table_name="remittance")
    op.drop_index("ix_remittance_school_id", table_name="remittance")
    if not with_trust:
        op.drop_index("ix_remittance_trust_id", table_name="remittance")
    _remittance_table("remittance_new", with_trust)
    op.execute(f"INSERT INTO remittance_new ({COLUMNS}) SELECT {COLUMNS} FROM remittance")
    op.execute("DROP TABLE remittance")
    op.execute("ALTER TABLE remittance_new RENAME TO remittance")
    op.create_index("ix_remittance_school_id", "remittance", ["school_id"])
    op.create_index("ix_remittance_status", "remittance", ["status"])


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(with_trust=True)
    else:
        op.add_column("remittance", sa.Column("trust_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_remittance_trust_id_trust"), "remittance", "trust", ["trust_id"], ["id"]
        )
        op.alter_column("remittance", "school_id", existing_type=sa.Integer(), nullable=True)
        op.create_check_constraint(op.f("ck_remittance_one_payer"), "remittance", ONE_PAYER)
        op.create_unique_constraint(op.f("uq_remittance_trust_form_key"), "remittance", ["trust_id", "form_key"]
        )
    op.create_index("ix_remittance_trust_id", "remittance", ["trust_id"])


def downgrade():
    op.execute(
        "DELETE FROM remittance_document WHERE remittance_id IN "
        "(SELECT id FROM remittance WHERE trust_id IS NOT NULL)"
    )
    op.execute("DELETE FROM remittance WHERE trust_id IS NOT NULL")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(with_trust=False)
    else:
        op.drop_index("ix_remittance_trust_id", table_name="remittance")
        op.drop_constraint(op.f("uq_remittance_trust_form_key"), "remittance", type_="unique")
        op.drop_constraint(op.f("ck_remittance_one_payer"), "remittance", type_="check")
        op.alter_column("remittance", "school_id", existing_type=sa.Integer(), nullable=False)
        op.drop_constraint(op.f("fk_remittance_trust_id_trust"), "remittance", type_="foreignkey")
        op.drop_column("remittance", "trust_id")
