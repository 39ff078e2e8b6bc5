"""The daily PDF check reads every stored PDF: trust invoices and visit reports too

Revision ID: 0050
Revises: 0049
Create Date: 2026-12-02 00:00:00

A consolidated trust invoice (migration 0039) and a sent visit report (0024) are stored PDFs
with the SHA-256 recorded when they were made, as issued documents are; the check read only the
documents. A finding now names exactly one of a document, a consolidated invoice or a visit
report. The table is rebuilt with its rows (the latest check's findings) copied, so SQLite and
PostgreSQL take the same path and no finding is lost.
"""

import sqlalchemy as sa
from alembic import op

revision = "0050"
down_revision = "0049"
branch_labels = None
depends_on = None

ONE_THING = " + ".join(
    f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)"
    for column in ("document_id", "consolidated_invoice_id", "visit_report_id")
) + " = 1"
COPIED = ("id", "run_id", "document_id", "problem", "detail")
PROBLEM = sa.Enum(
    "missing",
    "altered",
    "unreadable",
    name="pdf_problem",
    native_enum=False,
    create_constraint=True,
    length=32,
)


def _table(name: str, *, wide: bool) -> None:
    columns = [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=wide),
    ]
    constraints = [
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["scheduled_run.id"], name=f"fk_{name}_run_id_scheduled_run"
        ),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], name=f"fk_{name}_document_id_document"),
    ]
    if wide:
        columns += [
            sa.Column("consolidated_invoice_id", sa.Integer(), nullable=True),
            sa.Column("visit_report_id", sa.Integer(), nullable=True),
        ]
        constraints += [
            sa.ForeignKeyConstraint(
                ["consolidated_invoice_id"],
                ["consolidated_invoice.id"],
                name=f"fk_{name}_consolidated_invoice_id",  # the convention's is over 63
            ),
            sa.ForeignKeyConstraint(
                ["visit_report_id"], ["visit_report.id"], name=f"fk_{name}_visit_report_id_visit_report"
            ),
            sa.CheckConstraint(ONE_THING, name=f"ck_{name}_one_thing_checked"),
        ]
    op.create_table(
        name,
        *columns,
        sa.Column("problem", PROBLEM, nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        *constraints,
    )


def _rebuild(wide: bool) -> None:
    """Rebuild the table in its new shape with its rows: read, drop, create, write back (the
    names of its keys and index stay those of its name, on both databases)."""
    bind = op.get_bind()
    where = "" if wide else " WHERE document_id IS NOT NULL"
    rows = [
        dict(zip(COPIED, row, strict=True))
        for row in bind.execute(sa.text(f"SELECT {', '.join(COPIED)} FROM pdf_check_finding{where}"))
    ]
    op.drop_index("ix_pdf_check_finding_run_id", table_name="pdf_check_finding")
    op.drop_table("pdf_check_finding")
    _table("pdf_check_finding", wide=wide)
    op.create_index("ix_pdf_check_finding_run_id", "pdf_check_finding", ["run_id"])
    if rows:
        op.bulk_insert(
            sa.table("pdf_check_finding", *(sa.column(name) for name in COPIED)), rows
        )


def upgrade():
    _rebuild(wide=True)


def downgrade():
    _rebuild(wide=False)
