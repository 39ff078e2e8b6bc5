"""Data sets for benchmarks: a seeded demo database topped up to 10,000 or 100,000 documents.

Issuing a document through the app renders its PDF, which would take hours at these sizes, so
the documents are written with bulk inserts (the append-only triggers refuse only UPDATE and
DELETE). Each has a pdf_path and pdf_sha256 like an issued one, but no file: the pages being
measured never read it. Every row is one the app could have written, spread over the council's
schools and the last 400 days so the register's pages and every age of aged debt are full:

- an order (confirmed) per charge; charges are VAT invoices for schools billed by invoice,
  internal recharges for the others, about 60% of them invoices;
- one to three lines and a VAT band per document, priced as the catalogue does;
- a credit note against about one charge in twelve, half of them for the whole charge;
- bank transfers against invoices (most of the older ones paid in full, some in part, one in
  fifty reversed), journals settling the older recharges, a reminder on some overdue invoices;
- the number counters moved on past the inserted numbers, so issuing afterwards goes on
  from them.

The same seed gives the same rows. Typical use (bench/finance_pages.py):

    seeded = ...  # `flask db upgrade` and `flask seed-demo` on a scratch SQLite file
    counts = scratch_copy(seeded, workdir / "bench-10000.db", 10_000)

    .venv/bin/python bench/datasets.py DATABASE_FILE --documents 10000   # top up a copy in place
    .venv/bin/python bench/datasets.py postgresql://OWNER@HOST/DB --documents 10000
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, func, insert, select, update

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from traded_app.config import parse_database_url  # noqa: E402
from traded_app.models import (  # noqa: E402 - after the path is set, for `python bench/...`
    AcademicYear,
    CouncilSettings,
    Document,
    DocumentCounter,
    DocumentLine,
    DocumentVatBand,
    Order,
    Reminder,
    School,
    User,
)
from traded_app.models.payments import Payment  # noqa: E402
from traded_app.models.types import BillingRoute, Role  # noqa: E402
from traded_app.services.platform.settings import today as council_today  # noqa: E402

DAYS_BACK = 400  # documents are issued over this many days up to today
INVOICE_SHARE = 0.6  # of charges, the rest recharges
CREDIT_EVERY = 12  # about one charge in this many has a credit note
REVERSE_EVERY = 50  # about one bank transfer in this many is reversed
CHUNK = 5_000  # rows per executemany
SERVICES = (  # (code, name, price per day in pence, income code)
    ("COLPRI", "Collaborative review of a current priority", 45_000, "T4504"),
    ("LEADCO", "Leadership coaching", 52_500, "T4510"),
    ("CURDEV", "Curriculum development", 48_000, "T4512"),
    ("GOVSUP", "Governor support", 39_000, "T4520"),
    ("SENDRV", "SEND review", 55_000, "T4531"),
)


@dataclass
class Counts:
    documents: int = 0
    invoices: int = 0
    recharges: int = 0
    credit_notes: int = 0
    payments: int = 0
    reminders: int = 0

    def __str__(self) -> str:
        return (
            f"{self.documents:,} documents ({self.invoices:,} invoices, {self.recharges:,} "
            f"recharges, {self.credit_notes:,} credit notes), {self.payments:,} payments, "
            f"{self.reminders:,} reminders"
        )


@dataclass
class _Rows:
    orders: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    bands: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _World:
    """What the seeded database already holds that the new rows point at."""

    today: date
    settings: Any
    years: list[Any]  # AcademicYear rows
    invoice_schools: list[Any]
    recharge_schools: list[Any]
    finance_id: int
    admin_id: int
    next_id: dict[str, int]
    sequences: dict[tuple[str, int], int]


def _read_world(conn: Connection, today: date) -> _World:
    settings = conn.execute(select(CouncilSettings.__table__)).first()
    if settings is None:
        raise SystemExit("the database has no council settings: run `flask seed-demo` first")
    users = dict(conn.execute(select(User.role, User.id).order_by(User.id.desc())).tuples().all())
    schools = conn.execute(
        select(School.id, School.urn, School.name, School.billing_route, School.quadrant_id)
        .where(School.billing_route.is_not(None))
        .order_by(School.id)
    ).all()
    next_id = {
        table.name: int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
        + 1
        for table in _tables()
    }
    sequences = {
        (str(kind), int(year)): int(last)
        for kind, year, last in conn.execute(
            select(
                Document.document_type, Document.financial_year, func.max(Document.sequence)
            ).group_by(Document.document_type, Document.financial_year)
        ).tuples()
    }
    return _World(
        today=today,
        settings=settings,
        years=list(conn.execute(select(AcademicYear.__table__).order_by(AcademicYear.starts_on))),
        invoice_schools=[s for s in schools if s.billing_route == BillingRoute.INVOICE],
        recharge_schools=[s for s in schools if s.billing_route == BillingRoute.RECHARGE],
        finance_id=users[Role.LA_FINANCE],
        admin_id=users[Role.LA_ADMIN],
        next_id=next_id,
        sequences=sequences,
    )


def _tables() -> list[Table]:
    return [
        Order.__table__,  # type: ignore[list-item]
        Document.__table__,  # type: ignore[list-item]
        DocumentLine.__table__,  # type: ignore[list-item]
        DocumentVatBand.__table__,  # type: ignore[list-item]
        Payment.__table__,  # type: ignore[list-item]
        Reminder.__table__,  # type: ignore[list-item]
    ]


class _Maker:
    def __init__(self, world: _World, seed: int) -> None:
        self.world = world
        self.random = random.Random(seed)
        self.rows = _Rows()
        self.counts = Counts()

    def take(self, table: str) -> int:
        value = self.world.next_id[table]
        self.world.next_id[table] = value + 1
        return value

    def number(self, kind: str, issued: date) -> tuple[str, int, int]:
        settings = self.world.settings
        start = settings.financial_year_start_month
        year = issued.year if issued.month >= start else issued.year - 1
        sequence = self.world.sequences.get((kind, year), 0) + 1
        self.world.sequences[(kind, year)] = sequence
        prefix = {
            "invoice": settings.invoice_prefix,
            "recharge": settings.recharge_prefix,
            "credit_note": settings.credit_note_prefix,
        }[kind]
        return f"{prefix}-{year}-{sequence:06d}", year, sequence

    def academic_year(self, on: date) -> int:
        """The academic year holding `on` (the nearest one the database has)."""
        years = self.world.years
        holding = [y for y in years if y.starts_on <= on <= y.ends_on]
        return int((holding or [years[0] if on < years[0].starts_on else years[-1]])[0].id)

    def charge(self) -> None:
        """One order, its charge, and what happened to the charge since."""
        invoice = self.random.random() < INVOICE_SHARE or not self.world.recharge_schools
        school = self.random.choice(
            self.world.invoice_schools if invoice else self.world.recharge_schools
        )
        kind = "invoice" if invoice else "recharge"
        issued = self.world.today - timedelta(days=self.random.randrange(DAYS_BACK))
        lines = [
            (self.random.choice(SERVICES), self.random.choice((2, 4, 6, 10)))
            for _ in range(self.random.choice((1, 1, 2, 3)))
        ]
        net = sum(price * half_days // 2 for (_c, _n, price, _i), half_days in lines)
        vat = net // 5 if invoice else 0
        order_id = self._order(school, issued, sum(h for _s, h in lines), net, vat)
        document_id = self._document(kind, school, order_id, None, issued, lines, net, vat)
        gross = net + vat
        credited = 0
        if self.random.randrange(CREDIT_EVERY) == 0:
            credited = self._credit_note(school, order_id, document_id, issued, lines, invoice)
        self._settle(document_id, invoice, issued, gross - credited, school)

    def _order(self, school: Any, issued: date, half_days: int, net: int, vat: int) -> int:
        order_id = self.take("school_order")
        at = datetime.combine(issued - timedelta(days=14), clock(10), UTC)
        self.rows.orders.append(
            {
                "id": order_id,
                "school_id": school.id,
                "academic_year_id": self.academic_year(issued),
                "status": "confirmed",
                "created_by_id": self.world.admin_id,
                "po_number": f"PO-{order_id}",
                "preferred_term": "",
                "preferred_dates": "",
                "adviser_note": "",
                "half_days": half_days,
                "net_pence": net,
                "vat_pence": vat,
                "gross_pence": net + vat,
                "submitted_at": at,
                "confirmed_at": at + timedelta(days=7),
                "confirmed_by_id": self.world.admin_id,
                "quadrant_id": school.quadrant_id,
                "created_at": at,
                "updated_at": at + timedelta(days=7),
                "version": 3,
            }
        )
        return order_id

    def _document(
        self,
        kind: str,
        school: Any,
        order_id: int,
        credits: int | None,
        issued: date,
        lines: list[tuple[tuple[str, str, int, str], int]],
        net: int,
        vat: int,
    ) -> int:
        document_id = self.take("document")
        number, year, sequence = self.number(kind, issued)
        settings = self.world.settings
        self.rows.documents.append(
            {
                "id": document_id,
                "document_type": kind,
                "number": number,
                "financial_year": year,
                "sequence": sequence,
                "order_id": order_id,
                "credits_document_id": credits,
                "school_id": school.id,
                "academic_year_id": self.academic_year(issued),
                "issued_at": datetime.combine(issued, clock(9), UTC),
                "issued_by_id": self.world.finance_id,
                "issue_date": issued,
                "due_date": issued + timedelta(days=30),
                "currency": "GBP",
                "seller_name": settings.name,
                "seller_address": "County Hall",
                "seller_vat_number": "GB 000 0000 00",
                "seller_email": "traded.services@example.org",
                "seller_phone": "0333 013 0000",
                "bank_name": "Bench Bank plc",
                "bank_account_name": settings.name,
                "bank_sort_code": "00-00-00",
                "bank_account_number": "00000000",
                "buyer_name": school.name,
                "buyer_urn": school.urn,
                "buyer_address": "",
                "buyer_contact_name": "Business manager",
                "buyer_contact_email": f"finance.{school.urn}@schools.example.org",
                "buyer_cost_centre": "",
                "po_number": f"PO-{order_id}",
                "order_reference": f"ORD-{order_id:06d}",
                "reason": "Days not delivered" if credits else "",
                "payment_link": "",
                "net_pence": net,
                "vat_pence": vat,
                "gross_pence": net + vat,
                "pdf_path": f"{year}/{number}.pdf",  # never written: the pages do not read it
                "pdf_sha256": "0" * 64,
                "pdf_bytes": 0,
            }
        )
        for position, ((code, name, price, income), half_days) in enumerate(lines, start=1):
            self.rows.lines.append(
                {
                    "id": self.take("document_line"),
                    "document_id": document_id,
                    "position": position,
                    "service_code": code,
                    "service_name": name,
                    "description": name,
                    "income_code": income,
                    "half_days": half_days,
                    "price_per_day_pence": price,
                    "net_pence": price * half_days // 2,
                    "vat_treatment": "standard" if vat else "outside_scope",
                    "vat_rate_bp": 2000 if vat else 0,
                }
            )
        self.rows.bands.append(
            {
                "id": self.take("document_vat_band"),
                "document_id": document_id,
                "position": 1,
                "vat_treatment": "standard" if vat else "outside_scope",
                "vat_rate_bp": 2000 if vat else 0,
                "net_pence": net,
                "vat_pence": vat,
            }
        )
        self.counts.documents += 1
        if kind == "invoice":
            self.counts.invoices += 1
        elif kind == "recharge":
            self.counts.recharges += 1
        else:
            self.counts.credit_notes += 1
        return document_id

    def _credit_note(
        self,
        school: Any,
        order_id: int,
        charge_id: int,
        issued: date,
        lines: list[tuple[tuple[str, str, int, str], int]],
        invoice: bool,
    ) -> int:
        """A credit note for the whole charge or its first line; returns its gross."""
        credited = lines if self.random.random() < 0.5 else lines[:1]
        net = sum(price * half_days // 2 for (_c, _n, price, _i), half_days in credited)
        vat = net // 5 if invoice else 0
        on = min(self.world.today, issued + timedelta(days=self.random.randrange(1, 40)))
        self._document("credit_note", school, order_id, charge_id, on, credited, net, vat)
        return net + vat

    def _settle(
        self, document_id: int, invoice: bool, issued: date, left: int, school: Any
    ) -> None:
        """Payments by the age of the charge: older ones mostly settled, some in part."""
        age = (self.world.today - issued).days
        roll = self.random.random()
        if left <= 0:
            return
        if not invoice:
            if age > 60 and roll < 0.8:
                self._payment(document_id, "journal", left, issued + timedelta(days=45))
            return
        if (age > 45 and roll < 0.7) or (age <= 45 and roll < 0.2):
            paid = left
        elif roll < 0.85:
            paid = left // 2
        else:
            paid = 0
        if paid:
            on = min(self.world.today, issued + timedelta(days=self.random.randrange(5, 60)))
            payment_id = self._payment(document_id, "bank_transfer", paid, on)
            if self.random.randrange(REVERSE_EVERY) == 0:
                self._payment(document_id, "bank_transfer", -paid, on, reverses=payment_id)
                paid = 0
        if paid < left and age > 40 and self.random.random() < 0.33:
            self.rows.reminders.append(
                {
                    "id": self.take("reminder"),
                    "document_id": document_id,
                    "kind": "reminder",
                    "queued_at": datetime.combine(issued + timedelta(days=37), clock(8), UTC),
                    "sent_by_id": self.world.finance_id,
                    "recipient": f"finance.{school.urn}@schools.example.org",
                    "balance_pence": left - paid,
                    "days_overdue": 7,
                    "succeeded": True,
                    "error": "",
                }
            )
            self.counts.reminders += 1

    def _payment(
        self, document_id: int, kind: str, amount: int, on: date, reverses: int | None = None
    ) -> int:
        payment_id = self.take("payment")
        self.rows.payments.append(
            {
                "id": payment_id,
                "document_id": document_id,
                "kind": kind,
                "amount_pence": amount,
                "received_on": on,
                "reference": f"{'JNL' if kind == 'journal' else 'BACS'} {document_id}",
                "note": "Reversed: returned by the bank" if reverses else "",
                "reverses_payment_id": reverses,
                "stripe_payment_intent": None,
                "recorded_at": datetime.combine(on, clock(12), UTC),
                "recorded_by_id": self.world.finance_id,
            }
        )
        self.counts.payments += 1
        return payment_id


def _sql_value(value: Any) -> Any:
    """A value as SQLite stores it through the models' column types (dates as ISO text, UTC
    times without their offset), so the rows skip SQLAlchemy's per-value work."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name != "sqlite":  # PostgreSQL: the driver takes the values as they are
        for start in range(0, len(rows), CHUNK):
            conn.execute(insert(table), rows[start : start + CHUNK])
        return
    columns = list(rows[0])
    unknown = set(columns) - set(table.c.keys())
    assert not unknown, f"{table.name} has no column {unknown}"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - names from the models
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    for start in range(0, len(rows), CHUNK):
        conn.exec_driver_sql(
            sql,
            [tuple(_sql_value(row[c]) for c in columns) for row in rows[start : start + CHUNK]],
        )


