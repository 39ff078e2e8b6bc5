"""Aged debt: what outside customers owe on VAT invoices, by school and by how long overdue.

Only VAT invoices are debt: an internal recharge is settled by the council's own journal, so it
is shown apart ("awaiting a journal"), never aged. The buckets count days past the due date:
not yet due, 1–30 ("0–30 days overdue"), 31–60, 61–90 and over 90. The whole page is two
grouped queries, whatever the number of invoices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select

from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models import Document, DocumentType, Quadrant, School
from traded_app.models.finance import Reminder, ReminderKind
from traded_app.services.finance import balances
from traded_app.services.platform.settings import today

BUCKETS = (
    ("current", "Not yet due"),
    ("d0_30", "0 to 30 days overdue"),
    ("d31_60", "31 to 60 days overdue"),
    ("d61_90", "61 to 90 days overdue"),
    ("d90_plus", "Over 90 days overdue"),
)


@dataclass
class Ages:
    current: int = 0
    d0_30: int = 0
    d31_60: int = 0
    d61_90: int = 0
    d90_plus: int = 0

    @property
    def overdue(self) -> int:
        return self.d0_30 + self.d31_60 + self.d61_90 + self.d90_plus

    @property
    def total(self) -> int:
        return self.current + self.overdue

    def get(self, key: str) -> int:
        return int(getattr(self, key))

    def add(self, other: Ages) -> None:
        for key, _label in BUCKETS:
            setattr(self, key, self.get(key) + other.get(key))


@dataclass(frozen=True)
class SchoolDebt:
    school_id: int
    name: str
    urn: int
    quadrant_name: str
    invoices: int
    ages: Ages


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    pence: int
    width: int  # out of 100, for the chart


@dataclass
class AgedDebt:
    on: date
    schools: list[SchoolDebt]
    totals: Ages = field(default_factory=Ages)
    recharges_awaiting: int = 0
    recharges_awaiting_pence: int = 0

    @property
    def bars(self) -> list[Bar]:
        largest = max([self.totals.get(k) for k, _ in BUCKETS] + [1])
        return [
            Bar(key, label, self.totals.get(key), round(100 * self.totals.get(key) / largest))
            for key, label in BUCKETS
        ]


def _bucket_sums(due: Any, balance: Any, on: date) -> list[Any]:
    """SUM(CASE …) of the balance per bucket, comparing due dates with fixed cut-off dates (so
    the SQL is the same on SQLite and PostgreSQL)."""
    cut = [on - timedelta(days=n) for n in (0, 30, 60, 90)]
    conditions = [
        due >= cut[0],
        (due < cut[0]) & (due >= cut[1]),
        (due < cut[1]) & (due >= cut[2]),
        (due < cut[2]) & (due >= cut[3]),
        due < cut[3],
    ]
    return [func.coalesce(func.sum(case((c, balance), else_=0)), 0) for c in conditions]


def aged_debt(on: date | None = None, quadrant_id: int | None = None) -> AgedDebt:
    on = on or today()
    stmt, cols = balances.with_figures(
        select(Document).where(Document.document_type == DocumentType.INVOICE), on
    )
    inner = (
        stmt.with_only_columns(Document.school_id, Document.due_date, cols.balance.label("balance"))
        .where(cols.balance > 0)
        .subquery()
    )
    query = (
        select(
            School.id,
            School.name,
            School.urn,
            Quadrant.name,
            func.count(),
            *_bucket_sums(inner.c.due_date, inner.c.balance, on),
        )
        .select_from(inner)
        .join(School, School.id == inner.c.school_id)
        .outerjoin(Quadrant, Quadrant.id == School.quadrant_id)
        .group_by(School.id, School.name, School.urn, Quadrant.name)
    )
    if quadrant_id is not None:
        query = query.where(School.quadrant_id == quadrant_id)
    schools = [
        SchoolDebt(
            school_id, name, urn, quadrant or "", int(count), Ages(*(int(v) for v in amounts))
        )
        for school_id, name, urn, quadrant, count, *amounts in db.session.execute(query)
    ]
    schools.sort(key=lambda s: (-s.ages.overdue, -s.ages.total, s.name))
    result = AgedDebt(on, schools)
    for school in schools:
        result.totals.add(school.ages)
    recharge_stmt, rcols = balances.with_figures(
        select(Document).where(Document.document_type == DocumentType.RECHARGE), on
    )
    recharges = recharge_stmt.with_only_columns(rcols.balance.label("balance")).subquery()
    if quadrant_id is None:
        count, pence = db.session.execute(
            select(func.count(), func.coalesce(func.sum(recharges.c.balance), 0)).where(
                recharges.c.balance > 0
            )
        ).one()
        result.recharges_awaiting, result.recharges_awaiting_pence = int(count), int(pence)
    return result


@dataclass(frozen=True)
class OverdueInvoice:
    document: Document
    balance_pence: int
    days_overdue: int
    last_reminder: Reminder | None
    next_reminder_on: date | None  # None: a reminder may go now

    @property
    def can_remind(self) -> bool:
        return self.next_reminder_on is None


def overdue_invoices(
    interval_days: int, on: date | None = None, school_id: int | None = None, limit: int = 500
) -> list[OverdueInvoice]:
    """Overdue VAT invoices, longest overdue first, each with its last reminder and when the
    next may go (a reminder goes at most once in `interval_days`)."""
    on = on or today()
    stmt, cols = balances.with_figures(
        select(Document).where(
            Document.document_type == DocumentType.INVOICE, Document.due_date < on
        ),
        on,
    )
    if school_id is not None:
        stmt = stmt.where(Document.school_id == school_id)
    last = (
        select(Reminder.document_id, func.max(Reminder.id).label("reminder_id"))
        # The interval runs between reminders after the due date, not from a friendly note.
        .where(Reminder.succeeded.is_not(False), Reminder.kind != ReminderKind.FRIENDLY)
        .group_by(Reminder.document_id)
        .subquery()
    )
    rows = db.session.execute(
        stmt.outerjoin(last, last.c.document_id == Document.id)
        .outerjoin(Reminder, Reminder.id == last.c.reminder_id)
        .with_only_columns(Document, cols.balance, Reminder)
        .where(cols.balance > 0)
        .order_by(Document.due_date, Document.id)
        .limit(limit)
    ).tuples()
    result = []
    for document, balance, reminder in rows:
        next_on = None
        if reminder is not None:
            sent_on = reminder.queued_at.astimezone(LONDON).date()
            if (on - sent_on).days < interval_days:
                next_on = sent_on + timedelta(days=interval_days)
        result.append(
            OverdueInvoice(document, int(balance), (on - document.due_date).days, reminder, next_on)
        )
    return result
