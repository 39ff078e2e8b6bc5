"""The demo's trust: several demo academies, and its finance lead's account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.conftest import text_of
from tests.integration.test_auth import sign_in
from traded_app.demo.accounts import DEMO_PASSWORD
from traded_app.extensions import db
from traded_app.models import Remittance, RemittanceStatus
from traded_app.services.finance import remittances


def test_demo_trust_finance_signs_in_and_sees_its_academies_and_statement(
    app: Any, client: Any
) -> None:
    app.test_cli_runner().invoke(args=["seed-demo"])
    app.test_cli_runner().invoke(args=["seed-demo"])  # loading again changes nothing
    response = sign_in(client, "trust@example.org", DEMO_PASSWORD)
    home = client.get(response.location, follow_redirects=True).soup
    assert text_of(home, "h1") == "Tendring Coast Learning Trust"
    academies = text_of(home, "#academies")
    for name in ("Frinton", "Great Bentley", "Home Farm"):
        assert name in academies
    assert "Hamilton" not in academies
    statement = client.get("/trust/statement").soup
    assert text_of(statement, "#closing") not in ("", "£0.00")
    # On consolidated invoicing: one consolidated invoice, made once, listing its academies'.
    invoices = client.get("/trust/invoices").soup
    [row] = invoices.select("#consolidated-invoices tbody tr")
    page = client.get(row.select_one("a")["href"]).soup
    assert text_of(page, "h1").startswith("Consolidated invoice ")
    assert "-T-" in text_of(page, "h1")
    assert len(page.select("#parts tbody tr")) == 3


def test_demo_trust_remittance_waits_to_be_matched(app: Any, client: Any) -> None:
    app.test_cli_runner().invoke(args=["seed-demo"])
    app.test_cli_runner().invoke(args=["seed-demo"])  # made once
    (remittance,) = (
        db.session.execute(select(Remittance).where(Remittance.trust_id.is_not(None)))
        .scalars()
        .all()
    )
    assert remittance.school_id is None and remittance.status == RemittanceStatus.WAITING
    assert remittances.check(remittance).adds_up
    academies = {link.document.school_id for link in remittance.documents}
    assert len(academies) == 2
    assert remittance.file_name == "trust-remittance-advice.csv"
    sign_in(client, "trust@example.org", DEMO_PASSWORD)
    own = client.get("/trust/remittances").soup
    assert remittance.reference in text_of(own, "#remittances")
    client.post_form("/sign-out")
    sign_in(client, "finance@example.org", DEMO_PASSWORD)
    page = client.get("/finance/remittances").soup
    text = text_of(page, "#remittances")
    assert remittance.reference in text and "Match and record 2 payments" in text
    assert "Tendring Coast Learning Trust" in text
