"""The catalogue's stamp: one row that changes whenever services, prices, VAT or years do

Revision ID: 0018
Revises: 0022
Create Date: 2026-12-01 00:00:00

Each web process keeps the priced catalogue and the academic years in memory (they change a few
times a year and are read on every change of days in a basket), and asks the database on each use
whether they changed: `SELECT stamp FROM catalogue_stamp`. The stamp is rewritten with a fresh
random value by triggers on `service`, `service_price`, `service_vat` and `academic_year`, in the
transaction that changes them, however they are changed (the app, a migration, the SQL prompt),
so every process on every host sees the change at its next request, and a change rolled back
leaves a value nobody will ever see again. A table rebuilt by a later batch migration on SQLite
loses its triggers: tests/integration/test_catalogue_cache.py checks they are all there.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0022"
branch_labels = None
depends_on = None

# Written out here, not imported: a migration must not change when the models do.
STAMPED_TABLES = ("service", "service_price", "service_vat", "academic_year")
SQLITE_EVENTS = ("INSERT", "UPDATE", "DELETE")
RENEW = (
    "INSERT INTO catalogue_stamp (id, stamp) VALUES (1, {random}) "
    "ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp"
)
SQLITE_RENEW = RENEW.format(random="lower(hex(randomblob(16)))")
PG_RENEW = RENEW.format(random="gen_random_uuid()::text")
PG_FUNCTION = "catalogue_stamp_renew"


def upgrade():
    op.create_table(
        "catalogue_stamp",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalogue_stamp_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_stamp")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger AS $$ BEGIN "
            f"{PG_RENEW}; RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
        for table in STAMPED_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_renews_catalogue_stamp "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
            )
        op.execute(PG_RENEW)
    else:
        for table in STAMPED_TABLES:
            for event in SQLITE_EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_{event.lower()}_renews_catalogue_stamp "
                    f"AFTER {event} ON {table} BEGIN {SQLITE_RENEW}; END"
                )
        op.execute(SQLITE_RENEW)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in STAMPED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_renews_catalogue_stamp ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    else:
        for table in STAMPED_TABLES:
            for event in SQLITE_EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{event.lower()}_renews_catalogue_stamp")
    op.drop_table("catalogue_stamp")
