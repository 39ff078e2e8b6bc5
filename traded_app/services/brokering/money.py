"""Money between schools (issue 19, part 4): the council invoices school-to-school support as
the providing school's agent, for a brokerage fee, or the providing school invoices the buyer
itself and the app records that invoice.

What users expect, decided here:
- The choice is the council's setting (the service manager's). An engagement keeps the choice
  and fee in force when the buyer chose the provider (`EngagementTerms`): the providing school
  accepted on those terms, so a later change of setting never alters them.
- Under the council's invoicing the buyer is charged for what it has confirmed was delivered,
  as it confirms it (never for days agreed but not delivered, so nothing needs crediting when
  support ends early). Confirming and charging are one step: when the document cannot be issued
  (a VAT invoice to a school with no billing address, the council's details not set up) the
  confirmation is refused, saying why, and nothing is kept.
- The charge follows the buyer's billing route through the numbered documents: an internal
  recharge (outside the scope of VAT) for a maintained school, a VAT invoice at the council's
  brokering VAT setting for an academy. Each confirmed delivery is one line, charged once.
- Each charge makes one payout to the providing school: the charge before VAT less the fee
  (domain.brokerage), a recharge credit for a maintained provider or a payable for an academy,
  owed until finance marks it paid (services.brokering.payouts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from traded_app import formatting
from traded_app.domain import brokerage, pricing
from traded_app.domain.types import DocumentType, VatTreatment
from traded_app.extensions import db
from traded_app.models import (
    Document,
    Engagement,
    EngagementDelivery,
    EngagementStatus,
    User,
)
from traded_app.models.brokering_money import (
    Billing,
    BrokeringMoneySettings,
    DeliveryCharge,
    EngagementTerms,
    PayoutKind,
    ProviderInvoice,
    ProviderPayout,
)
from traded_app.models.types import BillingRoute
from traded_app.services.brokering.offers import BrokeringError
from traded_app.services.documents import issuing
from traded_app.services.documents.numbering import InvoicingError
from traded_app.services.finance.balances import Figures, figures_for
from traded_app.services.platform.paging import Page, paginate_rows
from traded_app.services.platform.settings import current_academic_year, today

SETTINGS_ID = 1
CODE = "S2S"  # the document line's code for school-to-school support
ROWS_PER_PAGE = 50


# --- The council's setting --------------------------------------------------------------------


def money_settings() -> BrokeringMoneySettings:
    """The council's setting; until first saved, the defaults (not added: a page may read it)."""
    settings = db.session.get(BrokeringMoneySettings, SETTINGS_ID)
    if settings is not None:
        return settings
    return BrokeringMoneySettings(
        id=SETTINGS_ID,
        billing=Billing.DIRECT,
        fee_bp=0,
        vat_treatment=VatTreatment.STANDARD,
        vat_rate_bp=2000,
        income_code="",
    )


@dataclass(frozen=True)
class MoneyChoice:
    billing: str
    fee_bp: int
    vat_treatment: str
    vat_rate_bp: int
    income_code: str


def save_settings(choice: MoneyChoice, user: User) -> BrokeringMoneySettings:
    """The service manager's choice, checked: an agent's fee is 0% to 50%; a VAT rate goes
    with a standard or reduced treatment, none with the others."""
    try:
        billing = Billing(choice.billing)
    except ValueError:
        raise BrokeringError("Select who invoices the buying school", "billing") from None
    try:
        treatment = VatTreatment(choice.vat_treatment)
    except ValueError:
        raise BrokeringError("Select the VAT on invoices to academies", "vat_treatment") from None
    if not 0 <= choice.fee_bp <= brokerage.MAX_FEE_BP:
        raise BrokeringError(
            f"The brokerage fee must be 0% to {brokerage.MAX_FEE_BP // 100}%", "fee"
        )
    rated = treatment in (VatTreatment.STANDARD, VatTreatment.REDUCED)
    if rated and not 0 < choice.vat_rate_bp <= pricing.BASIS_POINTS:
        raise BrokeringError("Enter the VAT rate, more than 0% and at most 100%", "vat_rate")
    income_code = choice.income_code.strip()
    if len(income_code) > 32:
        raise BrokeringError("The income code must be 32 characters or fewer", "income_code")
    settings = db.session.get(BrokeringMoneySettings, SETTINGS_ID)
    if settings is None:
        settings = BrokeringMoneySettings(id=SETTINGS_ID)
        db.session.add(settings)
    settings.billing = billing
    settings.fee_bp = choice.fee_bp if billing == Billing.COUNCIL_AGENT else 0
    settings.vat_treatment = treatment
    settings.vat_rate_bp = choice.vat_rate_bp if rated else 0
    settings.income_code = income_code
    settings.updated_by_id = user.id
    db.session.flush()
    return settings


# --- An engagement's terms --------------------------------------------------------------------


def freeze_terms(engagement: Engagement) -> EngagementTerms:
    """Keep the council's setting as it is now with a new engagement."""
    settings = money_settings()
    terms = EngagementTerms(
        engagement_id=engagement.id, billing=settings.billing, fee_bp=settings.fee_bp
    )
    db.session.add(terms)
    db.session.flush()
    return terms


