"""Enumerations of the domain (DOMAIN.md) and the role groups: plain Python, no database.

Models store them (traded_app.models.types has the column type); views and forms name them from
here, so the web side never imports a model module for a word of the domain.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SCHOOL_BUSINESS_MANAGER = "school_business_manager"
    HEADTEACHER = "headteacher"
    LA_FINANCE = "la_finance"
    LA_ADMIN = "la_admin"
    ADVISER = "adviser"
    TRUST_FINANCE = "trust_finance"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_school_role(self) -> bool:
        return self in SCHOOL_ROLES


ROLE_LABELS = {
    Role.SCHOOL_BUSINESS_MANAGER: "School business manager",
    Role.HEADTEACHER: "Headteacher",
    Role.LA_FINANCE: "Finance officer",
    Role.LA_ADMIN: "Service manager",
    Role.ADVISER: "School Performance Partner",
    Role.TRUST_FINANCE: "Trust finance",
}
SCHOOL_ROLES = frozenset({Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER})
COUNCIL_ROLES = frozenset({Role.LA_FINANCE, Role.LA_ADMIN, Role.ADVISER})
# A multi-academy trust's central finance staff: they belong to a trust, not to a school, and see
# (and pay for) its academies.
TRUST_ROLES = frozenset({Role.TRUST_FINANCE})


class Phase(StrEnum):
    NURSERY = "nursery"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    ALL_THROUGH = "all_through"
    SPECIAL = "special"
    PRU = "pru"

    @property
    def label(self) -> str:
        return {"all_through": "All-through", "pru": "PRU"}.get(self.value, self.value.title())


class EstablishmentType(StrEnum):
    LA_MAINTAINED = "la_maintained"
    ACADEMY = "academy"
    FREE_SCHOOL = "free_school"
    SPECIAL = "special"
    PRU = "pru"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "la_maintained": "LA maintained",
            "free_school": "Free school",
            "pru": "Pupil referral unit",
            "special": "Special school",
        }.get(self.value, self.value.title())


class CustomerType(StrEnum):
    """Who the council is selling to; VAT treatment is set per customer type."""

    MAINTAINED = "maintained"
    ACADEMY = "academy"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "maintained": "Maintained school",
            "academy": "Academy or free school",
            "other": "Other customer",
        }[self.value]


class BillingRoute(StrEnum):
    INVOICE = "invoice"  # a VAT invoice, paid by bank transfer or card
    RECHARGE = "recharge"  # an internal recharge, settled by journal against a cost centre

    @property
    def label(self) -> str:
        return {"invoice": "VAT invoice", "recharge": "Internal recharge"}[self.value]


class SchoolStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ServiceGroup(StrEnum):
    LEADERSHIP = "leadership"
    GOVERNANCE = "governance"
    SAFEGUARDING = "safeguarding"
    SEND = "send"
    CURRICULUM = "curriculum"
    EVENTS = "events"

    @property
    def label(self) -> str:
        return {"send": "SEND and pupil premium"}.get(self.value, self.value.title())


class VatTreatment(StrEnum):
    STANDARD = "standard"
    REDUCED = "reduced"
    ZERO = "zero"
    EXEMPT = "exempt"
    OUTSIDE_SCOPE = "outside_scope"

    @property
    def label(self) -> str:
        return {
            "standard": "Standard rate",
            "reduced": "Reduced rate",
            "zero": "Zero rate",
            "exempt": "Exempt",
            "outside_scope": "Outside the scope of VAT",
        }[self.value]


class AllocationReason(StrEnum):
    PARTNERSHIP = "partnership"
    UNPARTNERED_VISIT = "unpartnered_visit"
    CAUSING_CONCERN = "causing_concern"
    SPECIAL_OR_PRU = "special_or_pru"
    ENHANCED_PROVISION = "enhanced_provision"
    HEADTEACHER_RECRUITMENT = "headteacher_recruitment"

    @property
    def label(self) -> str:
        return {
            "partnership": "Share of partnership days",
            "unpartnered_visit": "Annual visit (school in no partnership)",
            "causing_concern": "Additional support: school causing concern",
            "special_or_pru": "Special school or PRU allocation",
            "enhanced_provision": "Enhanced provision",
            "headteacher_recruitment": "Advice to governors recruiting a headteacher",
        }[self.value]


ALL_ROLES = frozenset(Role)


class OrderStatus(StrEnum):
    """Where an order is in its life (DOMAIN.md): draft → awaiting headteacher approval (only
    when over the school's limit) → submitted (with the council) → confirmed by the council (or
    declined) → in progress → completed; or withdrawn, or cancelled. The headteacher may also
    reject an order awaiting approval, and the school may ask the council to cancel a confirmed
    one. The steps between them, and who takes each, are ordering.workflow.TRANSITIONS."""

    DRAFT = "draft"  # the school's basket: no prices frozen yet
    AWAITING_APPROVAL = "awaiting_approval"  # over the school's limit: the headteacher decides
    SUBMITTED = "submitted"  # with the council
    CONFIRMED = "confirmed"  # by the council: its days are sold, and it is charged
    DECLINED = "declined"  # by the council
    REJECTED = "rejected"  # by the headteacher
    WITHDRAWN = "withdrawn"  # by the school, before the council confirmed
    CANCELLATION_REQUESTED = "cancellation_requested"  # by the school: the council decides
    IN_PROGRESS = "in_progress"  # its first day delivered (or charged as a late cancellation)
    COMPLETED = "completed"  # every day used
    CANCELLED = "cancelled"  # by the council: its undelivered days released and credited

    @property
    def label(self) -> str:
        return {
            "awaiting_approval": "Awaiting headteacher approval",
            "submitted": "Submitted to the council",
            "cancellation_requested": "Cancellation requested",
            "in_progress": "In progress",
        }.get(self.value, self.value.replace("_", " ").capitalize())

    @property
    def tag_class(self) -> str:
        """The GOV.UK tag colour that shows this status."""
        return {
            "draft": "govuk-tag--grey",
            "awaiting_approval": "govuk-tag--yellow",
            "submitted": "govuk-tag--light-blue",
            "confirmed": "govuk-tag--green",
            "in_progress": "govuk-tag--turquoise",
            "completed": "govuk-tag--blue",
            "cancellation_requested": "govuk-tag--orange",
            "declined": "govuk-tag--red",
            "rejected": "govuk-tag--red",
            "withdrawn": "govuk-tag--grey",
            "cancelled": "govuk-tag--grey",
        }[self.value]


class DocumentType(StrEnum):
    INVOICE = "invoice"  # a VAT invoice, paid by bank transfer or card
    RECHARGE = "recharge"  # an internal recharge, settled by journal against a cost centre
    CREDIT_NOTE = "credit_note"

    @property
    def label(self) -> str:
        return {
            "invoice": "VAT invoice",
            "recharge": "Internal recharge",
            "credit_note": "Credit note",
        }[self.value]


class ExportKind(StrEnum):
    SALES_CSV = "sales_csv"
    SALES_XLSX = "sales_xlsx"
    JOURNAL_CSV = "journal_csv"
    PDF_ZIP = "pdf_zip"

    @property
    def label(self) -> str:
        return {
            "sales_csv": "Sales ledger (CSV)",
            "sales_xlsx": "Sales ledger (XLSX)",
            "journal_csv": "Recharge journal (CSV)",
            "pdf_zip": "PDFs (ZIP)",
        }[self.value]

    @property
    def family(self) -> str:
        """Exports of one family post the same documents: a document in a sales CSV is already
        in the ledger when the XLSX of the same range is made."""
        return {"sales_csv": "sales", "sales_xlsx": "sales"}.get(self.value, self.value)

    @property
    def kinds_in_family(self) -> tuple[ExportKind, ...]:
        return tuple(k for k in ExportKind if k.family == self.family)


class CancelledBy(StrEnum):
    """Whose decision a cancellation was: only a school's late cancellation can be charged."""

    SCHOOL = "school"
    COUNCIL = "council"

    @property
    def label(self) -> str:
        return {"school": "The school", "council": "The council"}[self.value]
