"""The data a document shows, built from the issued document: what its PDF is rendered from.

Building is separate from rendering (as in pretix): `document_data` copies every figure and
party from the document's rows into frozen dataclasses, and the renderer (documents.pdf) gets
those and nothing else: no database, no request. They pickle, so an invoice run can send them
to a pool of rendering processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import CouncilLogo, Document, DocumentType
from traded_app.models.types import VatTreatment


@dataclass(frozen=True)
class LineData:
    service_code: str
    service_name: str
    description: str
    half_days: int
    price_per_day_pence: int
    net_pence: int
    vat_treatment: VatTreatment
    vat_rate_bp: int
    places: int = 0  # a line of course places: the quantity shown is places, not days


@dataclass(frozen=True)
class VatBandData:
    vat_treatment: VatTreatment
    vat_rate_bp: int
    net_pence: int
    vat_pence: int


@dataclass(frozen=True)
class DocumentData:
    """Everything a document's PDF shows, copied from the issued document: the renderer gets
    this and nothing else (no database, no request)."""

    document_type: DocumentType
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
    buyer_urn: int
    buyer_address: str
    buyer_contact_name: str
    buyer_contact_email: str
    buyer_cost_centre: str
    po_number: str
    order_reference: str
    academic_year_label: str
    lines: tuple[LineData, ...]
    vat_bands: tuple[VatBandData, ...]
    net_pence: int
    vat_pence: int
    gross_pence: int
    credits_number: str = ""
    reason: str = ""
    payment_link: str = ""  # a card-payment link, once card payments are set up
    extra: dict[str, str] = field(default_factory=dict)
    # A credit note's original is a recharge or a VAT invoice: the PDF says which, and how the
    # credit is settled (by journal, or against the invoice).
    credits_type: DocumentType | None = None
    remittance_email: str = ""  # where remittance advice goes (the seller's e-mail when empty)
    logo_png: bytes = b""  # the council's logo as issued, printed through a data: URL
    # "Instalment 1 of 2 for order ORD-…" on one instalment of an invoice schedule, else "".
    instalment: str = ""

    @property
    def title(self) -> str:
        return f"{self.document_type.label} {self.number}"


def document_data(document: Document) -> DocumentData:
    """The issued document as the data its PDF is rendered from."""
    return DocumentData(
        document_type=document.document_type,
        number=document.number,
        issue_date=document.issue_date,
        due_date=document.due_date,
        seller_name=document.seller_name,
        seller_address=document.seller_address,
        seller_vat_number=document.seller_vat_number,
        seller_email=document.seller_email,
        seller_phone=document.seller_phone,
        bank_name=document.bank_name,
        bank_account_name=document.bank_account_name,
        bank_sort_code=document.bank_sort_code,
        bank_account_number=document.bank_account_number,
        buyer_name=document.buyer_name,
        buyer_urn=document.buyer_urn,
        buyer_address=document.buyer_address,
        buyer_contact_name=document.buyer_contact_name,
        buyer_contact_email=document.buyer_contact_email,
        buyer_cost_centre=document.buyer_cost_centre,
        po_number=document.po_number,
        order_reference=document.order_reference,
        academic_year_label=document.academic_year.label if document.academic_year else "",
        lines=tuple(
            LineData(
                line.service_code,
                line.service_name,
                line.description,
                line.half_days,
                line.price_per_day_pence,
                line.net_pence,
                line.vat_treatment,
                line.vat_rate_bp,
                line.places,
            )
            for line in document.lines
        ),
        vat_bands=tuple(
            VatBandData(b.vat_treatment, b.vat_rate_bp, b.net_pence, b.vat_pence)
            for b in document.vat_bands
        ),
        net_pence=document.net_pence,
        vat_pence=document.vat_pence,
        gross_pence=document.gross_pence,
        credits_number=document.credits.number if document.credits else "",
        reason=document.reason,
        payment_link=document.payment_link or "",
        credits_type=document.credits.document_type if document.credits else None,
        remittance_email=document.remittance_email,
        logo_png=_logo(document.logo_sha256),
        instalment=instalment_text(document),
    )


def instalment_text(document: Document) -> str:
    """What an instalment says it is ("Instalment 1 of 2 for order ORD-…"); "" for others."""
    if not document.instalment_count:
        return ""
    return (
        f"Instalment {document.instalment_number} of {document.instalment_count} "
        f"for order {document.order_reference}"
    )


def _logo(sha256: str) -> bytes:
    if not sha256:
        return b""
    png = db.session.execute(
        select(CouncilLogo.png).where(CouncilLogo.sha256 == sha256)
    ).scalar_one_or_none()
    return png or b""
