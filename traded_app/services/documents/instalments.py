"""Scheduled charges: an order charged at the start of the year or in instalments.

When the council confirms an order on a billing route whose plan (documents.charge_plans) does
not charge at once, `schedule_order` writes one `ScheduledCharge` per instalment (what, when,
how much) instead of issuing the invoice or recharge; any instalment whose date has come is
raised there and then. The rest are raised on their date by a daily schedule (and by an invoice
run, when finance starts one), each as its own numbered document in the route's usual series,
due on its own date, saying "Instalment 1 of 2 for order ORD-…". Amounts come from
domain.instalments: each line's net and each VAT band's VAT split by the plan's shares, so the
instalments add up to exactly what one invoice for the order would have charged.

Never twice: raising locks the scheduled charge's row and raises it only while it is still
scheduled, and the database allows one document per order and instalment number.

Cancelling (`cancel_schedule`) cancels the instalments not yet raised, then settles what has
been charged against what the school used: charged beyond the used days' value is credited
(a credit note against each instalment, the latest first); used days worth more than has been
charged (the school used its days ahead of the schedule) are charged by raising the next
instalment early, for that difference only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select

from traded_app.domain import pricing
from traded_app.domain.instalments import split_order
from traded_app.extensions import db
from traded_app.models import Document, DocumentLine, DocumentType, DocumentVatBand, Order, User
from traded_app.models.base import utcnow
from traded_app.models.instalments import ScheduledCharge, ScheduledChargeStatus
from traded_app.models.jobs import ScheduledRun
from traded_app.models.orders import SOLD_STATUSES, OrderLine
from traded_app.models.types import BillingRoute, VatTreatment
from traded_app.services.days.ledger import undelivered_by_line
from traded_app.services.documents import charge_plans, consolidated, pdf, trust_billing
from traded_app.services.documents import issuing as invoicing
from traded_app.services.documents.document_data import document_data
from traded_app.services.platform import schedules
from traded_app.services.platform.settings import today

log = logging.getLogger(__name__)

SCHEDULE_NAME = "instalments"
RUNS_AT = time(6, 0)

Band = tuple[VatTreatment, int]


# --- Making a schedule ------------------------------------------------------------------------


def has_schedule(order: Order) -> bool:
    return (
        db.session.execute(
            select(ScheduledCharge.id).where(ScheduledCharge.order_id == order.id).limit(1)
        ).first()
        is not None
    )


def schedule_order(order: Order, user: User | None, on: date | None = None) -> bool:
    """At confirmation: write the order's scheduled charges when its billing route is charged
    later, and raise those already due. False (nothing written) when it is charged at once."""
    planned = charge_plans.charges_for(order.school.billing_route, order.academic_year)
    if planned is None or has_schedule(order):
        return planned is not None
    shares = [charge.share for charge in planned]
    figures = split_order(_priced(order), shares)
    whole = sum(shares)
    for number, (charge, instalment) in enumerate(zip(planned, figures, strict=True), start=1):
        db.session.add(
            ScheduledCharge(
                order_id=order.id,
                number=number,
                count=len(planned),
                share=charge.share,
                whole=whole,
                due_on=charge.due_on,
                gross_pence=instalment.gross_pence,
            )
        )
    db.session.flush()
    raise_due_for_order(order, user, on)
    return True


def _lines(order: Order) -> list[OrderLine]:
    return sorted(order.lines, key=lambda line: line.id)


def _treatment(order: Order, line: OrderLine) -> tuple[VatTreatment, int]:
    """The line's VAT as charged: an internal recharge is outside the scope of VAT."""
    if order.school.billing_route == BillingRoute.RECHARGE:
        return VatTreatment.OUTSIDE_SCOPE, 0
    if line.vat_treatment is None:
        raise invoicing.InvoicingError(f"{order.reference} has a line without a frozen price")
    return line.vat_treatment, line.vat_rate_bp or 0


def _priced(order: Order) -> list[pricing.Line]:
    lines = []
    for line in _lines(order):
        if line.price_per_day_pence is None:
            raise invoicing.InvoicingError(f"{order.reference} has a line without a frozen price")
        lines.append(
            pricing.Line(line.half_days, line.price_per_day_pence, *_treatment(order, line))
        )
    return lines


# --- Raising ----------------------------------------------------------------------------------


def charges_of(order: Order) -> list[ScheduledCharge]:
    return list(
        db.session.execute(
            select(ScheduledCharge)
            .where(ScheduledCharge.order_id == order.id)
            .order_by(ScheduledCharge.number)
        ).scalars()
    )


def why_not_raised(order: Order) -> str | None:
    """Why the order's due instalments cannot be raised yet, or None when they can."""
    if order.status not in SOLD_STATUSES:
        return f"{order.reference} is {order.status.label.lower()}"
    return _cannot_charge(order)


