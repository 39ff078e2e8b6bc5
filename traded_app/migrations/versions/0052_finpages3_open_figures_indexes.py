"""The kept figures of open charges, indexed for aged debt and the overdue register

Aged debt's summary now adds up the open VAT invoices by school and, apart, the open internal
recharges: each from its own partial index, holding every column it reads (so PostgreSQL reads
the index alone instead of the whole table, and SQLite passes over no recharge for the schools'
buckets). The register's overdue invoices sorted by balance are read in the order of a partial
index by balance (the page's 50 found without sorting every overdue invoice), and their totals
from the partial index of open invoices, which now holds the gross, credited and paid too.

Every index holds `document_type` although its condition fixes it: SQLite uses an index alone
(a covering index) only when it holds every column the query names, the condition's included.
"""

import sqlalchemy as sa
from alembic import op

revision = "0052"
down_revision = "0051"
branch_labels = None
depends_on = None

OPEN_INVOICE = "document_type = 'invoice' AND balance_pence > 0"
OPEN_RECHARGE = "document_type = 'recharge' AND balance_pence > 0"

NEW = (
    (
        "ix_document_figures_open_invoices_by_school",
        ["school_id", "due_date", "balance_pence", "document_type"],
        OPEN_INVOICE,
    ),
    ("ix_document_figures_open_recharges", ["balance_pence", "document_type"], OPEN_RECHARGE),
    (
        "ix_document_figures_open_invoices_by_balance",
        ["balance_pence", "document_id", "due_date"],
        OPEN_INVOICE,
    ),
)
OPEN_INVOICES = "ix_document_figures_open_invoices"
WIDE = [
    "due_date",
    "document_id",
    "balance_pence",
    "gross_pence",
    "credited_pence",
    "paid_pence",
    "document_type",
]
NARROW = ["due_date", "document_id", "balance_pence"]


def _partial_index(name: str, columns: list[str], where: str) -> None:
    op.create_index(
        name,
        "document_figures",
        columns,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def _open_invoices(columns: list[str]) -> None:
    op.drop_index(OPEN_INVOICES, table_name="document_figures")
    _partial_index(OPEN_INVOICES, columns, OPEN_INVOICE)


def upgrade() -> None:
    for name, columns, where in NEW:
        _partial_index(name, columns, where)
    _open_invoices(WIDE)


def downgrade() -> None:
    _open_invoices(NARROW)
    for name, _columns, _where in reversed(NEW):
        op.drop_index(name, table_name="document_figures")
