"""Finance raises a credit note against an issued VAT invoice, internal recharge or
brought-forward invoice (services.documents.crediting, /finance/documents/<id>/credit-note):
the form, the check of the server's totals, the issued credit note (numbered, PDF, e-mailed), the
figures that move with it, and every refusal, as each role."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import charged_order
from tests.integration.test_people_import import upload
from tests.partnership_factories import confirmed_partnership_order
from traded_app.extensions import db
from traded_app.models import Document, DocumentLine, DocumentSend, DocumentType
from traded_app.models.audit import AuditEvent
from traded_app.models.finance import ExportKind
from traded_app.models.types import Role, VatTreatment
from traded_app.services.documents import crediting, issuing
from traded_app.services.finance import balances, exports, statements
from traded_app.services.platform import document_store
from traded_app.services.platform.settings import today


@pytest.fixture(autouse=True)
def own_outbox(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))


@pytest.fixture()
def billing(world: Any) -> Any:
    world.school.billing_contact_email = "office@riverside.example"
    world.academy.billing_contact_email = "finance@meadow.example"
    db.session.commit()
    return world


def pdf_text(document: Document) -> str:
    reader = PdfReader(io.BytesIO(document_store.read_pdf(document)))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def url(document: Document) -> str:
    return f"/finance/documents/{document.id}/credit-note"


def errors_of(page: Any) -> str:
    return text_of(page.soup, ".govuk-error-summary")


def credit_notes_of(document: Document) -> list[Document]:
    return list(
        db.session.execute(
            select(Document)
            .where(Document.credits_document_id == document.id)
            .order_by(Document.id)
        ).scalars()
    )


def brought_forward(as_role: Any, world: Any, amount: str = "1,200.00", vat: str = "200.00") -> Any:
    """A brought-forward VAT invoice of Meadow Academy's, recorded through opening balances."""
    day = (today() - timedelta(days=40)).strftime("%d/%m/%Y")
    due = (today() - timedelta(days=10)).strftime("%d/%m/%Y")
    data = (
        "URN,original number,date,due date,amount,VAT,description\n"
        f'{world.academy.urn},SAGE-2001,{day},{due},"{amount}",{vat},Governance review\n'
    ).encode()
    finance = as_role(Role.LA_FINANCE)
    response = upload(finance, "/finance/opening-balances", data, "balances.csv")
    assert finance.post_form(response.location).status_code == 302
    return db.session.execute(select(Document).where(Document.number == "SAGE-2001")).scalar_one()


# --- A VAT invoice, through the pages -----------------------------------------------------------


def test_finance_credits_part_of_a_vat_invoice_then_the_rest(
    app: Flask, as_role: Any, billing: Any
) -> None:
    _order, invoice = charged_order(billing, 4, school=billing.academy)  # 2 days at £450 + VAT
    assert (invoice.net_pence, invoice.vat_pence) == (90_000, 18_000)
    finance = as_role(Role.LA_FINANCE)
    detail = finance.get(f"/documents/{invoice.id}").soup
    link = next(a for a in detail.select("a") if a.get_text(strip=True) == "Raise a credit note")
    assert link["href"] == url(invoice)

    form = finance.get(url(invoice)).soup
    assert form.h1.get_text(strip=True) == f"Raise a credit note against {invoice.number}"
    field = f"days-{invoice.lines[0].service_code}"
    assert "Up to 2 days" in text_of(form, f"#{field}-hint")

    answers = {field: "1", "reason": "One day not delivered"}
    check = finance.post_form(url(invoice), {"step": "check", **answers})
    assert check.status_code == 200
    assert not credit_notes_of(invoice)  # nothing issued by the check
    assert text_of(check.soup, "#check-net") == "£450.00"
    assert text_of(check.soup, "#check-vat") == "£90.00"
    assert text_of(check.soup, "#check-gross") == "£540.00"
    assert "A credit note cannot be changed once issued" in text_of(
        check.soup, ".govuk-warning-text"
    )

    issued = finance.post_form(url(invoice), {"step": "issue", **answers})
    assert issued.status_code == 302
    (note,) = credit_notes_of(invoice)
    assert issued.location.endswith(f"/documents/{note.id}")
    page = finance.get(issued.location).soup
    assert f"Credit note {note.number} issued against {invoice.number}" in text_of(
        page, ".govuk-notification-banner"
    )
    assert note.document_type == DocumentType.CREDIT_NOTE and note.number.startswith("CRN-")
    assert (note.net_pence, note.vat_pence, note.gross_pence) == (45_000, 9_000, 54_000)
    assert note.reason == "One day not delivered" and note.order_id == invoice.order_id
    assert [(line.service_code, line.half_days) for line in note.lines] == [
        (invoice.lines[0].service_code, 2)
    ]
    assert document_store.read_pdf(note)[:5] == b"%PDF-"  # rendered and stored
    assert db.session.execute(
        select(DocumentSend).where(DocumentSend.document_id == note.id)
    ).first(), "e-mailed to the billing contact"
    assert db.session.execute(
        select(AuditEvent).where(
            AuditEvent.entity == "document", AuditEvent.entity_id == str(note.id)
        )
    ).first()

    # The figures move at once, to the penny: the document, the register and the statement.
    figures = balances.figures_of(invoice)
    assert (figures.credited_pence, figures.balance_pence) == (54_000, 54_000)
    assert figures.status().label == "Part credited"
    register = finance.get(f"/finance/invoices?q={invoice.number}").soup
    assert "Part credited" in text_of(register, "main") and "£540.00" in text_of(register, "main")
    statement = statements.statement_for(billing.academy, today() - timedelta(days=5), today())
    assert statement.closing_pence == 54_000

    # The rest: 1 day left, refused beyond it, then credited in full.
    too_much = finance.post_form(url(invoice), {"step": "check", field: "1.5", "reason": "x"})
    assert "1 days are left to credit, not 1.5" in errors_of(too_much)
    finance.post_form(url(invoice), {"step": "issue", field: "1", "reason": "Not wanted"})
    assert balances.figures_of(invoice).balance_pence == 0
    assert sum(n.gross_pence for n in credit_notes_of(invoice)) == invoice.gross_pence
    nothing = finance.get(url(invoice)).soup
    assert "nothing left to credit" in text_of(nothing, "#nothing-left")
    after = finance.get(f"/documents/{invoice.id}").soup
    assert "Raise a credit note" not in text_of(after, "main")
    again = finance.post_form(url(invoice), {"step": "issue", field: "1", "reason": "Again"})
    assert "Nothing is left to credit" in errors_of(again)
    assert len(credit_notes_of(invoice)) == 2


