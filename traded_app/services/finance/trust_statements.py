"""A trust's statement of account: its academies' statements for one period, grouped.

Each academy's part is that academy's own statement (services/finance/statements.py: the same
figures as the register and aged debt), so the trust's totals are the sums of its academies'
and agree with theirs to the penny. Every school linked to the trust is included, closed ones
too (a closed academy's invoices can still be open).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from traded_app.formatting import long_date
from traded_app.models import School, Trust
from traded_app.services.finance import statements
from traded_app.services.finance.statements import Statement
from traded_app.services.platform.audit import safe_cell

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
        for e in member.entries:
            writer.writerow(
                (
                    *school,
                    e.on.isoformat(),
                    e.kind,
                    safe_cell(e.reference),
                    safe_cell(e.detail),
                    money(e.debit_pence) if e.debit_pence else "",
                    money(e.credit_pence) if e.credit_pence else "",
                    money(e.balance_pence),
                )
            )
        writer.writerow(
            (
                *school,
                member.end.isoformat(),
                "Closing balance",
                "",
                "",
                money(member.debits_pence),
                money(member.credits_pence),
                money(member.closing_pence),
            )
        )
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
    return out.getvalue()


def file_stem(statement: TrustStatement) -> str:
    start, end = statement.start.isoformat(), statement.end.isoformat()
    return f"trust-statement-{statement.trust.id}-{start}-to-{end}"
