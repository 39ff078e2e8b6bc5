"""Issued documents on the web and by e-mail: the school's Invoices page, a document's page, its
PDF download (role and school checked, a missing or altered file reported), the order page and
dashboard, and sending (first send after commit with the PDF attached, the log, sending again,
failures logged, never raised)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import socket
from datetime import timedelta
from email.message import EmailMessage as Message
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import charged_order, confirmed_order, invoice_in_runs, submitted_order
from traded_app.extensions import db
from traded_app.models import Document, DocumentSend, DocumentType, EmailStatus, OutgoingEmail
from traded_app.models.types import Role
from traded_app.services.documents import issuing as invoicing
from traded_app.services.documents import sending as document_sending
from traded_app.services.ordering import workflow
from traded_app.services.platform import document_store
from traded_app.services.platform.settings import today


@pytest.fixture(autouse=True)
def own_outbox(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test's e-mails only."""
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))


@pytest.fixture()
def billing(world: Any) -> Any:
    """Both schools have a billing contact, and the council its bank details."""
    world.school.billing_contact_name = "Pat Office"
    world.school.billing_contact_email = "office@riverside.example"
    world.academy.billing_contact_email = "finance@meadow.example"
    world.council.bank_account_name = "Testshire County Council"
    world.council.bank_sort_code = "20-00-00"
    world.council.bank_account_number = "12345678"
    db.session.commit()
    return world


def outbox(app: Flask) -> list[Message]:
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(folder.glob("*.eml"))
    ]


def mails_about(app: Flask, number: str) -> list[Message]:
    return [m for m in outbox(app) if number in (m["Subject"] or "")]


def sends(document: Document) -> list[DocumentSend]:
    return list(
        db.session.execute(
            select(DocumentSend)
            .where(DocumentSend.document_id == document.id)
            .order_by(DocumentSend.id)
        ).scalars()
    )


def body_of(message: Message) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def pdf_attachments(message: Message) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename() or "", part.get_payload(decode=True))
        for part in message.walk()
        if part.get_content_type() == "application/pdf"
    ]


# --- The school's Invoices page ----------------------------------------------------------------


def test_the_invoices_page_lists_the_schools_own_documents(as_role: Any, billing: Any) -> None:
    _order, recharge = charged_order(billing, 3)
    _other, academy_invoice = charged_order(billing, 2, school=billing.academy)
    page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/invoices").soup
    assert page.h1.get_text(strip=True) == "Invoices"
    table = text_of(page, "table")
    assert recharge.number in table and academy_invoice.number not in table
    assert "Internal recharge" in table and "£675.00" in table and "Issued" in table
    row = page.select_one("tbody tr")
    links = {a.get_text(" ", strip=True): a["href"] for a in row.select("a")}
    assert links[recharge.number] == f"/documents/{recharge.id}"
    assert links[f"Download {recharge.number} as a PDF"] == f"/documents/{recharge.id}/pdf"
    assert "nothing to pay" in text_of(page, "main")


def test_a_school_without_documents_is_told_so(as_role: Any, world: Any) -> None:
    page = as_role(Role.HEADTEACHER).get("/invoices").soup
    assert "no invoices yet" in text_of(page, "main")


def test_status_credited_part_credited_and_overdue(as_role: Any, billing: Any) -> None:
    admin = billing.users[Role.LA_ADMIN]
    # Part credited: one of two days credited.
    part, part_charge = charged_order(billing, 4, school=billing.academy)
    line = part.lines[0]
    invoicing.credit_order(part, admin, "One day not needed", {line.id: 2})
    # Credited: the whole order cancelled before any visit.
    whole, whole_charge = charged_order(billing, 2, school=billing.academy)
    workflow.cancel(whole, admin, "No longer needed")
    # Overdue: an invoice issued 40 days ago (due after 30) with nothing credited.
    invoice_in_runs(billing)
    late = confirmed_order(billing, 2, school=billing.academy)
    overdue = invoicing.issue_for_order(late, admin, on=today() - timedelta(days=40))
    db.session.commit()
    page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/invoices")  # world.school: none of these
    assert part_charge.number not in text_of(page.soup, "main")
    client = as_role(None).sign_in_as(billing.academy_sbm)
    rows = {
        r.select_one("a").get_text(strip=True): text_of(r, ".govuk-tag")
        for r in client.get("/invoices").soup.select("tbody tr")
    }
    assert rows[part_charge.number] == "Part credited"
    assert rows[whole_charge.number] == "Credited"
    assert rows[overdue.number] == "Overdue"
    credit_notes = [n for n, status in rows.items() if n.startswith("CRN")]
    assert len(credit_notes) == 2
    detail = client.get(f"/documents/{part_charge.id}").soup
    assert "£540.00" in text_of(detail, "tfoot")  # balance: £1,080 less £540 credited
    assert text_of(detail, ".govuk-tag") == "Part credited"


