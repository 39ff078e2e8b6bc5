"""The kept figures by school: an index on `document_figures (school_id, balance_pence)`

The statements page groups every document's balance by school (which schools have one, and how
much), and a school's statement reads the ageing of that school's documents, in hand included;
the partial index of open charges (0019) serves neither, so both read the whole table. With
this index the first reads the index alone, in school order (no sorting to group), and the
second only the school's rows.
"""

from alembic import op

revision = "0047"
down_revision = "0048"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_document_figures_school",
        "document_figures",
        ["school_id", "balance_pence"],
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index("ix_document_figures_school", table_name="document_figures", if_exists=True)
