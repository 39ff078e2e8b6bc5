"""Aged debt: what outside customers owe on VAT invoices, by school and by how long overdue.

Only VAT invoices are debt: an internal recharge is settled by the council's own journal, so it
is shown apart ("awaiting a journal"), never aged. The buckets count days past the due date:
not yet due, 1–30 ("0–30 days overdue"), 31–60, 61–90 and over 90.

The database works out every balance and age, from the figures it keeps per document
(`document_figures`, see balances). The page is two queries whatever the number of invoices:
one grouped by school over the partial index of open invoices by school (each school's buckets
and overdue invoices) with the recharges waiting for a journal from their own partial index,
and one page of the overdue invoices in due-date order from the partial index of open
invoices, each with its balance, last reminder and whether its reminders are paused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models import Document, DocumentFigures, DocumentType, Quadrant, School
from traded_app.models.finance import Reminder, ReminderKind, ReminderPause
from traded_app.services.platform.paging import Page, clamp
from traded_app.services.platform.settings import today
from traded_app.services.platform.statements import run

OVERDUE_PER_PAGE = 50
_PREVIOUS = aliased(Reminder, name="previous")  # built once: an alias is slow to make

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
    overdue_invoices: int = 0  # VAT invoices past their due date with something left, all schools

    @property
    def bars(self) -> list[Bar]:
        largest = max([self.totals.get(k) for k, _ in BUCKETS] + [1])
        return [
            Bar(key, label, self.totals.get(key), round(100 * self.totals.get(key) / largest))
            for key, label in BUCKETS
        ]


def bucket_sums(due: Any, balance: Any, on: date, where: Any = None) -> list[Any]:
    """The balance per bucket, `SUM(balance) FILTER (WHERE …)` of the rows in it (and meeting
    `where`), comparing due dates with fixed cut-off dates (so the SQL is the same on SQLite and
    PostgreSQL). A filter rather than a CASE per bucket: each row is compared, not summed, five
    times, which on SQLite was most of aged debt's query."""
    cut = [on - timedelta(days=n) for n in (0, 30, 60, 90)]
    conditions = [
        due >= cut[0],
        (due < cut[0]) & (due >= cut[1]),
        (due < cut[1]) & (due >= cut[2]),
        (due < cut[2]) & (due >= cut[3]),
        due < cut[3],
    ]
    if where is not None:
        conditions = [and_(where, c) for c in conditions]
    return [func.coalesce(func.sum(balance).filter(c), 0) for c in conditions]


# How the schools can be listed: the oldest debt first (the default: over 90 days, then 61 to
# 90, and so on, compared in that order), the most overdue in pounds first, or by name.
SORTS = {
    "oldest": "Oldest debt first",
    "amount": "Most overdue in pounds first",
    "name": "School name",
}


def _sort_key(sort: str) -> Any:
    if sort == "amount":
        return lambda s: (-s.ages.overdue, -s.ages.total, s.name)
    if sort == "name":
        return lambda s: (s.name, s.urn)
    return lambda s: (
        -s.ages.d90_plus,
        -s.ages.d61_90,
        -s.ages.d31_60,
        -s.ages.d0_30,
        -s.ages.current,
        s.name,
    )


def aged_debt(
    on: date | None = None, quadrant_id: int | None = None, sort: str = "oldest"
) -> AgedDebt:
    """Every school's debt by age, the recharges waiting for a journal and how many invoices
    are overdue, from one query (a row per school owing on an invoice, and one for the
    recharges). A quadrant chooses the schools listed (and the totals under them); the
    recharges and the overdue count are the council's. `sort` is one of SORTS (anything else is
    the oldest debt first)."""
    on = on or today()
    result = AgedDebt(on, [])
    totals = [0, 0, 0, 0, 0]
    for row in run(_summary_statement(on)).tuples():
        school_id, name, urn, in_quadrant, quadrant, invoices, overdue, recharges, pence, *ages = (
            row
        )
        if school_id is None:  # the recharges' row
            if quadrant_id is None:
                result.recharges_awaiting = int(recharges)
                result.recharges_awaiting_pence = int(pence)
            continue
        result.overdue_invoices += int(overdue)
        if quadrant_id in (None, in_quadrant):
            figures = [int(v) for v in ages]
            result.schools.append(
                SchoolDebt(school_id, name, urn, quadrant or "", int(invoices), Ages(*figures))
            )
            totals = [a + b for a, b in zip(totals, figures, strict=True)]
    result.totals = Ages(*totals)
    result.schools.sort(key=_sort_key(sort))
    return result


