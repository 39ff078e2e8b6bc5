"""Demo finance: the demo's documents with believable dates, payments and journals.

The demo's orders are confirmed while the council's invoicing is held (`hold_invoices`), then
each confirmed order is charged through the invoicing service with an earlier `on=` date, oldest
first, so numbers, PDFs and e-mails are the real thing and the register and aged debt show a
month's history: an overdue VAT invoice part paid and reminded, a partial credit note,
recharges settled by a journal but for the newest. Every payment is recorded through the payments service as
finance@example.org. The council's invoice timing is restored afterwards.

No orders are added for finance's sake (the demo's orders are the ones its tests describe), so
aged debt has as many invoices as the demo has confirmed academy orders.

Safe to run again: orders already charged keep their documents; once any payment exists, no
more are added.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from traded_app.extensions import db
from traded_app.models import CouncilSettings, Document, DocumentType, User
from traded_app.models.base import utcnow
from traded_app.models.finance import Reminder
from traded_app.models.payments import Payment
from traded_app.services import balances, invoicing, payments
from traded_app.services.settings import today

log = logging.getLogger(__name__)

# Days before today each waiting order is charged on, in turn (oldest first).
AGES = (84, 62, 47, 33, 19, 9, 4)


def hold_invoices(settings: CouncilSettings) -> str:
    """Confirmations charge nothing until `load_finance`; returns the timing to restore."""
    timing = settings.invoice_timing
    settings.invoice_timing = "invoice_run"
    db.session.flush()
    return timing


def load_finance(settings: CouncilSettings, timing: str) -> int:
    """Charge the demo's confirmed orders on earlier dates, then add payments, a reminder and a
    journal; returns how many payments exist."""
    try:
        finance = _user("finance@example.org")
        waiting = invoicing.orders_awaiting_charge()
        for order, age in zip(waiting, _ages(len(waiting)), strict=True):
            try:
                invoicing.issue_for_order(order, finance, on=today() - timedelta(days=age))
            except invoicing.InvoicingError as error:
                log.warning("Demo order %s not charged: %s", order.reference, error)
        if waiting and waiting[-1].lines:
            # Half a day of the newest order was not needed: a partial credit note.
            newest = waiting[-1]
            invoicing.credit_order(
                newest,
                finance,
                "Half a day not needed: the school finished the work itself",
                {newest.lines[0].id: 1},
                on=today() - timedelta(days=1),
            )
    finally:
        settings.invoice_timing = timing
    db.session.flush()
    existing = db.session.execute(select(func.count()).select_from(Payment)).scalar_one()
    if existing or finance is None:
        return int(existing)
    _pay_invoices(finance)
    _settle_recharges(finance)
    db.session.flush()
    return int(db.session.execute(select(func.count()).select_from(Payment)).scalar_one())


def _ages(count: int) -> list[int]:
    return [AGES[i % len(AGES)] for i in range(count)]


def _user(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def _pay_invoices(finance: User) -> None:
    """The oldest VAT invoice: half paid two weeks after issue and reminded once it was
    overdue; the rest left to pay."""
    invoices = list(
        db.session.execute(
            select(Document)
            .where(Document.document_type == DocumentType.INVOICE)
            .order_by(Document.issue_date, Document.id)
        ).scalars()
    )
    if not invoices:
        return
    oldest = invoices[0]
    balance = balances.figures_of(oldest).balance_pence or 0
    received = min(today(), oldest.issue_date + timedelta(days=14))
    if balance > 1:
        payments.record_bank_transfer(
            oldest, balance // 2, received, f"BACS {oldest.number}", finance
        )
    if oldest.due_date < today() - timedelta(days=10):
        db.session.add(
            Reminder(
                document_id=oldest.id,
                sent_by_id=finance.id,
                recipient=oldest.school.billing_contact_email or oldest.buyer_contact_email,
                balance_pence=balances.figures_of(oldest).balance_pence or 0,
                days_overdue=(today() - oldest.due_date).days - 10,
                queued_at=utcnow() - timedelta(days=10),
                succeeded=True,
            )
        )


def _settle_recharges(finance: User) -> None:
    """Every recharge but the newest settled by one journal two days ago."""
    recharges = [d for d, _f in payments.unsettled_recharges()]
    if len(recharges) > 1:
        payments.settle_recharges(
            [d.id for d in recharges[:-1]],
            f"JNL-{today():%Y-%m}-01",
            today() - timedelta(days=2),
            finance,
        )
