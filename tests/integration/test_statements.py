"""Statements of account on the school's and finance's pages, as PDF and CSV, and e-mailed to one
school or every school with a balance."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from tests.factories import issue_document
from tests.integration.test_days import _add_schools
from traded_app.extensions import db
from traded_app.models import DocumentType, OutgoingEmail, School, SendStatus, StatementSend
from traded_app.models.types import Role, VatTreatment
from traded_app.services.finance import payments, register, statements
from traded_app.services.platform.settings import today


@pytest.fixture(autouse=True)
def own_outbox(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))


def sent_files(app: Flask) -> list[Path]:
    return sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))


def _academy_account(world: Any) -> tuple[Any, Any]:
    """An invoice to the academy, part paid, and a credit note against it; and a recharge to the
    world's (maintained) school."""
    finance = world.users[Role.LA_FINANCE]
    invoice = issue_document(world, on=today() - timedelta(days=45))  # £540
    db.session.commit()
    payments.record_bank_transfer(invoice, 10_000, today() - timedelta(days=3), "BACS 77", finance)
    issue_document(
        world,
        school=world.academy,
        document_type=DocumentType.CREDIT_NOTE,
        lines=[(2, 5_000, VatTreatment.OUTSIDE_SCOPE, 0)],
        credits=invoice,
    )
    recharge = issue_document(world, school=world.school)
    db.session.commit()
    return invoice, recharge


def test_a_business_manager_sees_the_schools_statement_and_only_its_own(
    world: Any, as_role: Any
) -> None:
    invoice, recharge = _academy_account(world)
    page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/statement")
    assert page.status_code == 200
    text = page.soup.get_text(" ", strip=True)
    assert recharge.number in text and invoice.number not in text
    assert page.soup.select_one("#closing").get_text(strip=True) == "£450.00"
    # The headteacher sees it too; the academy's business manager sees the academy's.
    assert as_role(Role.HEADTEACHER).get("/statement").status_code == 200
    academy = as_role(None).sign_in_as(world.academy_sbm)
    page = academy.get("/statement")
    rows = [r.get_text(" ", strip=True) for r in page.soup.select("#entries tbody tr")]
    assert "Opening balance" in rows[0]
    assert any(invoice.number in r and "£540.00" in r for r in rows)
    assert any("BACS 77" in r and "£100.00" in r for r in rows)
    assert any("Credit note" in r and f"Credits {invoice.number}" in r for r in rows)
    assert recharge.number not in page.get_data(as_text=True)
    total = register.totals_of(register.RegisterFilters(school_urn=world.academy.urn))
    assert (
        page.soup.select_one("#closing").get_text(strip=True)
        == f"£{total.outstanding_pence / 100:,.2f}"
    )


def test_the_statement_downloads_as_a_tagged_pdf_and_as_csv(world: Any, as_role: Any) -> None:
    invoice, _recharge = _academy_account(world)
    academy = as_role(None).sign_in_as(world.academy_sbm)
    response = academy.get("/statement/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    reader = PdfReader(io.BytesIO(response.get_data()))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB" and "/StructTreeRoot" in root
    assert 'pdfuaid:part="1"' in root["/Metadata"].get_object().get_data().decode()
    assert reader.metadata is not None
    assert reader.metadata.title == f"Statement of account for {world.academy.name}"
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert invoice.number in text and "BACS 77" in text
    assert "Closing balance" in text and "£390.00" in text  # £540 − £100 paid − £50 credited
    csv = academy.get("/statement/csv")
    assert csv.mimetype == "text/csv" and csv.headers["Content-Disposition"].startswith(
        "attachment"
    )
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0] == "Date,Type,Reference,Details,Debit,Credit,Balance"
    assert lines[-1].endswith(",390.00")