def _cannot_charge(order: Order) -> str | None:
    """What the school's details lack for any charge to it (its PO number, its address)."""
    if invoicing.waits_for_po(order):
        return f"{order.reference} waits for the school's purchase order number"
    return invoicing.missing_for_vat_invoice(order.school)


def raise_charge(charge: ScheduledCharge, user: User | None, on: date | None = None) -> Document:
    """Issue the scheduled charge's document (its row locked, so never twice)."""
    db.session.refresh(charge, with_for_update=True)
    if charge.status != ScheduledChargeStatus.SCHEDULED:
        raise invoicing.InvoicingError(
            f"Instalment {charge.number} of {charge.order.reference} is already "
            f"{charge.status.label.lower()}"
        )
    order = charge.order
    problem = why_not_raised(order)
    if problem is not None:
        raise invoicing.InvoicingError(problem)
    shares = [c.share for c in charges_of(order)]
    figures = split_order(_priced(order), shares)[charge.number - 1]
    specs = [
        _spec(line, order, part.net_pence, line.half_days)
        for line, part in zip(_lines(order), figures.lines, strict=True)
    ]
    document = _issue(charge, order, user, specs, figures.totals(), on)
    _raised(charge, document)
    db.session.flush()
    return document


def _raised(charge: ScheduledCharge, document: Document) -> None:
    """The charge is raised as `document`; an invoice to an academy of a trust on consolidated
    invoicing is marked to be listed on the trust's next consolidated invoice."""
    charge.status = ScheduledChargeStatus.RAISED
    charge.document_id = document.id
    charge.closed_at = utcnow()
    if document.document_type == DocumentType.INVOICE:
        charge.consolidate_trust_id = trust_billing.consolidating_trust_id(charge.order.school)


def _spec(line: OrderLine, order: Order, net_pence: int, half_days: int) -> invoicing.LineSpec:
    service = line.service
    treatment, rate = _treatment(order, line)
    return invoicing.LineSpec(
        service.code,
        service.name,
        service.description,
        service.income_code,
        half_days,
        line.price_per_day_pence or 0,
        treatment,
        rate,
        net_pence=net_pence,
    )


def _issue(
    charge: ScheduledCharge,
    order: Order,
    user: User | None,
    specs: list[invoicing.LineSpec],
    totals: pricing.Totals,
    on: date | None,
) -> Document:
    recharge = order.school.billing_route == BillingRoute.RECHARGE
    prepared = invoicing.prepare_for(
        DocumentType.RECHARGE if recharge else DocumentType.INVOICE,
        invoicing.Charged.of_order(order),
        user,
        specs,
        on=on,
        totals=totals,
    )
    document = prepared.document
    document.instalment_number = charge.number
    document.instalment_count = charge.count
    ready = invoicing.PreparedDocument(document, document_data(document))
    return invoicing.finish(ready, pdf.render(ready.data))


def raise_due_for_order(order: Order, user: User | None, on: date | None = None) -> int:
    """Raise the order's instalments whose date has come (none while it cannot be charged)."""
    on = on or today()
    if why_not_raised(order) is not None:
        return 0
    due = [
        c
        for c in charges_of(order)
        if c.status == ScheduledChargeStatus.SCHEDULED and c.due_on <= on
    ]
    for charge in due:
        raise_charge(charge, user, on)
    return len(due)


@dataclass(frozen=True)
class Raised:
    raised: int
    waiting: list[str]  # why some due instalments were left for later


def due_order_ids(on: date) -> list[int]:
    return list(
        db.session.execute(
            select(ScheduledCharge.order_id)
            .where(
                ScheduledCharge.status == ScheduledChargeStatus.SCHEDULED,
                ScheduledCharge.due_on <= on,
            )
            .group_by(ScheduledCharge.order_id)
            .order_by(func.min(ScheduledCharge.due_on), ScheduledCharge.order_id)
        ).scalars()
    )


def raise_due(on: date, user: User | None = None) -> Raised:
    """Raise every instalment whose date has come, order by order, leaving (and naming) those
    whose order cannot be charged yet (waiting for its PO number, or its billing address)."""
    raised = 0
    waiting = []
    for order_id in due_order_ids(on):
        order = db.session.get(Order, order_id)
        assert order is not None
        problem = why_not_raised(order)
        if problem is not None:
            waiting.append(problem)
            continue
        raised += raise_due_for_order(order, user, on)
    return Raised(raised, waiting)


def _period(now: datetime) -> str | None:
    return schedules.daily_at(now, RUNS_AT)


def _describe() -> str:
    return f"Every day at {RUNS_AT:%H:%M}"


