"""Issuing documents: VAT invoices, internal recharges and credit notes.

Issuing is one step inside the caller's transaction: take the next number in the series (the
counter row locked), copy every figure and party as it is now, render the PDF from that copy
alone, store the file atomically with its SHA-256, and insert the rows. If anything fails, the
transaction rolls back: the number is not used, nothing is half-issued, and a PDF file already
written under that number is simply replaced when the number is next taken.

The step has two halves, `prepare` (number, rows, the data to render) and `finish` (the stored
file and the insert), so an invoice run can render a batch's PDFs in parallel between them.

The pieces it puts together: numbering (the series), document_data (the built data), pdf (the
renderer, fed only with that data), platform.document_store (the stored file) and sending (the
first e-mail, after commit). `InvoicingError` is defined in numbering and raised from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from traded_app.domain import pricing
from traded_app.domain.quotes import charge_waits_for_po
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    CouncilSettings,
    Document,
    DocumentLine,
    DocumentType,
    DocumentVatBand,
    Order,
    OrderLine,
    ScheduledCharge,
    School,
    User,
)
from traded_app.models.orders import SOLD_STATUSES, ChargeLine
from traded_app.models.types import BillingRoute, VatTreatment
from traded_app.services.days.ledger import undelivered_by_line
from traded_app.services.documents import pdf, sending, trust_billing
from traded_app.services.documents.document_data import DocumentData, document_data
from traded_app.services.documents.numbering import (
    InvoicingError,
    financial_year_of,
    format_number,
    prefix_for,
    take_number,
)
from traded_app.services.platform.card_links import payment_link_for
from traded_app.services.platform.document_store import store_pdf
from traded_app.services.platform.settings import council_settings, today

# --- Issuing ------------------------------------------------------------------------------


def charge_document_for(order: Order) -> Document | None:
    """The invoice or recharge that charged `order`, if it has been issued (the first, for an
    order charged in instalments: documents.instalments)."""
    return db.session.execute(
        select(Document)
        .where(Document.order_id == order.id, Document.document_type != DocumentType.CREDIT_NOTE)
        .order_by(Document.id)
        .limit(1)
    ).scalar_one_or_none()


def issues_on_confirmation() -> bool:
    settings = council_settings()
    return settings is None or settings.invoice_timing == "on_confirmation"


def require_council_details() -> CouncilSettings:
    """The council's details, which every document copies; refused until they are set up."""
    settings = council_settings()
    if settings is None or not settings.details_set:
        raise InvoicingError(
            "Enter the council's details (Set up the service: council details) before issuing "
            "documents"
        )
    return settings


def seller(settings: CouncilSettings) -> dict[str, Any]:
    """The council's details as a document copies them."""
    address = "\n".join(part for part in (settings.address.strip(), settings.postcode) if part)
    return {
        "seller_name": settings.name,
        "seller_address": address,
        "seller_vat_number": settings.vat_number,
        "seller_email": settings.contact_email,
        "seller_phone": settings.contact_phone,
        "remittance_email": settings.remittance_email,
        "logo_sha256": settings.logo_sha256,
        "bank_name": settings.bank_name,
        "bank_account_name": settings.bank_account_name,
        "bank_sort_code": settings.bank_sort_code,
        "bank_account_number": settings.bank_account_number,
    }


def buyer_details(school: School) -> dict[str, Any]:
    """The school's details as a document copies them (its billing address, else its own)."""
    return {
        "school_id": school.id,
        "buyer_name": school.name,
        "buyer_urn": school.urn,
        "buyer_address": school.invoice_address,
        "buyer_contact_name": school.billing_contact_name,
        "buyer_contact_email": school.billing_contact_email,
        "buyer_cost_centre": school.cost_centre or "",
    }


def missing_for_vat_invoice(school: School) -> str | None:
    """What a VAT invoice to `school` could not be issued without, and who can add it; None
    when nothing is missing (a recharge goes inside the council and needs no address)."""
    if school.billing_route != BillingRoute.INVOICE or school.invoice_address:
        return None
    return (
        f"{school.name} has no billing address, which a VAT invoice must show. The school's "
        "business manager can add it on “Check your school’s details”, or the service manager "
        "on the school’s page"
    )


def require_billing_address(school: School) -> None:
    missing = missing_for_vat_invoice(school)
    if missing is not None:
        raise InvoicingError(missing)


def issue_for_order(order: Order, user: User | None, on: date | None = None) -> Document:
    """Charge a confirmed order: a VAT invoice or, for a maintained school, an internal recharge.

    Each order is charged once (a unique index makes sure of it, whatever races)."""
    return _render_and_finish(prepare_charge(order, user, on=on))