def top_up(
    database: Path | str, documents: int, today: date | None = None, seed: int = 12
) -> Counts:
    """Add about `documents` documents (charges and their credit notes) to the seeded database
    (a SQLite file, or a PostgreSQL URL of the tables' owner), with their orders, lines,
    payments and reminders, in one transaction."""
    engine = engine_for(database)
    try:
        with engine.begin() as conn:
            world = _read_world(conn, today or council_today())
            maker = _Maker(world, seed)
            while maker.counts.documents < documents:
                maker.charge()
            rows = maker.rows
            for table, batch in (
                (Order.__table__, rows.orders),
                (Document.__table__, rows.documents),
                (DocumentLine.__table__, rows.lines),
                (DocumentVatBand.__table__, rows.bands),
                (Payment.__table__, rows.payments),
                (Reminder.__table__, rows.reminders),
            ):
                _insert(conn, table, batch)  # type: ignore[arg-type]
            _move_counters(conn, world.sequences)
            if conn.dialect.name == "postgresql":
                _move_sequences(conn)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.dialect.name == "postgresql":  # statistics, as autovacuum would gather
                conn.exec_driver_sql("ANALYZE")
            else:  # fold the write-ahead log into the file for readers
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return maker.counts


def engine_for(database: Path | str) -> Engine:
    """An engine on a SQLite file or a database URL (as the app reads DATABASE_URL)."""
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    return create_engine(parse_database_url(url))