@schedules.schedule(SCHEDULE_NAME, "Instalments charged on their dates", _period, _describe)
def run_instalments(run: ScheduledRun) -> str:
    on = run.started_at.astimezone(schedules.LONDON).date()
    result = raise_due(on)
    line = f"{result.raised} instalment{'' if result.raised == 1 else 's'} charged"
    # Academies' instalments listed for their trusts on consolidated invoicing, once each. A
    # consolidated invoice that cannot be issued never undoes the instalments: they stay
    # marked, and the next day's run (or an invoice run) lists them.
    try:
        with db.session.begin_nested():
            trusts = len(consolidated.issue_for_instalments(on))
    except Exception as error:  # reported in the run's detail, never fatal
        log.exception("Consolidated invoices for the instalments of %s not issued", on)
        line += f"; consolidated invoices to trusts not issued: {error}"
    else:
        if trusts:
            line += f"; {trusts} consolidated invoice{'' if trusts == 1 else 's'} to trusts"
    if result.waiting:
        line += f"; {len(result.waiting)} waiting: " + "; ".join(result.waiting[:3])
    return line


# --- Cancelling -------------------------------------------------------------------------------


def cancel_schedule(order: Order, user: User | None, reason: str) -> bool:
    """On cancellation: cancel the instalments not raised and settle what was charged against
    the value of the days used (see the module's notes). False when the order has no schedule
    (issuing.credit_order settles it)."""
    charges = charges_of(order)
    if not charges:
        return False
    for charge in charges:
        db.session.refresh(charge, with_for_update=True)
    raised = [c for c in charges if c.status == ScheduledChargeStatus.RAISED]
    waiting = [c for c in charges if c.status == ScheduledChargeStatus.SCHEDULED]
    undelivered = undelivered_by_line(order)
    owed = {
        line.service.code: pricing.line_net_pence(
            line.half_days - undelivered[line.id], line.price_per_day_pence or 0
        )
        for line in _lines(order)
    }
    charged = _charged_by_code([c.document for c in raised if c.document is not None])
    short = {code: owed[code] - charged.get(code, 0) for code in owed}
    now = utcnow()
    if waiting and any(amount > 0 for amount in short.values()) and _cannot_charge(order) is None:
        _raise_shortfall(waiting[0], order, user, short)
        waiting = waiting[1:]
    for charge in waiting:
        charge.status = ScheduledChargeStatus.CANCELLED
        charge.closed_at = now
    excess = {code: -amount for code, amount in short.items() if amount < 0}
    documents = [c.document for c in reversed(raised) if c.document is not None]
    _credit_excess(order, user, reason, documents, excess, undelivered)
    db.session.flush()
    return True


def _charged_by_code(documents: Iterable[Document]) -> dict[str, int]:
    """Net charged per service by these documents, less what has been credited on them."""
    charged: dict[str, int] = {}
    for document in documents:
        for code, amount in _left_on(document).items():
            charged[code] = charged.get(code, 0) + amount
    return charged


def _left_on(document: Document) -> dict[str, int]:
    """The net of each line of `document` not yet credited."""
    credited = dict(
        db.session.execute(
            select(DocumentLine.service_code, func.sum(DocumentLine.net_pence))
            .join(Document, Document.id == DocumentLine.document_id)
            .where(Document.credits_document_id == document.id)
            .group_by(DocumentLine.service_code)
        )
        .tuples()
        .all()
    )
    return {
        line.service_code: line.net_pence - int(credited.get(line.service_code) or 0)
        for line in document.lines
    }


def _vat_left_on(document: Document) -> dict[Band, int]:
    credited = {
        (treatment, rate): int(vat)
        for treatment, rate, vat in db.session.execute(
            select(
                DocumentVatBand.vat_treatment,
                DocumentVatBand.vat_rate_bp,
                func.sum(DocumentVatBand.vat_pence),
            )
            .join(Document, Document.id == DocumentVatBand.document_id)
            .where(Document.credits_document_id == document.id)
            .group_by(DocumentVatBand.vat_treatment, DocumentVatBand.vat_rate_bp)
        ).tuples()
    }
    return {
        (b.vat_treatment, b.vat_rate_bp): b.vat_pence
        - credited.get((b.vat_treatment, b.vat_rate_bp), 0)
        for b in document.vat_bands
    }


def _raise_shortfall(
    charge: ScheduledCharge, order: Order, user: User | None, short: dict[str, int]
) -> None:
    """Raise `charge` now for the used days' value not yet charged (and nothing more)."""
    specs = [
        _spec(line, order, short[line.service.code], line.half_days)
        for line in _lines(order)
        if short[line.service.code] > 0
    ]
    totals = _totals(specs, {})
    document = _issue(charge, order, user, specs, totals, None)
    _raised(charge, document)


