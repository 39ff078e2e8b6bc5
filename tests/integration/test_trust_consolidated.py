"""Consolidated trust invoicing (issue 16 part 2): a trust on "consolidated" gets one invoice per
invoice run listing the invoices the run issued to its academies, which keep their own documents
and balances. It adds up to its parts to the penny, is never repeated by a later run, is seen by
the trust's finance staff (only their own) and council finance, and paying it by card records a
payment against each academy invoice on it.

Runs on an SQLite file and, in CI, on PostgreSQL."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from tests.conftest import text_of
from tests.factories import (
    confirmed_order,
    invoice_in_runs,
    issue_document,
    make_school,
    make_user,
)
from tests.stripe_fake import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, signed
from traded_app.domain.trusts import InvoiceTo
from traded_app.extensions import db
from traded_app.models import (
    ConsolidatedInvoice,
    Document,
    DocumentType,
    InvoiceRun,
    OutgoingEmail,
    Payment,
    School,
    Trust,
)
from traded_app.models.types import Role, VatTreatment
from traded_app.services.card_payments import reconcile
from traded_app.services.documents import consolidated, pdf_check
from traded_app.services.documents import runs as invoice_runs
from traded_app.services.finance import balances
from traded_app.services.platform import schedules
from traded_app.services.platform.append_only import ImmutableDocumentError
from traded_app.services.platform.document_store import invoice_dir
from traded_app.services.platform.settings import today


@pytest.fixture(autouse=True)
def own_outbox(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))


@pytest.fixture()
def trust(world: Any) -> Trust:
    """The world's trust, on consolidated invoicing, with a second academy; runs set."""
    invoice_in_runs(world)
    trust: Trust = world.trust
    trust.invoice_to = InvoiceTo.CONSOLIDATED
    trust.billing_address = "Trust House\n1 Meadow Way\nChelmsford"
    trust.finance_email = "accounts@meadow-trust.example"
    brook = make_school(100004, "Brook Academy", quadrant=world.quadrant, academy=True)
    brook.trust_id = trust.id
    db.session.commit()
    return trust


def brook() -> School:
    return db.session.execute(select(School).where(School.urn == 100004)).scalar_one()


def run_now() -> InvoiceRun:
    run = invoice_runs.start(None, source="cli")
    db.session.commit()
    return invoice_runs.execute(run.id)


def consolidated_invoices() -> list[ConsolidatedInvoice]:
    return list(
        db.session.execute(select(ConsolidatedInvoice).order_by(ConsolidatedInvoice.id)).scalars()
    )


@pytest.fixture()
def issued(world: Any, trust: Trust) -> ConsolidatedInvoice:
    """One run: three academy orders (two academies, odd half-days) and a maintained school's."""
    confirmed_order(world, 3, school=world.academy)
    confirmed_order(world, 5, school=brook())
    confirmed_order(world, 1, school=world.academy)
    confirmed_order(world, 2)  # the maintained school's recharge: never on a trust's invoice
    run = run_now()
    assert run.status.value == "finished", run.error
    [invoice] = consolidated_invoices()
    return invoice


# --- Issuing ----------------------------------------------------------------------------------


def test_a_run_issues_one_consolidated_invoice_to_the_trust_adding_up_to_the_penny(
    world: Any, trust: Trust, issued: ConsolidatedInvoice
) -> None:
    academy_invoices = list(
        db.session.execute(
            select(Document)
            .where(Document.document_type == DocumentType.INVOICE)
            .order_by(Document.id)
        ).scalars()
    )
    # Each academy keeps its own invoices, addressed to it: its ledger and balance are its own.
    assert len(academy_invoices) == 3
    assert {d.buyer_name for d in academy_invoices} == {"Meadow Academy", "Brook Academy"}
    assert issued.number.startswith(f"{world.council.invoice_prefix}-T-")
    assert issued.buyer_name == "Meadow Learning Trust"
    assert issued.run_id is not None
    assert sorted(p.document_id for p in issued.parts) == [d.id for d in academy_invoices]
    # Sums to the penny: parts, VAT bands and totals.
    assert issued.net_pence == sum(d.net_pence for d in academy_invoices)
    assert issued.vat_pence == sum(d.vat_pence for d in academy_invoices)
    assert issued.gross_pence == issued.net_pence + issued.vat_pence
    assert issued.gross_pence == sum(p.gross_pence for p in issued.parts)
    data = consolidated.data_of(issued)
    assert sum(b.net_pence for b in data.vat_bands) == issued.net_pence
    assert sum(b.vat_pence for b in data.vat_bands) == issued.vat_pence
    # The PDF: stored as issued, tagged PDF/UA, naming each academy invoice.
    content = consolidated.pdf_of(issued)
    assert hashlib.sha256(content).hexdigest() == issued.pdf_sha256
    reader = PdfReader(io.BytesIO(content))
    words = " ".join(page.extract_text() for page in reader.pages)
    assert issued.number in words
    assert all(d.number in words for d in academy_invoices)
    assert "Brook Academy" in words and "Meadow Academy" in words
    assert bool(reader.trailer["/Root"]["/MarkInfo"]["/Marked"])
    # E-mailed to the trust's finance contact, the PDF attached, through the outbox.
    [email] = db.session.execute(
        select(OutgoingEmail).where(OutgoingEmail.kind == consolidated.SEND_KIND)
    ).scalars()
    assert email.recipients == "accounts@meadow-trust.example"
    assert email.ref_id == issued.id
    assert issued.number in email.subject


