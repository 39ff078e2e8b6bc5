"""Consolidated trust invoices: when the council's setting for a trust is "consolidated", each
invoice run also issues the trust one invoice listing the VAT invoices the run issued to its
academies (models.consolidated).

The academies' own invoices are issued as ever (addressed to each academy: the debt, balance,
statement and ledger stay each academy's); the consolidated invoice adds one paper for the trust
with its own number series (`INV-T-2026-000001`: the invoice prefix, "T", the financial year),
addressed to the trust, listing each academy's invoices with their lines, VAT by rate across
them all and the total, which is the sum of its parts to the penny. Building its data is
separate from rendering it (`ConsolidatedData`, then documents.pdf with the invoices' template
environment, stylesheet, static-only fetcher and PDF/UA-1). Once issued it never changes; it is
e-mailed to the trust's finance contact through the outbox, with its PDF attached.

A document is listed on one consolidated invoice at most (a unique key), so a second run never
repeats a part; a run also gathers what a stopped run issued and never consolidated.

Instalments (documents.instalments) are raised by the daily schedule, an invoice run, or at
confirmation when their date has passed. One raised as an invoice to an academy whose trust is
on "consolidated" is marked so on its scheduled charge, and listed on exactly one consolidated
invoice: the daily schedule's for that day (it consolidates after raising), or the next
invoice run's if that comes first. Instalments raised before the trust chose "consolidated"
are never swept up.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from traded_app.domain.trusts import InvoiceTo
from traded_app.extensions import db
from traded_app.formatting import long_date, pounds
from traded_app.models import (
    ConsolidatedInvoice,
    ConsolidatedInvoicePart,
    Document,
    DocumentType,
    InvoiceRun,
    InvoiceRunItem,
    InvoiceRunStatus,
    School,
    Trust,
    User,
)
from traded_app.models.instalments import ScheduledCharge
from traded_app.models.types import Role
from traded_app.services.documents import pdf
from traded_app.services.documents.document_data import LineData, VatBandData, document_data
from traded_app.services.documents.issuing import require_council_details, seller
from traded_app.services.documents.numbering import (
    InvoicingError,
    financial_year_of,
    format_number,
    take_in_series,
)
from traded_app.services.platform import mail, outbox
from traded_app.services.platform.document_store import read_checked, store_pdf
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.links import absolute_url

log = logging.getLogger(__name__)

SERIES = "trust_invoice"  # number_series.series holds 16 characters
SEND_KIND = "consolidated_invoice"
TEMPLATE = "consolidated_invoice.html"

__all__ = [
    "ConsolidatedInvoice",
    "ConsolidatedInvoicePart",
    "issue_for_run",
    "issue_for_trust",
]


# --- The data its PDF shows -----------------------------------------------------------------


@dataclass(frozen=True)
class PartData:
    """One academy's invoice as the consolidated invoice lists it."""

    school_name: str
    school_urn: int
    document_number: str
    po_number: str
    order_reference: str
    lines: tuple[LineData, ...]
    net_pence: int
    vat_pence: int
    gross_pence: int


@dataclass(frozen=True)
class ConsolidatedData:
    """Everything the consolidated invoice's PDF shows (no database, no request)."""

    number: str
    issue_date: date
    due_date: date
    seller_name: str
    seller_address: str
    seller_vat_number: str
    seller_email: str
    seller_phone: str
    bank_name: str
    bank_account_name: str
    bank_sort_code: str
    bank_account_number: str
    buyer_name: str
    buyer_address: str
    buyer_email: str
    buyer_company_number: str
    parts: tuple[PartData, ...]
    vat_bands: tuple[VatBandData, ...]
    net_pence: int
    vat_pence: int
    gross_pence: int

    @property
    def title(self) -> str:
        return f"Consolidated invoice {self.number}"


def vat_bands_of(documents: list[Document]) -> tuple[VatBandData, ...]:
    """VAT by rate across the documents: each document's own bands added up (never VAT worked
    out again, so the bands add up to the parts to the penny)."""
    sums: dict[tuple[str, int], list[int]] = {}
    treatments = {}
    for document in documents:
        for band in document.vat_bands:
            key = (band.vat_treatment.value, band.vat_rate_bp)
            treatments[key] = band.vat_treatment
            net_vat = sums.setdefault(key, [0, 0])
            net_vat[0] += band.net_pence
            net_vat[1] += band.vat_pence
    return tuple(
        VatBandData(treatments[key], key[1], net, vat)
        for key, (net, vat) in sorted(sums.items(), key=lambda item: (-item[0][1], item[0][0]))
    )