def _move_sequences(conn: Connection) -> None:
    """PostgreSQL: each table's id sequence past the ids inserted here."""
    for table in _tables():
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
            f"(SELECT max(id) FROM {table.name}))"
        )


def _move_counters(conn: Connection, sequences: dict[tuple[str, int], int]) -> None:
    """Each series' counter at its last number, so issuing afterwards goes on from it."""
    counter = DocumentCounter.__table__
    larger = func.greatest if conn.dialect.name == "postgresql" else func.max
    for (kind, year), last in sequences.items():
        moved = conn.execute(
            update(counter)
            .where(counter.c.document_type == kind, counter.c.financial_year == year)
            .values(last_number=larger(counter.c.last_number, last))
        )
        if not moved.rowcount:
            conn.execute(
                insert(counter).values(document_type=kind, financial_year=year, last_number=last)
            )


def scratch_copy(seeded: Path, target: Path, documents: int, today: date | None = None) -> Counts:
    """A copy of the seeded SQLite database at `target`, topped up to `documents` documents."""
    shutil.copyfile(seeded, target)
    return top_up(target, documents, today)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "database",
        help="a migrated, seeded SQLite file, or a PostgreSQL URL of the tables' owner (changed)",
    )
    parser.add_argument("--documents", type=int, default=10_000)
    args = parser.parse_args()
    began = time.perf_counter()
    database = args.database if "://" in args.database else Path(args.database)
    counts = top_up(database, args.documents)
    print(f"added {counts} in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