def test_a_second_run_never_repeats_a_part(
    world: Any, trust: Trust, issued: ConsolidatedInvoice
) -> None:
    before = {p.document_id for p in issued.parts}
    confirmed_order(world, 2, school=brook())
    run_now()
    first, second = consolidated_invoices()
    assert first.id == issued.id
    [part] = second.parts
    assert part.document_id not in before
    assert part.school_name == "Brook Academy"
    assert second.sequence == first.sequence + 1
    # A run with nothing for the trust issues it nothing.
    confirmed_order(world, 2)
    run_now()
    assert len(consolidated_invoices()) == 2


@pytest.mark.parametrize("setting", [InvoiceTo.ACADEMY, InvoiceTo.TRUST])
def test_other_settings_get_no_consolidated_invoice(
    world: Any, trust: Trust, setting: InvoiceTo
) -> None:
    trust.invoice_to = setting
    db.session.commit()
    confirmed_order(world, 2, school=world.academy)
    run_now()
    assert consolidated_invoices() == []


def test_an_issued_consolidated_invoice_never_changes(issued: ConsolidatedInvoice) -> None:
    issued.gross_pence += 1
    with pytest.raises(ImmutableDocumentError):
        db.session.flush()
    db.session.rollback()
    for table in ("consolidated_invoice", "consolidated_invoice_part"):
        with pytest.raises(DatabaseError):
            with db.session.begin_nested():
                db.session.execute(text(f"DELETE FROM {table}"))
        db.session.rollback()
    assert len(consolidated_invoices()) == 1


# --- Who sees it ------------------------------------------------------------------------------


def test_the_trust_sees_its_own_consolidated_invoices_and_pdf(
    as_role: Any, issued: ConsolidatedInvoice
) -> None:
    trust_client = as_role(Role.TRUST_FINANCE)
    listing = trust_client.get("/trust/invoices").soup
    assert issued.number in text_of(listing, "#consolidated-invoices")
    page = trust_client.get(f"/trust/invoices/{issued.id}").soup
    assert text_of(page, "h1") == f"Consolidated invoice {issued.number}"
    parts = text_of(page, "#parts")
    assert "Meadow Academy" in parts and "Brook Academy" in parts
    pdf = trust_client.get(f"/trust/invoices/{issued.id}/pdf")
    assert pdf.status_code == 200
    assert pdf.data == consolidated.pdf_of(issued)


def test_another_trust_and_schools_never_see_it(
    as_role: Any, world: Any, issued: ConsolidatedInvoice
) -> None:
    other = Trust(name="Elm Trust", companies_house_number="07318715")
    db.session.add(other)
    db.session.flush()
    elm_finance = make_user("finance@elm.example", Role.TRUST_FINANCE, trust_id=other.id)
    db.session.commit()
    elm = as_role(None)
    elm.sign_in_as(elm_finance)
    assert text_of(elm.get("/trust/invoices").soup, "main").count(issued.number) == 0
    for url in (f"/trust/invoices/{issued.id}", f"/trust/invoices/{issued.id}/pdf"):
        assert elm.get(url).status_code == 404
    assert elm.post_form(f"/trust/invoices/{issued.id}/pay").status_code == 404
    academy = as_role(None)
    academy.sign_in_as(world.academy_sbm)
    for url in ("/trust/invoices", f"/trust/invoices/{issued.id}", "/council/trust-invoices"):
        assert academy.get(url).status_code == 403
        assert as_role(Role.HEADTEACHER).get(url).status_code == 403