def test_a_recharge_past_its_due_date_is_not_overdue(as_role: Any, billing: Any) -> None:
    invoice_in_runs(billing)
    order = confirmed_order(billing, 2)
    recharge = invoicing.issue_for_order(order, None, on=today() - timedelta(days=40))
    db.session.commit()
    page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/invoices").soup
    assert recharge.number in text_of(page, "table")
    assert text_of(page, "tbody .govuk-tag") == "Issued"


# --- A document's page ----------------------------------------------------------------------


def test_the_document_page_shows_lines_totals_sends_and_credit_notes(
    as_role: Any, billing: Any
) -> None:
    order, invoice = charged_order(billing, 3, school=billing.academy)
    workflow.cancel(order, billing.users[Role.LA_ADMIN], "Changed plans")
    db.session.commit()
    client = as_role(None).sign_in_as(billing.academy_sbm)
    page = client.get(f"/documents/{invoice.id}").soup
    assert page.h1.get_text(strip=True) == f"VAT invoice {invoice.number}"
    lines = text_of(page, "table")
    assert "Headteacher performance management" in lines and "1.5" in lines
    assert "£450.00" in lines and "20%" in lines
    assert "VAT at 20% on £675.00" in lines and "£810.00" in lines
    assert text_of(page, "#total-days") == "Total days 1.5"
    assert "How to pay" in text_of(page, ".app-card") and "12345678" in text_of(page, ".app-card")
    credit = db.session.execute(
        select(Document).where(Document.credits_document_id == invoice.id)
    ).scalar_one()
    assert credit.number in text_of(page, "main")
    sent = text_of(page, "main")
    assert "finance@meadow.example" in sent and "Sent when issued" in sent
    assert "Send again" not in sent  # schools cannot send
    credit_page = client.get(f"/documents/{credit.id}").soup
    assert credit_page.h1.get_text(strip=True) == f"Credit note {credit.number}"
    summary_links = {
        a.get_text(strip=True): a["href"] for a in credit_page.select(".govuk-summary-list a")
    }
    assert summary_links == {
        order.reference: f"/orders/{order.id}",
        invoice.number: f"/documents/{invoice.id}",
    }
    assert "Changed plans" in text_of(credit_page, ".govuk-summary-list")
    assert text_of(credit_page, "#total-days") == "Total days credited 1.5"


def test_school_users_see_only_their_own_documents(as_role: Any, billing: Any) -> None:
    _order, own = charged_order(billing, 2)
    _other, theirs = charged_order(billing, 2, school=billing.academy)
    for role in (Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER):
        client = as_role(role)
        assert client.get(f"/documents/{own.id}").status_code == 200
        for path in (f"/documents/{theirs.id}", f"/documents/{theirs.id}/pdf", "/documents/999"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert theirs.number not in response.get_data(as_text=True)


def test_council_users_see_every_document_and_finance_can_send(as_role: Any, billing: Any) -> None:
    _order, invoice = charged_order(billing, 2, school=billing.academy)
    for role in (Role.LA_FINANCE, Role.LA_ADMIN, Role.ADVISER):
        page = as_role(role).get(f"/documents/{invoice.id}").soup
        assert page.h1.get_text(strip=True).endswith(invoice.number)
        buttons = [b.get_text(strip=True) for b in page.select("form button")]
        assert ("Send again" in buttons) == (role in (Role.LA_FINANCE, Role.LA_ADMIN)), role


# --- Downloads ----------------------------------------------------------------------------


def test_downloading_serves_the_stored_pdf_as_issued(as_role: Any, billing: Any) -> None:
    _order, recharge = charged_order(billing, 2)
    for role in (Role.SCHOOL_BUSINESS_MANAGER, Role.LA_FINANCE, Role.ADVISER):
        response = as_role(role).get(f"/documents/{recharge.id}/pdf")
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"] == (
            f"attachment; filename={recharge.number}.pdf"
        )
        assert response.headers["Cache-Control"] == "no-store"
        body = response.get_data()
        assert body.startswith(b"%PDF-")
        assert hashlib.sha256(body).hexdigest() == recharge.pdf_sha256


