"""The PDFs of really issued documents: every figure on a VAT invoice, an internal recharge and a
credit note, read back out of the stored file with pypdf and checked against the document's
data; the stored file matches its recorded SHA-256, and a missing or altered file is reported,
never silently made again."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from pypdf import PdfReader

from tests.factories import make_service, submitted_order
from traded_app import formatting
from traded_app.extensions import db
from traded_app.models import Document, DocumentType, Order
from traded_app.models.types import Role
from traded_app.services.documents import issuing as invoicing
from traded_app.services.documents import pdf
from traded_app.services.documents.document_data import document_data
from traded_app.services.ordering import workflow
from traded_app.services.platform import document_store


@pytest.fixture()
def council(world: Any) -> Any:
    """The world's council with an address, VAT number and bank details, and a second service
    so documents have more than one line."""
    settings = world.council
    settings.address = "County Hall\nMarket Road\nChelmsford"
    settings.postcode = "CM1 1QH"
    settings.vat_number = "GB 104 2195 43"
    settings.contact_phone = "0333 013 8899"
    settings.bank_name = "Example Bank plc"
    settings.bank_account_name = "Testshire County Council"
    settings.bank_sort_code = "20-00-00"
    settings.bank_account_number = "12345678"
    world.academy.address = "1 Meadow Lane\nTesttown"
    world.academy.postcode = "TT1 1TT"
    world.academy.billing_contact_name = "Sam Patel"
    world.school.billing_contact_name = "Jo Bloggs"
    world.governance = make_service(
        "GOVREV", world.year, name="Review of governance", price_pence=47_550
    )
    db.session.commit()
    return settings


def confirmed(world: Any, *, school: Any, po_number: str = "PO-1") -> Order:
    order = submitted_order(
        world, {world.service: 3, world.governance: 2}, school=school, po_number=po_number
    )
    if order.status.value == "awaiting_approval":
        workflow.approve(order, world.users[Role.HEADTEACHER])
    workflow.confirm(order, world.users[Role.LA_ADMIN])
    db.session.commit()
    return order


def stored_text(document: Document) -> str:
    """The stored PDF's text, read with its checksum checked, runs of whitespace as one space."""
    reader = PdfReader(io.BytesIO(document_store.read_pdf(document)))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def assert_every_figure_shown(document: Document) -> None:
    data = document_data(document)
    text = stored_text(document)
    internal = data.document_type == DocumentType.RECHARGE or (
        data.credits_type == DocumentType.RECHARGE
    )
    expected = [
        f"{data.document_type.label} {data.number}",
        f"Date of issue {formatting.long_date(data.issue_date)}",
        f"Purchase order number {data.po_number}",
        f"Our order reference {data.order_reference}",
        f"Academic year {data.academic_year_label}",
        data.seller_name,
        data.buyer_name,
        f"School URN {data.buyer_urn}",
        *data.buyer_address.splitlines(),
    ]
    for item in data.lines:
        expected.append(f"{item.service_name} ({item.service_code})")
        figures = [
            formatting.days_number(item.half_days),
            formatting.pounds(item.price_per_day_pence),
        ]
        if not internal:
            figures.append(pdf.vat_column(item))
        figures.append(formatting.pounds(item.net_pence))
        expected.append(" ".join(figures))  # one row: days, price per day, VAT rate, amount
    if internal:
        expected.append(f"Cost centre {data.buyer_cost_centre}")
        total = "Total credited" if data.credits_number else "Total to be recharged"
        expected.append(f"{total} {formatting.pounds(data.gross_pence)}")
    else:
        expected.append(f"VAT registration number {data.seller_vat_number}")
        expected.append(f"Total before VAT {formatting.pounds(data.net_pence)}")
        for band in data.vat_bands:
            expected.append(f"{pdf.vat_band(band)} {formatting.pounds(band.vat_pence)}")
        total = "Total credited" if data.credits_number else "Total due"
        expected.append(f"{total} {formatting.pounds(data.gross_pence)}")
    if data.document_type == DocumentType.INVOICE:
        expected += [
            f"Payment due by {formatting.long_date(data.due_date)}",
            f"Pay {formatting.pounds(data.gross_pence)} by {formatting.long_date(data.due_date)}",
            f"Bank {data.bank_name}",
            f"Account name {data.bank_account_name}",
            f"Sort code {data.bank_sort_code}",
            f"Account number {data.bank_account_number}",
            f"Payment reference {data.number}",
        ]
    missing = [phrase for phrase in expected if phrase not in text]
    assert missing == [], f"not on {data.number}: {missing}\n{text}"