def test_council_finance_sees_every_trusts(as_role: Any, issued: ConsolidatedInvoice) -> None:
    finance = as_role(Role.LA_FINANCE)
    listing = finance.get("/council/trust-invoices").soup
    assert issued.number in text_of(listing, "#consolidated-invoices")
    assert "Meadow Learning Trust" in text_of(listing, "#consolidated-invoices")
    page = finance.get(f"/council/trust-invoices/{issued.id}").soup
    assert text_of(page, "h1") == f"Consolidated invoice {issued.number}"
    assert page.select_one("form[action$='/pay']") is None  # the trust pays, not the council
    assert finance.get(f"/council/trust-invoices/{issued.id}/pdf").status_code == 200
    assert finance.get(f"/trust/invoices/{issued.id}").status_code == 403


# --- Paying by card ---------------------------------------------------------------------------


@pytest.fixture()
def fake(app: Flask, world: Any) -> Iterator[FakeStripe]:
    world.council.stripe_secret_key = SECRET_KEY
    world.council.stripe_webhook_secret = WEBHOOK_SECRET
    db.session.commit()
    stripe_fake = FakeStripe()
    app.extensions["stripe_http_client"] = stripe_fake.http_client()
    yield stripe_fake
    app.extensions.pop("stripe_http_client", None)


def card_payments() -> list[Payment]:
    return list(db.session.execute(select(Payment).order_by(Payment.id)).scalars())


def test_paying_by_card_records_a_payment_against_each_part(
    as_role: Any, client: Any, fake: FakeStripe, issued: ConsolidatedInvoice
) -> None:
    trust_client = as_role(Role.TRUST_FINANCE)
    page = trust_client.get(f"/trust/invoices/{issued.id}").soup
    button = page.select_one("form[action$='/pay'] button")
    assert button is not None and "Pay" in button.get_text()
    response = trust_client.post_form(f"/trust/invoices/{issued.id}/pay")
    assert response.status_code == 303
    [session] = fake.sessions.values()
    assert session["amount_total"] == issued.gross_pence
    assert session["metadata"]["consolidated_invoice_id"] == str(issued.id)
    paid = fake.pay(session["id"])
    done = trust_client.get(f"/trust/invoices/{issued.id}/pay/done?session_id={paid['id']}")
    assert done.status_code == 200
    assert "Payment received" in text_of(done.soup, ".govuk-panel")
    assert text_of(done.soup, "#left-to-pay") == "£0.00"

    recorded = card_payments()
    assert sorted(p.document_id for p in recorded) == sorted(p.document_id for p in issued.parts)
    by_document = {p.document_id: p.amount_pence for p in recorded}
    assert all(by_document[part.document_id] == part.gross_pence for part in issued.parts)
    assert all(p.kind.value == "card" for p in recorded)
    figures = balances.figures_for([part.document for part in issued.parts])
    assert all(f.balance_pence == 0 for f in figures.values())

    # Stripe's webhook for the same payment, late: nothing recorded twice.
    payload, headers = signed(fake.event("checkout.session.completed", paid))
    assert client.post("/payments/stripe/webhook", data=payload, headers=headers).status_code == 200
    assert len(card_payments()) == len(issued.parts)
    # Nothing left to pay: no button, and no second Checkout.
    again = trust_client.get(f"/trust/invoices/{issued.id}").soup
    assert again.select_one("form[action$='/pay']") is None


def test_a_payment_that_no_longer_matches_is_held_for_finance(
    as_role: Any, fake: FakeStripe, issued: ConsolidatedInvoice
) -> None:
    trust_client = as_role(Role.TRUST_FINANCE)
    trust_client.post_form(f"/trust/invoices/{issued.id}/pay")
    [session] = fake.sessions.values()
    paid = fake.pay(session["id"], amount=session["amount_total"] - 1)
    done = trust_client.get(f"/trust/invoices/{issued.id}/pay/done?session_id={paid['id']}")
    assert "finance will check it" in text_of(done.soup, "main")
    assert card_payments() == []


