"""Demo data for multi-academy trusts: three demo academies that have VAT invoices (Frinton-on-Sea,
Great Bentley and Home Farm) belong to an illustrative trust, whose finance lead signs in as
`trust@example.org` (password `demo-password`) and sees and pays for all three. The trust, its
Companies House number and its membership are illustrative, like the demo's quadrants.

The trust is on consolidated invoicing: its academies keep their own invoices, and the trust has
one consolidated invoice listing each academy's latest VAT invoice (as an invoice run would
issue it)."""

from __future__ import annotations

from sqlalchemy import select

from traded_app.demo.records import one, upsert
from traded_app.domain.trusts import InvoiceTo
from traded_app.extensions import db
from traded_app.models import ConsolidatedInvoice, Document, DocumentType, School, Trust, User
from traded_app.models.types import Role
from traded_app.services.documents import consolidated

TRUST_NAME = "Tendring Coast Learning Trust"
TRUST_EMAIL = "trust@example.org"
MEMBERS = ("frinton", "greatbentley", "homefarm")


def load(demo_schools: dict[str, School], password_hash: str) -> Trust:
    trust = upsert(
        Trust,
        {"companies_house_number": "09876543"},
        {
            "name": TRUST_NAME,
            "billing_address": "Trust Central Office\n1 Harbour Road\nClacton-on-Sea\nCO15 1AA",
            "finance_email": "finance@tendring-coast.example.org",
            "invoice_to": InvoiceTo.CONSOLIDATED,
        },
    )
    db.session.flush()
    for key in MEMBERS:
        if key in demo_schools and demo_schools[key].trust_id != trust.id:
            demo_schools[key].trust_id = trust.id
    user = one(User, email=TRUST_EMAIL)
    if user is None:
        user = User(email=TRUST_EMAIL, password_hash=password_hash)
        db.session.add(user)
    user.name = "Tara Quinn"
    user.role = Role.TRUST_FINANCE
    user.school_id = None
    user.trust_id = trust.id
    user.active = True
    db.session.flush()
    consolidated_invoice(trust)
    return trust


def consolidated_invoice(trust: Trust) -> ConsolidatedInvoice | None:
    """The trust's one demo consolidated invoice (made once): each member academy's latest VAT
    invoice of ours (not one brought forward), dated as the latest of them."""
    made = db.session.execute(
        select(ConsolidatedInvoice).where(ConsolidatedInvoice.trust_id == trust.id).limit(1)
    ).scalar_one_or_none()
    if made is not None:
        return made
    latest: list[Document] = []
    for school in db.session.execute(
        select(School).where(School.trust_id == trust.id).order_by(School.name)
    ).scalars():
        document = db.session.execute(
            select(Document)
            .where(
                Document.school_id == school.id,
                Document.document_type == DocumentType.INVOICE,
                Document.brought_forward.is_(False),
            )
            .order_by(Document.issue_date.desc(), Document.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if document is not None:
            latest.append(document)
    if not latest:
        return None
    on = max(document.issue_date for document in latest)
    return consolidated.issue_for_trust(trust, latest, on)
