"""Whom a document for a trust's academy is addressed to: the council's setting per trust.

By default (and for any school in no trust) a document is addressed to the school itself, as
`issuing.buyer_details` copies it. When the council addresses a trust's invoices to the trust,
the buyer a document copies at issue time is the trust (its name, billing address and finance
contact), and each line names the academy it is for. The document still belongs to the academy
(`school_id`, its URN): its balance, statement and the trust's view of it are the academy's.
A recharge is never addressed to a trust (a maintained school is part of the council), and a
document already issued never changes when the setting does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from traded_app.domain.trusts import InvoiceTo
from traded_app.models import School
from traded_app.models.types import BillingRoute


def addressed_to_trust(school: School) -> bool:
    trust = school.trust
    return (
        trust is not None
        and trust.invoice_to == InvoiceTo.TRUST
        and school.billing_route == BillingRoute.INVOICE
    )


def consolidating_trust_id(school: School) -> int | None:
    """The trust whose consolidated invoices list the school's VAT invoices issued now (its
    trust is on consolidated invoicing), or None."""
    trust = school.trust
    if (
        trust is not None
        and trust.invoice_to == InvoiceTo.CONSOLIDATED
        and school.billing_route == BillingRoute.INVOICE
    ):
        return trust.id
    return None


def buyer_for(school: School, details: dict[str, Any]) -> dict[str, Any]:
    """`details` (the school's, from issuing.buyer_details) with the trust as the buyer when
    the council addresses the school's trust's invoices to the trust."""
    if not addressed_to_trust(school):
        return details
    trust = school.trust
    assert trust is not None  # addressed_to_trust checked it
    return details | {
        "buyer_name": trust.name[:200],
        "buyer_address": trust.billing_address.strip() or details["buyer_address"],
        "buyer_contact_name": "",
        "buyer_contact_email": trust.finance_email or details["buyer_contact_email"],
    }


def academy_line(school: School, description: str) -> str:
    """A line's description naming the academy it is for."""
    named = f"For {school.name} (URN {school.urn})"
    return f"{named}. {description}" if description else named


def lines_for(school: School, lines: list[Any]) -> list[Any]:
    """The document's lines (issuing.LineSpec), each naming the academy when the document is
    addressed to its trust."""
    if not addressed_to_trust(school):
        return lines
    return [replace(line, description=academy_line(school, line.description)) for line in lines]