def _part_data(document: Document) -> PartData:
    data = document_data(document)
    return PartData(
        school_name=document.school.name,
        school_urn=document.school.urn,
        document_number=document.number,
        po_number=document.po_number,
        order_reference=document.order_reference,
        lines=data.lines,
        net_pence=document.net_pence,
        vat_pence=document.vat_pence,
        gross_pence=document.gross_pence,
    )


def data_of(invoice: ConsolidatedInvoice) -> ConsolidatedData:
    """The issued consolidated invoice as the data its PDF is rendered from."""
    documents = [part.document for part in invoice.parts]
    return ConsolidatedData(
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        seller_name=invoice.seller_name,
        seller_address=invoice.seller_address,
        seller_vat_number=invoice.seller_vat_number,
        seller_email=invoice.seller_email,
        seller_phone=invoice.seller_phone,
        bank_name=invoice.bank_name,
        bank_account_name=invoice.bank_account_name,
        bank_sort_code=invoice.bank_sort_code,
        bank_account_number=invoice.bank_account_number,
        buyer_name=invoice.buyer_name,
        buyer_address=invoice.buyer_address,
        buyer_email=invoice.buyer_email,
        buyer_company_number=invoice.buyer_company_number,
        parts=tuple(_part_data(document) for document in documents),
        vat_bands=vat_bands_of(documents),
        net_pence=invoice.net_pence,
        vat_pence=invoice.vat_pence,
        gross_pence=invoice.gross_pence,
    )


def html_of(data: ConsolidatedData) -> str:
    return pdf.html_of(TEMPLATE, ci=data)


def render(data: ConsolidatedData) -> bytes:
    """The consolidated invoice's PDF (A4, tagged PDF/UA-1), from its data alone."""
    return pdf.render_named(TEMPLATE, data.number, ci=data)


# --- Issuing --------------------------------------------------------------------------------


def issue_for_trust(
    trust: Trust, documents: list[Document], on: date, run: InvoiceRun | None = None
) -> ConsolidatedInvoice:
    """One consolidated invoice to `trust` listing `documents` (its academies' VAT invoices, none
    listed before), numbered, rendered, stored and queued to the trust's finance contact, in the
    caller's transaction (flushed, not committed)."""
    if not documents:
        raise InvoicingError(f"{trust.name} has no invoices to consolidate")
    for document in documents:
        if document.document_type != DocumentType.INVOICE or document.school.trust_id != trust.id:
            raise InvoicingError(f"{document.number} is not a VAT invoice to {trust.name}")
    settings = require_council_details()
    council = seller(settings)
    financial_year = financial_year_of(on, settings.financial_year_start_month)
    sequence = take_in_series(SERIES, financial_year)
    number = format_number(f"{settings.invoice_prefix}-T", financial_year, sequence)
    net = sum(d.net_pence for d in documents)
    vat = sum(d.vat_pence for d in documents)
    invoice = ConsolidatedInvoice(
        number=number,
        financial_year=financial_year,
        sequence=sequence,
        trust_id=trust.id,
        run_id=run.id if run is not None else None,
        issue_date=on,
        due_date=min(d.due_date for d in documents),
        currency="GBP",
        **{key: value for key, value in council.items() if key.startswith(("seller_", "bank_"))},
        buyer_name=trust.name[:200],
        buyer_address=trust.billing_address.strip(),
        buyer_email=trust.finance_email,
        buyer_company_number=trust.companies_house_number or "",
        net_pence=net,
        vat_pence=vat,
        gross_pence=net + vat,
        pdf_path=f"{financial_year}/{number}.pdf",
        pdf_sha256="",
        pdf_bytes=0,
    )
    invoice.parts = [
        ConsolidatedInvoicePart(
            position=position,
            document_id=document.id,
            school_id=document.school_id,
            document_number=document.number,
            school_name=document.school.name[:200],
            school_urn=document.school.urn,
            net_pence=document.net_pence,
            vat_pence=document.vat_pence,
            gross_pence=document.gross_pence,
        )
        for position, document in enumerate(documents, start=1)
    ]
    for part, document in zip(invoice.parts, documents, strict=True):
        part.document = document
    data = data_of(invoice)
    if sum(b.net_pence + b.vat_pence for b in data.vat_bands) != invoice.gross_pence:
        raise InvoicingError(f"The VAT bands of {number} do not add up to its parts")
    content = render(data)
    invoice.pdf_sha256 = store_pdf(invoice.pdf_path, content)
    invoice.pdf_bytes = len(content)
    db.session.add(invoice)
    db.session.flush()
    queue_email(invoice)
    return invoice


