"""The demo's statements and remittance: every demo school with documents has a statement that
agrees with the register, and one school's remittance waits for finance to match it (the
trust's is in test_demo_trusts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.integration.test_auth import sign_in
from tests.integration.test_demo_data import seed
from traded_app.demo.accounts import DEMO_PASSWORD
from traded_app.extensions import db
from traded_app.models import Remittance, RemittanceStatus
from traded_app.services.finance import register, remittances, statements
from traded_app.services.platform.settings import today


def test_every_demo_school_with_documents_has_a_statement(app: Any, client: Any) -> None:
    seed(app)
    schools = statements.schools_with_documents()
    assert len(schools) >= 10
    start, end = statements.default_period()
    for school in schools:
        statement = statements.statement_for(school, start, end)
        totals = register.totals_of(register.RegisterFilters(school_urn=school.urn))
        assert statement.closing_pence == totals.outstanding_pence, school.name
        assert statement.ageing.total_pence == statement.closing_pence, school.name
    whole = [statements.statement_for(s, statements.EARLIEST, today()) for s in schools]
    assert all(s.entries for s in whole)
    sign_in(client, "sbm2@example.org", DEMO_PASSWORD)
    page = client.get("/statement")
    assert page.status_code == 200 and page.soup.select("#entries tbody tr")


def test_one_demo_remittance_waits_to_be_matched(app: Any, client: Any) -> None:
    seed(app)
    seed(app)  # made once
    (remittance,) = (
        db.session.execute(select(Remittance).where(Remittance.school_id.is_not(None)))
        .scalars()
        .all()
    )
    assert remittance.status == RemittanceStatus.WAITING
    assert remittances.check(remittance).adds_up
    assert remittance.file_name == "remittance-advice.csv"
    sign_in(client, "finance@example.org", DEMO_PASSWORD)
    page = client.get("/finance/remittances")
    text = page.soup.select_one("#remittances").get_text(" ", strip=True)
    assert remittance.reference in text and "Match and record 1 payment" in text
