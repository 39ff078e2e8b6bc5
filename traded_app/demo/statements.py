"""Demo statements and remittances: every demo school with documents has a statement (worked
out from its documents and payments whenever it is asked for, so nothing is stored for it), and
one academy's remittance waits for finance to match it.

Idempotent: the remittance is found by its form key and made once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import Remittance, School, User
from traded_app.services.finance import remittances
from traded_app.services.platform.settings import today

FORM_KEY = "demo-remittance"
PAYER = "sbm2@example.org"  # the academy's business manager


def load_remittance() -> int:
    """One remittance from the academy for its oldest invoice left to pay (0: none to make)."""
    user = db.session.execute(select(User).where(User.email == PAYER)).scalar_one_or_none()
    school = db.session.get(School, user.school_id) if user and user.school_id else None
    if user is None or school is None:
        return 0
    existing = db.session.execute(
        select(Remittance).where(Remittance.school_id == school.id, Remittance.form_key == FORM_KEY)
    ).scalar_one_or_none()
    if existing is not None:
        return 1
    payable = remittances.payable_documents(school)
    if not payable:
        return 0
    oldest = payable[0]
    advice = (
        "Invoice number,Amount paid\n"
        f"{oldest.document.number},{oldest.balance_pence // 100}.{oldest.balance_pence % 100:02d}\n"
    ).encode()
    remittances.submit(
        school,
        user,
        FORM_KEY,
        oldest.balance_pence,
        today() - timedelta(days=2),
        f"BACS {oldest.document.number}",
        [oldest.document.id],
        note="Paid in full by bank transfer.",
        file=remittances.check_file("remittance-advice.csv", advice),
    )
    return 1