def _by_trust(rows: Iterable[tuple[Document, int]]) -> dict[int, list[Document]]:
    """Documents by trust id, each once, in the order the consolidated invoice lists them."""
    waiting: dict[int, dict[int, Document]] = defaultdict(dict)
    for document, trust_id in rows:
        waiting[trust_id][document.id] = document
    return {
        trust_id: sorted(documents.values(), key=lambda d: (d.school.name, d.school_id, d.id))
        for trust_id, documents in waiting.items()
    }


def _run_documents(run: InvoiceRun, trust_id: int | None) -> list[tuple[Document, int]]:
    """The VAT invoices `run` (or a run that stopped before finishing) issued to academies of
    trusts on "consolidated", not yet listed on a consolidated invoice."""
    stopped = (InvoiceRunStatus.FAILED, InvoiceRunStatus.INTERRUPTED)
    query = (
        select(Document, School.trust_id)
        .join(InvoiceRunItem, InvoiceRunItem.document_id == Document.id)
        .join(InvoiceRun, InvoiceRun.id == InvoiceRunItem.run_id)
        .join(School, School.id == Document.school_id)
        .join(Trust, Trust.id == School.trust_id)
        .where(
            Trust.invoice_to == InvoiceTo.CONSOLIDATED,
            Document.document_type == DocumentType.INVOICE,
            or_(InvoiceRun.id == run.id, InvoiceRun.status.in_(stopped)),
            ~exists().where(ConsolidatedInvoicePart.document_id == Document.id),
        )
        .options(selectinload(Document.lines), selectinload(Document.vat_bands))
    )
    if trust_id is not None:
        query = query.where(School.trust_id == trust_id)
    return [
        (document, trust)
        for document, trust in db.session.execute(query).tuples()
        if trust is not None  # never: the query asks for a trust
    ]


def _instalment_documents(trust_id: int | None) -> list[tuple[Document, int]]:
    """Instalment invoices raised to academies while their trust was on "consolidated" (marked
    on the scheduled charge when raised), not yet listed: each is listed once, by whichever
    consolidates first, the daily schedule or an invoice run. One whose academy has since left
    the trust is not sent to it."""
    query = (
        select(Document, ScheduledCharge.consolidate_trust_id)
        .join(ScheduledCharge, ScheduledCharge.document_id == Document.id)
        .join(School, School.id == Document.school_id)
        .where(
            ScheduledCharge.consolidate_trust_id.is_not(None),
            School.trust_id == ScheduledCharge.consolidate_trust_id,
            Document.document_type == DocumentType.INVOICE,
            ~exists().where(ConsolidatedInvoicePart.document_id == Document.id),
        )
        .options(selectinload(Document.lines), selectinload(Document.vat_bands))
    )
    if trust_id is not None:
        query = query.where(ScheduledCharge.consolidate_trust_id == trust_id)
    return [
        (document, trust)
        for document, trust in db.session.execute(query).tuples()
        if trust is not None  # never: the query asks for a trust
    ]


def waiting_for_run(run: InvoiceRun, trust_id: int | None = None) -> dict[int, list[Document]]:
    """The VAT invoices to consolidate at the end of `run`, by trust id: what the run (or a
    stopped run) issued to academies of trusts on "consolidated", and their instalment invoices
    waiting (raised by the run, or earlier), none listed before."""
    return _by_trust([*_run_documents(run, trust_id), *_instalment_documents(trust_id)])


def waiting_instalments(trust_id: int | None = None) -> dict[int, list[Document]]:
    """The instalment invoices waiting to be listed, by trust id (see _instalment_documents)."""
    return _by_trust(_instalment_documents(trust_id))


def _issue_waiting(
    waiting: Callable[[int | None], dict[int, list[Document]]], on: date, run: InvoiceRun | None
) -> list[ConsolidatedInvoice]:
    """One consolidated invoice per trust with invoices waiting. Each trust's row is locked and
    its invoices gathered again, so a run and the daily schedule at once never both list one
    (the unique part key would refuse the second anyway)."""
    issued = []
    for trust_id in sorted(waiting(None)):
        trust = db.session.get(Trust, trust_id)
        assert trust is not None
        db.session.refresh(trust, with_for_update=True)
        documents = waiting(trust_id).get(trust_id, [])
        if documents:
            issued.append(issue_for_trust(trust, documents, on, run))
    return issued