def prepare_charge(order: Order, user: User | None, on: date | None = None) -> PreparedDocument:
    """The first half of charging `order` (see `prepare`): refused, with InvoicingError, before
    any number is taken when the order cannot be charged."""
    if order.status not in SOLD_STATUSES:
        raise InvoicingError(f"{order.reference} is not confirmed, so it cannot be charged")
    if charge_document_for(order) is not None:
        raise InvoicingError(f"{order.reference} has already been charged")
    if db.session.scalar(select(ScheduledCharge.id).where(ScheduledCharge.order_id == order.id)):
        raise InvoicingError(f"{order.reference} is charged on its invoice schedule's dates")
    if waits_for_po(order):
        raise InvoicingError(
            f"{order.reference} waits for the school's purchase order number: "
            f"{order.school.name} requires one on its invoices"
        )
    require_billing_address(order.school)
    recharge = order.school.billing_route == BillingRoute.RECHARGE
    lines = [_charge_line(order, line, recharge) for line in order.lines]
    document_type = DocumentType.RECHARGE if recharge else DocumentType.INVOICE
    return prepare(document_type, order, user, lines, on=on)


def _charge_line(order: Order, line: OrderLine, recharge: bool) -> ChargeLine:
    """An order line as its charge copies it, at the price and VAT frozen on the order; an
    internal recharge is outside the scope of VAT, whatever the order carried."""
    if line.price_per_day_pence is None or line.vat_treatment is None:
        raise InvoicingError(f"{order.reference} has a line without a frozen price")
    return ChargeLine(
        line.service,
        line.half_days,
        line.price_per_day_pence,
        VatTreatment.OUTSIDE_SCOPE if recharge else line.vat_treatment,
        0 if recharge else line.vat_rate_bp or 0,
    )


def credit_order(
    order: Order,
    user: User | None,
    reason: str,
    half_days_by_line: dict[int, int] | None = None,
    on: date | None = None,
) -> Document | None:
    """A credit note against the order's charge for the given half-days of each order line
    (default: its undelivered days not credited already). None when there is nothing to credit
    (not yet charged, every day used or credited, or only days of no value left). Never credits
    more of a line than was charged and not yet credited, and never issues a £0.00 credit note."""
    charge = charge_document_for(order)
    if charge is None:
        return None
    undelivered = half_days_by_line is None
    if half_days_by_line is None:
        half_days_by_line = undelivered_by_line(order)
    already = credited_half_days(charge)
    by_line = {line.id: line for line in order.lines}
    charged = {line.service_code: line for line in charge.lines}
    lines = []
    for line_id, half_days in sorted(half_days_by_line.items()):
        if half_days <= 0:
            continue
        order_line = by_line.get(line_id)
        if order_line is None:
            raise InvoicingError(f"Line {line_id} is not part of {order.reference}")
        original = charged.get(order_line.service.code)
        if original is None:  # the catalogue's code changed since the document copied it
            raise InvoicingError(
                f"{charge.number} has no line with the code {order_line.service.code} of "
                f"{order_line.service.name}: the service's code was changed after it was issued. "
                "Ask the service manager to change the code back, then try again"
            )
        left = original.half_days - already.get(original.service_code, 0)
        if undelivered:
            half_days = min(half_days, left)  # what was credited already is not credited again
            if half_days <= 0:
                continue
        if half_days > left:
            raise InvoicingError(
                f"{original.service_name}: {pricing.days_text(left)} days of "
                f"{charge.number} are left to credit, not {pricing.days_text(half_days)}"
            )
        lines.append(
            ChargeLine(
                order_line.service,
                half_days,
                original.price_per_day_pence,
                original.vat_treatment,
                original.vat_rate_bp,
            )
        )
    if not lines or not _credit_value(lines):
        return None  # nothing to credit (the days left are free of charge)
    return _render_and_finish(
        prepare(DocumentType.CREDIT_NOTE, order, user, lines, credits=charge, reason=reason, on=on)
    )


def _credit_value(lines: list[ChargeLine]) -> int:
    priced = [
        pricing.Line(line.half_days, line.price_per_day_pence, line.vat_treatment, line.vat_rate_bp)
        for line in lines
    ]
    return pricing.totals(priced).gross_pence


def credited_half_days(charge: Document) -> dict[str, int]:
    """Half-days already credited against `charge`, by service code."""
    rows = db.session.execute(
        select(DocumentLine.service_code, func.sum(DocumentLine.half_days))
        .join(Document, Document.id == DocumentLine.document_id)
        .where(Document.credits_document_id == charge.id)
        .group_by(DocumentLine.service_code)
    ).tuples()
    return {code: int(total) for code, total in rows}


