"""Ledger exports benchmark: the sales ledger as CSV and XLSX over 10,000 and 100,000 lines.

For each size a scratch SQLite database is migrated and filled (documents of five lines each,
a credit note in every ten), then each file is written from a recorded export: time, and peak
Python memory (tracemalloc, in a second pass so its overhead is not in the time). Then the CSV
is asked for through the app as a finance officer would (POST /finance/exports) and the time to
its first byte is measured at 100,000 lines.

Goals (issue 6): memory at 100k at most 1.5x memory at 10k (it must not grow with the rows),
and the CSV's first byte in under a second at 100k. A figure, not a test: the exit status is not
0 only when something failed or a file was wrong.

    .venv/bin/python bench/finance_exports.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from traded_app import create_app  # noqa: E402
from traded_app.extensions import db  # noqa: E402
from traded_app.models import (  # noqa: E402
    AcademicYear,
    CouncilSettings,
    Document,
    DocumentLine,
    Order,
    School,
    User,
)
from traded_app.models.base import utcnow  # noqa: E402
from traded_app.models.finance import ExportKind  # noqa: E402
from traded_app.models.types import (  # noqa: E402
    BillingRoute,
    CustomerType,
    EstablishmentType,
    Phase,
    Role,
    VatTreatment,
)
from traded_app.services.finance import export_files, exports  # noqa: E402

LINES_PER_DOCUMENT = 5
MEMORY_GOAL = 1.5
FIRST_BYTE_GOAL = 1.0


def build(size: int, workdir: Path) -> Any:
    database = workdir / f"bench-{size}.db"
    app = create_app(
        {
            "APP_ENV": "test",
            "SECRET_KEY": "bench-secret-" + "x" * 40,
            "DATABASE_URL": f"sqlite:///{database}",
            "INVOICE_DIR": str(workdir / "invoices"),
            "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
        },
        WTF_CSRF_ENABLED=False,
    )
    with app.app_context():
        upgrade()
        db.session.add(CouncilSettings(id=1, name="Bench County Council"))
        year = AcademicYear(start_year=2026, starts_on=date(2026, 9, 1), ends_on=date(2027, 8, 31))
        db.session.add(year)
        db.session.flush()
        user = User(
            email="finance@bench.example",
            name="Finance",
            password_hash="!",  # noqa: S106 - no password: signed in through the session
            role=Role.LA_FINANCE,
        )
        db.session.add(user)
        db.session.flush()
        schools = []
        for i in range(200):
            school = School(
                urn=500_000 + i,
                name=f"=Bench school {i}" if i % 50 == 0 else f"Bench school {i}",
                phase=Phase.PRIMARY,
                establishment_type=EstablishmentType.ACADEMY,
                customer_type=CustomerType.ACADEMY,
                billing_route=BillingRoute.INVOICE,
            )
            db.session.add(school)
            schools.append(school)
        db.session.flush()
        documents = size // LINES_PER_DOCUMENT
        start = date(2026, 4, 1)
        order_rows = [
            {
                "id": n + 1,
                "school_id": schools[n % 200].id,
                "academic_year_id": year.id,
                "status": "confirmed",
                "created_by_id": user.id,
                "po_number": f"PO-{n}",
                "half_days": 10,
                "net_pence": 225_000,
                "vat_pence": 45_000,
                "gross_pence": 270_000,
            }
            for n in range(documents)
        ]
        db.session.execute(insert(Order), order_rows)
        document_rows = []
        line_rows = []
        for n in range(documents):
            credit = n % 10 == 9
            issued = start + timedelta(days=n % 360)
            document_rows.append(
                {
                    "id": n + 1,
                    "document_type": "credit_note" if credit else "invoice",
                    "number": f"{'CRN' if credit else 'INV'}-2026-{n + 1:07d}",
                    "financial_year": 2026,
                    "sequence": n + 1,
                    "order_id": n if credit else n + 1,
                    "credits_document_id": n if credit else None,
                    "school_id": schools[n % 200].id,
                    "academic_year_id": year.id,
                    "issued_at": None,
                    "issue_date": issued,
                    "due_date": issued + timedelta(days=30),
                    "currency": "GBP",
                    "seller_name": "Bench County Council",
                    "seller_address": "County Hall",
                    "seller_vat_number": "GB1",
                    "seller_email": "f@bench.example",
                    "seller_phone": "0",
                    "bank_name": "Bank",
                    "bank_account_name": "Bench",
                    "bank_sort_code": "00-00-00",
                    "bank_account_number": "00000000",
                    "buyer_name": schools[n % 200].name,
                    "buyer_urn": schools[n % 200].urn,
                    "buyer_address": "",
                    "buyer_contact_name": "",
                    "buyer_contact_email": "",
                    "buyer_cost_centre": "",
                    "po_number": f"+PO-{n}",
                    "order_reference": f"ORD-{n}",
                    "reason": "",
                    "net_pence": 225_000,
                    "vat_pence": 45_000,
                    "gross_pence": 270_000,
                    "pdf_path": "x.pdf",
                    "pdf_sha256": "0" * 64,
                    "pdf_bytes": 0,
                }
            )
            for position in range(1, LINES_PER_DOCUMENT + 1):
                line_rows.append(
                    {
                        "document_id": n + 1,
                        "position": position,
                        "service_code": f"S{position}",
                        "service_name": f"Service {position}",
                        "description": "",
                        "income_code": f"IC{position}",
                        "half_days": 2,
                        "price_per_day_pence": 45_000,
                        "net_pence": 45_000,
                        "vat_treatment": VatTreatment.STANDARD.value,
                        "vat_rate_bp": 2000,
                    }
                )
        for row in document_rows:
            row["issued_at"] = utcnow()
        db.session.execute(insert(Document), document_rows)
        db.session.execute(insert(DocumentLine), line_rows)
        db.session.commit()
        user_id = user.get_id()
    return app, user_id


def measure(run: Callable[[], int]) -> tuple[float, float, int]:
    """(seconds, peak MiB, bytes) of `run`: timed alone, then again under tracemalloc."""
    began = time.perf_counter()
    written = run()
    seconds = time.perf_counter() - began
    tracemalloc.start()
    run()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, written


def exports_for(app: Any, kind_value: str) -> Callable[[], int]:
    kind = ExportKind(kind_value)

    def run() -> int:
        with app.app_context():
            export = exports.create_export(
                kind,
                date(2026, 4, 1),
                date(2027, 3, 31),
                None,
                exclude_already_exported=False,
                source="cli",
            )
            written = 0
            if kind == ExportKind.SALES_CSV:
                for chunk in export_files.write_csv(export):
                    written += len(chunk)
            else:
                with tempfile.TemporaryFile() as out:
                    export_files.write_xlsx(export, out)
                    written = out.tell()
            db.session.rollback()  # leave no export behind: each run starts alike
            return written

    return run


def first_byte(app: Any, user_id: str) -> tuple[float, float, int]:
    """Seconds to the first byte and to the last of the CSV through the app, and its lines."""
    client = app.test_client()
    now = int(time.time())
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
        session["signed_in_at"] = now
        session["last_seen"] = now
    form = {
        "kind": "sales_csv",
        "date_from": ["1", "4", "2026"],
        "date_to": ["31", "3", "2027"],
        "already_exported": "include",
    }
    began = time.perf_counter()
    response = client.post("/finance/exports", data=form, buffered=False)
    chunks = iter(response.response)
    first = next(chunks)
    first_at = time.perf_counter() - began
    body = io.BytesIO()
    body.write(first)
    for chunk in chunks:
        body.write(chunk)
    response.close()
    total = time.perf_counter() - began
    if response.status_code != 200 or not first.startswith("\ufeffdocument_number".encode()):
        raise SystemExit(f"the CSV export answered {response.status_code}")
    return first_at, total, body.getvalue().count(b"\r\n") - 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    os.environ.pop("DATABASE_URL", None)
    results: dict[tuple[str, int], tuple[float, float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            began = time.perf_counter()
            app, user_id = build(size, Path(tmp))
            print(f"{size:,} lines: database built in {time.perf_counter() - began:.1f} s")
            for kind in ("sales_csv", "sales_xlsx"):
                seconds, peak, written = measure(exports_for(app, kind))
                results[(kind, size)] = (seconds, peak, written)
                print(
                    f"  {kind:10s} {seconds:6.2f} s  peak {peak:6.1f} MiB  "
                    f"{written / 2**20:6.1f} MiB written"
                )
            if size == max(args.sizes):
                ttfb, total, lines = first_byte(app, user_id)
                if lines != size:
                    print(f"  the CSV had {lines} lines, not {size}")
                    return 1
                met = "met" if ttfb < FIRST_BYTE_GOAL else "NOT met"
                print(
                    f"  CSV through the app: first byte {ttfb * 1000:.0f} ms, whole file "
                    f"{total:.1f} s (goal: first byte under {FIRST_BYTE_GOAL:.0f} s: {met})"
                )
    small, large = min(args.sizes), max(args.sizes)
    if small != large:
        for kind in ("sales_csv", "sales_xlsx"):
            ratio = results[(kind, large)][1] / results[(kind, small)][1]
            met = "met" if ratio <= MEMORY_GOAL else "NOT met"
            print(
                f"{kind}: peak memory at {large:,} lines is {ratio:.2f}x that at {small:,} "
                f"(goal at most {MEMORY_GOAL}x: {met})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
