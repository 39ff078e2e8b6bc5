"""Demo data for multi-academy trusts: three demo academies that have VAT invoices (Frinton-on-Sea,
Great Bentley and Home Farm) belong to an illustrative trust, whose finance lead signs in as
`trust@example.org` (password `demo-password`) and sees and pays for all three. The trust, its
Companies House number and its membership are illustrative, like the demo's quadrants."""

from __future__ import annotations

from traded_app.demo.records import one, upsert
from traded_app.domain.trusts import InvoiceTo
from traded_app.extensions import db
from traded_app.models import School, Trust, User
from traded_app.models.types import Role

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
            "invoice_to": InvoiceTo.ACADEMY,
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
    return trust