def terms_of(engagement: Engagement) -> EngagementTerms:
    """The engagement's terms; one made before the council's setting existed is invoiced by the
    provider directly (nothing was ever charged for it through the council)."""
    terms = db.session.get(EngagementTerms, engagement.id)
    if terms is None:
        return EngagementTerms(engagement_id=engagement.id, billing=Billing.DIRECT, fee_bp=0)
    return terms


# --- Charging the buyer, owing the provider ---------------------------------------------------


def _uncharged(engagement: Engagement) -> list[EngagementDelivery]:
    charged = set(
        db.session.execute(
            select(DeliveryCharge.delivery_id)
            .join(EngagementDelivery, EngagementDelivery.id == DeliveryCharge.delivery_id)
            .where(EngagementDelivery.engagement_id == engagement.id)
        ).scalars()
    )
    return [d for d in engagement.deliveries if d.confirmed_at is not None and d.id not in charged]


def _line(engagement: Engagement, delivery: EngagementDelivery, recharge: bool) -> issuing.LineSpec:
    settings = money_settings()
    offer = engagement.offer
    treatment, rate = (
        (VatTreatment.OUTSIDE_SCOPE, 0)
        if recharge
        else (settings.vat_treatment, settings.vat_rate_bp)
    )
    return issuing.LineSpec(
        code=CODE,
        name=f"{offer.area.name} support from {engagement.provider.name}",
        description=(
            f"{engagement.reference}: {offer.practitioner_name} "
            f"({offer.practitioner_role}), {formatting.days(delivery.half_days)} on "
            f"{formatting.long_date(delivery.delivered_on)}"
        ),
        income_code=settings.income_code,
        half_days=delivery.half_days,
        price_per_day_pence=engagement.daily_rate_pence,
        vat_treatment=treatment,
        vat_rate_bp=rate,
    )


def charge_confirmed(engagement: Engagement, user: User | None) -> Document | None:
    """Charge the buyer for its confirmed deliveries not yet charged, and owe the provider its
    share; None when the provider invoices directly or nothing is left to charge. Refused, as
    a BrokeringError saying why, when the document cannot be issued."""
    terms = terms_of(engagement)
    if terms.billing != Billing.COUNCIL_AGENT:
        return None
    deliveries = _uncharged(engagement)
    if not deliveries:
        return None
    buyer = engagement.buyer
    recharge = buyer.billing_route == BillingRoute.RECHARGE
    try:
        issuing.require_billing_address(buyer)
        document = issuing.issue_for(
            DocumentType.RECHARGE if recharge else DocumentType.INVOICE,
            issuing.Charged(
                school=buyer,
                reference=engagement.reference,
                po_number="",
                academic_year=current_academic_year(deliveries[-1].delivered_on),
                engagement_id=engagement.id,
            ),
            user,
            [_line(engagement, d, recharge) for d in deliveries],
        )
    except InvoicingError as error:
        raise BrokeringError(f"The support cannot be charged yet: {error}") from error
    for delivery in deliveries:
        db.session.add(DeliveryCharge(delivery_id=delivery.id, document_id=document.id))
    owe_provider(engagement, document, terms.fee_bp)
    db.session.flush()
    return document


def owe_provider(engagement: Engagement, document: Document, fee_bp: int) -> ProviderPayout:
    """What the council owes the providing school for `document`: its net less the fee."""
    provider = engagement.provider
    share = brokerage.split(document.net_pence, fee_bp)
    payout = ProviderPayout(
        document_id=document.id,
        engagement_id=engagement.id,
        provider_school_id=provider.id,
        kind=(
            PayoutKind.RECHARGE_CREDIT
            if provider.billing_route == BillingRoute.RECHARGE
            else PayoutKind.PAYABLE
        ),
        charged_pence=share.charged_pence,
        fee_bp=fee_bp,
        fee_pence=share.fee_pence,
        amount_pence=share.provider_pence,
        provider_name=provider.name,
        provider_urn=provider.urn,
        provider_cost_centre=provider.cost_centre or "",
        created_on=document.issue_date,
    )
    db.session.add(payout)
    db.session.flush()
    return payout


# --- The provider's own invoices --------------------------------------------------------------

MAX_REFERENCE = 40


