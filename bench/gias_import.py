"""GIAS import benchmark: a generated GIAS-shaped file of 30,000 schools, previewed and applied.

On a scratch SQLite database (migrated from empty, with a council whose LA code is 881 and four
quadrants' districts), it times:

1. the first import: upload read and checked (streaming parse, UTF-8), the plan worked out and
   stored, then applied (30,000 new schools and their audit rows, in bulk);
2. a second import of the same file in Windows-1252 with one school in ten renamed, 300 closed
   and 200 converted to academies (the comparison and update path).

Every school in the file belongs to the council (the worst case: a whole-England export has
about 50,000 rows, of which one council's are a few hundred to a thousand). Goal (issue 8): "a
file of tens of thousands of rows imports in seconds": each import under 10 s, printed as met or
not. A figure, not a test: the exit status is not 0 only when the import failed or its result
was wrong.

    .venv/bin/python bench/gias_import.py [--rows 30000]
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from traded_app import create_app  # noqa: E402
from traded_app.extensions import db  # noqa: E402
from traded_app.models import CouncilSettings, Quadrant, QuadrantDistrict, School, User  # noqa: E402
from traded_app.models.types import BillingRoute, Role, SchoolStatus  # noqa: E402
from traded_app.services.council import gias_import  # noqa: E402
from traded_app.services.platform.auth import hash_password  # noqa: E402

GOAL_SECONDS = 10.0
DISTRICTS = {
    "Mid": ["Braintree", "Chelmsford", "Maldon"],
    "North East": ["Colchester", "Tendring"],
    "South": ["Basildon", "Brentwood", "Castle Point", "Rochford"],
    "West": ["Epping Forest", "Harlow", "Uttlesford"],
}
ALL_DISTRICTS = [d for ds in DISTRICTS.values() for d in ds]
HEADER = [
    "URN", "LA (code)", "LA (name)", "EstabNumber", "EstablishmentName",
    "TypeOfEstablishment (name)", "EstablishmentTypeGroup (name)", "EstablishmentStatus (name)",
    "ReasonEstablishmentOpened (name)", "OpenDate", "ReasonEstablishmentClosed (name)",
    "CloseDate", "PhaseOfEducation (name)", "StatutoryLowAge", "StatutoryHighAge", "Street",
    "Locality", "Address3", "Town", "County (name)", "Postcode", "SchoolWebsite", "TelephoneNum",
    "HeadFirstName", "HeadLastName", "DistrictAdministrative (name)", "UKPRN",
]  # fmt: skip


def generate(rows: int, *, changed: bool = False) -> list[dict[str, str]]:
    """GIAS-shaped rows; with `changed`, some renamed, closed and converted to academies."""
    out: list[dict[str, str]] = []
    for i in range(rows):
        urn = 100_000 + i
        row = {name: "" for name in HEADER}
        row.update(
            {
                "URN": str(urn),
                "LA (code)": "881",
                "LA (name)": "Essex",
                "EstabNumber": str(2000 + i % 8000),
                "EstablishmentName": f"School number {i} Primary",
                "TypeOfEstablishment (name)": "Community school",
                "EstablishmentTypeGroup (name)": "Local authority maintained schools",
                "EstablishmentStatus (name)": "Open",
                "ReasonEstablishmentOpened (name)": "Not applicable",
                "ReasonEstablishmentClosed (name)": "Not applicable",
                "PhaseOfEducation (name)": "Primary" if i % 5 else "Secondary",
                "StatutoryLowAge": "4",
                "StatutoryHighAge": "11",
                "Street": f"{i} School Road",
                "Town": "Chelmsford",
                "County (name)": "Essex",
                "Postcode": f"CM{i % 99} {i % 9}{chr(65 + i % 26)}{chr(65 + (i // 26) % 26)}",
                "TelephoneNum": "01245000000",
                "HeadFirstName": "Sam",
                "HeadLastName": "Head",
                "DistrictAdministrative (name)": ALL_DISTRICTS[i % len(ALL_DISTRICTS)],
                "UKPRN": str(10_000_000 + i),
            }
        )
        if changed and i % 10 == 1:
            row["EstablishmentName"] = f"St Mary’s School number {i} Church of England Primary"
        if changed and i % 100 == 3:
            row.update({"EstablishmentStatus (name)": "Closed", "CloseDate": "31-08-2026"})
        out.append(row)
    if changed:
        for k in range(200):  # conversions: the maintained school closes, an academy opens
            i = 7 + 100 * k
            old = out[i]
            old.update(
                {
                    "EstablishmentStatus (name)": "Closed",
                    "CloseDate": "31-03-2027",
                    "ReasonEstablishmentClosed (name)": "Academy converter",
                }
            )
            out.append(
                {
                    **old,
                    "URN": str(900_000 + k),
                    "EstablishmentName": f"School number {i} Academy",
                    "TypeOfEstablishment (name)": "Academy converter",
                    "EstablishmentTypeGroup (name)": "Academies",
                    "EstablishmentStatus (name)": "Open",
                    "ReasonEstablishmentOpened (name)": "Academy converter",
                    "OpenDate": "01-04-2027",
                    "ReasonEstablishmentClosed (name)": "Not applicable",
                    "CloseDate": "",
                }
            )
    return out


def as_csv(rows: list[dict[str, str]], encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="gias-bench-"))
    database = workdir / "bench.db"
    os.environ.update(
        {
            "APP_ENV": "development",
            "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": "bench-secret-" + "x" * 32,
            "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
        }
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app()
    ok = True
    with app.app_context():
        upgrade()
        db.session.add(CouncilSettings(id=1, name="Bench Council", la_code="881"))
        for code, (name, districts) in enumerate(DISTRICTS.items()):
            quadrant = Quadrant(code=f"Q{code}", name=name)
            quadrant.districts = [QuadrantDistrict(name=d) for d in districts]
            db.session.add(quadrant)
        admin = User(
            email="admin@bench.example",
            name="Bench Admin",
            password_hash=hash_password("bench-password"),
            role=Role.LA_ADMIN,
        )
        db.session.add(admin)
        db.session.commit()

        def run(label: str, data: bytes) -> dict[str, int] | None:
            started = time.perf_counter()
            record = gias_import.preview(io.BytesIO(data), "bench.csv", "881", admin)
            db.session.commit()
            previewed = time.perf_counter() - started
            outcome = gias_import.apply(record, admin)
            db.session.commit()
            total = time.perf_counter() - started
            met = "met" if total < GOAL_SECONDS else "NOT met"
            print(
                f"{label}: {len(data) / 1e6:.1f} MB, {record.rows_read:,} rows ({record.encoding}): "
                f"preview {previewed:.2f} s, preview + apply {total:.2f} s "
                f"(goal under {GOAL_SECONDS:g} s: {met})"
            )
            print(
                f"  {outcome['new']:,} new, {outcome['changed']:,} changed, "
                f"{outcome['closed']:,} closed, {outcome['converted']:,} converted"
            )
            return outcome

        rows = args.rows
        first = run("First import", as_csv(generate(rows), "utf-8"))
        count = db.session.execute(select(func.count()).select_from(School)).scalar_one()
        if not first or first["new"] != rows or count != rows:
            print(f"WRONG: expected {rows:,} schools, found {count:,}")
            ok = False
        second = run("Second import", as_csv(generate(rows, changed=True), "cp1252"))
        converted = db.session.execute(
            select(func.count())
            .select_from(School)
            .where(School.predecessor_id.is_not(None), School.billing_route == BillingRoute.INVOICE)
        ).scalar_one()
        closed = db.session.execute(
            select(func.count()).select_from(School).where(School.status == SchoolStatus.CLOSED)
        ).scalar_one()
        expected_closed = len([i for i in range(rows) if i % 100 == 3]) + 200
        if not second or converted != 200 or closed != expected_closed:
            print(f"WRONG: {converted} conversions (200 expected), {closed} closed")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
