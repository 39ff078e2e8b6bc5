"""The rules of quotes and purchase order numbers, with no database.

A quote is valid from its issue date to `valid_until` inclusive (the council's validity period,
in days, after the issue date): while it is valid, an order made from it keeps its prices;
from the day after, today's catalogue prices apply.

A school may submit an order without its purchase order (PO) number and add it later. Whether
the charge waits for it: only a VAT invoice to a school whose own settings require a PO. A
maintained school's internal recharge is settled by journal against its cost centre inside the
council, and councils issue those without a PO (the journal carries the cost centre), so a
recharge never waits.
"""

from __future__ import annotations

from datetime import date, timedelta

from traded_app.domain.types import BillingRoute

DEFAULT_VALIDITY_DAYS = 30
MAX_VALIDITY_DAYS = 365


def valid_until(issued_on: date, validity_days: int) -> date:
    """The last day a quote issued on `issued_on` is valid."""
    if not 1 <= validity_days <= MAX_VALIDITY_DAYS:
        raise ValueError(f"A quote is valid for 1 to {MAX_VALIDITY_DAYS} days")
    return issued_on + timedelta(days=validity_days)


def is_valid(until: date, on: date) -> bool:
    """Whether a quote valid until `until` still holds its prices on `on`."""
    return on <= until


def days_left(until: date, on: date) -> int:
    """Whole days the quote still holds after `on` (0 on its last day; negative once expired)."""
    return (until - on).days


def charge_waits_for_po(po_required: bool, billing_route: BillingRoute, po_number: str) -> bool:
    """Whether an order's charge must wait until the school gives its PO number."""
    return po_required and billing_route == BillingRoute.INVOICE and not po_number.strip()
