"""Document figures written by the database alone: the app's role may only read them

Revision ID: 0049
Revises: 0039
Create Date: 2026-12-02 00:00:00

`document_figures` (migration 0019) is each document's credited and paid sums and balance, kept
by triggers on `document` and `payment`, which are append-only. On PostgreSQL the triggers'
functions ran with the privileges of whoever inserted the row, so the app's role needed UPDATE
on the table, and with it could have rewritten a balance at the SQL prompt. Here the functions
run as their owner (SECURITY DEFINER, with a fixed search_path so nothing else can be slipped
in), and `traded_app.database.grant_app_role` (run after every upgrade) leaves the app's role
SELECT alone on the table. Nothing changes on SQLite, where the app owns its file.
"""

import sqlalchemy as sa
from alembic import op

revision = "0049"
down_revision = "0039"
branch_labels = None
depends_on = None

FUNCTIONS = ("document_figures_on_document", "document_figures_on_payment")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.dialect.identifier_preparer.quote(
        bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    )
    for name in FUNCTIONS:
        # pg_temp last, so no temporary table can stand in for the schema's own
        op.execute(f"ALTER FUNCTION {name}() SECURITY DEFINER SET search_path = {schema}, pg_temp")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {name}() SECURITY INVOKER RESET search_path")
