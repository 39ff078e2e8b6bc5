"""Opening balances: unpaid invoices of the previous system, previewed then recorded under their
original numbers as brought-forward documents, and then like any other document: the register,
aged debt, reminders, payments; append-only; no PDF of ours."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from tests.conftest import text_of
from tests.factories import issue_document, make_school
from tests.integration.test_people_import import upload
from traded_app.extensions import db
from traded_app.models import CsvImport, Document, DocumentType, Reminder
from traded_app.models.finance import ExportKind
from traded_app.models.types import Role, SchoolStatus
from traded_app.services.finance import balances, exports
from traded_app.services.platform import append_only
from traded_app.services.platform.settings import today

UPLOAD = "/finance/opening-balances"
HEADER = "URN,original number,date,due date,amount,VAT,description\n"


def _day(days_ago: int) -> str:
    return (today() - timedelta(days=days_ago)).strftime("%d/%m/%Y")


def _documents() -> int:
    return db.session.execute(select(func.count()).select_from(Document)).scalar_one()


def _upload(client: Any, data: bytes, name: str = "balances.csv") -> Any:
    return upload(client, UPLOAD, data, name)


def _good_file(world: Any) -> bytes:
    return (
        HEADER
        + f'{world.academy.urn},SAGE-1001,{_day(100)},{_day(70)},"1,200.00",200.00,Governance review\n'
        + f"{world.school.urn},SAGE-1002,{_day(20)},{_day(-10)},450,0,Safeguarding audit\n"
    ).encode()


def test_preview_then_record_brought_forward_documents(
    app: Flask, as_role: Any, world: Any
) -> None:
    finance = as_role(Role.LA_FINANCE)
    before = _documents()
    response = _upload(finance, _good_file(world))
    assert response.status_code == 302
    assert _documents() == before  # nothing until confirmed
    page = finance.get(response.location)
    assert page.soup.h1.get_text(strip=True) == "Check the invoices to bring forward"
    assert "2 unpaid invoices, £1,650.00 in all" in text_of(page.soup, "#import-summary")
    assert "Meadow Academy" in text_of(page.soup, "#line-2")
    assert "VAT invoice" in text_of(page.soup, "#line-2")
    assert "Internal recharge" in text_of(page.soup, "#line-3")
    done = finance.post_form(response.location, follow_redirects=True)
    assert "2 unpaid invoices brought forward, £1,650.00 in all" in text_of(
        done.soup, ".govuk-notification-banner"
    )
    invoice = db.session.execute(
        select(Document).where(Document.number == "SAGE-1001")
    ).scalar_one()
    assert invoice.brought_forward and invoice.order_id is None and invoice.sequence is None
    assert invoice.document_type == DocumentType.INVOICE
    assert (invoice.gross_pence, invoice.vat_pence, invoice.net_pence) == (120_000, 20_000, 100_000)
    assert invoice.issue_date == today() - timedelta(days=100)
    assert invoice.buyer_name == "Meadow Academy" and invoice.seller_name == world.council.name
    recharge = db.session.execute(
        select(Document).where(Document.number == "SAGE-1002")
    ).scalar_one()
    assert recharge.document_type == DocumentType.RECHARGE

    # The register and aged debt count them like any other.
    register = finance.get("/finance/invoices?q=SAGE").soup
    assert "SAGE-1001" in text_of(register, "main") and "SAGE-1002" in text_of(register, "main")
    debt = finance.get("/finance/aged-debt").soup
    assert "£1,200.00" in text_of(debt, "main")
    assert str(invoice.id) in [b["value"] for b in debt.select("input[name=documents]")]

    # Its page says what it is and offers no PDF; the PDF address says why there is none.
    page = finance.get(f"/documents/{invoice.id}").soup
    assert "Brought forward from the council’s previous system" in text_of(page, "#brought-forward")
    assert not [a for a in page.select("a") if "Download" in a.get_text()]
    assert "Governance review" in text_of(page, ".govuk-summary-list")
    pdf = finance.get(f"/documents/{invoice.id}/pdf")
    assert pdf.status_code == 404
    assert "there is no PDF of it here" in text_of(pdf.soup, "main")
    school_page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/invoices").soup
    assert "SAGE-1002" in text_of(school_page, "main")
    assert "Brought forward: no PDF" in text_of(school_page, "main")

    # A payment settles it like any invoice.
    url = f"/finance/documents/{invoice.id}/payments/new"
    paid = finance.post_form(
        url,
        {
            "amount": "1200",
            "received_on": [str(today().day), str(today().month), str(today().year)],
            "reference": "BACS 9",
        },
    )
    assert paid.status_code == 302
    assert balances.figures_of(invoice).balance_pence == 0

    # The previous system already put them in the ledger: no export carries them again.
    for kind in (ExportKind.SALES_CSV, ExportKind.JOURNAL_CSV):
        summary = exports.summarise_range(kind, today() - timedelta(days=200), today())
        assert summary.documents == 0


def test_an_overdue_brought_forward_invoice_is_reminded_without_an_attachment(
    app: Flask, as_role: Any, world: Any
) -> None:
    world.academy.billing_contact_email = "bursar@meadow.example"
    db.session.commit()
    finance = as_role(Role.LA_FINANCE)
    finance.post_form(_upload(finance, _good_file(world)).location)
    invoice = db.session.execute(
        select(Document).where(Document.number == "SAGE-1001")
    ).scalar_one()
    response = finance.post_form("/finance/reminders", {"documents": [str(invoice.id)]})
    assert response.status_code == 302
    reminder = db.session.execute(select(Reminder)).scalar_one()
    assert reminder.succeeded and reminder.days_overdue == 70
    message = sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))[-1].read_text()
    assert "Reminder: invoice SAGE-1001 is overdue" in message
    assert "issued by our previous system" in message
    assert "application/pdf" not in message


def test_every_refusal_is_shown_with_its_row_and_nothing_is_recorded(
    as_role: Any, world: Any
) -> None:
    make_school(100009, "Old Mill School", status=SchoolStatus.CLOSED, academy=True)
    issue_document(world, number="OLD-7")
    db.session.commit()
    rows = [
        f"999999,A-1,{_day(10)},{_day(0)},100,0,x",  # 2 unknown URN
        f"{world.academy.urn},A-2,{_day(10)},{_day(0)},100,0,x",  # 3 fine
        f"{world.academy.urn},a-2,{_day(10)},{_day(0)},100,0,x",  # 4 duplicate of 3
        f"{world.academy.urn},OLD-7,{_day(10)},{_day(0)},100,0,x",  # 5 already a document
        f"{world.academy.urn},A-5,31/02/2026,{_day(0)},100,0,x",  # 6 bad date
        f"{world.academy.urn},A-6,{_day(10)},{_day(20)},100,0,x",  # 7 due before date
        f"{world.academy.urn},A-7,{_day(-5)},{_day(-30)},100,0,x",  # 8 in the future
        f"{world.academy.urn},A-8,{_day(10)},{_day(0)},12.345,0,x",  # 9 bad amount
        f"{world.academy.urn},A-9,{_day(10)},{_day(0)},-5,0,x",  # 10 negative
        f"{world.academy.urn},A-10,{_day(10)},{_day(0)},100,120,x",  # 11 VAT > amount
        f"{world.school.urn},A-11,{_day(10)},{_day(0)},120,20,x",  # 12 VAT on a recharge
        f"{world.academy.urn},INV-2026-000001,{_day(10)},{_day(0)},100,0,x",  # 13 our series
        f"{world.academy.urn},,{_day(10)},{_day(0)},100,0,x",  # 14 no number
        f"{world.academy.urn},A 13,{_day(10)},{_day(0)},100,0,x",  # 15 space
        f"{world.academy.urn},A-14,{_day(10)},{_day(0)},0,0,x",  # 16 nothing owed
        f"100009,A-15,{_day(10)},{_day(0)},100,0,x",  # 17 closed school: still owes
    ]
    finance = as_role(Role.LA_FINANCE)
    before = _documents()
    response = _upload(finance, (HEADER + "\n".join(rows) + "\n").encode())
    page = finance.get(response.location)
    summary = text_of(page.soup, ".govuk-error-summary")
    assert "14 rows of the file cannot be recorded" in summary
    expected = {
        2: "There is no school with URN 999999",
        4: "The same original number as line 3",
        5: "OLD-7 is already a document here",
        6: "“31/02/2026” is not a date",
        7: "The due date is before the date",
        8: "is in the future",
        9: "no more than 2 decimal places",
        10: "Enter an amount in pounds",
        11: "The VAT is more than the amount",
        12: "charged by internal recharge, which carries no VAT",
        13: "has the form of this service's own numbers",
        14: "No original number",
        15: "is not a document number",
        16: "only unpaid invoices are brought forward",
    }
    for line, reason in expected.items():
        if line in (10,):
            continue  # "-5" is refused by the money parser in its own words, checked below
        assert reason in text_of(page.soup, f"#line-{line}"), line
        assert f"Line {line}:" in summary
    assert "Refused" in text_of(page.soup, "#line-10")
    assert "Ready" in text_of(page.soup, "#line-3") and "Ready" in text_of(page.soup, "#line-17")
    assert not [
        b for b in page.soup.select("button") if b.get_text(strip=True) == "Record these invoices"
    ]
    refused = finance.post_form(response.location, follow_redirects=True)
    assert "Nothing was recorded" in text_of(refused.soup, ".govuk-notification-banner")
    assert _documents() == before


def test_confirming_rechecks_a_number_taken_since_the_preview(as_role: Any, world: Any) -> None:
    finance = as_role(Role.LA_FINANCE)
    response = _upload(finance, _good_file(world))
    issue_document(world, number="SAGE-1002")  # someone else took it meanwhile
    db.session.commit()
    before = _documents()
    refused = finance.post_form(response.location, follow_redirects=True)
    assert "Nothing was recorded" in text_of(refused.soup, ".govuk-notification-banner")
    assert _documents() == before
    assert "SAGE-1002 is already a document here" in text_of(refused.soup, "#line-3")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"URN,number,date,amount\n1,2,3,4\n",
            "Missing: original number, due date, VAT, description",
        ),
        (HEADER.encode("utf-16") + b"\x00", "UTF-16"),
        (b"", "The file is empty"),
        (HEADER.encode(), "no rows under it"),
        (os.urandom(10 * 1024 * 1024), "larger than 2 MB"),
    ],
    ids=["wrong-columns", "wrong-encoding", "empty", "header-only", "junk-10mb"],
)
def test_bad_files_change_nothing(as_role: Any, world: Any, content: bytes, message: str) -> None:
    finance = as_role(Role.LA_FINANCE)
    before = _documents()
    page = _upload(finance, content)
    assert page.status_code == 200
    summary = text_of(page.soup, ".govuk-error-summary")
    assert message in summary and "Nothing was changed" in summary
    assert _documents() == before
    assert db.session.execute(select(func.count()).select_from(CsvImport)).scalar_one() == 0


def test_duplicate_rows_are_refused(as_role: Any, world: Any) -> None:
    row = f"{world.academy.urn},SAGE-1,{_day(10)},{_day(0)},100,0,x\n"
    finance = as_role(Role.LA_FINANCE)
    page = finance.get(_upload(finance, (HEADER + row + row).encode()).location)
    assert "The same original number as line 2" in text_of(page.soup, "#line-3")


def test_brought_forward_documents_are_append_only(as_role: Any, world: Any) -> None:
    finance = as_role(Role.LA_FINANCE)
    finance.post_form(_upload(finance, _good_file(world)).location)
    document = db.session.execute(
        select(Document).where(Document.number == "SAGE-1001")
    ).scalar_one()
    document.gross_pence = 1
    with pytest.raises(append_only.ImmutableDocumentError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(Exception, match="cannot be changed or deleted"):
        db.session.execute(text("UPDATE document SET gross_pence = 1 WHERE number = 'SAGE-1001'"))
    db.session.rollback()


def test_only_finance_brings_balances_forward(as_role: Any, world: Any) -> None:
    for role in (Role.LA_ADMIN, Role.ADVISER, Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER):
        assert as_role(role).get(UPLOAD).status_code == 403
    assert as_role(Role.LA_FINANCE).get(UPLOAD).status_code == 200
    record = CsvImport(kind="staff", filename="x.csv", rows="[]")
    db.session.add(record)
    db.session.commit()
    # A staff file is not an opening-balances file.
    assert as_role(Role.LA_FINANCE).get(f"{UPLOAD}/{record.id}").status_code == 404
