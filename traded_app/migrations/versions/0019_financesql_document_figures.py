"""Each document's figures kept beside it by the database: what was credited, paid and is left

Revision ID: 0019
Revises: 0014
Create Date: 2026-12-01 00:00:00

The register and aged debt need every charge's balance to total, filter by status and age
debt; working it out from the credit notes and payments on each request read every document,
credit note and payment (at 10,000 documents most of a page's time). Documents and payments are
append-only (0005, 0008), so a document's figures change only when a credit note against it or
a payment on it is inserted. `document_figures` holds one row per document: the document's own
type, school, due date and gross (copied, they never change) and the sums of the credit notes
against it and of its payments (reversals negative), with the balance that leaves (0 for a
credit note, which has none of its own; a CHECK holds it to the sums).

Triggers keep it, in the transaction that inserts the row, whoever inserts it (the app, a
command, a bulk load): AFTER INSERT on `document` adds the document's row and, for a credit
note, adds its gross to its original's credited sum; AFTER INSERT on `payment` adds the amount
to the document's paid sum. Existing documents are filled in from their credit notes and
payments here. Two partial indexes serve the pages: the charges with something left by school
(aged debt's summary reads only the index) and the VAT invoices with something left by due
date (the overdue list reads its page of 50 in order).
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0014"
branch_labels = None
depends_on = None

BALANCE = (
    "balance_pence = CASE WHEN document_type = 'credit_note' THEN 0 "
    "ELSE gross_pence - credited_pence - paid_pence END"
)
OPEN = "balance_pence > 0"
OPEN_INVOICE = "document_type = 'invoice' AND balance_pence > 0"

# The statements the triggers run, written for both databases (NEW. is the inserted row).
ON_DOCUMENT = (
    "INSERT INTO document_figures (document_id, document_type, school_id, due_date, "
    "gross_pence, credited_pence, paid_pence, balance_pence) VALUES (NEW.id, NEW.document_type, "
    "NEW.school_id, NEW.due_date, NEW.gross_pence, 0, 0, "
    "CASE WHEN NEW.document_type = 'credit_note' THEN 0 ELSE NEW.gross_pence END); "
    "UPDATE document_figures SET credited_pence = credited_pence + NEW.gross_pence, "
    "balance_pence = balance_pence - NEW.gross_pence "
    "WHERE document_id = NEW.credits_document_id AND document_type <> 'credit_note';"
)
ON_PAYMENT = (
    "UPDATE document_figures SET paid_pence = paid_pence + NEW.amount_pence, "
    "balance_pence = CASE WHEN document_type = 'credit_note' THEN 0 "
    "ELSE balance_pence - NEW.amount_pence END "
    "WHERE document_id = NEW.document_id;"
)
TRIGGERS = (
    ("document_figures_on_document", "document", ON_DOCUMENT),
    ("document_figures_on_payment", "payment", ON_PAYMENT),
)

# Existing documents, their sums correlated per row: the same SQL on both databases.
FILL = """
INSERT INTO document_figures (document_id, document_type, school_id, due_date, gross_pence,
                              credited_pence, paid_pence, balance_pence)
SELECT id, document_type, school_id, due_date, gross_pence, credited, paid,
       CASE WHEN document_type = 'credit_note' THEN 0 ELSE gross_pence - credited - paid END
FROM (SELECT d.id, d.document_type, d.school_id, d.due_date, d.gross_pence,
             CASE WHEN d.document_type = 'credit_note' THEN 0
                  ELSE (SELECT coalesce(sum(n.gross_pence), 0) FROM document AS n
                        WHERE n.credits_document_id = d.id) END AS credited,
             (SELECT coalesce(sum(x.amount_pence), 0) FROM payment AS x
              WHERE x.document_id = d.id) AS paid
      FROM document AS d) AS sums
"""


def upgrade():
    op.create_table(
        "document_figures",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column(
            "document_type",
            sa.Enum(
                "invoice",
                "recharge",
                "credit_note",
                name="document_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("gross_pence", sa.Integer(), nullable=False),
        sa.Column("credited_pence", sa.Integer(), nullable=False),
        sa.Column("paid_pence", sa.Integer(), nullable=False),
        sa.Column("balance_pence", sa.Integer(), nullable=False),
        sa.CheckConstraint(BALANCE, name=op.f("ck_document_figures_balance_adds_up")),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_document_figures_document_id_document"),
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_figures")),
    )
    op.create_index(
        "ix_document_figures_open",
        "document_figures",
        ["school_id", "document_type", "due_date", "balance_pence"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_document_figures_open_invoices",
        "document_figures",
        ["due_date", "document_id", "balance_pence"],
        sqlite_where=sa.text(OPEN_INVOICE),
        postgresql_where=sa.text(OPEN_INVOICE),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(FILL)
    for name, table, body in TRIGGERS:
        if postgres:
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body} RETURN NULL; END; "
                "$$ LANGUAGE plpgsql"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER INSERT ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
        else:
            op.execute(f"CREATE TRIGGER {name} AFTER INSERT ON {table} BEGIN {body} END")
    if postgres:
        op.execute("ANALYZE document_figures")


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, table, _body in TRIGGERS:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_document_figures_open_invoices", table_name="document_figures")
    op.drop_index("ix_document_figures_open", table_name="document_figures")
    op.drop_table("document_figures")
