"""E-mails about partnership orders, queued in the step's transaction (platform.outbox) and sent
once it commits, as for any order (ordering.notifications).

Who is told: the headteacher of each school whose share waits for approval; the council's inbox
when an order reaches it; every taking-part school's business managers and headteachers when an
order is rejected, withdrawn or declined. Confirmation needs no e-mail of its own: each school's
invoice or recharge is e-mailed to it when issued (documents.sending).
"""

from __future__ import annotations

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.formatting import days, pounds
from traded_app.models import User
from traded_app.models.partnership_orders import (
    PartnershipOrder,
    PartnershipOrderStatus,
    PartnershipShare,
    ShareApproval,
)
from traded_app.models.types import Role
from traded_app.services.ordering.notifications import Mail, queue
from traded_app.services.platform import memberships
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.settings import council_settings


def _staff(school_id: int, *roles: Role) -> tuple[str, ...]:
    ids = [
        user_id
        for role in roles
        for user_id in db.session.scalars(memberships.user_ids_at(school_id, role))
    ]
    if not ids:
        return ()
    return tuple(
        db.session.execute(
            select(User.email).where(User.id.in_(ids), User.active.is_(True)).order_by(User.id)
        ).scalars()
    )


def _facts(order: PartnershipOrder) -> str:
    link = absolute_url("partnership_orders.order_detail", partnership_order_id=order.id)
    return (
        f"Partnership order {order.reference} for {order.partnership.name}\n"
        f"Days: {days(order.half_days)}\n"
        f"Total before VAT: {pounds(order.net_pence)}, split {order.split_rule.short_label}"
        + (f"\n\nSee the order: {link}\n" if link else "\n")
    )


def _share_line(share: PartnershipShare) -> str:
    return f"{share.school.name}'s share: {pounds(share.net_pence)} before VAT\n"


def placed(order: PartnershipOrder) -> None:
    """A new order: each waiting share's headteacher, or the council when none waits."""
    for share in order.shares:
        if share.approval == ShareApproval.WAITING:
            to = _staff(share.school_id, Role.HEADTEACHER)
            if to:
                queue(
                    Mail(
                        to,
                        f"Partnership order {order.reference} needs your approval",
                        "Your school's share of a partnership order is over its approval limit "
                        "and needs a headteacher's approval before it goes to the council.\n\n"
                        + _share_line(share)
                        + _facts(order),
                    ),
                    share.school_id,
                )
    with_council(order)


def with_council(order: PartnershipOrder) -> None:
    """The council's inbox hears of an order once no share waits for approval."""
    settings = council_settings()
    if order.status != PartnershipOrderStatus.SUBMITTED or not settings:
        return
    if settings.contact_email:
        queue(
            Mail(
                (settings.contact_email,),
                f"Partnership order {order.reference} to confirm",
                "A partnership has ordered days together; every school's share is approved.\n\n"
                + _facts(order),
            )
        )


def ended(order: PartnershipOrder) -> None:
    """Rejected, withdrawn, declined or cancelled: every taking-part school's staff, with the
    reason (and, when cancelled, that each school's share is credited for the days not
    delivered)."""
    what = order.status.label.lower()
    credited = (
        "Each school's invoice or recharge is credited for the days not delivered; the credit "
        "note comes in an e-mail of its own.\n"
        if order.status == PartnershipOrderStatus.CANCELLED
        else ""
    )
    for share in order.shares:
        to = _staff(share.school_id, Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER)
        if to:
            queue(
                Mail(
                    to,
                    f"Partnership order {order.reference} {what}",
                    f"The partnership order was {what}.\nReason given: {order.reason}\n"
                    + credited
                    + "\n"
                    + _facts(order),
                ),
                share.school_id,
            )
