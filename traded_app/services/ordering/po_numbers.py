"""Orders waiting for the school's purchase order (PO) number, and the schedule that reminds
schools of them.

A school may submit an order without its PO number and add it before the order is charged
(workflow.add_po_number). Where the school's settings require a PO on its invoices, a confirmed
order's invoice waits for it (domain.quotes.charge_waits_for_po; recharges never wait). The
council's orders page lists those orders ("Confirmed, waiting for a PO number"), and every day
from 08:00 (Europe/London) the schedule e-mails the school about each one, at most once a week
per order, through the outbox.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from traded_app.extensions import db
from traded_app.formatting import days, pounds
from traded_app.models import Document, DocumentType, Order, OutgoingEmail, ScheduledRun, User
from traded_app.models.orders import SOLD_STATUSES
from traded_app.services.documents.issuing import WAITS_FOR_PO
from traded_app.services.platform import outbox, schedules
from traded_app.services.platform.links import absolute_url

NAME = "po-number-reminders"
KIND = "po_reminder"
SEND_AT = time(8, 0)
REMIND_EVERY = timedelta(days=7)

# Confirmed orders not charged yet whose charge waits for the school's PO number.
_UNCHARGED = ~Order.id.in_(
    select(Document.order_id).where(
        Document.document_type != DocumentType.CREDIT_NOTE, Document.order_id.is_not(None)
    )
)
WAITING = Order.status.in_(SOLD_STATUSES) & WAITS_FOR_PO & _UNCHARGED


def waiting_orders() -> list[Order]:
    """Every confirmed order waiting for its PO number, oldest confirmed first."""
    return list(
        db.session.execute(
            select(Order)
            .options(selectinload(Order.school), selectinload(Order.submitted_by))
            .where(WAITING)
            .order_by(Order.confirmed_at, Order.id)
        ).scalars()
    )


def _recipients(order: Order) -> list[str]:
    people: list[str] = []
    submitter: User | None = order.submitted_by or order.created_by
    if submitter is not None and submitter.active:
        people.append(submitter.email)
    if order.school.billing_contact_email:
        people.append(order.school.billing_contact_email)
    return list(dict.fromkeys(address.lower() for address in people if address))


def remind(now: datetime) -> tuple[int, int]:
    """Queue a reminder for each waiting order not reminded in the last week: (queued, skipped)."""
    orders = waiting_orders()
    if not orders:
        return 0, 0
    last_sent = dict(
        db.session.execute(
            select(OutgoingEmail.ref_id, func.max(OutgoingEmail.created_at))
            .where(OutgoingEmail.kind == KIND, OutgoingEmail.ref_id.in_([o.id for o in orders]))
            .group_by(OutgoingEmail.ref_id)
        )
        .tuples()
        .all()
    )
    queued = skipped = 0
    for order in orders:
        last = last_sent.get(order.id)
        if last is not None and now - last < REMIND_EVERY:
            skipped += 1
            continue
        link = absolute_url("orders.order_detail", order_id=order.id)
        body = (
            f"Order {order.reference} from {order.school.name} has been confirmed, and its "
            f"invoice is waiting for your purchase order number: your school's settings say "
            f"its invoices must show one.\n\n"
            f"Days: {days(order.half_days)}\nTotal: {pounds(order.gross_pence)}\n\n"
            "Add the purchase order number on the order's page" + (f": {link}\n" if link else ".\n")
        )
        row = outbox.queue_email(
            _recipients(order),
            f"Order {order.reference} is waiting for your purchase order number",
            body,
            purpose=f"PO number reminder for {order.reference}",
            school_id=order.school_id,
            kind=KIND,
            ref_id=order.id,
        )
        if row is None:
            skipped += 1
        else:
            queued += 1
    return queued, skipped


def _period(now: datetime) -> str | None:
    return schedules.daily_at(now, SEND_AT)


def _describe() -> str:
    return (
        f"Every day from {SEND_AT:%H:%M} (Europe/London): the school is e-mailed about each "
        "confirmed order whose invoice waits for its purchase order number, at most once a week"
    )


@schedules.schedule(NAME, "Purchase order number reminders", _period, _describe)
def run_po_reminders(run: ScheduledRun) -> str:
    queued, skipped = remind(run.started_at)
    return f"{queued} reminders queued, {skipped} not due or with no one to tell"
