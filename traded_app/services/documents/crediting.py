"""Finance raises a credit note against an issued VAT invoice or internal recharge.

Two kinds of document can be credited here:

- an order's invoice or recharge (charged at once, not in instalments): some half-days of each
  line, at most what is not yet credited on it. The credit note is issued by
  `issuing.credit_order`, the same step that credits a cancelled order's undelivered days: same
  series, PDF, e-mail after commit and audit trail.
- a brought-forward invoice (documents.brought_forward: no order, no lines, one amount): an
  amount in pounds, VAT included, at most what is not yet credited. Its VAT part is worked out
  on the running total, so the credit notes against one document add up to its VAT exactly:
  after a credit, the VAT credited in all is the original's VAT × the gross credited in all ÷
  its gross, half a penny rounding up, and each credit note carries the difference from what
  was credited before. Crediting everything left therefore credits exactly the VAT left.

Other documents are credited elsewhere and are refused here with where to go: a credit note
(never credited), a member's share of a partnership order (ordering.partnership_credits), a
booking of course places, school-to-school support and an instalment of an invoice schedule
(their own records track what each place, delivery or instalment owes). A school that has
closed or converted is not refused: crediting is how finance clears what its old record owes.

The document's row is locked before anything left is worked out, so two officers cannot both
credit what is left; the totals are always worked out here, never read from the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select

from traded_app.domain import pricing
from traded_app.extensions import db
from traded_app.models import Document, DocumentType, User
from traded_app.models.types import Role, VatTreatment
from traded_app.services.documents import issuing, pdf
from traded_app.services.documents.numbering import InvoicingError
from traded_app.services.platform.errors import NotFound

MAX_REASON_LENGTH = 1000
# Not a catalogue code (those are letters and digits): the PDF and page show its line as an amount.
BROUGHT_FORWARD_CODE = "B/F"
FINANCE_ONLY = "Only the council's finance officer can raise a credit note"


class CreditNoteError(InvoicingError):
    """A credit note that cannot be raised; `field` names the form field it is about."""


class Elsewhere(StrEnum):
    """Where a document that is not credited here is credited instead (for the page's link)."""

    NOWHERE = "nowhere"
    PARTNERSHIP_SHARE = "partnership_share"
    COURSE_BOOKING = "course_booking"
    ENGAGEMENT = "engagement"
    ORDER = "order"


@dataclass(frozen=True)
class Refusal:
    message: str
    elsewhere: Elsewhere = Elsewhere.NOWHERE


@dataclass(frozen=True)
class LineLeft:
    """One line of the document: what it charged, what is credited and what is left."""

    code: str
    name: str
    charged_half_days: int
    credited_half_days: int
    price_per_day_pence: int

    @property
    def left_half_days(self) -> int:
        return max(0, self.charged_half_days - self.credited_half_days)

    @property
    def field(self) -> str:
        return f"days-{self.code}"


@dataclass(frozen=True)
class Position:
    """A document as it stands for crediting."""

    document: Document
    lines: list[LineLeft]
    credited_pence: int
    credited_vat_pence: int
    refusal: Refusal | None

    @property
    def by_amount(self) -> bool:
        """A brought-forward document is credited by an amount, others by days of each line."""
        return self.document.brought_forward

    @property
    def left_pence(self) -> int:
        return max(0, self.document.gross_pence - self.credited_pence)

    @property
    def anything_left(self) -> bool:
        if self.by_amount:
            return self.left_pence > 0
        return self.left_pence > 0 and any(line.left_half_days for line in self.lines)


@dataclass(frozen=True)
class Request:
    """What finance asked to credit: half-days by line code, or an amount (VAT included)."""

    reason: str
    half_days: dict[str, int]
    amount_pence: int = 0


def refusal_for(document: Document) -> Refusal | None:
    """Why `document` cannot be credited on this page (and where it can be), or None."""
    if document.is_credit_note:
        return Refusal(f"{document.number} is a credit note: a credit note cannot be credited")
    if document.partnership_share_id is not None:
        return Refusal(
            f"{document.number} charges a member's share of a partnership order: credit it on "
            "the share's own page",
            Elsewhere.PARTNERSHIP_SHARE,
        )
    if document.course_booking_id is not None:
        return Refusal(
            f"{document.number} charges course places: change or cancel the places on the "
            "course booking's page, which credits what they no longer owe",
            Elsewhere.COURSE_BOOKING,
        )
    if document.engagement_id is not None:
        return Refusal(
            f"{document.number} charges school-to-school support: it is credited from the "
            "engagement's money page",
            Elsewhere.ENGAGEMENT,
        )
    if document.instalment_count:
        return Refusal(
            f"{document.number} is an instalment of an invoice schedule: cancelling the order "
            "settles its instalments against the days used",
            Elsewhere.ORDER,
        )
    if document.order is not None and issuing.charge_document_for(document.order) != document:
        return Refusal(f"{document.number} is not the charge of order {document.order_reference}")
    return None


def position(document_id: int, *, lock: bool = False) -> Position:
    """The document `document_id` as it stands for crediting (its row locked when `lock`);
    NotFound when there is no such document."""
    query = select(Document).where(Document.id == document_id)
    document = db.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if document is None:
        raise NotFound("No such document")
    if lock:
        db.session.refresh(document)
    credited = issuing.credited_half_days(document)
    lines = [
        LineLeft(
            line.service_code,
            line.service_name,
            line.half_days,
            credited.get(line.service_code, 0),
            line.price_per_day_pence,
        )
        for line in document.lines
    ]
    credited_vat = db.session.execute(
        select(func.coalesce(func.sum(Document.vat_pence), 0)).where(
            Document.credits_document_id == document.id
        )
    ).scalar_one()
    return Position(
        document,
        lines,
        issuing.credited_pence(document),
        int(credited_vat),
        refusal_for(document),
    )


def reason_text(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise CreditNoteError("Enter the reason for the credit note", "reason")
    if len(text) > MAX_REASON_LENGTH:
        raise CreditNoteError(f"Reason must be {MAX_REASON_LENGTH} characters or fewer", "reason")
    return text


def totals_for(pos: Position, request: Request) -> pricing.Totals:
    """The credit note's figures as the server works them out, refused (CreditNoteError, with
    the field) when there is nothing to credit, more than is left, or it comes to £0.00."""
    if pos.refusal is not None:
        raise CreditNoteError(pos.refusal.message)
    if not pos.anything_left:
        raise CreditNoteError(f"Nothing is left to credit on {pos.document.number}")
    totals = _amount_totals(pos, request) if pos.by_amount else _days_totals(pos, request)
    if totals.gross_pence <= 0:
        raise CreditNoteError(
            "The days you entered come to £0.00, so there is nothing to credit: credit days "
            "of a charged service",
            pos.lines[0].field if pos.lines else "what",
        )
    if totals.gross_pence > pos.left_pence:
        raise CreditNoteError(
            f"That comes to {_pounds(totals.gross_pence)}, more than the "
            f"{_pounds(pos.left_pence)} left to credit on {pos.document.number}",
            "what",
        )
    return totals


def _days_totals(pos: Position, request: Request) -> pricing.Totals:
    by_code = {line.code: line for line in pos.lines}
    priced = []
    for code, half_days in request.half_days.items():
        line = by_code.get(code)
        if line is None:
            raise CreditNoteError(f"A line you chose is not part of {pos.document.number}")
        if half_days > line.left_half_days:
            raise CreditNoteError(
                f"{line.name}: {pricing.days_text(line.left_half_days)} days are left to "
                f"credit, not {pricing.days_text(half_days)}",
                line.field,
            )
        original = next(x for x in pos.document.lines if x.service_code == code)
        priced.append(
            pricing.Line(
                half_days,
                original.price_per_day_pence,
                original.vat_treatment,
                original.vat_rate_bp,
            )
        )
    if not any(request.half_days.values()):
        first = next((x.field for x in pos.lines if x.left_half_days), "what")
        raise CreditNoteError("Enter the days to credit", first)
    return pricing.totals(priced)


def credit_vat_pence(
    gross_pence: int, vat_pence: int, credited_pence: int, credited_vat_pence: int, amount: int
) -> int:
    """The VAT part of crediting `amount` (VAT included) of a document of `gross_pence` with
    `vat_pence` VAT, `credited_pence` (with `credited_vat_pence` VAT) credited before: the VAT
    in proportion on the running total, half a penny rounding up, less what was credited."""
    after = credited_pence + amount
    vat_after = (2 * vat_pence * after + gross_pence) // (2 * gross_pence)
    return max(0, min(amount, vat_after - credited_vat_pence))


def _amount_totals(pos: Position, request: Request) -> pricing.Totals:
    amount = request.amount_pence
    if amount <= 0:
        raise CreditNoteError("Enter an amount to credit of more than £0", "amount")
    if amount > pos.left_pence:
        raise CreditNoteError(
            f"Amount must be {_pounds(pos.left_pence)} or less: that is what is left to credit "
            f"on {pos.document.number}",
            "amount",
        )
    document = pos.document
    vat = credit_vat_pence(
        document.gross_pence, document.vat_pence, pos.credited_pence, pos.credited_vat_pence, amount
    )
    treatment, rate = _vat_of(document)
    band = pricing.VatBand(treatment, rate, amount - vat, vat)
    return pricing.Totals(0, amount - vat, vat, (band,))


def _vat_of(document: Document) -> tuple[VatTreatment, int]:
    """The VAT treatment and rate a brought-forward document implies: outside the scope of VAT
    when it carried none (a recharge always), else standard-rated at its VAT ÷ net (basis
    points, half rounding up), which the previous system did not record."""
    net = document.gross_pence - document.vat_pence
    if document.vat_pence <= 0 or net <= 0:
        return VatTreatment.OUTSIDE_SCOPE, 0
    return VatTreatment.STANDARD, (2 * document.vat_pence * pricing.BASIS_POINTS + net) // (2 * net)


def raise_credit_note(document_id: int, user: User, request: Request) -> Document:
    """Issue the credit note finance asked for (the document's row locked first), checked
    again here whatever the form said. CreditNoteError (with the field) when it cannot be."""
    if user.role != Role.LA_FINANCE:
        raise CreditNoteError(FINANCE_ONLY)
    reason = reason_text(request.reason)
    pos = position(document_id, lock=True)
    totals = totals_for(pos, request)
    document = pos.document
    try:
        if pos.by_amount:
            return _credit_brought_forward(document, user, reason, totals)
        return _credit_order_lines(document, user, reason, request.half_days)
    except CreditNoteError:
        raise
    except InvoicingError as error:
        raise CreditNoteError(str(error), "what") from error


def _credit_order_lines(
    document: Document, user: User, reason: str, half_days: dict[str, int]
) -> Document:
    """Through issuing.credit_order, the order's lines found by the service code each
    document line copied (one line per service on an order)."""
    order = document.order
    if order is None:
        raise CreditNoteError(f"{document.number} has no order to credit")
    by_code = {line.service.code: line.id for line in order.lines}
    missing = sorted(code for code, days in half_days.items() if days and code not in by_code)
    if missing:  # the catalogue's code changed since the document copied it
        raise CreditNoteError(
            f"{document.number}'s line {missing[0]} no longer matches a line of order "
            f"{order.reference}: ask the service manager about the service's code"
        )
    note = issuing.credit_order(
        order,
        user,
        reason,
        {by_code[code]: days for code, days in half_days.items() if days},
    )
    if note is None:
        raise CreditNoteError(f"Nothing is left to credit on {document.number}", "what")
    return note


def _credit_brought_forward(
    document: Document, user: User, reason: str, totals: pricing.Totals
) -> Document:
    band = totals.bands[0]
    line = issuing.LineSpec(
        code=BROUGHT_FORWARD_CODE,
        name=f"Brought-forward invoice {document.number}",
        description=document.reason,
        income_code="",
        half_days=2,
        price_per_day_pence=totals.net_pence,
        vat_treatment=band.treatment,
        vat_rate_bp=band.rate_bp,
        places=1,
        net_pence=totals.net_pence,
    )
    charged = issuing.Charged(
        school=document.school,
        reference=document.number,
        po_number=document.po_number,
        academic_year=document.academic_year,
    )
    prepared = issuing.prepare_for(
        DocumentType.CREDIT_NOTE,
        charged,
        user,
        [line],
        credits=document,
        reason=reason,
        totals=totals,
    )
    return issuing.finish(prepared, pdf.render(prepared.data))


def _pounds(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"
