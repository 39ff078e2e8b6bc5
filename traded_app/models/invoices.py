"""Issued documents: VAT invoices, internal recharges and credit notes.

A document copies everything it says (seller, buyer, lines, VAT by rate, totals, dates) at the
moment it is issued, with its PDF's SHA-256. It is inserted once and never changed or deleted:
the ORM refuses (traded_app.services.documents.issuing installs the guard) and so does the database
(triggers in migration 0005). Corrections are credit notes, which are documents too. A
brought-forward document (finance.opening_balances) is an unpaid invoice of the council's previous
system, recorded once under its original number, with no order and no PDF of ours.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.domain.types import DocumentType
from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.council import AcademicYear
from traded_app.models.orders import Order
from traded_app.models.schools import School
from traded_app.models.types import VatTreatment, enum_column
from traded_app.models.users import User

_NO_LINK = (
    "(order_id IS NULL AND course_booking_id IS NULL "
    "AND engagement_id IS NULL AND partnership_share_id IS NULL)"
)
# A brought-forward document names nothing it charges; every other charge names one; a credit
# note may name none (one against a brought-forward document: migration 0051).
BROUGHT_FORWARD_CHECK = (
    "(brought_forward = (sequence IS NULL)) "
    f"AND (NOT brought_forward OR {_NO_LINK}) "
    f"AND (brought_forward OR document_type = 'credit_note' OR NOT {_NO_LINK}) "
    "AND (order_id IS NULL OR course_booking_id IS NULL) "
    "AND (engagement_id IS NULL OR (order_id IS NULL AND course_booking_id IS NULL))"
)


class DocumentCounter(Base):
    """The last number used in one series (document type and financial year).

    The issuing transaction locks this row (FOR UPDATE; on SQLite the write lock taken at BEGIN
    IMMEDIATE) and takes the next number, so numbers run 1, 2, 3… with no gap and no repeat.
    """

    __tablename__ = "document_counter"
    __table_args__ = (
        UniqueConstraint("document_type", "financial_year"),
        CheckConstraint("last_number >= 0", name="last_number_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_type: Mapped[DocumentType] = mapped_column(enum_column(DocumentType, "document_type"))
    financial_year: Mapped[int] = mapped_column(Integer)  # the year in which it starts (April)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Document(Base):
    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("document_type", "financial_year", "sequence"),
        # Each order is charged exactly once: one invoice or recharge per order, or one per
        # instalment of its invoice schedule (instalment_number 0: the whole order at once).
        Index(
            "uq_document_one_charge_per_instalment",
            "order_id",
            "instalment_number",
            unique=True,
            sqlite_where=text("document_type <> 'credit_note'"),
            postgresql_where=text("document_type <> 'credit_note'"),
        ),
        # Each member's share of a partnership order is charged once (credit notes aside).
        Index(
            "uq_document_one_charge_per_share",
            "partnership_share_id",
            unique=True,
            sqlite_where=text("document_type <> 'credit_note'"),
            postgresql_where=text("document_type <> 'credit_note'"),
        ),
        CheckConstraint("sequence > 0", name="sequence_positive"),
        CheckConstraint(
            "(document_type = 'credit_note') = (credits_document_id IS NOT NULL)",
            name="credit_notes_refer_to_a_document",
        ),
        CheckConstraint("net_pence >= 0 AND vat_pence >= 0", name="amounts_not_negative"),
        CheckConstraint("gross_pence = net_pence + vat_pence", name="gross_is_net_plus_vat"),
        # A document charges or credits one of an order, a booking of course places or an
        # engagement, unless it was brought forward from the council's previous system (none).
        CheckConstraint(BROUGHT_FORWARD_CHECK, name="brought_forward_has_no_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_type: Mapped[DocumentType] = mapped_column(
        enum_column(DocumentType, "document_type"), index=True
    )
    number: Mapped[str] = mapped_column(String(32), unique=True)
    financial_year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int | None] = mapped_column(Integer)  # None: brought forward
    order_id: Mapped[int | None] = mapped_column(ForeignKey("school_order.id"), index=True)
    credits_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    # A booking of course places (models.courses) that the document charges or credits.
    course_booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_booking.id"), index=True
    )
    # A school-to-school engagement (models.brokering) the council invoices as the agent.
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagement.id"), index=True)
    # A member's share of a partnership order (models.partnership_orders) that it charges.
    partnership_share_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnership_share.id"), index=True
    )
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    academic_year_id: Mapped[int | None] = mapped_column(ForeignKey("academic_year.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    issue_date: Mapped[date] = mapped_column(Date, index=True)
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
    remittance_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    # The council's logo as it was (a CouncilLogo's SHA-256; empty: none).
    logo_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # The buyer (the school) as it was.
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_urn: Mapped[int] = mapped_column(Integer)
    buyer_address: Mapped[str] = mapped_column(Text)
    buyer_contact_name: Mapped[str] = mapped_column(String(120))
    buyer_contact_email: Mapped[str] = mapped_column(String(254))
    buyer_cost_centre: Mapped[str] = mapped_column(String(32))
    po_number: Mapped[str] = mapped_column(String(40))
    order_reference: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")  # why a credit note was raised
    # "Pay by card" link printed on an invoice issued while card payments were set up.
    payment_link: Mapped[str] = mapped_column(String(255), default="")
    net_pence: Mapped[int] = mapped_column(Integer)
    vat_pence: Mapped[int] = mapped_column(Integer)
    gross_pence: Mapped[int] = mapped_column(Integer)
    pdf_path: Mapped[str] = mapped_column(String(255))  # relative to INVOICE_DIR
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_bytes: Mapped[int] = mapped_column(Integer)
    # An unpaid invoice from the council's previous system, kept under its original number: no
    # order, no number of our series, no PDF of ours (pdf_path is empty).
    brought_forward: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Instalment n of m of its order's invoice schedule (models.instalments); 0 of 0: not one.
    instalment_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    instalment_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    order: Mapped[Order | None] = relationship()
    school: Mapped[School] = relationship()
    academic_year: Mapped[AcademicYear | None] = relationship()
    issued_by: Mapped[User | None] = relationship()
    credits: Mapped[Document | None] = relationship(remote_side=[id])
    lines: Mapped[list[DocumentLine]] = relationship(
        back_populates="document", order_by="DocumentLine.position"
    )
    vat_bands: Mapped[list[DocumentVatBand]] = relationship(
        back_populates="document", order_by="DocumentVatBand.position"
    )

    @property
    def is_credit_note(self) -> bool:
        return self.document_type == DocumentType.CREDIT_NOTE

    def __repr__(self) -> str:
        return f"<Document {self.number}>"


class DocumentLine(Base):
    __tablename__ = "document_line"
    __table_args__ = (
        UniqueConstraint("document_id", "position"),
        CheckConstraint("half_days > 0", name="half_days_positive"),
        CheckConstraint("net_pence >= 0", name="net_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    service_code: Mapped[str] = mapped_column(String(16))
    service_name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text)
    income_code: Mapped[str] = mapped_column(String(32))
    half_days: Mapped[int] = mapped_column(Integer)
    price_per_day_pence: Mapped[int] = mapped_column(Integer)
    # Places on a course (a line of a course booking's document): then `half_days` is twice the
    # places and `price_per_day_pence` the price of a place, so every sum over lines holds.
    places: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    net_pence: Mapped[int] = mapped_column(Integer)
    vat_treatment: Mapped[VatTreatment] = mapped_column(enum_column(VatTreatment, "vat_treatment"))
    vat_rate_bp: Mapped[int] = mapped_column(Integer)

    document: Mapped[Document] = relationship(back_populates="lines")


class DocumentVatBand(Base):
    """VAT by rate, as the document shows it."""

    __tablename__ = "document_vat_band"
    __table_args__ = (UniqueConstraint("document_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    vat_treatment: Mapped[VatTreatment] = mapped_column(enum_column(VatTreatment, "vat_treatment"))
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    net_pence: Mapped[int] = mapped_column(Integer)
    vat_pence: Mapped[int] = mapped_column(Integer)

    document: Mapped[Document] = relationship(back_populates="vat_bands")


class DocumentFigures(Base):
    """A document's money as it stands: its own type, school, due date and gross (copied, they
    never change), what credit notes against it and payments on it (reversals negative) add up
    to, and the balance left (0 for a credit note, which has none of its own).

    Kept by the database, never written by the app: triggers add a document's row when it is
    inserted and add each credit note and payment to its document's sums, in the inserting
    transaction (migration 0019). Documents and payments are append-only, so nothing else can
    change them. services/finance/balances.py reads them; tests hold them to the sums."""

    __tablename__ = "document_figures"
    __table_args__ = (
        CheckConstraint(
            "balance_pence = CASE WHEN document_type = 'credit_note' THEN 0 "
            "ELSE gross_pence - credited_pence - paid_pence END",
            name="balance_adds_up",
        ),
        # The charges with something left, by school (aged debt's summary read this until
        # 0052 gave its invoices and its recharges an index each).
        Index(
            "ix_document_figures_open",
            "school_id",
            "document_type",
            "due_date",
            "balance_pence",
            sqlite_where=text("balance_pence > 0"),
            postgresql_where=text("balance_pence > 0"),
        ),
        # The VAT invoices with something left, by due date: the overdue list, a page in order,
        # and the overdue register's totals from the index alone (migration 0052 widened it).
        # Each index below holds `document_type`, though its condition fixes it: SQLite reads
        # an index alone only when it holds every column the query names.
        Index(
            "ix_document_figures_open_invoices",
            "due_date",
            "document_id",
            "balance_pence",
            "gross_pence",
            "credited_pence",
            "paid_pence",
            "document_type",
            sqlite_where=text("document_type = 'invoice' AND balance_pence > 0"),
            postgresql_where=text("document_type = 'invoice' AND balance_pence > 0"),
        ),
        # The open VAT invoices by school: aged debt's buckets (0052).
        Index(
            "ix_document_figures_open_invoices_by_school",
            "school_id",
            "due_date",
            "balance_pence",
            "document_type",
            sqlite_where=text("document_type = 'invoice' AND balance_pence > 0"),
            postgresql_where=text("document_type = 'invoice' AND balance_pence > 0"),
        ),
        # The open internal recharges: aged debt's recharges waiting for a journal (0052).
        Index(
            "ix_document_figures_open_recharges",
            "balance_pence",
            "document_type",
            sqlite_where=text("document_type = 'recharge' AND balance_pence > 0"),
            postgresql_where=text("document_type = 'recharge' AND balance_pence > 0"),
        ),
        # The open VAT invoices by balance: the overdue register sorted by balance, a page
        # read in order (0052).
        Index(
            "ix_document_figures_open_invoices_by_balance",
            "balance_pence",
            "document_id",
            "due_date",
            sqlite_where=text("document_type = 'invoice' AND balance_pence > 0"),
            postgresql_where=text("document_type = 'invoice' AND balance_pence > 0"),
        ),
        # Every document's balance by school: the statements page's grouping reads only this,
        # and a school's statement its school's rows (migration 0047).
        Index("ix_document_figures_school", "school_id", "balance_pence"),
    )

    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    document_type: Mapped[DocumentType] = mapped_column(enum_column(DocumentType, "document_type"))
    school_id: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    gross_pence: Mapped[int] = mapped_column(Integer)
    credited_pence: Mapped[int] = mapped_column(Integer)
    paid_pence: Mapped[int] = mapped_column(Integer)
    balance_pence: Mapped[int] = mapped_column(Integer)


class DocumentSend(Base):
    """Each time a document was e-mailed, to whom, by whom, and whether it went."""

    __tablename__ = "document_send"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recipient: Mapped[str] = mapped_column(String(254))
    succeeded: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str] = mapped_column(Text, default="")

    document: Mapped[Document] = relationship()
    sent_by: Mapped[User | None] = relationship()


IMMUTABLE_TABLES = ("document", "document_line", "document_vat_band")
