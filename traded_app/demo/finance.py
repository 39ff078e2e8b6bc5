"""Demo finance: the demo's documents with believable dates, payments and journals.

The demo's orders are confirmed while the council's invoicing is held (`hold_invoices`), then
each confirmed order is charged through the invoicing service with an earlier `on=` date (its
demo order's `Charge`), oldest first, so numbers, PDFs and e-mails are the real thing and the
register and aged debt show a believable month: VAT invoices not yet due and 0–30, 31–60, 61–90
and over 90 days overdue, some part paid and reminded, some paid in full by bank transfer, one
paid by mistake and the payment reversed, a partial credit note, and the recharges but the
newest settled by one journal. Every payment is recorded through the payments service as
finance@example.org. The council's invoice timing is restored afterwards.

Safe to run again: an order already charged keeps its document; a document that already has a
payment, a credit note or a reminder gets no more of them, and recharges are settled by a
journal only while none has been.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import CouncilSettings, Document, DocumentType, Order, User
from traded_app.models.base import utcnow
from traded_app.models.finance import Reminder
from traded_app.models.payments import Payment, PaymentKind
from traded_app.services.documents import issuing as invoicing
from traded_app.services.finance import balances, payments
from traded_app.services.platform.settings import today

log = logging.getLogger(__name__)

# Days before today an order without a `Charge` is charged on, in turn (oldest first).
AGES = (84, 62, 47, 33, 19, 9, 4)

# What happens to a charge after it is issued.
UNPAID = ""
HALF_PAID = "half"  # half the balance by bank transfer, `paid_after` days after issue
PAID = "paid"  # all of it by bank transfer, `paid_after` days after issue
PAID_BY_MISTAKE = "mistake"  # another school's transfer recorded against it, then reversed


@dataclass(frozen=True)
class Charge:
    """How a demo order's charge looks: issued `days_ago`, then paid (or not), reminded and
    part credited."""

    days_ago: int
    paid: str = UNPAID
    paid_after: int = 14
    reminders: int = 0  # reminder e-mails, the first a week after the due date, then fortnightly
    credit_half_days: int = 0  # of its first line, credited yesterday


def hold_invoices(settings: CouncilSettings) -> str:
    """Confirmations charge nothing until `load_finance`; returns the timing to restore."""
    timing = settings.invoice_timing
    settings.invoice_timing = "invoice_run"
    db.session.flush()
    return timing


def load_finance(settings: CouncilSettings, timing: str, charges: Mapping[int, Charge]) -> int:
    """Charge the demo's confirmed orders on earlier dates (`charges`: by order id), then add
    their payments, reminders, credit notes and a journal; returns how many payments exist."""
    finance = _user("finance@example.org")
    try:
        waiting = invoicing.orders_awaiting_charge()
        fallback = dict(zip((o.id for o in waiting), _ages(len(waiting)), strict=True))
        ages = {
            o.id: charges[o.id].days_ago if o.id in charges else fallback[o.id] for o in waiting
        }
        for order in sorted(waiting, key=lambda o: (-ages[o.id], o.id)):
            try:
                invoicing.issue_for_order(
                    order, finance, on=today() - timedelta(days=ages[order.id])
                )
            except invoicing.InvoicingError as error:
                log.warning("Demo order %s not charged: %s", order.reference, error)
    finally:
        settings.invoice_timing = timing
    db.session.flush()
    if finance is not None:
        for order_id, charge in sorted(charges.items(), key=lambda i: (-i[1].days_ago, i[0])):
            charged = db.session.get(Order, order_id)
            document = invoicing.charge_document_for(charged) if charged else None
            if charged is not None and document is not None:
                _follow_up(charged, document, charge, finance)
        _settle_recharges(finance)
    db.session.flush()
    return int(db.session.execute(select(func.count()).select_from(Payment)).scalar_one())


def _ages(count: int) -> list[int]:
    return [AGES[i % len(AGES)] for i in range(count)]


def _user(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def _has(model: type[Payment] | type[Reminder], document: Document) -> bool:
    return (
        db.session.execute(select(model.id).where(model.document_id == document.id).limit(1))
        .scalars()
        .first()
        is not None
    )


def _follow_up(order: Order, document: Document, charge: Charge, finance: User) -> None:
    """The charge's credit note, payments and reminders, each only once."""
    if charge.credit_half_days and order.lines and not invoicing.credited_half_days(document):
        invoicing.credit_order(
            order,
            finance,
            "Half a day not needed: the school finished the work itself",
            {order.lines[0].id: charge.credit_half_days},
            on=max(document.issue_date, today() - timedelta(days=1)),
        )
    if (
        document.document_type == DocumentType.INVOICE
        and charge.paid
        and not _has(Payment, document)
    ):
        _pay(document, charge, finance)
    if document.document_type == DocumentType.INVOICE and not _has(Reminder, document):
        _remind(document, charge.reminders, finance)


def _pay(document: Document, charge: Charge, finance: User) -> None:
    balance = balances.figures_of(document).balance_pence or 0
    received = min(
        today() - timedelta(days=1), document.issue_date + timedelta(days=charge.paid_after)
    )
    if balance <= 1:
        return
    if charge.paid == HALF_PAID:
        payments.record_bank_transfer(
            document, balance // 2, received, f"BACS {document.number}", finance
        )
    elif charge.paid == PAID:
        payments.record_bank_transfer(
            document, balance, received, f"BACS {document.number}", finance
        )
    elif charge.paid == PAID_BY_MISTAKE:
        mistaken = payments.record_bank_transfer(
            document,
            balance,
            received,
            "BACS TRUST REMITTANCE",
            finance,
            note="Matched by amount to the trust's remittance",
        )
        payments.reverse_payment(
            mistaken,
            "Recorded against the wrong invoice: the remittance was for another school's invoice",
            finance,
        )


def _remind(document: Document, count: int, finance: User) -> None:
    """Reminders already sent, a week after the due date and then every fortnight."""
    balance = balances.figures_of(document).balance_pence or 0
    if balance <= 0:
        return
    for number in range(count):
        sent_on = document.due_date + timedelta(days=7 + 14 * number)
        if sent_on >= today():
            break
        db.session.add(
            Reminder(
                document_id=document.id,
                sent_by_id=finance.id,
                recipient=document.school.billing_contact_email or document.buyer_contact_email,
                balance_pence=balance,
                days_overdue=(sent_on - document.due_date).days,
                queued_at=utcnow() - timedelta(days=(today() - sent_on).days),
                succeeded=True,
            )
        )


def _settle_recharges(finance: User) -> None:
    """Every recharge but the newest settled by one journal two days ago (once)."""
    journal = db.session.execute(
        select(Payment.id).where(Payment.kind == PaymentKind.JOURNAL).limit(1)
    ).first()
    recharges = [d for d, _f in payments.unsettled_recharges()]
    if journal is None and len(recharges) > 1:
        payments.settle_recharges(
            [d.id for d in recharges[:-1]],
            f"JNL-{today():%Y-%m}-01",
            today() - timedelta(days=2),
            finance,
        )
