"""Crediting members' shares of partnership orders, and cancelling a confirmed partnership order.

A member's share is charged by one document (ordering.partnership_orders.charge_share; a unique
index keeps it to one). The council's finance officer credits it, in full or for some of its
days, with a reason: a numbered credit note issued like any other (documents.issuing), for the
member's part of each line in proportion to the days credited (domain.share_credits: the running
total is what is rounded, so the credits add up to the share, per VAT band, and never pass it).

The council's service manager cancels a confirmed partnership order, with a reason: each
member's share is credited for the days not delivered and not already credited, the order is
"cancelled" (who and when), so the days leave the members' days ledgers and the quadrant team's
capacity is free again (but for the days used). Visits booked against the order's lines and not
yet delivered are cancelled with it (days/partnership_visits); the days delivered (or charged for
a school's late cancellation) are never credited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from traded_app.domain import pricing
from traded_app.domain import share_credits as figures
from traded_app.domain.share_credits import ShareCreditError, SharePart
from traded_app.extensions import db
from traded_app.models import Document, DocumentType, User
from traded_app.models.base import utcnow
from traded_app.models.partnership_orders import (
    PartnershipOrder,
    PartnershipOrderLine,
    PartnershipOrderStatus,
    PartnershipShare,
    PartnershipShareLine,
)
from traded_app.models.types import Role, VatTreatment
from traded_app.services.days import partnership_days, partnership_visits
from traded_app.services.documents import issuing, pdf
from traded_app.services.documents.numbering import InvoicingError
from traded_app.services.ordering import partnership_notifications as notify
from traded_app.services.ordering.partnership_buying import PartnershipOrderError
from traded_app.services.platform.errors import NotFound

MAX_REASON_LENGTH = 1000
FINANCE_ONLY = "Only the council's finance officer can credit a share"
SERVICE_MANAGER_ONLY = "Only the council's service manager can cancel a partnership order"


@dataclass(frozen=True)
class LineLeft:
    """One line of a share's charge: the partnership's days, what is credited and left."""

    line: PartnershipOrderLine
    part: SharePart
    credited_half_days: int
    delivered_half_days: int

    @property
    def left_half_days(self) -> int:
        """Days that can still be credited: neither credited nor delivered."""
        return max(0, self.part.line_half_days - self.credited_half_days - self.delivered_half_days)

    @property
    def field(self) -> str:
        return f"days-{self.line.id}"


@dataclass(frozen=True)
class ShareCharge:
    """A member's share and the document that charged it, with each line's position."""

    share: PartnershipShare
    document: Document
    lines: list[LineLeft]

    @property
    def credited_pence(self) -> int:
        return issuing.credited_pence(self.document)

    @property
    def left_pence(self) -> int:
        return self.document.gross_pence - self.credited_pence

    @property
    def anything_left(self) -> bool:
        return any(line.left_half_days for line in self.lines)


# --- Reading ------------------------------------------------------------------------------------


def charge_of_share(share: PartnershipShare) -> Document | None:
    """The document that charged `share`, if it has been charged."""
    return db.session.execute(
        select(Document).where(
            Document.partnership_share_id == share.id,
            Document.document_type != DocumentType.CREDIT_NOTE,
        )
    ).scalar_one_or_none()


def is_share_charge(document: Document) -> bool:
    return document.partnership_share_id is not None and not document.is_credit_note


def share_charge(document_id: int) -> ShareCharge:
    """The share charged by document `document_id`; NotFound when it charges no share (a credit
    note, an order's invoice) or does not exist."""
    document = db.session.get(Document, document_id)
    if document is None or not is_share_charge(document):
        raise NotFound("No such share document")
    share = db.session.get(PartnershipShare, document.partnership_share_id)
    assert share is not None
    return _position(share, document)


def delivered_half_days(order: PartnershipOrder) -> dict[int, int]:
    """Half-days used against each line of `order` (delivered, or charged for a school's late
    cancellation), by line id: each visit once, whatever the number of schools it was for."""
    uses = partnership_days.use_by_line([line.id for line in order.lines])
    return {line_id: use.used for line_id, use in uses.items()}


def _position(share: PartnershipShare, document: Document) -> ShareCharge:
    credited = issuing.credited_half_days(document)
    delivered = delivered_half_days(share.order)
    recharge = document.document_type == DocumentType.RECHARGE
    lines = [
        LineLeft(
            part.order_line,
            _part(part, recharge),
            credited.get(part.order_line.service.code, 0),
            delivered.get(part.order_line.id, 0),
        )
        for part in share.lines
        if part.net_pence
    ]
    return ShareCharge(share, document, lines)


def _part(part: PartnershipShareLine, recharge: bool) -> SharePart:
    """The member's part of a line as its document charged it (a recharge outside VAT)."""
    line = part.order_line
    treatment, rate = (
        (VatTreatment.OUTSIDE_SCOPE, 0) if recharge else (part.vat_treatment, part.vat_rate_bp)
    )
    return SharePart(line.service.code, line.half_days, part.net_pence, treatment, rate)


# --- Crediting ----------------------------------------------------------------------------------


def credit_share(
    charge: ShareCharge, user: User, reason: str, half_days_by_line: dict[int, int] | None
) -> Document:
    """Finance credits the share: the given half-days of each order line (by line id), or every
    day left when None. PartnershipOrderError (with the field) when it cannot be."""
    if user.role != Role.LA_FINANCE:
        raise PartnershipOrderError(FINANCE_ONLY)
    text = _reason(reason)
    document = _credit(charge, user, text, half_days_by_line)
    if document is None:
        raise PartnershipOrderError(
            f"Nothing is left to credit on {charge.document.number}", "days"
        )
    return document


def _credit(
    charge: ShareCharge, user: User, reason: str, half_days_by_line: dict[int, int] | None
) -> Document | None:
    """Issue the credit note (the share's row locked first, so two credits at once cannot both
    take what is left); None when there is nothing to credit."""
    db.session.execute(
        select(PartnershipShare.id).where(PartnershipShare.id == charge.share.id).with_for_update()
    )
    charge = _position(charge.share, charge.document)  # again, now that the share is locked
    by_id = {line.line.id: line for line in charge.lines}
    everything_left = half_days_by_line is None
    if half_days_by_line is None:
        half_days_by_line = {line.line.id: line.left_half_days for line in charge.lines}
        if not any(half_days_by_line.values()):
            return None
    for line_id, half_days in half_days_by_line.items():
        line = by_id.get(line_id)
        if line is None:
            raise PartnershipOrderError("A line you chose is not part of this share", "days")
        if half_days > line.left_half_days:
            raise PartnershipOrderError(
                f"{line.line.service.name}: {pricing.days_text(line.left_half_days)} days are "
                f"left to credit, not {pricing.days_text(half_days)}",
                line.field,
            )
    crediting = {by_id[i].part.key: d for i, d in half_days_by_line.items() if d}
    try:
        credit = figures.credit(
            [line.part for line in charge.lines],
            _charged_bands(charge.document),
            {line.part.key: line.credited_half_days for line in charge.lines},
            crediting,
        )
    except ShareCreditError as error:
        field = next((x.field for x in charge.lines if x.part.key == error.key), "days")
        raise PartnershipOrderError(str(error), field) from None
    if credit.gross_pence <= 0:
        if everything_left:
            return None  # nothing left in pence, whatever the days say
        # A few days of a small share round to nothing: no credit note for £0.00.
        line = next(x for x in charge.lines if x.part.key == credit.lines[0].part.key)
        raise PartnershipOrderError(
            f"{line.line.service.name}: {pricing.days_text(credit.lines[0].half_days)} days of "
            f"{charge.share.school.name}'s share comes to £0.00, so there is nothing to credit: "
            "credit more days",
            line.field,
        )
    try:
        return _issue(charge, user, reason, credit)
    except InvoicingError as error:
        raise PartnershipOrderError(str(error)) from error


def _charged_bands(document: Document) -> dict[figures.Band, figures.ChargedBand]:
    return {
        (band.vat_treatment, band.vat_rate_bp): figures.ChargedBand(band.net_pence, band.vat_pence)
        for band in document.vat_bands
    }


def _issue(charge: ShareCharge, user: User, reason: str, credit: figures.Credit) -> Document:
    order = charge.share.order
    by_code = {line.part.key: line.line for line in charge.lines}
    specs = []
    for credit_line in credit.lines:
        line = by_code[credit_line.part.key]
        service = line.service
        specs.append(
            issuing.LineSpec(
                code=service.code,
                name=service.name,
                description=(
                    f"Credit of {pricing.days_text(credit_line.half_days)} of the "
                    f"{pricing.days_text(line.half_days)} days {order.partnership.name} bought: "
                    f"the same part of {charge.share.school.name}'s share"
                ),
                income_code=service.income_code,
                half_days=credit_line.half_days,
                price_per_day_pence=line.price_per_day_pence,
                vat_treatment=credit_line.part.vat_treatment,
                vat_rate_bp=credit_line.part.vat_rate_bp,
                net_pence=credit_line.net_pence,
            )
        )
    totals = pricing.Totals(
        sum(line.half_days for line in credit.lines),
        credit.net_pence,
        credit.vat_pence,
        tuple(
            pricing.VatBand(b.vat_treatment, b.vat_rate_bp, b.net_pence, b.vat_pence)
            for b in credit.bands
        ),
    )
    charged = issuing.Charged(
        school=charge.share.school,
        reference=order.reference,
        po_number=charge.document.po_number,
        academic_year=order.academic_year,
        partnership_share_id=charge.share.id,
    )
    prepared = issuing.prepare_for(
        DocumentType.CREDIT_NOTE,
        charged,
        user,
        specs,
        credits=charge.document,
        reason=reason,
        totals=totals,
    )
    return issuing.finish(prepared, pdf.render(prepared.data))


# --- Cancelling ---------------------------------------------------------------------------------


def cancellation_refusal(order: PartnershipOrder) -> str | None:
    if order.status != PartnershipOrderStatus.CONFIRMED:
        return f"{order.reference} is {order.status.label.lower()}, so it cannot be cancelled"
    return None


def cancel(order: PartnershipOrder, user: User, reason: str) -> list[Document]:
    """The service manager cancels a confirmed order: each member's share credited for the days
    neither delivered nor credited already, the order "cancelled" with who and when. Returns
    the credit notes issued."""
    if user.role != Role.LA_ADMIN:
        raise PartnershipOrderError(SERVICE_MANAGER_ONLY)
    text = _reason(reason)
    refusal = cancellation_refusal(order)
    if refusal is not None:
        raise PartnershipOrderError(refusal)
    db.session.refresh(order, with_for_update=True)
    refusal = cancellation_refusal(order)  # again, now that the order is locked
    if refusal is not None:
        raise PartnershipOrderError(refusal)
    note = f"Partnership order {order.reference} cancelled: {text}"
    partnership_visits.cancel_open(order, user, note)
    issued = []
    for share in order.shares:
        document = charge_of_share(share)
        if document is None:
            continue
        credit_note = _credit(_position(share, document), user, note, None)
        if credit_note is not None:
            issued.append(credit_note)
    now = utcnow()
    order.status = PartnershipOrderStatus.CANCELLED
    order.cancelled_at = now
    order.cancelled_by_id = user.id
    order.reason = text
    db.session.flush()
    notify.ended(order)
    return issued


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise PartnershipOrderError("Enter a reason", "reason")
    if len(text) > MAX_REASON_LENGTH:
        raise PartnershipOrderError(
            f"Reason must be {MAX_REASON_LENGTH} characters or fewer", "reason"
        )
    return text


def order_of(order_id: int) -> PartnershipOrder:
    order = db.session.get(PartnershipOrder, order_id)
    if order is None:
        raise NotFound("No such partnership order")
    return order


def positions(order: PartnershipOrder) -> list[ShareCharge]:
    """Each charged share of `order` with what is credited and left, in the order's order."""
    found = []
    for share in order.shares:
        document = charge_of_share(share)
        if document is not None:
            found.append(_position(share, document))
    return found