def test_the_daily_pdf_check_reads_the_trust_invoices_too(
    issued: ConsolidatedInvoice, as_role: Any
) -> None:
    """A consolidated invoice is issued like any document: its stored PDF changed after issue
    is found by the daily check and listed, linked to the invoice, for finance to restore."""
    with (invoice_dir() / issued.pdf_path).open("ab") as handle:
        handle.write(b"\n% changed after issue\n")
    run = schedules.run_if_due(
        schedules.SCHEDULES[pdf_check.NAME],
        datetime.combine(today(), time(3, 10), tzinfo=ZoneInfo("Europe/London")),
    )
    assert run is not None and run.outcome == "ok", run and run.detail
    documents = db.session.scalar(select(func.count()).select_from(Document))
    assert run.detail == f"{documents + 1} PDFs checked: {documents} as issued, 1 altered"
    page = as_role(Role.LA_FINANCE).get("/council/pdf-check").soup
    [row] = page.select("tbody tr")
    link = row.select_one("td a")
    assert link is not None and link.get_text(strip=True) == issued.number
    assert link["href"] == f"/council/trust-invoices/{issued.id}"
    assert issued.trust.name in text_of(row, "td:nth-child(2)")
    assert "Not the PDF issued" in text_of(row, "td:nth-child(3)")


def test_reconciliation_matches_a_consolidated_card_payment_without_a_difference(
    app: Flask, as_role: Any, fake: FakeStripe, issued: ConsolidatedInvoice
) -> None:
    """One PaymentIntent at Stripe, recorded here as one payment per academy invoice: the
    reconciliation sees one payment of the whole amount, and no difference."""
    assert len(issued.parts) == 3
    trust_client = as_role(Role.TRUST_FINANCE)
    trust_client.post_form(f"/trust/invoices/{issued.id}/pay")
    [session] = fake.sessions.values()
    paid = fake.pay(session["id"])
    trust_client.get(f"/trust/invoices/{issued.id}/pay/done?session_id={paid['id']}")
    assert len(card_payments()) == 3
    on = today()
    result = reconcile.reconcile(on, on)
    assert result.differences == []
    assert (result.stripe_payments, result.our_payments) == (1, 1)
    assert result.stripe_payments_pence == result.our_payments_pence == issued.gross_pence
    finance = as_role(Role.LA_FINANCE)
    query = {"date_from": [on.day, on.month, on.year], "date_to": [on.day, on.month, on.year]}
    page = finance.get("/finance/card-payments/reconcile", query_string=query).soup
    assert "every card payment and refund in Stripe is recorded here" in text_of(page, "main")
    # Had Stripe taken a penny less than was recorded against the academies, it would show.
    fake.payment_intents[paid["payment_intent"]]["amount_received"] = issued.gross_pence - 1
    [difference] = reconcile.reconcile(on, on).differences
    assert difference.problem == "Amounts differ"
    assert difference.ours_pence == issued.gross_pence
    assert difference.reference == issued.number


def test_a_refund_on_one_academys_part_still_reconciles(
    as_role: Any, fake: FakeStripe, world: Any, issued: ConsolidatedInvoice
) -> None:
    """After the trust's card payment, a credit note on one academy's invoice is refunded to the
    card in two parts: the payment still matches Stripe's, and so do both refunds."""
    trust_client = as_role(Role.TRUST_FINANCE)
    trust_client.post_form(f"/trust/invoices/{issued.id}/pay")
    [session] = fake.sessions.values()
    paid = fake.pay(session["id"])
    trust_client.get(f"/trust/invoices/{issued.id}/pay/done?session_id={paid['id']}")
    part = max(issued.parts, key=lambda p: p.gross_pence)
    finance = as_role(Role.LA_FINANCE)
    for _ in range(2):
        note = issue_document(
            world,
            school=part.document.school,
            document_type=DocumentType.CREDIT_NOTE,
            credits=part.document,
            lines=[(1, 45_000, VatTreatment.STANDARD, 2000)],
        )
        db.session.commit()
        done = finance.post_form(f"/finance/credit-notes/{note.id}/card-refund")
        assert done.status_code == 302
    assert [r["amount"] for r in fake.refunds.values()] == [27_000, 27_000]
    assert balances.figures_of(part.document).balance_pence == 0
    on = today()
    result = reconcile.reconcile(on, on)
    assert result.differences == []
    assert result.our_payments_pence == result.stripe_payments_pence == issued.gross_pence
    assert (result.our_refunds, result.our_refunds_pence) == (2, 54_000)
