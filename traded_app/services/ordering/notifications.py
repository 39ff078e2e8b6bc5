"""E-mails about orders: who is told what, sent only once the change is committed.

Services queue messages in their transaction (platform.outbox); the job queue sends them after
the transaction commits, and a rolled-back change leaves none. So a mail is never sent about a
change that did not happen, and a mail that fails (retried, then listed for finance) never undoes
the order. Inside `after_commit.suppressed` (loading demo data) nothing is queued.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.formatting import days, pounds
from traded_app.models import Order, OrderEvent, User
from traded_app.models.types import Role
from traded_app.services.platform import memberships, outbox
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.settings import council_settings


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str


def queue(mail: Mail, school_id: int | None = None) -> None:
    """Queue `mail` in this transaction: the queue sends it once the transaction commits
    (never if it rolls back), retrying until the mail server takes it."""
    outbox.queue_email(mail.to, mail.subject, mail.body, purpose=mail.subject, school_id=school_id)


def _school_staff(order: Order, role: Role) -> list[str]:
    return list(
        db.session.execute(
            select(User.email)
            .where(User.id.in_(memberships.user_ids_at(order.school_id, role)))
            .where(User.active.is_(True))
            .order_by(User.id)
        ).scalars()
    )


def _council_inbox() -> list[str]:
    settings = council_settings()
    return [settings.contact_email] if settings and settings.contact_email else []


def _submitter(order: Order) -> list[str]:
    user = order.submitted_by or order.created_by
    return [user.email] if user and user.active else []


def _approver(order: Order) -> list[str]:
    """The headteacher who approved the order hears how it ended."""
    user = order.approved_by
    return [user.email] if user and user.active else []


def _name(user: User | None) -> str:
    if user is not None and user.is_trust_user and user.trust is not None:
        return f"{user.name} ({user.email}) for {user.trust.name}"
    return f"{user.name} ({user.email})" if user else "unknown"


def _link(order: Order) -> str:
    link = absolute_url("orders.order_detail", order_id=order.id)
    return f"\n\nSee the order: {link}\n" if link else "\n"


def _unique(*groups: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        for address in group:
            if address:
                seen.setdefault(address.lower(), None)
    return tuple(seen)


def order_changed(order: Order, change: OrderEvent) -> None:
    """Queue the e-mails a change to `order` calls for."""
    for mail in mails_for(order, change):
        queue(mail)


def mails_for(order: Order, change: OrderEvent) -> list[Mail]:
    """The e-mails a change to `order` calls for: who is told, and what."""
    facts = (
        f"Order {order.reference} from {order.school.name}\n"
        f"Days: {days(order.half_days)}\n"
        f"Total: {pounds(order.gross_pence)}"
        + (f" (including VAT {pounds(order.vat_pence)})" if order.vat_pence else "")
        + (f"\nPurchase order number: {order.po_number}" if order.po_number else "")
        + _link(order)
    )
    reason = f"\nReason given: {change.note}\n" if change.note else ""
    if change.action == "submitted" and change.to_status == "awaiting_approval":
        return _needs_approval(order, facts)
    tell = _BY_ACTION.get(change.action)
    return tell(order, change, facts, reason) if tell else []


def _needs_approval(order: Order, facts: str) -> list[Mail]:
    ref, school = order.reference, order.school.name
    by_trust = order.submitted_by is not None and order.submitted_by.is_trust_user
    whose = f"{school}'s" if by_trust else "your"
    return [
        Mail(
            _unique(_school_staff(order, Role.HEADTEACHER)),
            f"Order {ref} needs your approval",
            f"An order is over {school}'s approval limit and needs a headteacher's "
            f"approval before it goes to the council.\n\n"
            f"Submitted by: {_name(order.submitted_by)}\n{facts}",
        ),
        Mail(
            _unique(_submitter(order)),
            f"Order {ref} is waiting for {whose} headteacher's approval",
            f"Your order is over the school's approval limit, so it has gone to {whose} "
            f"headteacher to approve.\n\n{facts}",
        ),
    ]


def _sent_to_council(order: Order, change: OrderEvent, facts: str, _reason: str) -> list[Mail]:
    ref, school = order.reference, order.school.name
    intro = "was approved by the headteacher and " if change.action == "approved" else ""
    return [
        Mail(
            _unique(_submitter(order)),
            f"Order {ref} {intro}has been sent to the council",
            f"Your order {intro}has been sent to the council. You will hear when it is "
            f"confirmed.\n\n{facts}",
        ),
        Mail(
            _unique(_council_inbox()),
            f"New order {ref} from {school}",
            f"A new order is waiting for confirmation.\n\n{facts}",
        ),
    ]


def _rejected(order: Order, _change: OrderEvent, facts: str, reason: str) -> list[Mail]:
    return [
        Mail(
            _unique(_submitter(order)),
            f"Order {order.reference} was not approved",
            f"Your headteacher did not approve this order.{reason}\n{facts}",
        )
    ]


def _confirmed(order: Order, _change: OrderEvent, facts: str, _reason: str) -> list[Mail]:
    return [
        Mail(
            _unique(_submitter(order), _approver(order), [order.school.billing_contact_email]),
            f"Order {order.reference} is confirmed",
            f"The council has confirmed your order. An adviser will be in touch to arrange "
            f"the visits.\n\n{facts}",
        )
    ]


def _declined(order: Order, _change: OrderEvent, facts: str, reason: str) -> list[Mail]:
    return [
        Mail(
            _unique(_submitter(order), _approver(order)),
            f"Order {order.reference} was declined",
            f"The council could not confirm this order.{reason}\n{facts}",
        )
    ]


def _withdrawn(order: Order, change: OrderEvent, facts: str, reason: str) -> list[Mail]:
    to_council = change.from_status == "submitted"
    return [
        Mail(
            _unique(_submitter(order), _council_inbox() if to_council else []),
            f"Order {order.reference} was withdrawn",
            f"{order.school.name} withdrew this order before it was confirmed.{reason}\n{facts}",
        )
    ]


def _cancellation_requested(
    order: Order, _change: OrderEvent, facts: str, reason: str
) -> list[Mail]:
    return [
        Mail(
            _unique(_council_inbox()),
            f"{order.school.name} asks to cancel order {order.reference}",
            f"The school asks the council to cancel a confirmed order.{reason}\n{facts}",
        )
    ]


def _cancelled(order: Order, _change: OrderEvent, facts: str, reason: str) -> list[Mail]:
    return [
        Mail(
            _unique(_submitter(order), [order.school.billing_contact_email]),
            f"Order {order.reference} is cancelled",
            f"The council has cancelled this order.{reason}\n{facts}",
        )
    ]


def _cancellation_refused(order: Order, _change: OrderEvent, facts: str, reason: str) -> list[Mail]:
    return [
        Mail(
            _unique(_submitter(order)),
            f"Order {order.reference} stands: cancellation not agreed",
            f"The council did not agree to cancel this order.{reason}\n{facts}",
        )
    ]


# Who is told what, by the change's action ("submitted" to a headteacher is _needs_approval).
_BY_ACTION: dict[str, Callable[[Order, OrderEvent, str, str], list[Mail]]] = {
    "submitted": _sent_to_council,
    "approved": _sent_to_council,
    "rejected": _rejected,
    "confirmed": _confirmed,
    "declined": _declined,
    "withdrawn": _withdrawn,
    "cancellation_requested": _cancellation_requested,
    "cancelled": _cancelled,
    "cancellation_refused": _cancellation_refused,
}