def test_a_recharge_is_credited_in_part_and_in_full_without_vat(world: Any) -> None:
    _order, recharge = charged_order(world, 5)  # Riverside, maintained: 2.5 days, no VAT
    assert recharge.document_type == DocumentType.RECHARGE
    finance = world.users[Role.LA_FINANCE]
    code = recharge.lines[0].service_code
    first = crediting.raise_credit_note(
        recharge.id, finance, crediting.Request("Half a day not needed", {code: 1})
    )
    assert (first.net_pence, first.vat_pence) == (22_500, 0)
    assert [b.vat_treatment.value for b in first.vat_bands] == ["outside_scope"]
    assert balances.figures_of(recharge).balance_pence == recharge.gross_pence - 22_500
    rest = crediting.raise_credit_note(recharge.id, finance, crediting.Request("Rest", {code: 4}))
    db.session.commit()
    assert first.gross_pence + rest.gross_pence == recharge.gross_pence
    assert balances.figures_of(recharge).balance_pence == 0
    assert balances.figures_of(recharge).status().label == "Credited"


# --- A brought-forward invoice ---------------------------------------------------------------


def test_a_brought_forward_invoice_is_credited_by_amount_its_vat_adding_up(
    as_role: Any, billing: Any
) -> None:
    original = brought_forward(as_role, billing)  # £1,200.00 of which £200.00 VAT
    finance = as_role(Role.LA_FINANCE)
    detail = finance.get(f"/documents/{original.id}").soup
    assert any(a.get_text(strip=True) == "Raise a credit note" for a in detail.select("a"))
    form = finance.get(url(original)).soup
    assert "Up to £1,200.00" in text_of(form, "#amount-hint")

    check = finance.post_form(url(original), {"step": "check", "amount": "333.33", "reason": "x"})
    # 333.33 × 200/1200 = 55.555: £55.56 VAT, half a penny rounding up.
    assert text_of(check.soup, "#check-vat") == "£55.56"
    assert text_of(check.soup, "#check-net") == "£277.77"
    issued = finance.post_form(
        url(original), {"step": "issue", "amount": "333.33", "reason": "Disputed in part"}
    )
    assert issued.status_code == 302
    (first,) = credit_notes_of(original)
    assert (first.gross_pence, first.vat_pence) == (33_333, 5_556)
    assert first.order_id is None and not first.brought_forward and first.sequence
    assert first.lines[0].service_name == "Brought-forward invoice SAGE-2001"
    words = pdf_text(first)
    for said in ("Amount credited", "SAGE-2001", "Disputed in part", "£333.33", "£55.56"):
        assert said in words, said
    assert "days" not in words.lower() and "Places" not in words  # an amount, not days
    note_page = finance.get(f"/documents/{first.id}").soup
    assert not note_page.select("#total-days")
    assert "Quantity" in text_of(note_page, "main table")
    assert balances.figures_of(original).balance_pence == 120_000 - 33_333

    # Aged debt moves at once: the invoice is overdue, now for what is left.
    debt = text_of(finance.get("/finance/aged-debt").soup, "main")
    assert "£866.67" in debt and "£1,200.00" not in debt

    user = billing.users[Role.LA_FINANCE]
    crediting.raise_credit_note(original.id, user, crediting.Request("More", {}, 1))
    too_much = finance.post_form(url(original), {"step": "check", "amount": "900", "reason": "x"})
    assert "Amount must be £866.66 or less" in errors_of(too_much)
    crediting.raise_credit_note(original.id, user, crediting.Request("The rest", {}, 86_666))
    db.session.commit()
    notes = credit_notes_of(original)
    assert sum(n.gross_pence for n in notes) == 120_000
    assert sum(n.vat_pence for n in notes) == 20_000  # the VAT to the penny
    assert sum(n.net_pence for n in notes) == 100_000
    assert balances.figures_of(original).balance_pence == 0
    # New documents of this service: the sales ledger carries the credit notes (not the original).
    sales = exports.summarise_range(ExportKind.SALES_CSV, today() - timedelta(days=60), today())
    assert sales.documents == 3