# The statements depend only on the day (and a school), so each is built once per process and
# day: building one costs more than running it.


@lru_cache(maxsize=4)
def _summary_statement(on: date) -> Select[Any]:
    """A row per school with something owed on a VAT invoice: its id, name, URN, quadrant (id
    and name), how many of its invoices have something left and how many of those are overdue,
    nothing for recharges, and its invoices' balances by age. Then one row with no school: the
    recharges waiting for a journal (how many, how much) and nothing else. Each part reads its
    own partial index (open invoices by school, open recharges: migration 0052), so the query
    passes over no credit note, settled document or, for the schools, recharge."""
    f = DocumentFigures
    zero: Any = literal_column("0")
    by_school = (
        select(
            f.school_id,
            func.count().label("invoices"),
            func.count().filter(f.due_date < on).label("overdue"),
            *(
                total.label(key)
                for total, (key, _label) in zip(
                    bucket_sums(f.due_date, f.balance_pence, on), BUCKETS, strict=True
                )
            ),
        )
        .where(f.document_type == DocumentType.INVOICE, f.balance_pence > 0)
        .group_by(f.school_id)
        .subquery()
    )
    schools = (
        select(
            School.id,
            School.name,
            School.urn,
            School.quadrant_id,
            Quadrant.name,
            by_school.c.invoices,
            by_school.c.overdue,
            zero,
            zero,
            *(by_school.c[key] for key, _label in BUCKETS),
        )
        .select_from(by_school)
        .join(School, School.id == by_school.c.school_id)
        .outerjoin(Quadrant, Quadrant.id == School.quadrant_id)
    )
    recharges = select(
        *(null() for _ in range(5)),
        zero,
        zero,
        func.count(),
        func.coalesce(func.sum(f.balance_pence), 0),
        *(zero for _ in BUCKETS),
    ).where(f.document_type == DocumentType.RECHARGE, f.balance_pence > 0)
    return union_all(schools, recharges)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class OverdueDocument:
    """What the overdue list shows of an invoice (read as plain columns)."""

    id: int
    number: str
    buyer_name: str
    due_date: date


@dataclass(frozen=True)
class OverdueInvoice:
    document: OverdueDocument
    balance_pence: int
    days_overdue: int
    last_reminder_at: datetime | None  # when the last reminder (not a friendly note) was queued
    next_reminder_on: date | None  # None: a reminder may go now
    paused: bool = False  # its reminders are paused (its own pause, or its school's)

    @property
    def can_remind(self) -> bool:
        return self.next_reminder_on is None


@lru_cache(maxsize=8)
def _overdue(on: date, school_id: int | None) -> Select[Any]:
    """Overdue VAT invoices with something left, as their kept figures (read through the
    partial index of open invoices by due date)."""
    f = DocumentFigures
    stmt = select(f).where(
        f.document_type == DocumentType.INVOICE, f.due_date < on, f.balance_pence > 0
    )
    if school_id is not None:
        stmt = stmt.where(f.school_id == school_id)
    return stmt


