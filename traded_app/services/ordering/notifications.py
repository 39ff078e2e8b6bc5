"""E-mails about orders: who is told what, sent only once the change is committed.

Services queue messages on the database session (platform.after_commit); they go out through
the mail service after the transaction commits and are dropped if it rolls back. So a mail is
never sent about a change that did not happen, and a mail that fails (the mail service logs it)
never undoes the order. Inside `after_commit.suppressed` (loading demo data) nothing is queued.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.formatting import days, pounds
from traded_app.models import Order, OrderEvent, User
from traded_app.models.types import Role
from traded_app.services.platform.after_commit import after_commit
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.mail import send_mail
from traded_app.services.platform.settings import council_settings


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str


def queue(mail: Mail) -> None:
    """Send `mail` once this transaction commits (never if it rolls back)."""
    if mail.to:
        after_commit(db.session, send_mail, list(mail.to), mail.subject, mail.body)


def _school_staff(order: Order, role: Role) -> list[str]:
    return list(
        db.session.execute(
            select(User.email).where(
                User.school_id == order.school_id, User.role == role, User.active.is_(True)
            )
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
    school = order.school.name
    ref = order.reference
    facts = (
        f"Order {ref} from {school}\n"
        f"Days: {days(order.half_days)}\n"
        f"Total: {pounds(order.gross_pence)}"
        + (f" (including VAT {pounds(order.vat_pence)})" if order.vat_pence else "")
        + (f"\nPurchase order number: {order.po_number}" if order.po_number else "")
        + _link(order)
    )
    reason = f"\nReason given: {change.note}\n" if change.note else ""
    action = change.action
    mails: list[Mail] = []
    if action == "submitted" and change.to_status == "awaiting_approval":
        mails.append(
            Mail(
                _unique(_school_staff(order, Role.HEADTEACHER)),
                f"Order {ref} needs your approval",
                f"An order is over {school}'s approval limit and needs a headteacher's "
                f"approval before it goes to the council.\n\n"
                f"Submitted by: {_name(order.submitted_by)}\n{facts}",
            )
        )
        mails.append(
            Mail(
                _unique(_submitter(order)),
                f"Order {ref} is waiting for your headteacher's approval",
                f"Your order is over the school's approval limit, so it has gone to your "
                f"headteacher to approve.\n\n{facts}",
            )
        )
    elif action in ("submitted", "approved"):
        intro = "was approved by the headteacher and " if action == "approved" else ""
        mails.append(
            Mail(
                _unique(_submitter(order)),
                f"Order {ref} {intro}has been sent to the council",
                f"Your order {intro}has been sent to the council. You will hear when it is "
                f"confirmed.\n\n{facts}",
            )
        )
        mails.append(
            Mail(
                _unique(_council_inbox()),
                f"New order {ref} from {school}",
                f"A new order is waiting for confirmation.\n\n{facts}",
            )
        )
    elif action == "rejected":
        mails.append(
            Mail(
                _unique(_submitter(order)),
                f"Order {ref} was not approved",
                f"Your headteacher did not approve this order.{reason}\n{facts}",
            )
        )
    elif action == "confirmed":
        mails.append(
            Mail(
                _unique(_submitter(order), _approver(order), [order.school.billing_contact_email]),
                f"Order {ref} is confirmed",
                f"The council has confirmed your order. An adviser will be in touch to arrange "
                f"the visits.\n\n{facts}",
            )
        )
    elif action == "declined":
        mails.append(
            Mail(
                _unique(_submitter(order), _approver(order)),
                f"Order {ref} was declined",
                f"The council could not confirm this order.{reason}\n{facts}",
            )
        )
    elif action == "withdrawn":
        to_council = change.from_status == "submitted"
        mails.append(
            Mail(
                _unique(_submitter(order), _council_inbox() if to_council else []),
                f"Order {ref} was withdrawn",
                f"{school} withdrew this order before it was confirmed.{reason}\n{facts}",
            )
        )
    elif action == "cancellation_requested":
        mails.append(
            Mail(
                _unique(_council_inbox()),
                f"{school} asks to cancel order {ref}",
                f"The school asks the council to cancel a confirmed order.{reason}\n{facts}",
            )
        )
    elif action == "cancelled":
        mails.append(
            Mail(
                _unique(_submitter(order), [order.school.billing_contact_email]),
                f"Order {ref} is cancelled",
                f"The council has cancelled this order.{reason}\n{facts}",
            )
        )
    elif action == "cancellation_refused":
        mails.append(
            Mail(
                _unique(_submitter(order)),
                f"Order {ref} stands: cancellation not agreed",
                f"The council did not agree to cancel this order.{reason}\n{facts}",
            )
        )
    for mail in mails:
        queue(mail)
