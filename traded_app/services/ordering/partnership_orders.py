"""Partnership orders: placed for a partnership, approved share by share, confirmed by the council.

The life of an order: placed (its lines priced and split, partnership_buying) → waiting for the
members whose share is over their approval limit (each one's headteacher approves or rejects
its own school's share) → with the council → confirmed (each member charged by a document of its
own, by its own billing route) or declined. The school that placed it may withdraw it until the
council decides. The partnership's quadrant team's traded capacity is used on confirmation, as
for any order. After confirmation the council may cancel it, each share credited for the days
not delivered (ordering.partnership_credits, which also credits one share at finance's word).

Who sees what: a member school's staff see the orders their school has a share in, with every
member's share (the partnership agreed the split) but only their own school's documents; a
trust's finance staff see the orders any of its academies shares in, and those academies'
documents; other schools and trusts see nothing (not found); the council sees every order.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from traded_app.domain import pricing
from traded_app.domain.partnership_split import pounds
from traded_app.extensions import db
from traded_app.models import AcademicYear, Document, DocumentType, School, User
from traded_app.models.base import utcnow
from traded_app.models.partnership_orders import (
    OPEN_PARTNERSHIP_STATUSES,
    PartnershipOrder,
    PartnershipOrderLine,
    PartnershipOrderStatus,
    PartnershipShare,
    PartnershipShareLine,
    ShareApproval,
)
from traded_app.models.types import BillingRoute, Role, VatTreatment
from traded_app.services.documents import issuing
from traded_app.services.documents.numbering import InvoicingError
from traded_app.services.ordering import partnership_notifications as notify
from traded_app.services.ordering import workflow
from traded_app.services.ordering.partnership_buying import (
    Draft,
    PartnershipOrderError,
    Proposal,
    ordering_refusal,
    partnership_of,
    propose,
)
from traded_app.services.platform.errors import NotFound

MAX_REASON_LENGTH = 1000
MAX_PO_LENGTH = 40

# --- Placing ------------------------------------------------------------------------------------


def place(user: User, school: School, year: AcademicYear, draft: Draft) -> PartnershipOrder:
    """Place the order for `school`'s partnership, as proposed; shares within their school's
    limit (and the person's own school's share, when a headteacher places it) need no approval."""
    refusal = ordering_refusal(user, school)
    if refusal is not None:
        raise PartnershipOrderError(refusal)
    partnership = partnership_of(school)
    assert partnership is not None and partnership.quadrant_id is not None
    proposal = propose(partnership, year, draft)
    order = PartnershipOrder(
        partnership_id=partnership.id,
        academic_year_id=year.id,
        quadrant_id=partnership.quadrant_id,
        split_rule=proposal.rule,
        half_days=proposal.half_days,
        net_pence=proposal.net_pence,
        placed_by_id=user.id,
        placed_for_school_id=school.id,
        note=draft.note.strip(),
        status=PartnershipOrderStatus.SUBMITTED,
    )
    db.session.add(order)
    order.lines = [
        PartnershipOrderLine(
            position=position,
            service_id=line.entry.service.id,
            half_days=line.half_days,
            price_per_day_pence=line.entry.price_per_day_pence,
            net_pence=line.net_pence,
        )
        for position, line in enumerate(proposal.lines, start=1)
    ]
    order.shares = _shares(user, school, proposal, order.lines)
    if any(share.approval == ShareApproval.WAITING for share in order.shares):
        order.status = PartnershipOrderStatus.AWAITING_APPROVAL
    db.session.flush()
    notify.placed(order)
    return order


def _shares(
    user: User, school: School, proposal: Proposal, lines: list[PartnershipOrderLine]
) -> list[PartnershipShare]:
    now = utcnow()
    shares = []
    for position, proposed in enumerate(proposal.shares, start=1):
        own_head = user.role == Role.HEADTEACHER and proposed.school.id == school.id
        if not proposed.needs_approval:
            approval = ShareApproval.NOT_NEEDED
        elif own_head:
            approval = ShareApproval.APPROVED  # the headteacher placing it approves by placing
        else:
            approval = ShareApproval.WAITING
        share = PartnershipShare(
            school_id=proposed.school.id,
            school=proposed.school,
            position=position,
            is_lead=proposed.is_lead,
            pupils=proposed.pupils,
            net_pence=proposed.net_pence,
            approval=approval,
            approved_by_id=user.id if approval == ShareApproval.APPROVED else None,
            approved_at=now if approval == ShareApproval.APPROVED else None,
        )
        share.lines = [
            PartnershipShareLine(
                order_line=line,
                net_pence=part,
                vat_treatment=treatment,
                vat_rate_bp=rate,
            )
            for line, part, (treatment, rate) in zip(
                lines, proposed.parts, proposed.vat, strict=True
            )
        ]
        shares.append(share)
    return shares


# --- Reading ------------------------------------------------------------------------------------


def order_for(user: User, order_id: int) -> PartnershipOrder:
    """The order, when `user` may see it: a member school's staff, the finance staff of a
    trust one of whose academies shares in it, or the council."""
    order = db.session.get(PartnershipOrder, order_id)
    if order is None:
        raise NotFound("No such partnership order")
    if not user.role.is_school_role and not user.is_trust_user:
        return order
    if not any(_sees_share(user, share) for share in order.shares):
        raise NotFound("No such partnership order")
    return order


def _sees_share(user: User, share: PartnershipShare) -> bool:
    """Whether `user` sees the share's documents: its school's staff, its trust's finance staff,
    the council (User.may_see)."""
    return user.may_see(share.school)


def share_of(order: PartnershipOrder, school_id: int | None) -> PartnershipShare | None:
    return next((share for share in order.shares if share.school_id == school_id), None)


def orders_of_school(school_id: int) -> list[PartnershipOrder]:
    """The partnership orders `school_id` has a share in, newest first."""
    return list(
        db.session.execute(
            select(PartnershipOrder)
            .join(PartnershipShare, PartnershipShare.order_id == PartnershipOrder.id)
            .where(PartnershipShare.school_id == school_id)
            .options(selectinload(PartnershipOrder.shares))
            .order_by(PartnershipOrder.placed_at.desc(), PartnershipOrder.id.desc())
        ).scalars()
    )


def council_orders(status: PartnershipOrderStatus | None = None) -> list[PartnershipOrder]:
    """Every partnership order (or those in one status), those waiting first, then newest."""
    stmt = select(PartnershipOrder).options(selectinload(PartnershipOrder.shares))
    if status is not None:
        stmt = stmt.where(PartnershipOrder.status == status)
    orders = list(
        db.session.execute(
            stmt.order_by(PartnershipOrder.placed_at.desc(), PartnershipOrder.id.desc())
        ).scalars()
    )
    return sorted(orders, key=lambda o: o.status != PartnershipOrderStatus.SUBMITTED)


def documents_for(order: PartnershipOrder, user: User) -> dict[int, list[Document]]:
    """The documents charging each share (by share id) that `user` may see: a school's staff
    only their own school's, a trust's finance staff its academies', the council every
    member's."""
    share_ids = [share.id for share in order.shares if _sees_share(user, share)]
    if not share_ids:
        return {}
    found: dict[int, list[Document]] = {}
    for document in db.session.execute(
        select(Document)
        .where(Document.partnership_share_id.in_(share_ids))
        .order_by(Document.issued_at, Document.id)
    ).scalars():
        assert document.partnership_share_id is not None
        found.setdefault(document.partnership_share_id, []).append(document)
    return found


