"""The finance pages cost the same queries at 10 documents as at 1,000 (issue 12, part 3): the
register (unfiltered, sorted by a figure, filtered by status, a later page), aged debt (sorted,
a later page of overdue invoices), the statements page and a school's statement, as finance and
as the school. Each page is counted once warm at 10 documents and again at 1,000, and what it
shows at 1,000 is checked so a page that stopped listing anything would not pass."""

from __future__ import annotations

from typing import Any

from tests.integration.test_aged_debt import _fill
from tests.integration.test_days import count_queries
from traded_app.extensions import db
from traded_app.models import Document
from traded_app.models.payments import Payment
from traded_app.models.types import Role
from traded_app.services.finance import statements


def _finance_pages(world: Any) -> list[str]:
    academy = world.academy.urn
    return [
        "/finance/invoices",
        "/finance/invoices?sort=balance",
        "/finance/invoices?status=overdue&sort=due&dir=asc",
        "/finance/invoices?page=3",
        f"/finance/invoices?school={academy}&sort=amount",
        "/finance/aged-debt",
        "/finance/aged-debt?sort=amount&page=2",
        "/finance/statements",
        f"/finance/schools/{academy}/statement",
    ]


def _counts(clients: dict[str, Any], pages: dict[str, list[str]]) -> dict[str, int]:
    counted = {}
    for who, urls in pages.items():
        for url in urls:
            with count_queries() as queries:
                response = clients[who].get(url)
            assert response.status_code == 200, (who, url, response.status_code)
            counted[f"{who} {url}"] = len(queries)
    return counted


def test_the_same_queries_for_10_or_1000_documents(world: Any, as_role: Any) -> None:
    clients = {
        "finance": as_role(Role.LA_FINANCE),
        "school": as_role(None).sign_in_as(world.academy_sbm),
    }
    pages = {"finance": _finance_pages(world), "school": ["/statement", "/statement?page=2"]}
    _fill(world, 10)
    _counts(clients, pages)  # warm: the session's user, the council's settings, statements
    few = _counts(clients, pages)
    _fill(world, 990)
    assert db.session.query(Document).count() >= 1_000
    many = _counts(clients, pages)
    assert many == few

    finance = clients["finance"]
    register_page = finance.get("/finance/invoices?page=3").soup
    assert len(register_page.select("main tbody tr")) == 50
    debt = finance.get("/finance/aged-debt?sort=amount&page=2").soup
    assert len(debt.select("form[action='/finance/reminders'] tbody tr")) == 50
    # The statement lists every document and payment of the academy in the period.
    start, end = statements.default_period()
    statement = statements.statement_for(world.academy, start, end)
    in_period = (
        db.session.query(Document)
        .filter(
            Document.school_id == world.academy.id,
            Document.issue_date >= start,
            Document.issue_date <= end,
        )
        .count()
        + db.session.query(Payment)
        .join(Document, Document.id == Payment.document_id)
        .filter(
            Document.school_id == world.academy.id,
            Payment.received_on >= start,
            Payment.received_on <= end,
        )
        .count()
    )
    assert len(statement.entries) == in_period > 300
    page = clients["school"].get("/statement?page=2").soup
    shown = min(in_period - 100, 100) + 1  # the page's lines and the balance brought forward
    assert len(page.select("#entries tbody tr")) == shown
