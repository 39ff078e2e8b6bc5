"""Enumerations of the domain (DOMAIN.md) and the column type that stores them."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


def enum_column(enum_cls: type[StrEnum], name: str) -> Enum:
    """Store a StrEnum as its value in a VARCHAR with a CHECK constraint on both backends."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class Role(StrEnum):
    SCHOOL_BUSINESS_MANAGER = "school_business_manager"
    HEADTEACHER = "headteacher"
    LA_FINANCE = "la_finance"
    LA_ADMIN = "la_admin"
    ADVISER = "adviser"

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
}
SCHOOL_ROLES = frozenset({Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER})
COUNCIL_ROLES = frozenset({Role.LA_FINANCE, Role.LA_ADMIN, Role.ADVISER})


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
