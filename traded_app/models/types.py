"""The column type that stores the domain's enumerations (traded_app.domain.types), which are
imported here too so models and services may keep naming them from this module."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum

from traded_app.domain.types import (
    COUNCIL_ROLES,
    ROLE_LABELS,
    SCHOOL_ROLES,
    AllocationReason,
    BillingRoute,
    CustomerType,
    EstablishmentType,
    Phase,
    Role,
    SchoolStatus,
    ServiceGroup,
    VatTreatment,
)

__all__ = [
    "COUNCIL_ROLES",
    "ROLE_LABELS",
    "SCHOOL_ROLES",
    "AllocationReason",
    "BillingRoute",
    "CustomerType",
    "EstablishmentType",
    "Phase",
    "Role",
    "SchoolStatus",
    "ServiceGroup",
    "VatTreatment",
    "enum_column",
]


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