def issue_for_run(run: InvoiceRun) -> list[ConsolidatedInvoice]:
    """One consolidated invoice per trust on "consolidated" with invoices from this run or
    instalments waiting (the run's own transaction; flushed, not committed)."""
    issued = _issue_waiting(lambda trust_id: waiting_for_run(run, trust_id), run.issue_date, run)
    for invoice in issued:
        log.info("Invoice run %s issued consolidated invoice %s", run.id, invoice.number)
    return issued


def issue_for_instalments(on: date) -> list[ConsolidatedInvoice]:
    """The daily schedule's: one consolidated invoice, dated `on`, to each trust with instalment
    invoices waiting (the caller's transaction; flushed, not committed)."""
    issued = _issue_waiting(waiting_instalments, on, None)
    for invoice in issued:
        log.info("Instalments of %s listed on consolidated invoice %s", on, invoice.number)
    return issued


# --- E-mail -------------------------------------------------------------------------------


def message_for(invoice: ConsolidatedInvoice) -> tuple[str, str]:
    """The e-mail's subject and plain-text body (every figure copied from the invoice)."""
    subject = f"Consolidated invoice {invoice.number} from {invoice.seller_name}"
    lines = [
        f"{invoice.seller_name} has issued consolidated invoice {invoice.number} to "
        f"{invoice.buyer_name}, listing {len(invoice.parts)} invoices to the trust's academies. "
        "It is attached as a PDF.",
        "",
        f"Amount: {pounds(invoice.gross_pence)} (including VAT {pounds(invoice.vat_pence)})",
        f"Issue date: {long_date(invoice.issue_date)}",
        "",
        f"Please pay by {long_date(invoice.due_date)} by bank transfer to "
        f"{invoice.bank_account_name}, sort code {invoice.bank_sort_code}, account number "
        f"{invoice.bank_account_number}, quoting {invoice.number} as the reference, or by card "
        "in the service.",
    ]
    link = absolute_url("trust_invoices.trust_detail", invoice_id=invoice.id)
    if link:
        lines += ["", f"See the invoice: {link}"]
    if invoice.seller_email:
        lines += ["", f"Questions: {invoice.seller_email}"]
    return subject, "\n".join(lines) + "\n"


def queue_email(invoice: ConsolidatedInvoice) -> None:
    """Queue the invoice, its PDF attached, for the trust's finance contact (sent once the
    issuing transaction commits; nobody to send to, nothing queued)."""
    subject, body = message_for(invoice)
    outbox.queue_email(
        [invoice.buyer_email],
        subject,
        body,
        purpose=f"Consolidated invoice {invoice.number}",
        kind=SEND_KIND,
        ref_id=invoice.id,
    )


def pdf_of(invoice: ConsolidatedInvoice) -> bytes:
    """The stored PDF, checked against the SHA-256 recorded when it was issued."""
    return read_checked(invoice.pdf_path, invoice.pdf_sha256, invoice.number)


@outbox.attaches(SEND_KIND)
def _attach(ref_id: int) -> mail.Attachment | None:
    invoice = db.session.get(ConsolidatedInvoice, ref_id)
    if invoice is None:
        return None
    return mail.Attachment(f"{invoice.number}.pdf", pdf_of(invoice))


# --- Reading ------------------------------------------------------------------------------


def of_trust(trust_id: int) -> list[ConsolidatedInvoice]:
    return list(
        db.session.execute(
            select(ConsolidatedInvoice)
            .where(ConsolidatedInvoice.trust_id == trust_id)
            .order_by(ConsolidatedInvoice.id.desc())
        ).scalars()
    )


def every_invoice() -> list[ConsolidatedInvoice]:
    return list(
        db.session.execute(
            select(ConsolidatedInvoice)
            .options(selectinload(ConsolidatedInvoice.trust))
            .order_by(ConsolidatedInvoice.id.desc())
        ).scalars()
    )


def visible_to(user: User, invoice_id: int) -> ConsolidatedInvoice:
    """The consolidated invoice, if `user` may see it: council finance any, a trust's finance
    staff their own trust's; NotFound otherwise (a guessed id reveals nothing)."""
    invoice = db.session.get(ConsolidatedInvoice, invoice_id)
    if invoice is None:
        raise NotFound("There is no such consolidated invoice")
    if user.role in (Role.LA_FINANCE, Role.LA_ADMIN):
        return invoice
    if user.role == Role.TRUST_FINANCE and user.trust_id == invoice.trust_id:
        return invoice
    raise NotFound("There is no such consolidated invoice")