def may_withdraw(order: PartnershipOrder, user: User) -> bool:
    return (
        order.status in OPEN_PARTNERSHIP_STATUSES
        and user.role.is_school_role
        and user.school_id == order.placed_for_school_id
    )


def awaiting_approval_by(order: PartnershipOrder, user: User) -> PartnershipShare | None:
    """The share `user` (a headteacher) may approve or reject now, if any."""
    if user.role != Role.HEADTEACHER or order.status != PartnershipOrderStatus.AWAITING_APPROVAL:
        return None
    share = share_of(order, user.school_id)
    return share if share is not None and share.approval == ShareApproval.WAITING else None


# --- The members' steps -------------------------------------------------------------------------


def approve_share(order: PartnershipOrder, user: User) -> PartnershipShare:
    """The headteacher approves their school's share; the order goes to the council once no
    share waits."""
    share = _waiting_share(order, user)
    share.approval = ShareApproval.APPROVED
    share.approved_by_id = user.id
    share.approved_at = utcnow()
    if all(s.approval != ShareApproval.WAITING for s in order.shares):
        order.status = PartnershipOrderStatus.SUBMITTED
        notify.with_council(order)
    db.session.flush()
    return share


def reject_share(order: PartnershipOrder, user: User, reason: str) -> PartnershipShare:
    """The headteacher rejects their school's share, and with it the order (the partnership
    can place another with a different split)."""
    text = _reason(reason)
    share = _waiting_share(order, user)
    share.approval = ShareApproval.REJECTED
    share.approved_by_id = user.id
    share.approved_at = utcnow()
    _decide(order, user, PartnershipOrderStatus.REJECTED, f"{share.school.name}: {text}")
    return share