def record_provider_invoice(
    engagement: Engagement,
    school_id: int | None,
    user: User,
    reference: str,
    issued_on: date | None,
    amount_pence: int | None,
) -> ProviderInvoice:
    """The provider's own invoice to the buyer, as the provider or the council typed it, for
    an engagement the provider invoices directly. `school_id` is the school of the user typing
    it (the provider's), None for the council."""
    if school_id is not None and school_id != engagement.provider_school_id:
        raise BrokeringError("Only the providing school records the invoice it sent")
    if terms_of(engagement).billing != Billing.DIRECT:
        raise BrokeringError("The council invoices this support: there is no invoice to record")
    if engagement.status.value not in ("accepted", "completed"):
        raise BrokeringError("Record an invoice once the engagement is agreed")
    reference = " ".join(reference.split())
    if not reference:
        raise BrokeringError("Enter the invoice's reference", "reference")
    if len(reference) > MAX_REFERENCE:
        raise BrokeringError(
            f"The reference must be {MAX_REFERENCE} characters or fewer", "reference"
        )
    if issued_on is None:
        raise BrokeringError("Enter the date of the invoice", "issued_on")
    if issued_on > today():
        raise BrokeringError("The invoice's date cannot be in the future", "issued_on")
    if issued_on < engagement.chosen_at.date():
        raise BrokeringError(
            "The invoice's date must be on or after the day the support was agreed", "issued_on"
        )
    if not amount_pence:
        raise BrokeringError("Enter the invoice's amount, more than £0", "amount")
    if any(i.reference.lower() == reference.lower() for i in provider_invoices(engagement)):
        raise BrokeringError(f"Invoice {reference} is recorded already", "reference")
    invoice = ProviderInvoice(
        engagement_id=engagement.id,
        reference=reference,
        issued_on=issued_on,
        amount_pence=amount_pence,
        recorded_by_id=user.id,
    )
    db.session.add(invoice)
    db.session.flush()
    return invoice


def provider_invoices(engagement: Engagement) -> list[ProviderInvoice]:
    return list(
        db.session.execute(
            select(ProviderInvoice)
            .where(ProviderInvoice.engagement_id == engagement.id)
            .order_by(ProviderInvoice.issued_on, ProviderInvoice.id)
        ).scalars()
    )


# --- What an engagement's page shows ----------------------------------------------------------


@dataclass(frozen=True)
class EngagementMoney:
    """What was invoiced for an engagement and what was paid, for its page."""

    terms: EngagementTerms
    charges: list[tuple[Document, Figures]]  # the buyer's documents, with their figures
    payouts: list[ProviderPayout]  # owed or paid to the provider
    provider_invoices: list[ProviderInvoice]  # the provider's own, when it invoices directly

    @property
    def by_council(self) -> bool:
        return self.terms.billing == Billing.COUNCIL_AGENT

    @property
    def fee_text(self) -> str:
        return brokerage.percent_text(self.terms.fee_bp)

    @property
    def invoiced_pence(self) -> int:
        return sum(d.gross_pence for d, _f in self.charges)

    @property
    def paid_by_buyer_pence(self) -> int:
        return sum(f.paid_pence for _d, f in self.charges)

    @property
    def owed_to_provider_pence(self) -> int:
        return sum(p.amount_pence for p in self.payouts if p.paid_on is None)

    @property
    def paid_to_provider_pence(self) -> int:
        return sum(p.amount_pence for p in self.payouts if p.paid_on is not None)

    @property
    def provider_invoiced_pence(self) -> int:
        return sum(i.amount_pence for i in self.provider_invoices)


def money_of(engagement: Engagement) -> EngagementMoney:
    documents = list(
        db.session.execute(
            select(Document)
            .where(
                Document.engagement_id == engagement.id,
                Document.document_type != DocumentType.CREDIT_NOTE,
            )
            .order_by(Document.id)
        ).scalars()
    )
    figures = figures_for(documents)
    payouts = list(
        db.session.execute(
            select(ProviderPayout)
            .where(ProviderPayout.engagement_id == engagement.id)
            .order_by(ProviderPayout.id)
        ).scalars()
    )
    return EngagementMoney(
        terms_of(engagement),
        [(d, figures[d.id]) for d in documents],
        payouts,
        provider_invoices(engagement),
    )


# --- The council's list -----------------------------------------------------------------------


@dataclass(frozen=True)
class EngagementRow:
    engagement: Engagement
    billing: Billing
    fee_bp: int
    invoiced_pence: int  # gross of the council's documents, or the provider's own invoices


def engagements_page(page: int) -> Page[EngagementRow]:
    """Every engagement the providers accepted, newest first, with who invoices it and what."""
    billing = func.coalesce(EngagementTerms.billing, Billing.DIRECT.value)
    by_council = (
        select(func.coalesce(func.sum(Document.gross_pence), 0))
        .where(
            Document.engagement_id == Engagement.id,
            Document.document_type != DocumentType.CREDIT_NOTE,
        )
        .scalar_subquery()
    )
    by_provider = (
        select(func.coalesce(func.sum(ProviderInvoice.amount_pence), 0))
        .where(ProviderInvoice.engagement_id == Engagement.id)
        .scalar_subquery()
    )
    stmt = (
        select(
            Engagement,
            billing,
            func.coalesce(EngagementTerms.fee_bp, 0),
            by_council + by_provider,
        )
        .outerjoin(EngagementTerms, EngagementTerms.engagement_id == Engagement.id)
        .options(joinedload(Engagement.buyer), joinedload(Engagement.provider))
        .where(Engagement.status.in_((EngagementStatus.ACCEPTED, EngagementStatus.COMPLETED)))
        .order_by(Engagement.chosen_at.desc(), Engagement.id.desc())
    )
    rows = paginate_rows(stmt, page, ROWS_PER_PAGE)
    return rows.map(lambda row: EngagementRow(row[0], Billing(row[1]), int(row[2]), int(row[3])))
