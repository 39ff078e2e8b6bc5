"""A trust's statement of account: its academies' statements for one period, grouped.

Each academy's part is that academy's own statement (services/finance/statements.py: the same
figures as the register and aged debt), so the trust's totals are the sums of its academies'
and agree with theirs to the penny; so does the ageing of what is open at the period's end (aged
debt's buckets, summed over the academies). Every school linked to the trust is included,
closed ones too (a closed academy's invoices can still be open).

`trust_balances` is council finance's list of trusts: each trust's balance today from the kept
figures (`document_figures`, what the register, aged debt and each statement's closing balance
on today read), in two queries whatever the number of trusts and documents.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, select

from traded_app.extensions import db
from traded_app.formatting import long_date
from traded_app.models import DocumentFigures, DocumentType, School, Trust
from traded_app.services.finance import aged_debt, statements
from traded_app.services.finance.statements import Ageing, Statement
from traded_app.services.platform.audit import safe_cell
from traded_app.services.platform.settings import today

CSV_HEADER = (
    "Academy",
    "URN",
    "Date",
    "Type",
    "Reference",
    "Details",
    "Charged",
    "Paid or credited",
    "Balance",
)


@dataclass(frozen=True)
class TrustStatement:
    trust: Trust
    start: date
    end: date
    members: list[Statement]

    @property
    def opening_pence(self) -> int:
        return sum(m.opening_pence for m in self.members)

    @property
    def debits_pence(self) -> int:
        return sum(m.debits_pence for m in self.members)

    @property
    def credits_pence(self) -> int:
        return sum(m.credits_pence for m in self.members)

    @property
    def closing_pence(self) -> int:
        return sum(m.closing_pence for m in self.members)

    @property
    def open_total_pence(self) -> int:
        return sum(m.ageing.total_pence for m in self.members)

    @property
    def ageing(self) -> Ageing:
        """What is open at the period's end over all the academies, by age: the sum of each
        academy's ageing (aged debt's buckets), so it agrees with aged debt to the penny."""
        ages = aged_debt.Ages()
        for member in self.members:
            ages.add(member.ageing.ages)
        return Ageing(
            ages,
            sum(m.ageing.open_invoices for m in self.members),
            sum(m.ageing.recharges_pence for m in self.members),
            sum(m.ageing.in_hand_pence for m in self.members),
        )

    @property
    def title(self) -> str:
        return f"Statement of account for {self.trust.name}"

    @property
    def period_text(self) -> str:
        return f"{long_date(self.start)} to {long_date(self.end)}"


def statement_for(trust: Trust, schools: list[School], start: date, end: date) -> TrustStatement:
    """The trust's statement: each of `schools` (its academies) for `start` to `end`."""
    return TrustStatement(
        trust, start, end, [statements.statement_for(s, start, end) for s in schools]
    )


def as_csv(statement: TrustStatement) -> str:
    """One table: each academy's opening balance, entries and closing balance, then the trust's
    totals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    money = statements.money_text
    for member in statement.members:
        school = (safe_cell(member.school.name), member.school.urn)
        opening = money(member.opening_pence)
        writer.writerow(
            (*school, member.start.isoformat(), "Opening balance", "", "", "", "", opening)
        )
        writer.writerows((*school, *statements.entry_cells(e)) for e in member.entries)
        writer.writerow((*school, *statements.closing_cells(member)))
    writer.writerow(
        (
            safe_cell(statement.trust.name),
            "",
            statement.end.isoformat(),
            "Trust closing balance",
            "",
            "",
            money(statement.debits_pence),
            money(statement.credits_pence),
            money(statement.closing_pence),
        )
    )
    ageing = statement.ageing
    open_on = f"Open on {statement.end.isoformat()}"
    rows = [(f"VAT invoices: {label.lower()}", pence) for label, pence in ageing.buckets]
    rows += [
        ("Internal recharges waiting for a journal", ageing.recharges_pence),
        ("Money in hand (refunds due or paid ahead)", ageing.in_hand_pence),
        ("Total open", ageing.total_pence),
    ]
    trust = safe_cell(statement.trust.name)
    for label, pence in rows:
        writer.writerow(
            (trust, "", statement.end.isoformat(), open_on, "", label, "", "", money(pence))
        )
    return out.getvalue()


def file_stem(statement: TrustStatement) -> str:
    start, end = statement.start.isoformat(), statement.end.isoformat()
    return f"trust-statement-{statement.trust.id}-{start}-to-{end}"


# --- Council finance's list of trusts ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrustBalance:
    """A trust as finance's list shows it: its academies and what they owe today."""

    trust_id: int
    name: str
    academies: int  # every school linked to the trust, open or closed
    balance_pence: int  # owed (positive) or in hand (negative), all its academies' documents
    overdue_pence: int  # of which on VAT invoices past their due date


def trust_balances() -> list[TrustBalance]:
    """Every trust by name with its academies' balance today (the sum of their statements'
    closing balances on today, and of their rows in aged debt's overdue buckets)."""
    f = DocumentFigures
    overdue = and_(
        f.document_type == DocumentType.INVOICE.value, f.balance_pence > 0, f.due_date < today()
    )
    sums = {
        int(trust_id): (int(balance), int(late))
        for trust_id, balance, late in db.session.execute(
            select(
                School.trust_id,
                func.coalesce(func.sum(f.balance_pence), 0),
                func.coalesce(func.sum(case((overdue, f.balance_pence), else_=0)), 0),
            )
            .join(School, School.id == f.school_id)
            .where(School.trust_id.is_not(None))
            .group_by(School.trust_id)
        ).tuples()
    }
    academies = (
        select(func.count()).where(School.trust_id == Trust.id).correlate(Trust).scalar_subquery()
    )
    rows = db.session.execute(
        select(Trust.id, Trust.name, academies).order_by(Trust.name, Trust.id)
    ).tuples()
    return [
        TrustBalance(int(id_), str(name), int(count), *sums.get(int(id_), (0, 0)))
        for id_, name, count in rows
    ]