def _waiting_share(order: PartnershipOrder, user: User) -> PartnershipShare:
    share = awaiting_approval_by(order, user)
    if share is None:
        if user.role != Role.HEADTEACHER:
            raise PartnershipOrderError("Only the headteacher can approve or reject a share")
        raise PartnershipOrderError(
            f"{order.reference} has no share of your school's waiting for approval"
        )
    return share


def withdraw(order: PartnershipOrder, user: User, reason: str) -> PartnershipOrder:
    if not may_withdraw(order, user):
        raise PartnershipOrderError(
            f"{order.reference} is {order.status.label.lower()}: only the school that placed it "
            "can withdraw it, before the council confirms it"
        )
    _decide(order, user, PartnershipOrderStatus.WITHDRAWN, _reason(reason))
    return order


def set_po_number(order: PartnershipOrder, user: User, po_number: str) -> PartnershipShare:
    """A member school's staff give the purchase order number for their own share."""
    share = share_of(order, user.school_id) if user.role.is_school_role else None
    if share is None:
        raise PartnershipOrderError("Only a member school's staff can give its PO number")
    if order.status not in OPEN_PARTNERSHIP_STATUSES:
        raise PartnershipOrderError(
            f"{order.reference} is {order.status.label.lower()}: its PO numbers cannot change"
        )
    text = " ".join(po_number.split())
    if not text:
        raise PartnershipOrderError("Enter the purchase order number", "po_number")
    if len(text) > MAX_PO_LENGTH:
        raise PartnershipOrderError(
            f"Purchase order number must be {MAX_PO_LENGTH} characters or fewer", "po_number"
        )
    share.po_number = text
    db.session.flush()
    return share


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise PartnershipOrderError("Enter a reason", "reason")
    if len(text) > MAX_REASON_LENGTH:
        raise PartnershipOrderError(
            f"Reason must be {MAX_REASON_LENGTH} characters or fewer", "reason"
        )
    return text


def _decide(
    order: PartnershipOrder, user: User, status: PartnershipOrderStatus, reason: str = ""
) -> None:
    order.status = status
    order.decided_at = utcnow()
    order.decided_by_id = user.id
    order.reason = reason
    db.session.flush()
    if status != PartnershipOrderStatus.CONFIRMED:
        notify.ended(order)


# --- The council's steps ------------------------------------------------------------------------


