"""Money at a glance: the figures a council finance officer lands on (issue 17): what is owed
on VAT invoices and how overdue, the recharges waiting for a journal, and the documents never
e-mailed. Card payments to review are counted by card_payments (above this package)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select

from traded_app.extensions import db
from traded_app.models import Document, DocumentSend
from traded_app.services.finance import aged_debt


@dataclass(frozen=True)
class MoneyAtAGlance:
    debt: aged_debt.AgedDebt
    documents_not_sent: int

    @property
    def owed_pence(self) -> int:
        return self.debt.totals.total

    @property
    def overdue_pence(self) -> int:
        return self.debt.totals.overdue


def documents_not_sent() -> int:
    """Issued documents (not brought forward from another system) never e-mailed successfully."""
    sent = exists().where(DocumentSend.document_id == Document.id, DocumentSend.succeeded)
    return int(
        db.session.execute(
            select(func.count()).select_from(Document).where(~Document.brought_forward, ~sent)
        ).scalar_one()
    )


def money_at_a_glance() -> MoneyAtAGlance:
    return MoneyAtAGlance(aged_debt.aged_debt(), documents_not_sent())
