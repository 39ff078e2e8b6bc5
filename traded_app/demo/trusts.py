"""Demo data for multi-academy trusts: three demo academies that have VAT invoices (Frinton-on-Sea,
Great Bentley and Home Farm) belong to an illustrative trust, whose finance lead signs in as
`trust@example.org` (password `demo-password`), sees and pays for all three, and may order days
for them (the trust allows it). One remittance
from the trust, covering two of its academies' invoices, waits for finance to match it. The trust, its
Companies House number and its membership are illustrative, like the demo's quadrants.

The trust is on consolidated invoicing: its academies keep their own invoices, and the trust has
one consolidated invoice listing each academy's latest VAT invoice (as an invoice run would
issue it)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from traded_app.demo.records import one, upsert
from traded_app.domain.trusts import InvoiceTo
from traded_app.extensions import db
from traded_app.models import (
    ConsolidatedInvoice,
    Document,
    DocumentType,
    Remittance,
    RemittanceDocument,
    RemittanceStatus,
    School,
    Trust,
    User,
)
from traded_app.models.types import Role
from traded_app.services.documents import consolidated
from traded_app.services.finance import remittances
from traded_app.services.platform.settings import today

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
            # The trust lets its staff order for its academies (each order stays the academy's).
            "staff_may_order": True,
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


REMITTANCE_KEY = "demo-trust-remittance"


def load_remittance(trust: Trust) -> int:
    """One remittance from the trust waiting for finance to match it: one payment for the
    oldest invoice left to pay of each of two academies (none already in a waiting remittance),
    with a CSV remittance advice. Made once (found by its form key); 0 when there is nothing to
    cover."""
    existing = db.session.execute(
        select(Remittance).where(
            Remittance.trust_id == trust.id, Remittance.form_key == REMITTANCE_KEY
        )
    ).scalar_one_or_none()
    if existing is not None:
        return 1
    user = one(User, email=TRUST_EMAIL)
    claimed = set(
        db.session.scalars(
            select(RemittanceDocument.document_id)
            .join(Remittance, Remittance.id == RemittanceDocument.remittance_id)
            .where(Remittance.status == RemittanceStatus.WAITING)
        )
    )
    chosen: dict[int, remittances.Payable] = {}
    for payable in remittances.payable_for_trust(trust):
        document = payable.document
        if document.id not in claimed and document.school_id not in chosen:
            chosen[document.school_id] = payable
        if len(chosen) == 2:
            break
    if user is None or not chosen:
        return 0
    covered = list(chosen.values())
    total = sum(p.balance_pence for p in covered)
    advice = "Invoice number,Academy,Amount paid\n" + "".join(
        f"{p.document.number},{p.document.school.name},"
        f"{p.balance_pence // 100}.{p.balance_pence % 100:02d}\n"
        for p in covered
    )
    remittances.submit(
        trust,
        user,
        REMITTANCE_KEY,
        total,
        today() - timedelta(days=1),
        "TCLT BACS 0412",
        [p.document.id for p in covered],
        note="One transfer from the trust's central account for two academies.",
        file=remittances.check_file("trust-remittance-advice.csv", advice.encode()),
    )
    return 1


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