@pytest.mark.parametrize(
    ("gross", "vat", "amounts"),
    [
        (120_000, 20_000, [1, 1, 1, 33_333, 7, 86_657]),
        (10_001, 1_667, [3_333, 3_333, 3_335]),
        (999, 166, [1] * 5 + [994]),
        (45_000, 0, [100, 44_900]),
    ],
)
def test_the_vat_of_credits_by_amount_adds_up_to_the_penny(
    gross: int, vat: int, amounts: list[int]
) -> None:
    credited = credited_vat = 0
    for amount in amounts:
        part = crediting.credit_vat_pence(gross, vat, credited, credited_vat, amount)
        assert 0 <= part <= amount
        credited, credited_vat = credited + amount, credited_vat + part
    assert (credited, credited_vat) == (gross, vat)


# --- Refusals -----------------------------------------------------------------------------------


def test_every_refusal_is_an_error_summary_and_issues_nothing(as_role: Any, billing: Any) -> None:
    _order, invoice = charged_order(billing, 4, school=billing.academy)
    finance = as_role(Role.LA_FINANCE)
    field = f"days-{invoice.lines[0].service_code}"
    cases = [
        ({field: "", "reason": "Why"}, "Enter the days to credit"),
        ({field: "3", "reason": "Why"}, "2 days are left to credit, not 3"),
        ({field: "0.3", "reason": "Why"}, "Enter days as a whole or half number"),
        ({field: "1", "reason": "  "}, "Enter the reason for the credit note"),
        ({field: "1", "reason": "x" * 1001}, "Reason must be 1000 characters or fewer"),
    ]
    for step in ("check", "issue"):
        for answers, message in cases:
            page = finance.post_form(url(invoice), {"step": step, **answers})
            assert page.status_code == 200, (answers, page.status_code)
            assert message in errors_of(page), (step, answers, errors_of(page))
            assert page.soup.title.get_text().startswith("Error:")
    expired = finance.post(url(invoice), data={"step": "issue", field: "1", "reason": "Why"})
    assert expired.status_code == 400  # no CSRF token: refused before the view
    assert not credit_notes_of(invoice)

    original = brought_forward(as_role, billing)
    for amount, message in (
        ("", "Enter an amount in pounds"),
        ("0", "Enter an amount to credit of more than £0"),
        ("1200.01", "Amount must be £1,200.00 or less"),
        ("12.345", "no more than 2 decimal places"),
    ):
        page = finance.post_form(url(original), {"step": "check", "amount": amount, "reason": "x"})
        assert message in errors_of(page), (amount, errors_of(page))
    assert not credit_notes_of(original)