def test_a_bad_period_is_explained_not_an_error(world: Any, as_role: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    future = (today() + timedelta(days=3)).isoformat()
    page = client.get(f"/statement?from=2026-13-01&to={future}")
    assert page.status_code == 200
    summary = page.soup.select_one(".govuk-error-summary").get_text(" ", strip=True)
    assert "Start of the period must be a real date" in summary
    page = client.get(f"/statement?to={future}")
    assert "The end of the period must be today or in the past" in page.soup.select_one(
        ".govuk-error-summary"
    ).get_text(" ", strip=True)
    assert client.get(f"/statement/pdf?to={future}").status_code == 404


def test_finance_sees_any_schools_statement_and_e_mails_it(
    app: Flask, world: Any, as_role: Any
) -> None:
    invoice, _recharge = _academy_account(world)
    world.academy.billing_contact_email = "bursar@meadow.example"
    db.session.commit()
    finance = as_role(Role.LA_FINANCE)
    page = finance.get(f"/finance/schools/{world.academy.urn}/statement")
    assert page.status_code == 200 and invoice.number in page.get_data(as_text=True)
    register_page = finance.get(f"/finance/invoices?school={world.academy.urn}")
    assert register_page.soup.find("a", string="Statement of account") is not None
    start = (today() - timedelta(days=60)).isoformat()
    response = finance.post_form(
        f"/finance/schools/{world.academy.urn}/statement/send?from={start}&to={today()}"
    )
    assert response.status_code == 302
    send = db.session.execute(select(StatementSend)).scalar_one()
    assert send.recipient == "bursar@meadow.example" and send.status == SendStatus.SENT
    assert send.closing_balance_pence == 39_000 and send.period_start.isoformat() == start
    (message,) = sent_files(app)
    content = message.read_bytes()
    assert b"Statement of account for Meadow Academy" in content
    assert b"application/pdf" in content and f"statement-{world.academy.urn}".encode() in content
    page = finance.get(f"/finance/schools/{world.academy.urn}/statement")
    assert "bursar@meadow.example" in page.soup.select_one("#sends").get_text()
    # The service manager reads statements but does not send them.
    admin = as_role(Role.LA_ADMIN)
    assert admin.get(f"/finance/schools/{world.academy.urn}/statement").status_code == 200
    assert (
        admin.post_form(f"/finance/schools/{world.academy.urn}/statement/send").status_code == 403
    )


def test_finance_e_mails_every_school_with_a_balance(app: Flask, world: Any, as_role: Any) -> None:
    _academy_account(world)
    world.academy.billing_contact_email = "bursar@meadow.example"
    world.school.billing_contact_email = ""
    db.session.commit()
    finance = as_role(Role.LA_FINANCE)
    page = finance.get("/finance/statements")
    names = [a.get_text(strip=True) for a in page.soup.select("#schools a")]
    assert names == [world.academy.name, world.school.name]  # the other school owes nothing
    response = finance.post_form(f"/finance/statements/send-all?to={today()}")
    assert response.status_code == 302
    sends = {s.school_id: s for s in db.session.execute(select(StatementSend)).scalars().all()}
    assert set(sends) == {world.academy.id, world.school.id}
    assert sends[world.academy.id].status == SendStatus.SENT
    # A school with no billing contact is logged as not sent, for finance to see.
    assert sends[world.school.id].status == SendStatus.NOT_SENT
    assert sends[world.school.id].error == "The school has no billing contact e-mail address"
    assert len(sent_files(app)) == 1
    emails = db.session.execute(select(OutgoingEmail)).scalars().all()
    assert [e.kind for e in emails] == ["statement"]
    listed = finance.get("/finance/statements").soup.select_one("#sends").get_text(" ", strip=True)
    assert "Not sent: The school has no billing contact e-mail address" in listed


def test_the_schools_with_a_balance_are_listed_fifty_to_a_page(world: Any, as_role: Any) -> None:
    _add_schools(world, 55, 700_000)
    for school in db.session.execute(select(School).where(School.urn >= 700_000)).scalars():
        issue_document(world, school=school)
    _academy_account(world)
    db.session.commit()
    finance = as_role(Role.LA_FINANCE)
    start = today().replace(day=1)
    first = finance.get(f"/finance/statements?from={start}").soup
    assert "each of the 57 schools with a balance" in first.select_one("main").get_text(" ")
    names = [a.get_text(strip=True) for a in first.select("#schools a")]
    assert len(names) == 50
    # Each link opens that school's statement for the period chosen.
    assert all(f"from={start}" in a["href"] for a in first.select("#schools a"))
    next_link = first.select_one(".govuk-pagination__next a")
    assert f"from={start}" in next_link["href"] and "page=2" in next_link["href"]
    second = finance.get(next_link["href"]).soup
    names += [a.get_text(strip=True) for a in second.select("#schools a")]
    assert len(names) == 57 and names == sorted(names)
    # Past the end (or not a number) shows the last (or first) page, never an error.
    last = finance.get("/finance/statements?page=99").soup.select("#schools a")
    assert [a.get_text(strip=True) for a in last] == names[50:]
    assert len(finance.get("/finance/statements?page=x").soup.select("#schools a")) == 50
    # Each school listed owes (or holds) today what its statement closes on.
    listed = statements.schools_with_balance_page(1, per_page=100)
    assert listed.total == 57
    period = statements.default_period()
    for row in listed.items:
        school = db.session.execute(select(School).where(School.urn == row.urn)).scalar_one()
        assert statements.statement_for(school, *period).closing_pence == row.balance_pence != 0


def test_a_long_statement_is_shown_a_hundred_lines_to_a_page(world: Any, as_role: Any) -> None:
    """Lines on screen 100 to a page, each page carrying the balance forward; the summary, the
    PDF and the CSV are the whole period's."""
    for i in range(104):
        issue_document(world, on=today() - timedelta(days=i % 60))
    _academy_account(world)  # 106 documents and a payment: 107 lines
    db.session.commit()
    client = as_role(None).sign_in_as(world.academy_sbm)

    def balances_on(page: Any) -> list[str]:
        return [r.select("td")[-1].get_text(strip=True) for r in page.select("#entries tbody tr")]

    first = client.get("/statement").soup
    closing = first.select_one("#closing").get_text(strip=True)
    shown = balances_on(first)
    assert len(shown) == 101  # the opening balance and 100 lines
    assert "Opening balance" in first.select("#entries tbody tr")[0].get_text()
    next_link = first.select_one(".govuk-pagination__next a")
    assert next_link["href"].startswith("/statement?") and "page=2" in next_link["href"]
    assert next_link["href"].endswith("#entries")
    second = client.get(next_link["href"]).soup
    carried = second.select("#entries tbody tr")[0].get_text(" ", strip=True)
    assert "Brought forward from page 1" in carried
    on_second = balances_on(second)
    assert on_second[0] == shown[-1]  # brought forward: the balance after page 1's last line
    assert len(on_second) == 8 and on_second[-1] == closing
    assert second.select_one("#closing").get_text(strip=True) == closing
    csv_lines = client.get("/statement/csv").get_data(as_text=True).strip().splitlines()
    assert len(csv_lines) == 1 + 1 + 107 + 1  # header, opening, every line, closing
    # Finance's view of the same school pages the same way, keeping the school.
    finance = as_role(Role.LA_FINANCE).get(f"/finance/schools/{world.academy.urn}/statement").soup
    href = finance.select_one(".govuk-pagination__next a")["href"]
    assert href.startswith(f"/finance/schools/{world.academy.urn}/statement?")