@pytest.mark.parametrize("fault", ["missing", "altered"])
def test_a_missing_or_altered_pdf_is_reported_not_remade(
    app: Flask, as_role: Any, billing: Any, fault: str, caplog: Any
) -> None:
    _order, recharge = charged_order(billing, 2)
    stored = Path(app.config["INVOICE_DIR"]) / recharge.pdf_path
    if fault == "missing":
        stored.unlink()
    else:
        stored.write_bytes(stored.read_bytes() + b"\n% altered after issue\n")
    for role in (Role.SCHOOL_BUSINESS_MANAGER, Role.LA_FINANCE):
        response = as_role(role).get(f"/documents/{recharge.id}/pdf")
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert response.soup.h1.get_text(strip=True) == (
            f"The PDF of {recharge.number} cannot be downloaded"
        )
        assert "is missing, or is not the file that was issued" in text_of(response.soup, "main")
    assert stored.exists() == (fault == "altered")  # nothing was made in its place
    assert recharge.number in caplog.text


# --- The order page and the dashboard -------------------------------------------------------


def test_the_order_page_links_its_documents(as_role: Any, billing: Any) -> None:
    order, recharge = charged_order(billing, 2)
    for role in (Role.SCHOOL_BUSINESS_MANAGER, Role.LA_ADMIN):
        page = as_role(role).get(f"/orders/{order.id}").soup
        headings = [h.get_text(strip=True) for h in page.select("h2")]
        assert "Invoices and credit notes" in headings
        hrefs = [a["href"] for a in page.select("main a")]
        assert f"/documents/{recharge.id}" in hrefs and f"/documents/{recharge.id}/pdf" in hrefs


def test_an_order_waiting_for_the_invoice_run_says_so(as_role: Any, billing: Any) -> None:
    invoice_in_runs(billing)
    order = confirmed_order(billing, 2)
    page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get(f"/orders/{order.id}").soup
    assert "Not charged yet" in text_of(page, "main")
    assert "next invoice run" in text_of(page, "main")


