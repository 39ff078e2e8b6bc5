"""Money between schools (issue 19, part 4): how school-to-school support is paid.

The council's setting says whether it invoices the buyer as the providing school's agent, for a
brokerage fee, or the providing school invoices the buyer itself and the app only records that
invoice. An engagement keeps the terms it was chosen under (`EngagementTerms`), so a later change
of setting never alters what two schools agreed. Under the council's invoicing each confirmed
delivery is charged once (`DeliveryCharge`) through the numbered documents, and each charge
makes one `ProviderPayout`: what the council owes the providing school, the fee taken off, as a
recharge credit (maintained) or a payable (academy), until finance marks it paid.

Money in integer pence, the fee in basis points.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.brokering import Engagement, EngagementDelivery
from traded_app.models.invoices import Document
from traded_app.models.schools import School
from traded_app.models.types import VatTreatment, enum_column
from traded_app.models.users import User


class Billing(StrEnum):
    COUNCIL_AGENT = "council_agent"  # the council invoices the buyer and pays the provider
    DIRECT = "direct"  # the provider invoices the buyer; the app records that invoice

    @property
    def label(self) -> str:
        return {
            "council_agent": "The council invoices the buying school, for a brokerage fee",
            "direct": "The providing school invoices the buying school itself",
        }[self.value]


class PayoutKind(StrEnum):
    RECHARGE_CREDIT = "recharge_credit"  # a maintained provider: credited by ledger journal
    PAYABLE = "payable"  # an academy (or other) provider: paid by bank transfer

    @property
    def label(self) -> str:
        return {"recharge_credit": "Recharge credit", "payable": "Payable"}[self.value]


class BrokeringMoneySettings(Base):
    """The council's one row of settings for paying school-to-school support."""

    __tablename__ = "brokering_money_settings"
    __table_args__ = (
        CheckConstraint("fee_bp BETWEEN 0 AND 5000", name="fee_zero_to_half"),
        CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name="vat_rate_a_percentage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    billing: Mapped[Billing] = mapped_column(
        enum_column(Billing, "brokering_billing"), default=Billing.DIRECT
    )
    fee_bp: Mapped[int] = mapped_column(Integer, default=0)
    # VAT on a VAT invoice to an academy buyer (a recharge is outside the scope of VAT).
    vat_treatment: Mapped[VatTreatment] = mapped_column(
        enum_column(VatTreatment, "vat_treatment"), default=VatTreatment.STANDARD
    )
    vat_rate_bp: Mapped[int] = mapped_column(Integer, default=2000)
    income_code: Mapped[str] = mapped_column(String(32), default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EngagementTerms(Base):
    """How an engagement is paid, fixed when the buyer chose the provider."""

    __tablename__ = "engagement_terms"
    __table_args__ = (CheckConstraint("fee_bp BETWEEN 0 AND 5000", name="fee_zero_to_half"),)

    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagement.id"), primary_key=True)
    billing: Mapped[Billing] = mapped_column(enum_column(Billing, "brokering_billing"))
    fee_bp: Mapped[int] = mapped_column(Integer, default=0)

    engagement: Mapped[Engagement] = relationship()


class DeliveryCharge(Base):
    """A confirmed delivery and the document that charged the buyer for it (once)."""

    __tablename__ = "delivery_charge"

    delivery_id: Mapped[int] = mapped_column(ForeignKey("engagement_delivery.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)

    delivery: Mapped[EngagementDelivery] = relationship()
    document: Mapped[Document] = relationship()


class ProviderPayout(Base):
    """What the council owes a providing school for one charge to the buyer: the charge before
    VAT less the brokerage fee. The provider's details are copied as they were, as a document
    copies its buyer's."""

    __tablename__ = "provider_payout"
    __table_args__ = (
        CheckConstraint("fee_pence >= 0 AND amount_pence >= 0", name="amounts_not_negative"),
        CheckConstraint("charged_pence = fee_pence + amount_pence", name="fee_and_share_add_up"),
        CheckConstraint(
            "(paid_on IS NULL) = (paid_at IS NULL) AND (paid_on IS NULL OR payment_reference <> '')",
            name="paid_with_a_reference",
        ),
        Index("ix_provider_payout_unpaid", "provider_school_id", "paid_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), unique=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagement.id"), index=True)
    provider_school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    kind: Mapped[PayoutKind] = mapped_column(enum_column(PayoutKind, "payout_kind"))
    charged_pence: Mapped[int] = mapped_column(Integer)
    fee_bp: Mapped[int] = mapped_column(Integer)
    fee_pence: Mapped[int] = mapped_column(Integer)
    amount_pence: Mapped[int] = mapped_column(Integer)
    provider_name: Mapped[str] = mapped_column(String(200))
    provider_urn: Mapped[int] = mapped_column(Integer)
    provider_cost_centre: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_on: Mapped[date] = mapped_column(Date, index=True)
    paid_on: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    payment_reference: Mapped[str] = mapped_column(String(40), default="")

    document: Mapped[Document] = relationship()
    engagement: Mapped[Engagement] = relationship()
    provider: Mapped[School] = relationship()
    paid_by: Mapped[User | None] = relationship()

    @property
    def reference(self) -> str:
        return f"S2S-PAY-{self.id:06d}"


class ProviderInvoice(Base):
    """An invoice the providing school sent the buyer itself (the council not acting as
    agent), as the provider or the council typed it: its reference, date and amount."""

    __tablename__ = "provider_invoice"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        Index("uq_provider_invoice_reference", "engagement_id", "reference", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagement.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    issued_on: Mapped[date] = mapped_column(Date)
    amount_pence: Mapped[int] = mapped_column(Integer)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User] = relationship()