def _totals(specs: list[invoicing.LineSpec], vat_left: dict[Band, int] | None) -> pricing.Totals:
    """Totals of lines with set amounts: VAT per band on the band's net (capped, for a credit
    note, at the VAT left to credit on its original, so it never credits more than was
    charged)."""
    nets: dict[Band, int] = {}
    for spec in specs:
        key = (spec.vat_treatment, spec.vat_rate_bp)
        nets[key] = nets.get(key, 0) + (spec.net_pence or 0)
    bands = []
    for (treatment, rate), net in sorted(nets.items(), key=lambda i: (-i[0][1], i[0][0].value)):
        vat = pricing.vat_pence(net, rate)
        if vat_left:
            vat = min(vat, vat_left.get((treatment, rate), 0))
        bands.append(pricing.VatBand(treatment, rate, net, vat))
    return pricing.Totals(
        0, sum(b.net_pence for b in bands), sum(b.vat_pence for b in bands), tuple(bands)
    )


def _credit_excess(
    order: Order,
    user: User | None,
    reason: str,
    documents: list[Document],
    excess: dict[str, int],
    undelivered: dict[int, int],
) -> None:
    """Credit `excess` (net per service) against `documents`, the latest first: a credit note
    for each document with something to credit, never more than is left on it."""
    by_code = {line.service.code: line for line in _lines(order)}
    for document in documents:
        left = _left_on(document)
        taken = {code: min(amount, left.get(code, 0)) for code, amount in sorted(excess.items())}
        taken = {code: amount for code, amount in taken.items() if amount > 0}
        if not taken:
            continue
        specs = []
        for code, amount in taken.items():
            excess[code] -= amount
            line = by_code[code]
            specs.append(_spec(line, order, amount, max(1, undelivered[line.id])))
        vat_left = _vat_left_on(document)
        totals = _totals(specs, vat_left)
        if all(taken.get(code, 0) == amount for code, amount in left.items() if amount > 0):
            # Everything left on the document is credited: so is all the VAT left on it.
            bands = tuple(
                pricing.VatBand(
                    b.treatment, b.rate_bp, b.net_pence, vat_left[(b.treatment, b.rate_bp)]
                )
                for b in totals.bands
            )
            totals = pricing.Totals(0, totals.net_pence, sum(b.vat_pence for b in bands), bands)
        prepared = invoicing.prepare_for(
            DocumentType.CREDIT_NOTE,
            invoicing.Charged.of_order(order),
            user,
            specs,
            credits=document,
            reason=reason,
            totals=totals,
        )
        invoicing.finish(prepared, pdf.render(prepared.data))


# --- What the pages show ----------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRow:
    number: int
    count: int
    due_on: date
    gross_pence: int  # the document's, once raised; else what it will charge
    status: ScheduledChargeStatus
    document_id: int | None
    document_number: str


@dataclass(frozen=True)
class OrderSchedule:
    rows: list[ScheduleRow]

    @property
    def charged_pence(self) -> int:
        return sum(r.gross_pence for r in self.rows if r.status == ScheduledChargeStatus.RAISED)

    @property
    def to_come_pence(self) -> int:
        return sum(r.gross_pence for r in self.rows if r.status == ScheduledChargeStatus.SCHEDULED)


def schedule_of(order: Order) -> OrderSchedule | None:
    """The order's instalments, charged and to come, for its page (None: no schedule)."""
    rows = [
        ScheduleRow(
            c.number,
            c.count,
            c.due_on,
            c.document.gross_pence if c.document is not None else c.gross_pence,
            c.status,
            c.document_id,
            c.document.number if c.document is not None else "",
        )
        for c in charges_of(order)
    ]
    return OrderSchedule(rows) if rows else None


@dataclass(frozen=True)
class Upcoming:
    order_id: int
    order_reference: str
    school_name: str
    number: int
    count: int
    due_on: date
    gross_pence: int


def upcoming(limit: int = 25) -> tuple[list[Upcoming], int]:
    """The next instalments to be raised, soonest first, and how many are to come in all."""
    waiting = ScheduledCharge.status == ScheduledChargeStatus.SCHEDULED
    total = db.session.scalar(select(func.count(ScheduledCharge.id)).where(waiting)) or 0
    charges = db.session.execute(
        select(ScheduledCharge)
        .where(waiting)
        .order_by(ScheduledCharge.due_on, ScheduledCharge.id)
        .limit(limit)
    ).scalars()
    return [
        Upcoming(
            c.order_id,
            c.order.reference,
            c.order.school.name,
            c.number,
            c.count,
            c.due_on,
            c.gross_pence,
        )
        for c in charges
    ], int(total)
