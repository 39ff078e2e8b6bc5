"""Consolidated trust invoices: one document per trust per invoice run, listing the invoices the
run issued to each of the trust's academies (when the council's setting for the trust is
"consolidated").

Each academy's own invoice stays the document that carries the debt (its balance, payments,
statement and ledger lines are the academy's); the consolidated invoice is the trust's single
paper for all of them, with its own number series (INV-T-2026-000001). Like documents, it copies
the seller and buyer as they were, stores its PDF's SHA-256, and is inserted once and never
changed or deleted: the ORM refuses (platform.append_only) and so does the database (the
triggers of migration 0039). Its money is the sum of its parts, each part a copy of one
academy invoice's figures; a document is a part of at most one consolidated invoice.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.invoice_runs import InvoiceRun
from traded_app.models.invoices import Document
from traded_app.models.schools import School
from traded_app.models.trusts import Trust


class ConsolidatedInvoice(Base):
    __tablename__ = "consolidated_invoice"
    __table_args__ = (
        UniqueConstraint("financial_year", "sequence"),
        # One per trust per run (a NULL run: issued outside a run, the demo's).
        UniqueConstraint("trust_id", "run_id"),
        CheckConstraint("sequence > 0", name="sequence_positive"),
        CheckConstraint("net_pence >= 0 AND vat_pence >= 0", name="amounts_not_negative"),
        CheckConstraint("gross_pence = net_pence + vat_pence", name="gross_is_net_plus_vat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    financial_year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_run.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    # The seller (the council) as it was.
    seller_name: Mapped[str] = mapped_column(String(200))
    seller_address: Mapped[str] = mapped_column(Text)
    seller_vat_number: Mapped[str] = mapped_column(String(32))
    seller_email: Mapped[str] = mapped_column(String(254))
    seller_phone: Mapped[str] = mapped_column(String(40))
    bank_name: Mapped[str] = mapped_column(String(120))
    bank_account_name: Mapped[str] = mapped_column(String(120))
    bank_sort_code: Mapped[str] = mapped_column(String(8))
    bank_account_number: Mapped[str] = mapped_column(String(8))
    # The buyer (the trust) as it was.
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_address: Mapped[str] = mapped_column(Text)
    buyer_email: Mapped[str] = mapped_column(String(254))
    buyer_company_number: Mapped[str] = mapped_column(String(8))
    net_pence: Mapped[int] = mapped_column(Integer)
    vat_pence: Mapped[int] = mapped_column(Integer)
    gross_pence: Mapped[int] = mapped_column(Integer)
    pdf_path: Mapped[str] = mapped_column(String(255))  # relative to INVOICE_DIR
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_bytes: Mapped[int] = mapped_column(Integer)

    trust: Mapped[Trust] = relationship()
    run: Mapped[InvoiceRun | None] = relationship()
    parts: Mapped[list[ConsolidatedInvoicePart]] = relationship(
        back_populates="consolidated_invoice", order_by="ConsolidatedInvoicePart.position"
    )

    def __repr__(self) -> str:
        return f"<ConsolidatedInvoice {self.number}>"


class ConsolidatedInvoicePart(Base):
    """One academy invoice listed on a consolidated invoice, its figures copied."""

    __tablename__ = "consolidated_invoice_part"
    __table_args__ = (
        UniqueConstraint("consolidated_invoice_id", "position"),
        CheckConstraint("gross_pence = net_pence + vat_pence", name="gross_is_net_plus_vat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consolidated_invoice_id: Mapped[int] = mapped_column(
        ForeignKey("consolidated_invoice.id"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    # A document is listed on one consolidated invoice at most: a later run never repeats it.
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    document_number: Mapped[str] = mapped_column(String(32))
    school_name: Mapped[str] = mapped_column(String(200))
    school_urn: Mapped[int] = mapped_column(Integer)
    net_pence: Mapped[int] = mapped_column(Integer)
    vat_pence: Mapped[int] = mapped_column(Integer)
    gross_pence: Mapped[int] = mapped_column(Integer)

    consolidated_invoice: Mapped[ConsolidatedInvoice] = relationship(back_populates="parts")
    document: Mapped[Document] = relationship()
    school: Mapped[School] = relationship()


# Kept for good: the ORM guard (platform.append_only) and triggers (migration 0039) refuse edits.
IMMUTABLE_CONSOLIDATED_TABLES = ("consolidated_invoice", "consolidated_invoice_part")
