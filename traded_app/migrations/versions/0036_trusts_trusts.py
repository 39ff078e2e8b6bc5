"""Multi-academy trusts: the trust, its academies (school.trust_id) and its finance staff

Revision ID: 0036
Revises: 0037
Create Date: 2026-12-01 06:10:00

`trust` holds a trust's name, Companies House number, GIAS group code, billing address, finance
contact and the council's setting for whom invoices are addressed to. `school.trust_id` links an
academy to its trust. `user_account` gains the role `trust_finance` and `trust_id` (a trust
finance person's trust, required for that role and for no other): the role's CHECK constraint
is replaced, which SQLite can only do by building the table again (its own procedure, as in
migrations 0016 and 0030).
"""

import re

import sqlalchemy as sa
from alembic import op

import traded_app.models.base  # UTCDateTime in column types

# revision identifiers, used by Alembic.
revision = "0036"
down_revision = "0037"
branch_labels = None
depends_on = None

OLD_ROLES = ("school_business_manager", "headteacher", "la_finance", "la_admin", "adviser")
NEW_ROLES = (*OLD_ROLES, "trust_finance")
ROLE_CHECK = "ck_user_account_role"
TRUST_CHECK = "ck_user_account_trust_matches_role"
TRUST_CHECK_SQL = "(role = 'trust_finance') = (trust_id IS NOT NULL)"


def _in(roles):
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade():
    op.create_table(
        "trust",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("companies_house_number", sa.String(length=8), nullable=True),
        sa.Column("gias_code", sa.String(length=16), nullable=True),
        sa.Column("billing_address", sa.Text(), nullable=False),
        sa.Column("finance_email", sa.String(length=254), nullable=False),
        sa.Column(
            "invoice_to",
            sa.Enum(
                "academy",
                "trust",
                name="trust_invoice_to",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", traded_app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust")),
        sa.UniqueConstraint(
            "companies_house_number", name=op.f("uq_trust_companies_house_number")
        ),
        sa.UniqueConstraint("gias_code", name=op.f("uq_trust_gias_code")),
    )
    op.create_index("ix_trust_name", "trust", ["name"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute(
            "ALTER TABLE school ADD COLUMN trust_id INTEGER "
            "CONSTRAINT fk_school_trust_id_trust REFERENCES trust (id)"
        )
        op.execute(
            "ALTER TABLE user_account ADD COLUMN trust_id INTEGER "
            "CONSTRAINT fk_user_account_trust_id_trust REFERENCES trust (id)"
        )
        _rebuild_on_sqlite(
            "user_account",
            {
                f"CONSTRAINT {ROLE_CHECK} CHECK ({_in(OLD_ROLES)})": (
                    f"CONSTRAINT {ROLE_CHECK} CHECK ({_in(NEW_ROLES)}), "
                    f"CONSTRAINT {TRUST_CHECK} CHECK ({TRUST_CHECK_SQL})"
                )
            }
        )
    else:
        op.add_column("school", sa.Column("trust_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_school_trust_id_trust"), "school", "trust", ["trust_id"], ["id"])
        op.add_column("user_account", sa.Column("trust_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_user_account_trust_id_trust"), "user_account", "trust", ["trust_id"], ["id"]
        )
        op.drop_constraint(op.f(ROLE_CHECK), "user_account", type_="check")
        op.create_check_constraint(op.f(ROLE_CHECK), "user_account", _in(NEW_ROLES))
        op.create_check_constraint(op.f(TRUST_CHECK), "user_account", TRUST_CHECK_SQL)
    op.create_index("ix_school_trust_id", "school", ["trust_id"])
    op.create_index("ix_user_account_trust_id", "user_account", ["trust_id"])


def downgrade():
    op.execute("DELETE FROM user_account WHERE role = 'trust_finance'")
    op.drop_index("ix_user_account_trust_id", table_name="user_account")
    op.drop_index("ix_school_trust_id", table_name="school")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(
            "user_account",
            {
                (
                    f"CONSTRAINT {ROLE_CHECK} CHECK ({_in(NEW_ROLES)}), "
                    f"CONSTRAINT {TRUST_CHECK} CHECK ({TRUST_CHECK_SQL})"
                ): f"CONSTRAINT {ROLE_CHECK} CHECK ({_in(OLD_ROLES)})"
            },
            drop_column="trust_id",
        )
        # Text-based, as the upgrade's ALTER wrote it, so earlier migrations' downgrades still
        # find the school table's SQL as they left it (a batch rebuild would rewrite it).
        _rebuild_on_sqlite("school", {}, drop_column="trust_id")
    else:
        op.drop_constraint(op.f(TRUST_CHECK), "user_account", type_="check")
        op.drop_constraint(op.f(ROLE_CHECK), "user_account", type_="check")
        op.create_check_constraint(op.f(ROLE_CHECK), "user_account", _in(OLD_ROLES))
        op.drop_constraint(op.f("fk_user_account_trust_id_trust"), "user_account", type_="foreignkey")
        op.drop_column("user_account", "trust_id")
        op.drop_constraint(op.f("fk_school_trust_id_trust"), "school", type_="foreignkey")
        op.drop_column("school", "trust_id")
    op.drop_index("ix_trust_name", table_name="trust")
    op.drop_table("trust")


def _rebuild_on_sqlite(table, replacements, drop_column=None):
    """`table` again with its CHECKs changed (or `drop_column` removed): a new table from the old one's SQL,
    rows copied, old dropped and new renamed, its indexes and triggers created again as stored."""
    connection = op.get_bind()
    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    (table_sql,) = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).one()
    extras = connection.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? "
        "AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        (table,),
    ).all()
    for before, after in replacements.items():
        if before not in table_sql:
            raise RuntimeError(f"Unexpected SQL for the {table} table: no {before}")
        table_sql = table_sql.replace(before, after)
    if drop_column:
        added = (
            f", {drop_column} INTEGER CONSTRAINT fk_{table}_{drop_column}_trust "
            "REFERENCES trust (id)"
        )
        if added not in table_sql:
            raise RuntimeError(f"Unexpected SQL for the {table} table: no {drop_column}")
        table_sql = table_sql.replace(added, "")
    new_sql, renamed = re.subn(
        rf'^CREATE TABLE "?{table}"? \(', f"CREATE TABLE {table}_new (", table_sql
    )
    if renamed != 1:
        raise RuntimeError(f"Unexpected SQL for the {table} table")
    columns = [
        row[1]
        for row in connection.exec_driver_sql(f"PRAGMA table_info({table})")
        if row[1] != drop_column
    ]
    extras = [e for e in extras if not (drop_column and drop_column in (e[2] or ""))]
    for kind, name, _sql in extras:
        op.execute(f'DROP {kind.upper()} "{name}"')
    op.execute(new_sql)
    names = ", ".join(columns)
    op.execute(f"INSERT INTO {table}_new ({names}) SELECT {names} FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    for _kind, _name, sql in extras:
        op.execute(sql)
