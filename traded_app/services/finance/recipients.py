"""Whom a document's e-mails (the document itself, reminders) go to.

A document goes to its school's billing contact, except a VAT invoice (or credit note) issued
to a trust (the council addresses that trust's invoices to it: services/documents/trust_billing):
that goes to the finance contact it was issued to, the trust's.
"""

from __future__ import annotations

from traded_app.models import Document


def issued_to_trust(document: Document) -> bool:
    trust = document.school.trust
    return trust is not None and document.buyer_name == trust.name[:200]


def recipient_of(document: Document) -> str:
    """The e-mail address for the document, or "" when there is none."""
    if issued_to_trust(document) and document.buyer_contact_email.strip():
        return document.buyer_contact_email.strip()
    return (document.school.billing_contact_email or "").strip()