def credited_pence(charge: Document) -> int:
    return int(
        db.session.execute(
            select(func.coalesce(func.sum(Document.gross_pence), 0)).where(
                Document.credits_document_id == charge.id
            )
        ).scalar_one()
    )


@dataclass(frozen=True)
class PreparedDocument:
    """A document with its number taken and its rows built, not yet rendered or stored.

    Only valid inside the transaction that prepared it: rolling back returns the number."""

    document: Document
    data: DocumentData


def _render_and_finish(prepared: PreparedDocument) -> Document:
    return finish(prepared, pdf.render(prepared.data))


@dataclass(frozen=True)
class Charged:
    """What a document charges or credits: an order, a booking of course places
    (services.courses) or a member's share of a partnership order (ordering.partnership_orders),
    with the school, reference and purchase order number it shows."""

    school: School
    reference: str
    po_number: str
    academic_year: AcademicYear | None
    order: Order | None = None
    course_booking_id: int | None = None
    engagement_id: int | None = None  # school-to-school support (services.brokering.money)
    partnership_share_id: int | None = None  # a member's share of a partnership order

    @classmethod
    def of_order(cls, order: Order) -> Charged:
        return cls(order.school, order.reference, order.po_number, order.academic_year, order)


@dataclass(frozen=True)
class LineSpec:
    """One line as a document copies it: the code, name, description and income code as they
    are now, and the quantity (half-days, or places with `half_days` twice the places and the
    price of a place as `price_per_day_pence`) at its frozen price and VAT."""

    code: str
    name: str
    description: str
    income_code: str
    half_days: int
    price_per_day_pence: int
    vat_treatment: VatTreatment
    vat_rate_bp: int
    places: int = 0
    # An amount that is not days × price (an instalment's share of the line), else None.
    net_pence: int | None = None

    @classmethod
    def of_charge_line(cls, line: ChargeLine) -> LineSpec:
        service = line.service
        return cls(
            service.code,
            service.name,
            service.description,
            service.income_code,
            line.half_days,
            line.price_per_day_pence,
            line.vat_treatment,
            line.vat_rate_bp,
        )

    @classmethod
    def of_places(
        cls,
        *,
        code: str,
        name: str,
        description: str,
        income_code: str,
        places: int,
        price_per_place_pence: int,
        vat_treatment: VatTreatment,
        vat_rate_bp: int,
    ) -> LineSpec:
        return cls(
            code,
            name,
            description,
            income_code,
            2 * places,
            price_per_place_pence,
            vat_treatment,
            vat_rate_bp,
            places,
        )


def prepare(
    document_type: DocumentType,
    order: Order,
    user: User | None,
    lines: Iterable[ChargeLine],
    *,
    credits: Document | None = None,
    reason: str = "",
    on: date | None = None,
) -> PreparedDocument:
    """Take the next number (the counter row stays locked until the transaction ends) and copy
    every figure and party into a document that is not yet in the session, with the data its
    PDF is rendered from. Issuing is `prepare`, render the data, then `finish`, all in one
    transaction; an invoice run renders many prepared documents in parallel between the two."""
    return prepare_for(
        document_type,
        Charged.of_order(order),
        user,
        [LineSpec.of_charge_line(line) for line in lines],
        credits=credits,
        reason=reason,
        on=on,
    )


def issue_for(
    document_type: DocumentType,
    charged: Charged,
    user: User | None,
    lines: list[LineSpec],
    *,
    credits: Document | None = None,
    reason: str = "",
    on: date | None = None,
) -> Document:
    """Issue a document for what `charged` names (see `prepare_for`), rendered and stored."""
    return _render_and_finish(
        prepare_for(document_type, charged, user, lines, credits=credits, reason=reason, on=on)
    )