def confirmation_refusal(order: PartnershipOrder) -> str | None:
    """Why the council cannot confirm the order yet; None when it can (capacity aside)."""
    if order.status != PartnershipOrderStatus.SUBMITTED:
        return f"{order.reference} is {order.status.label.lower()}, so it cannot be confirmed"
    for share in order.shares:
        if not share.net_pence:
            continue
        missing = issuing.missing_for_vat_invoice(share.school)
        if missing is not None:
            return missing
        school = share.school
        if school.po_required and school.billing_route == BillingRoute.INVOICE:
            if not share.po_number:
                return (
                    f"{school.name} requires a purchase order number on its invoices: its "
                    "staff give it on this order's page"
                )
    return None


def confirm(order: PartnershipOrder, user: User) -> list[Document]:
    """The council confirms the order, if its quadrant team has the days to sell, and charges
    each member's share by its own document in the same transaction."""
    if user.role != Role.LA_ADMIN:
        raise PartnershipOrderError(workflow.SERVICE_MANAGER_ONLY)
    refusal = confirmation_refusal(order)
    if refusal is not None:
        raise PartnershipOrderError(refusal)
    position = workflow.capacity_position(order.quadrant_id, order.academic_year_id, lock=True)
    year = order.academic_year.label
    if position is None:
        raise PartnershipOrderError(
            f"No traded capacity is set for the {order.partnership.quadrant.name} team in "
            f"{year}: set it before confirming orders"
        )
    db.session.refresh(order, with_for_update=True)
    refusal = confirmation_refusal(order)  # again, now that the order is locked
    if refusal is not None:
        raise PartnershipOrderError(refusal)
    if order.half_days > position.available_half_days:
        raise PartnershipOrderError(
            f"The {order.partnership.quadrant.name} team has "
            f"{pricing.days_text(position.available_half_days)} days left to sell in {year}, and "
            f"this order needs {pricing.days_text(order.half_days)} days: it cannot be confirmed"
        )
    _decide(order, user, PartnershipOrderStatus.CONFIRMED)
    try:
        return [charge_share(share, user) for share in order.shares if share.net_pence]
    except InvoicingError as error:
        raise PartnershipOrderError(str(error)) from error


def decline(order: PartnershipOrder, user: User, reason: str) -> PartnershipOrder:
    if user.role != Role.LA_ADMIN:
        raise PartnershipOrderError(workflow.SERVICE_MANAGER_ONLY)
    if order.status not in OPEN_PARTNERSHIP_STATUSES:
        raise PartnershipOrderError(
            f"{order.reference} is {order.status.label.lower()}, so it cannot be declined"
        )
    _decide(order, user, PartnershipOrderStatus.DECLINED, _reason(reason))
    return order


def charge_share(share: PartnershipShare, user: User | None) -> Document:
    """Issue the member's invoice (VAT by its own rule) or, for a maintained school, its internal
    recharge (outside the scope of VAT): one line per service, its part of the line."""
    order = share.order
    school = share.school
    recharge = school.billing_route == BillingRoute.RECHARGE
    lines = []
    for part in share.lines:
        if not part.net_pence:
            continue
        line = part.order_line
        service = line.service
        treatment, rate = (
            (VatTreatment.OUTSIDE_SCOPE, 0) if recharge else (part.vat_treatment, part.vat_rate_bp)
        )
        lines.append(
            issuing.LineSpec(
                code=service.code,
                name=service.name,
                description=(
                    f"Share of {pricing.days_text(line.half_days)} days at "
                    f"{pounds(line.price_per_day_pence)} a day for "
                    f"{order.partnership.name} ({order.split_rule.short_label})"
                ),
                income_code=service.income_code,
                half_days=2,
                price_per_day_pence=part.net_pence,
                vat_treatment=treatment,
                vat_rate_bp=rate,
                places=1,
            )
        )
    charged = issuing.Charged(
        school=school,
        reference=order.reference,
        po_number=share.po_number,
        academic_year=order.academic_year,
        partnership_share_id=share.id,
    )
    return issuing.issue_for(
        DocumentType.RECHARGE if recharge else DocumentType.INVOICE, charged, user, lines
    )