def test_credit_notes_and_shares_are_refused_with_where_to_go(as_role: Any, world: Any) -> None:
    _order, invoice = charged_order(world, 4, school=world.academy)
    note = crediting.raise_credit_note(
        invoice.id,
        world.users[Role.LA_FINANCE],
        crediting.Request("x", {invoice.lines[0].service_code: 1}),
    )
    db.session.commit()
    finance = as_role(Role.LA_FINANCE)
    page = finance.get(url(note))
    assert page.status_code == 200
    assert "a credit note cannot be credited" in errors_of(page)
    assert not page.soup.select("form[method=post] textarea")
    posted = finance.post_form(url(note), {"step": "issue", "reason": "x"})
    assert "a credit note cannot be credited" in errors_of(posted)
    assert not credit_notes_of(note)
    assert "Raise a credit note" not in text_of(finance.get(f"/documents/{note.id}").soup, "main")

    _porder, shares = confirmed_partnership_order(world)
    share = page = finance.get(url(shares[0]))
    assert "credit it on the share's own page" in errors_of(share)
    assert share.soup.select_one("#elsewhere")["href"] == f"/documents/{shares[0].id}/credit"
    with pytest.raises(crediting.CreditNoteError, match="share's own page"):
        crediting.raise_credit_note(
            shares[0].id, world.users[Role.LA_FINANCE], crediting.Request("x", {}, 100)
        )
    assert finance.get("/finance/documents/999999/credit-note").status_code == 404


def test_only_finance_officers_raise_credit_notes(as_role: Any, world: Any) -> None:
    _order, invoice = charged_order(world, 4, school=world.academy)
    for role in (
        Role.LA_ADMIN,
        Role.SCHOOL_BUSINESS_MANAGER,
        Role.HEADTEACHER,
        Role.ADVISER,
        Role.TRUST_FINANCE,
    ):
        client = as_role(role)
        assert client.get(url(invoice)).status_code in (403, 404), role
        posted = client.post_form(
            url(invoice),
            {"step": "issue", f"days-{invoice.lines[0].service_code}": "1", "reason": "x"},
        )
        assert posted.status_code in (403, 404), role
        with pytest.raises(crediting.CreditNoteError, match="Only the council's finance officer"):
            crediting.raise_credit_note(
                invoice.id,
                world.users[role],
                crediting.Request("x", {invoice.lines[0].service_code: 1}),
            )
    assert as_role(None).get(url(invoice)).status_code in (302, 401)
    assert not credit_notes_of(invoice)
    assert issuing.credited_pence(invoice) == 0


@pytest.mark.parametrize(
    ("links", "message", "elsewhere"),
    [
        ({"course_booking_id": 7}, "course booking's page", crediting.Elsewhere.COURSE_BOOKING),
        ({"engagement_id": 7}, "engagement's money page", crediting.Elsewhere.ENGAGEMENT),
        (
            {"order_id": 7, "instalment_number": 1, "instalment_count": 2},
            "cancelling the order settles its instalments",
            crediting.Elsewhere.ORDER,
        ),
    ],
)
def test_documents_credited_elsewhere_are_refused_here(
    app: Flask, links: dict[str, int], message: str, elsewhere: crediting.Elsewhere
) -> None:
    document = Document(document_type=DocumentType.INVOICE, number="INV-X", **links)
    refusal = crediting.refusal_for(document)
    assert refusal is not None and message in refusal.message
    assert refusal.elsewhere == elsewhere


def test_a_line_whose_service_code_changed_since_is_refused_not_a_500(
    as_role: Any, world: Any
) -> None:
    _order, invoice = charged_order(world, 4, school=world.academy)
    field = f"days-{invoice.lines[0].service_code}"
    world.service.code = "RENAMED"
    db.session.commit()
    page = as_role(Role.LA_FINANCE).post_form(
        url(invoice), {"step": "issue", field: "1", "reason": "x"}
    )
    assert page.status_code == 200
    assert "no longer matches a line of order" in errors_of(page)
    assert not credit_notes_of(invoice)


def test_days_of_a_free_service_come_to_nothing_and_are_refused(app: Flask) -> None:
    """A credit note is never issued for £0.00: days of a line charged at £0 are refused."""
    document = Document(
        document_type=DocumentType.INVOICE,
        number="INV-Z",
        net_pence=45_000,
        vat_pence=9_000,
        gross_pence=54_000,
    )
    document.lines = [
        DocumentLine(
            service_code=code,
            service_name=name,
            half_days=2,
            price_per_day_pence=price,
            net_pence=price,
            vat_treatment=VatTreatment.STANDARD,
            vat_rate_bp=2000,
        )
        for code, name, price in (("PAID", "Governance review", 45_000), ("FREE", "Free day", 0))
    ]
    pos = crediting.Position(
        document,
        [
            crediting.LineLeft("PAID", "Governance review", 2, 0, 45_000),
            crediting.LineLeft("FREE", "Free day", 2, 0, 0),
        ],
        0,
        0,
        None,
    )
    with pytest.raises(crediting.CreditNoteError, match=r"come to £0\.00"):
        crediting.totals_for(pos, crediting.Request("x", {"FREE": 2}))
    half = crediting.totals_for(pos, crediting.Request("x", {"PAID": 1, "FREE": 2}))
    assert (half.net_pence, half.vat_pence, half.gross_pence) == (22_500, 4_500, 27_000)