def prepare_for(
    document_type: DocumentType,
    charged: Charged,
    user: User | None,
    lines: list[LineSpec],
    *,
    credits: Document | None = None,
    reason: str = "",
    on: date | None = None,
    totals: pricing.Totals | None = None,
) -> PreparedDocument:
    """`prepare` for an order or a booking of course places. `totals`, when given, are the
    document's figures as worked out already (an instalment's share: documents.instalments)."""
    settings = require_council_details()
    issue_date = on or today()
    financial_year = financial_year_of(issue_date, settings.financial_year_start_month)
    priced = [
        pricing.Line(line.half_days, line.price_per_day_pence, line.vat_treatment, line.vat_rate_bp)
        for line in lines
    ]
    totals = totals or pricing.totals(priced)
    if document_type == DocumentType.CREDIT_NOTE and totals.gross_pence <= 0:
        # Every caller checks first; this is the last guard against a £0.00 credit note.
        what = credits.number if credits is not None else charged.reference
        raise InvoicingError(f"There is nothing to credit on {what}: it would come to £0.00")
    if credits is not None and credited_pence(credits) + totals.gross_pence > credits.gross_pence:
        raise InvoicingError(f"{credits.number} cannot be credited for more than its value")
    sequence = take_number(document_type, financial_year)
    number = format_number(prefix_for(document_type, settings), financial_year, sequence)
    order = charged.order
    document = Document(
        document_type=document_type,
        number=number,
        financial_year=financial_year,
        sequence=sequence,
        order_id=order.id if order else None,
        order=order,
        course_booking_id=charged.course_booking_id,
        engagement_id=charged.engagement_id,
        partnership_share_id=charged.partnership_share_id,
        credits_document_id=credits.id if credits else None,
        credits=credits,
        academic_year_id=charged.academic_year.id if charged.academic_year else None,
        academic_year=charged.academic_year,
        issued_by_id=user.id if user else None,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=settings.payment_terms_days),
        po_number=charged.po_number,
        order_reference=charged.reference,
        reason=reason,
        net_pence=totals.net_pence,
        vat_pence=totals.vat_pence,
        gross_pence=totals.gross_pence,
        pdf_path=f"{financial_year}/{number}.pdf",
        **seller(settings),
        **trust_billing.buyer_for(charged.school, buyer_details(charged.school)),
    )
    document.lines = _document_lines(trust_billing.lines_for(charged.school, lines))
    document.vat_bands = _vat_bands(totals)
    if document_type == DocumentType.INVOICE:
        # Only when card payments are set up (and the app has an https address) at issue time:
        # the PDF never changes, so its link is the app's stable page for the invoice. It is kept
        # on the document so the PDF can always be rendered again from what was stored.
        document.payment_link = payment_link_for(number)
    return PreparedDocument(document, document_data(document))


def _document_lines(lines: Iterable[LineSpec]) -> list[DocumentLine]:
    """A document's lines, each service's (or course's) code, name and income code copied as
    they are now."""
    return [
        DocumentLine(
            position=position,
            service_code=line.code,
            service_name=line.name,
            description=line.description,
            income_code=line.income_code,
            half_days=line.half_days,
            places=line.places,
            price_per_day_pence=line.price_per_day_pence,
            net_pence=pricing.line_net_pence(line.half_days, line.price_per_day_pence)
            if line.net_pence is None
            else line.net_pence,
            vat_treatment=line.vat_treatment,
            vat_rate_bp=line.vat_rate_bp,
        )
        for position, line in enumerate(lines, start=1)
    ]


def _vat_bands(totals: pricing.Totals) -> list[DocumentVatBand]:
    """A document's VAT by treatment and rate, as its totals worked them out."""
    return [
        DocumentVatBand(
            position=position,
            vat_treatment=band.treatment,
            vat_rate_bp=band.rate_bp,
            net_pence=band.net_pence,
            vat_pence=band.vat_pence,
        )
        for position, band in enumerate(totals.bands, start=1)
    ]


def finish(prepared: PreparedDocument, content: bytes) -> Document:
    """Store the rendered PDF atomically with its SHA-256 and insert the document; its first
    e-mail to the school goes once the transaction commits (documents.sending)."""
    document = prepared.document
    document.pdf_sha256 = store_pdf(document.pdf_path, content)
    document.pdf_bytes = len(content)
    db.session.add(document)
    db.session.flush()
    sending.send_after_commit(document)
    return document


def waits_for_po(order: Order) -> bool:
    """Whether the order's charge waits for the school's PO number (domain.quotes says when)."""
    school = order.school
    return charge_waits_for_po(school.po_required, school.billing_route, order.po_number)


# The SQL of `waits_for_po`, for lists of orders.
WAITS_FOR_PO = Order.school_id.in_(
    select(School.id).where(
        School.po_required.is_(True), School.billing_route == BillingRoute.INVOICE
    )
) & (func.trim(Order.po_number) == "")


def orders_awaiting_charge() -> list[Order]:
    """Confirmed orders not yet charged (when the council issues documents in runs), less those
    waiting for the school's PO number."""
    charged = select(Document.order_id).where(Document.document_type != DocumentType.CREDIT_NOTE)
    return list(
        db.session.execute(
            select(Order)
            .where(
                Order.status.in_(SOLD_STATUSES),
                Order.confirmed_at.is_not(None),
                Order.id.not_in(charged),
                Order.id.not_in(select(ScheduledCharge.order_id)),  # charged on their dates
                ~WAITS_FOR_PO,
            )
            .order_by(Order.confirmed_at, Order.id)
        ).scalars()
    )