def test_the_dashboard_shows_what_is_outstanding(as_role: Any, billing: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert "Nothing outstanding" in text_of(client.get("/school").soup, "main")
    charged_order(billing, 2)
    charged_order(billing, 3)
    page = client.get("/school").soup
    assert "2 recharges outstanding, £1,125.00 in all" in text_of(page, "main")
    assert page.select_one("main a[href='/invoices']") is not None


def test_the_menu_links_to_invoices(as_role: Any, world: Any) -> None:
    for role, href in (
        (Role.SCHOOL_BUSINESS_MANAGER, "/invoices"),
        (Role.HEADTEACHER, "/invoices"),
        (Role.LA_FINANCE, "/council/invoices"),
        (Role.LA_ADMIN, "/council/invoices"),
    ):
        page = as_role(role).get("/accessibility").soup
        menu = {a.get_text(strip=True): a["href"] for a in page.select("#navigation a")}
        assert menu.get("Invoices") == href, role
    adviser = as_role(Role.ADVISER).get("/accessibility").soup
    assert "Invoices" not in text_of(adviser, "#navigation")


def test_text_fields_show_as_text(as_role: Any, billing: Any) -> None:
    billing.school.name = "<script>alert(1)</script> Primary"
    db.session.commit()
    order = submitted_order(billing, po_number="<b>PO</b>")
    workflow.confirm(order, billing.users[Role.LA_ADMIN])
    db.session.commit()
    document = invoicing.charge_document_for(order)
    response = as_role(Role.LA_FINANCE).get(f"/documents/{document.id}")
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<b>PO</b>" not in html
    assert "<b>PO</b>" in text_of(response.soup, ".govuk-summary-list")


# --- Sending --------------------------------------------------------------------------------


def test_an_issued_document_is_emailed_with_its_pdf_after_commit(app: Flask, billing: Any) -> None:
    order = submitted_order(billing, school=billing.academy)
    workflow.confirm(order, billing.users[Role.LA_ADMIN])
    document = invoicing.charge_document_for(order)
    assert document is not None
    db.session.flush()
    # Issued, but not committed: the first document of the year even released a savepoint
    # (its number series was created), and still nothing has gone.
    assert mails_about(app, document.number) == []
    db.session.commit()
    [message] = mails_about(app, document.number)
    assert message["To"] == "finance@meadow.example"
    assert message["Subject"] == f"VAT invoice {document.number} from Testshire County Council"
    body = body_of(message)
    assert "£540.00 (including VAT £90.00)" in body and "quoting " + document.number in body
    [(filename, content)] = pdf_attachments(message)
    assert filename == f"{document.number}.pdf"
    assert content == document_store.read_pdf(document)
    [send] = sends(document)
    assert (send.recipient, send.succeeded, send.sent_by_id, send.error) == (
        "finance@meadow.example",
        True,
        None,
        "",
    )


def test_a_rolled_back_document_is_never_sent(app: Flask, billing: Any) -> None:
    order = submitted_order(billing, school=billing.academy)
    workflow.confirm(order, billing.users[Role.LA_ADMIN])
    db.session.rollback()
    assert not [m for m in outbox(app) if "VAT invoice" in m["Subject"]]
    assert db.session.execute(select(DocumentSend)).first() is None


def test_a_recharge_email_says_do_not_pay(app: Flask, billing: Any) -> None:
    _order, recharge = charged_order(billing, 2)
    [message] = mails_about(app, recharge.number)
    body = body_of(message)
    assert "Do not pay this" in body and recharge.buyer_cost_centre in body


def test_a_school_without_a_billing_email_is_logged_as_not_sent_for_finance(
    app: Flask, as_role: Any, world: Any
) -> None:
    _order, recharge = charged_order(world, 2)  # world.school has no billing contact
    assert mails_about(app, recharge.number) == []
    [send] = sends(recharge)
    assert not send.succeeded and send.error == document_sending.NO_CONTACT
    finance = as_role(Role.LA_FINANCE)
    listing = finance.get("/council/invoices").soup
    assert recharge.number in text_of(listing, "main")
    assert "no billing contact e-mail address" in text_of(listing, "main")
    page = finance.get(f"/documents/{recharge.id}").soup
    assert "Not sent" in text_of(page, "main")


def test_finance_sends_again_and_every_send_is_logged(
    app: Flask, as_role: Any, billing: Any
) -> None:
    _order, recharge = charged_order(billing, 2)
    finance = as_role(Role.LA_FINANCE)
    billing.school.billing_contact_email = "new-office@riverside.example"
    db.session.commit()
    response = finance.post_form(f"/documents/{recharge.id}/send")
    assert response.status_code == 302
    assert response.location == f"/documents/{recharge.id}"
    page = finance.get(response.location).soup
    assert "is being sent to new-office@riverside.example" in text_of(
        page, ".govuk-notification-banner"
    )
    first, again = sends(recharge)
    assert first.recipient == "office@riverside.example" and first.sent_by_id is None
    assert again.recipient == "new-office@riverside.example" and again.succeeded
    assert again.sent_by_id == billing.users[Role.LA_FINANCE].id
    assert [m["To"] for m in mails_about(app, recharge.number)] == [
        "office@riverside.example",
        "new-office@riverside.example",
    ]
    log = text_of(page, "main")
    assert "Finance" in log and "Sent when issued" in log


def test_a_mail_server_fault_is_logged_not_raised(
    app: Flask, as_role: Any, billing: Any, caplog: Any
) -> None:
    _order, recharge = charged_order(billing, 2)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    old = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    try:
        response = as_role(Role.LA_FINANCE).post_form(f"/documents/{recharge.id}/send")
    finally:
        app.config.update(old)
    assert response.status_code == 302
    last = sends(recharge)[-1]
    assert not last.succeeded and last.error == document_sending.NOT_ACCEPTED
    assert "Could not send e-mail" in caplog.text
    # Still on the queue, to be tried again after its backoff.
    email = db.session.execute(
        select(OutgoingEmail).order_by(OutgoingEmail.id.desc()).limit(1)
    ).scalar_one()
    assert (email.status, email.attempts) == (EmailStatus.QUEUED, 1)
    db.session.commit()


def test_a_document_whose_pdf_is_missing_is_not_sent(
    app: Flask, as_role: Any, billing: Any
) -> None:
    _order, recharge = charged_order(billing, 2)
    (Path(app.config["INVOICE_DIR"]) / recharge.pdf_path).unlink()
    as_role(Role.LA_ADMIN).post_form(f"/documents/{recharge.id}/send")
    last = sends(recharge)[-1]
    assert not last.succeeded and last.error == document_sending.PDF_UNAVAILABLE
    assert len(mails_about(app, recharge.number)) == 1  # only the first send, at issue


def test_a_credit_note_is_emailed_too(app: Flask, billing: Any) -> None:
    order, invoice = charged_order(billing, 2, school=billing.academy)
    workflow.cancel(order, billing.users[Role.LA_ADMIN], "Not needed")
    db.session.commit()
    credit = db.session.execute(
        select(Document).where(Document.document_type == DocumentType.CREDIT_NOTE)
    ).scalar_one()
    [message] = mails_about(app, credit.number)
    body = body_of(message)
    assert f"reduces what is owed on {invoice.number}" in body
    assert [name for name, _ in pdf_attachments(message)] == [f"{credit.number}.pdf"]
