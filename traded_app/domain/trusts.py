"""Multi-academy trusts: the pure rules (no database).

A trust is a company: its Companies House number is eight characters, either eight digits
(England and Wales, the usual case for an academy trust; written with its leading zeros) or a
two-letter prefix and six digits (Scotland "SC", Northern Ireland "NI", and the other registers).
People often type it without the leading zeros or with spaces; `companies_house_number` gives the
number as Companies House prints it, or None when it cannot be one.
"""

from __future__ import annotations

import re
from enum import StrEnum

_DIGITS = re.compile(r"[0-9]{1,8}")
_PREFIXED = re.compile(r"(?:[A-Z]{2}[0-9]{6}|R[0-9]{7})")


def companies_house_number(raw: str) -> str | None:
    """The number as Companies House writes it ("07318714", "SC123456"), or None."""
    text = "".join(raw.split()).upper()
    if not text:
        return None
    if _DIGITS.fullmatch(text):
        return text.zfill(8) if int(text) > 0 else None
    return text if _PREFIXED.fullmatch(text) else None


class InvoiceTo(StrEnum):
    """Whom the council's invoices for a trust's academies are addressed to (a council setting
    per trust)."""

    ACADEMY = "academy"
    TRUST = "trust"
    # Each academy still gets its own documents (its ledger and balance stay its own), and each
    # invoice run also issues the trust one consolidated invoice listing them.
    CONSOLIDATED = "consolidated"

    @property
    def label(self) -> str:
        return {
            "academy": "Each academy (its own address and billing contact)",
            "trust": "The trust (its billing address), naming the academy on each line",
            "consolidated": (
                "Each academy, and the trust gets one consolidated invoice per invoice run "
                "listing every academy's invoices"
            ),
        }[self.value]
