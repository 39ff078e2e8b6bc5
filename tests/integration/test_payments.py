"""Payments through the finance officer's pages: bank transfers (part and whole), refusals with
GOV.UK messages and nothing recorded, journals settling recharges, reversals, the append-only
guard, the balance every page shows, and two officers paying the same invoice at once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from tests.conftest import text_of
from tests.factories import charged_order, issue_document
from traded_app.extensions import db
from traded_app.models import Document, DocumentType, Payment, User
from traded_app.models.types import Role, VatTreatment
from traded_app.services.finance import balances, payments
from traded_app.services.finance.balances import DocumentStatus
from traded_app.services.platform import append_only
from traded_app.services.platform.settings import today


def _payment_form(amount: str, on: Any = None, reference: str = "BACS 123") -> dict[str, Any]:
    on = on or today()
    return {
        "amount": amount,
        "received_on": [str(on.day), str(on.month), str(on.year)],
        "reference": reference,
    }


def _count_payments() -> int:
    return int(db.session.execute(select(func.count()).select_from(Payment)).scalar_one())


@pytest.fixture()
def invoice(world: Any) -> Document:
    """A £1,080.00 VAT invoice (2 days at £450 + 20% VAT) to the academy."""
    document = issue_document(world, lines=[(4, 45_000, VatTreatment.STANDARD, 2000)])
    db.session.commit()
    return document


def test_part_then_full_payment(as_role: Any, invoice: Document) -> None:
    client = as_role(Role.LA_FINANCE)
    url = f"/finance/documents/{invoice.id}/payments/new"
    page = client.get(url).soup
    assert "£1,080.00" in text_of(page, ".govuk-summary-list")
    response = client.post_form(url, _payment_form("400"))
    assert response.status_code == 302
    detail = client.get(response.location).soup
    assert "£400.00 received" in text_of(detail, ".govuk-notification-banner")
    assert "£680.00 is left to pay" in text_of(detail, ".govuk-notification-banner")
    assert text_of(detail, "main .govuk-tag") == "Part paid"
    payments_table = text_of(detail, "[aria-label^='Payments of'] tbody")
    assert "BACS 123" in payments_table and "Finance" in payments_table  # who recorded it
    response = client.post_form(url, _payment_form("680.00", reference="BACS 124"))
    detail = client.get(response.location).soup
    assert "paid in full" in text_of(detail, ".govuk-notification-banner")
    assert text_of(detail, "main .govuk-tag") == "Paid"
    assert balances.figures_of(invoice).balance_pence == 0


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1080.01", "The amount must be £1,080.00 or less"),
        ("0", "Amount must be more than £0"),
        ("-5", "Amount must be £0 or more"),
        ("10.123", "no more than 2 decimal places"),
        ("", "Enter an amount in pounds"),
        ("ten", "Enter an amount in pounds, like 1500"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_recorded(
    as_role: Any, invoice: Document, amount: str, message: str
) -> None:
    response = as_role(Role.LA_FINANCE).post_form(
        f"/finance/documents/{invoice.id}/payments/new", _payment_form(amount)
    )
    assert response.status_code == 200
    assert message in text_of(response.soup, ".govuk-error-summary")
    assert response.soup.title.get_text().startswith("Error:")
    assert _count_payments() == 0


def test_a_future_date_and_a_missing_reference_are_refused(as_role: Any, invoice: Document) -> None:
    client = as_role(Role.LA_FINANCE)
    url = f"/finance/documents/{invoice.id}/payments/new"
    page = client.post_form(url, _payment_form("10", on=today() + timedelta(days=1))).soup
    assert "must be today or in the past" in text_of(page, ".govuk-error-summary")
    page = client.post_form(url, _payment_form("10", reference=" ")).soup
    assert "Enter the payment reference" in text_of(page, ".govuk-error-summary")
    assert _count_payments() == 0


def test_wrong_routes_are_refused(world: Any, as_role: Any, invoice: Document) -> None:
    finance = world.users[Role.LA_FINANCE]
    recharge = issue_document(world, school=world.school)
    credit = issue_document(
        world,
        document_type=DocumentType.CREDIT_NOTE,
        lines=[(1, 45_000, VatTreatment.STANDARD, 2000)],
        credits=invoice,
    )
    db.session.commit()
    # A bank transfer on a recharge: the page says why and offers no form; a POST records nothing.
    client = as_role(Role.LA_FINANCE)
    page = client.get(f"/finance/documents/{recharge.id}/payments/new").soup
    assert "settled by a journal" in text_of(page, ".govuk-inset-text")
    assert page.select_one("form[action$='/payments/new']") is None
    client.post_form(f"/finance/documents/{recharge.id}/payments/new", _payment_form("10"))
    page = client.get(f"/finance/documents/{credit.id}/payments/new").soup
    assert "credit note" in text_of(page, ".govuk-inset-text")
    with pytest.raises(
        payments.PaymentError, match="paid by bank transfer or card, not by journal"
    ):
        payments.record_payment(invoice, payments.PaymentKind.JOURNAL, 100, today(), "J1", finance)
    with pytest.raises(payments.PaymentError, match="settled by a journal"):
        payments.record_payment(recharge, payments.PaymentKind.CARD, 100, today(), "pi", finance)
    with pytest.raises(payments.PaymentError, match="nothing is paid against it"):
        payments.record_bank_transfer(credit, 100, today(), "B", finance)
    db.session.rollback()
    assert _count_payments() == 0


def test_a_credit_note_reduces_the_balance_and_caps_payments(
    world: Any, as_role: Any, invoice: Document
) -> None:
    issue_document(
        world,
        document_type=DocumentType.CREDIT_NOTE,
        lines=[(2, 45_000, VatTreatment.STANDARD, 2000)],
        credits=invoice,
    )
    db.session.commit()
    assert balances.figures_of(invoice).balance_pence == 54_000
    page = as_role(Role.LA_FINANCE).post_form(
        f"/finance/documents/{invoice.id}/payments/new", _payment_form("540.01")
    )
    assert "The amount must be £540.00 or less" in text_of(page.soup, ".govuk-error-summary")
    as_role(Role.LA_FINANCE).post_form(
        f"/finance/documents/{invoice.id}/payments/new", _payment_form("540")
    )
    assert balances.figures_of(invoice).status() == DocumentStatus.PAID


def test_recharges_settled_in_bulk_by_journal(world: Any, as_role: Any) -> None:
    first = issue_document(world, school=world.school)
    second = issue_document(world, school=world.other_school)
    third = issue_document(world, school=world.school)
    db.session.commit()
    client = as_role(Role.LA_FINANCE)
    page = client.get("/finance/journals").soup
    assert {first.number, second.number, third.number} <= set(text_of(page, "tbody").split())
    on = today()
    form = {
        "documents": [str(first.id), str(second.id)],
        "reference": "JNL-2027-04",
        "journal_date": [str(on.day), str(on.month), str(on.year)],
    }
    response = client.post_form("/finance/journals", form)
    assert response.status_code == 302
    page = client.get("/finance/journals").soup
    assert "2 recharges settled by journal JNL-2027-04: £900.00 in all" in text_of(
        page, ".govuk-notification-banner"
    )
    assert first.number not in text_of(page, "tbody") and third.number in text_of(page, "tbody")
    assert balances.figures_of(first).status() == DocumentStatus.PAID
    journal = db.session.execute(
        select(Payment).where(Payment.document_id == first.id)
    ).scalar_one()
    assert (journal.kind.value, journal.reference, journal.recorded_by.role) == (
        "journal",
        "JNL-2027-04",
        Role.LA_FINANCE,
    )
    # Nothing chosen, or one already settled: refused, and nothing recorded.
    page = client.post_form("/finance/journals", {**form, "documents": []}).soup
    assert "Select at least one recharge to settle" in text_of(page, ".govuk-error-summary")
    page = client.post_form("/finance/journals", {**form, "documents": [str(first.id)]}).soup
    assert "can no longer be chosen" in text_of(page, ".govuk-error-summary")
    with pytest.raises(payments.PaymentError, match="already settled"):
        payments.settle_recharges([first.id, third.id], "J2", on, world.users[Role.LA_FINANCE])
    db.session.rollback()
    assert _count_payments() == 2


def test_a_mistaken_payment_is_reversed_never_deleted(
    world: Any, as_role: Any, invoice: Document
) -> None:
    client = as_role(Role.LA_FINANCE)
    client.post_form(f"/finance/documents/{invoice.id}/payments/new", _payment_form("1080"))
    payment = db.session.execute(select(Payment)).scalar_one()
    page = client.get(f"/documents/{invoice.id}").soup
    reverse = page.select_one(f"a[href='/finance/payments/{payment.id}/reverse']")
    assert reverse is not None
    page = client.post_form(f"/finance/payments/{payment.id}/reverse", {"reason": ""}).soup
    assert "Enter why the payment is being reversed" in text_of(page, ".govuk-error-summary")
    response = client.post_form(
        f"/finance/payments/{payment.id}/reverse", {"reason": "Meant for another invoice"}
    )
    assert response.status_code == 302
    page = client.get(response.location).soup
    assert "is reversed" in text_of(page, ".govuk-notification-banner")
    assert "Reversed" in text_of(page, "main") and "Meant for another invoice" in text_of(
        page, "main"
    )
    assert text_of(page, "main .govuk-tag") == "Issued"
    rows = db.session.execute(select(Payment).order_by(Payment.id)).scalars().all()
    assert [r.amount_pence for r in rows] == [108_000, -108_000]
    assert rows[1].reverses_payment_id == rows[0].id
    assert balances.figures_of(invoice).balance_pence == 108_000
    # Reversing again, or reversing the reversal, is refused.
    with pytest.raises(payments.PaymentError, match="already been reversed"):
        payments.reverse_payment(rows[0], "again", world.users[Role.LA_FINANCE])
    with pytest.raises(payments.PaymentError, match="cannot itself be reversed"):
        payments.reverse_payment(rows[1], "again", world.users[Role.LA_FINANCE])
    db.session.rollback()


def test_payments_cannot_be_changed_or_deleted(world: Any, invoice: Document) -> None:
    payment = payments.record_bank_transfer(
        invoice, 100, today(), "B1", world.users[Role.LA_FINANCE]
    )
    db.session.commit()
    payment.amount_pence = 50
    with pytest.raises(append_only.ImmutablePaymentError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(payment)
    with pytest.raises(append_only.ImmutablePaymentError):
        db.session.flush()
    db.session.rollback()
    for statement in ("UPDATE payment SET amount_pence = 1", "DELETE FROM payment"):
        with pytest.raises(Exception, match="cannot be changed or deleted"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.get(Payment, payment.id).amount_pence == 100


def test_a_card_payment_told_twice_is_recorded_once(world: Any, invoice: Document) -> None:
    first = payments.record_payment(
        invoice,
        payments.PaymentKind.CARD,
        1000,
        today(),
        "Card",
        None,
        stripe_payment_intent="pi_1",
    )
    again = payments.record_payment(
        invoice,
        payments.PaymentKind.CARD,
        1000,
        today(),
        "Card",
        None,
        stripe_payment_intent="pi_1",
    )
    db.session.commit()
    assert first.id == again.id and _count_payments() == 1


def test_the_school_sees_payments_in_its_balance(world: Any, as_role: Any) -> None:
    _order, recharge = charged_order(world, 4)
    payments.settle_recharges([recharge.id], "J1", today(), world.users[Role.LA_FINANCE])
    _order, other = charged_order(world, 2)
    payments.settle_recharges([other.id], "J1", today(), world.users[Role.LA_FINANCE])
    db.session.commit()
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    rows = {
        r.select_one("a").get_text(strip=True): text_of(r, ".govuk-tag")
        for r in client.get("/invoices").soup.select("tbody tr")
    }
    assert rows[recharge.number] == "Paid"
    assert "Nothing outstanding" in text_of(client.get("/school").soup, "main")
    page = client.get(f"/documents/{recharge.id}").soup
    assert "Reverse" not in text_of(page, "main")  # only finance reverses
    assert "J1" in text_of(page, "main")


def test_only_finance_officers_move_money(as_role: Any, invoice: Document) -> None:
    url = f"/finance/documents/{invoice.id}/payments/new"
    assert as_role(Role.LA_ADMIN).get(url).status_code == 403
    page = as_role(Role.LA_ADMIN).get(f"/documents/{invoice.id}").soup
    assert "Record a payment" not in text_of(page, "main")
    page = as_role(Role.LA_FINANCE).get(f"/documents/{invoice.id}").soup
    assert "Record a payment" in text_of(page, ".govuk-button-group")


# --- Two finance officers at once ------------------------------------------------------------


def test_two_officers_cannot_overpay_together(app: Flask, world: Any, invoice: Document) -> None:
    """Each records £600 of the £1,080 at the same moment: one is refused, on SQLite's write
    lock or PostgreSQL's row lock, whichever backend the suite runs on."""
    invoice_id, user_id = invoice.id, world.users[Role.LA_FINANCE].id
    db.session.remove()
    start = threading.Barrier(2)
    outcomes: list[str] = ["", ""]

    def pay(index: int) -> None:
        start.wait(timeout=30)
        with app.app_context():
            try:
                document = db.session.get(Document, invoice_id)
                user = db.session.get(User, user_id)
                assert document is not None and user is not None
                payments.record_bank_transfer(document, 60_000, today(), f"B{index}", user)
                db.session.commit()
                outcomes[index] = "recorded"
            except payments.PaymentError as error:
                db.session.rollback()
                outcomes[index] = str(error)
            except Exception as error:
                db.session.rollback()
                outcomes[index] = f"unexpected {type(error).__name__}: {error}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [
        f"The amount must be £480.00 or less: that is all that is left to pay on {invoice.number}",
        "recorded",
    ], outcomes
    assert _count_payments() == 1
