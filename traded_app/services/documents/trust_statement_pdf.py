"""A trust's statement of account as PDF: its academies' statements grouped, printed with the
invoices' renderer (services/documents/pdf.py: the same template environment, print stylesheet,
static-only fetcher and tagged PDF/UA-1) and the council's details as statements show them."""

from __future__ import annotations

from datetime import date

from traded_app.services.documents import pdf
from traded_app.services.documents.statements import StatementSeller, seller
from traded_app.services.finance.trust_statements import TrustStatement, file_stem
from traded_app.services.platform.settings import today


def html_of(
    statement: TrustStatement, made_on: date | None = None, council: StatementSeller | None = None
) -> str:
    return pdf.html_of(
        "trust_statement.html", ts=statement, seller=council or seller(), made_on=made_on or today()
    )


def render(statement: TrustStatement, made_on: date | None = None) -> bytes:
    """The trust statement's PDF (A4, tagged PDF/UA-1)."""
    return pdf.render_html(html_of(statement, made_on), identifier=file_stem(statement).encode())