@lru_cache(maxsize=8)
def _overdue_rows(on: date, school_id: int | None) -> Select[Any]:
    """A window (`limit`, `offset`) of the overdue invoices in order, each with its balance,
    last reminder and whether its reminders are paused (an open pause of its own or of its
    school's): the window is chosen from the index first, then only its rows read."""
    f = DocumentFigures
    chosen = (
        _overdue(on, school_id)
        .with_only_columns(f.document_id, f.balance_pence)
        .order_by(f.due_date, f.document_id)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery()
    )
    last = (
        select(func.max(_PREVIOUS.id))
        .where(
            _PREVIOUS.document_id == Document.id,
            _PREVIOUS.succeeded.is_not(False),
            # The interval runs between reminders after the due date, not from a friendly note.
            _PREVIOUS.kind != ReminderKind.FRIENDLY,
        )
        .correlate(Document)
        .scalar_subquery()
    )
    paused = or_(
        select(ReminderPause.id)
        .where(ReminderPause.document_id == Document.id, ReminderPause.resumed_at.is_(None))
        .correlate(Document)
        .exists(),
        select(ReminderPause.id)
        .where(ReminderPause.school_id == Document.school_id, ReminderPause.resumed_at.is_(None))
        .correlate(Document)
        .exists(),
    )
    return (
        select(
            Document.id,
            Document.number,
            Document.buyer_name,
            Document.due_date,
            chosen.c.balance_pence,
            Reminder.queued_at,
            paused,
        )
        .join(chosen, chosen.c.document_id == Document.id)
        .outerjoin(Reminder, Reminder.id == last)
        .order_by(Document.due_date, Document.id)
    )


def overdue_page(
    interval_days: int,
    page: int = 1,
    total: int | None = None,
    on: date | None = None,
    school_id: int | None = None,
    per_page: int = OVERDUE_PER_PAGE,
) -> Page[OverdueInvoice]:
    """A page of the overdue VAT invoices, longest overdue first, each with its balance, its
    last reminder, whether its reminders are paused and when the next may go (a reminder goes at most once in `interval_days`).

    `total` is how many there are (`AgedDebt.overdue_invoices`); without it they are counted
    first."""
    on = on or today()
    if total is None:
        counted = _overdue(on, school_id).with_only_columns(DocumentFigures.document_id).subquery()
        total = int(db.session.execute(select(func.count()).select_from(counted)).scalar_one())
    number = clamp(page, total, per_page)
    rows = run(
        _overdue_rows(on, school_id), {"limit": per_page, "offset": (number - 1) * per_page}
    ).all()
    return Page([_overdue_invoice(row, on, interval_days) for row in rows], total, number, per_page)


def _overdue_invoice(row: Row[Any], on: date, interval_days: int) -> OverdueInvoice:
    *shown, balance, reminded_at, paused = row
    document = OverdueDocument(*shown)
    next_on = None
    if reminded_at is not None:
        sent_on = reminded_at.astimezone(LONDON).date()
        if (on - sent_on).days < interval_days:
            next_on = sent_on + timedelta(days=interval_days)
    return OverdueInvoice(
        document, int(balance), (on - document.due_date).days, reminded_at, next_on, bool(paused)
    )


def overdue_choices(document_ids: list[int], on: date | None = None) -> list[tuple[int, str]]:
    """(id, number) of those of `document_ids` that are overdue VAT invoices with something
    left: what the reminder form may be sent, whichever page of the list they were on."""
    if not document_ids:
        return []
    return [
        (int(i), str(n))
        for i, n in db.session.execute(
            _overdue(on or today(), None)
            .join(Document, Document.id == DocumentFigures.document_id)
            .with_only_columns(Document.id, Document.number)
            .where(Document.id.in_(document_ids))
        ).tuples()
    ]


def overdue_invoices(
    interval_days: int, on: date | None = None, school_id: int | None = None, limit: int = 500
) -> list[OverdueInvoice]:
    """The first `limit` overdue VAT invoices, longest overdue first (see `overdue_page`)."""
    return overdue_page(interval_days, 1, None, on, school_id, per_page=limit).items