def test_a_vat_invoice_shows_every_figure_of_its_data(world: Any, council: Any) -> None:
    order = confirmed(world, school=world.academy, po_number="PO-2026/117")
    invoice = invoicing.charge_document_for(order)
    assert invoice is not None and invoice.document_type == DocumentType.INVOICE
    assert_every_figure_shown(invoice)
    text = stored_text(invoice)
    # The figures themselves, worked out here rather than read from the data: 1.5 days and
    # 1 day at their frozen prices, VAT at 20%.
    assert "1.5 £450.00 20% £675.00" in text
    assert "1 £475.50 20% £475.50" in text
    assert "Total before VAT £1,150.50" in text
    assert "VAT at 20% on £1,150.50 £230.10" in text
    assert "Total due £1,380.60" in text
    assert "Page 1 of 1" in text


def test_a_recharge_shows_every_figure_and_no_bank_details(world: Any, council: Any) -> None:
    order = confirmed(world, school=world.school)
    recharge = invoicing.charge_document_for(order)
    assert recharge is not None and recharge.document_type == DocumentType.RECHARGE
    assert_every_figure_shown(recharge)
    text = stored_text(recharge)
    assert "Do not pay: settled by journal" in text
    assert f"journal against cost centre {world.school.cost_centre}" in text
    assert "Total to be recharged £1,150.50" in text
    for absent in ("Sort code", "How to pay", "VAT registration number", "Total due"):
        assert absent not in text


def test_a_credit_note_shows_every_figure_its_original_and_reason(world: Any, council: Any) -> None:
    order = confirmed(world, school=world.academy)
    invoice = invoicing.charge_document_for(order)
    workflow.cancel(order, world.users[Role.LA_ADMIN], "School closed for building works")
    db.session.commit()
    note = db.session.query(Document).filter_by(credits_document_id=invoice.id).one()
    assert_every_figure_shown(note)
    text = stored_text(note)
    assert f"Credits VAT invoice {invoice.number}" in text
    assert "School closed for building works" in text
    assert f"reduces what is owed on {invoice.number} by £1,380.60" in text
    assert "Total credited £1,380.60" in text


def test_the_stored_file_is_the_one_whose_sha256_was_recorded(world: Any, council: Any) -> None:
    order = confirmed(world, school=world.academy)
    invoice = invoicing.charge_document_for(order)
    path = document_store.invoice_dir() / invoice.pdf_path
    content = path.read_bytes()
    assert hashlib.sha256(content).hexdigest() == invoice.pdf_sha256
    assert len(content) == invoice.pdf_bytes
    assert content.startswith(b"%PDF-1.7")
    assert document_store.read_pdf(invoice) == content
    # No temporary file left beside it by the atomic write.
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def test_a_missing_pdf_is_reported_not_made_again(world: Any, council: Any) -> None:
    order = confirmed(world, school=world.academy)
    invoice = invoicing.charge_document_for(order)
    path = document_store.invoice_dir() / invoice.pdf_path
    path.unlink()
    with pytest.raises(document_store.MissingPdfError, match="missing"):
        document_store.read_pdf(invoice)
    assert not path.exists()  # reading did not quietly render a new one


def test_an_altered_pdf_is_reported_and_left_as_found(world: Any, council: Any) -> None:
    order = confirmed(world, school=world.academy)
    invoice = invoicing.charge_document_for(order)
    path = document_store.invoice_dir() / invoice.pdf_path
    content = path.read_bytes()
    middle = len(content) // 2
    altered = content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1 :]
    path.write_bytes(altered)
    with pytest.raises(document_store.MissingPdfError, match="does not match"):
        document_store.read_pdf(invoice)
    assert path.read_bytes() == altered


def test_rendering_the_data_again_gives_the_stored_bytes(world: Any, council: Any) -> None:
    """The PDF depends on the issued data alone: no clock, no random font subset names."""
    order = confirmed(world, school=world.academy)
    invoice = invoicing.charge_document_for(order)
    again = pdf.render(document_data(invoice))
    assert hashlib.sha256(again).hexdigest() == invoice.pdf_sha256
