"""Opening balances: unpaid invoices brought forward from the council's previous system.

Finance uploads a CSV file (school URN, original number, date, due date, amount, VAT,
description); `preview` reads it and keeps its rows; `check` says for each row what would be
recorded or why it is refused (unknown URN, a number already used or repeated in the file, a bad
date or amount, VAT more than the amount…). `apply` checks every row again and records them all,
or nothing if any row is refused: an opening balance is a set of figures that must reconcile
with the old system's, not a best effort.

Each becomes a `Document` with `brought_forward` set: under its original number, with no order,
no number of our series and no PDF of ours, copying the council's and the school's details as
they are now like any document. It is a VAT invoice or an internal recharge by the school's
billing route, so the register, aged debt, reminders and payments treat it as they treat any
other; it is append-only like every document. The amount is what the school still owes,
VAT included; the VAT is the part of it that is VAT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy import select

from traded_app.domain.numbers import whole_number
from traded_app.domain.pricing import MoneyError, parse_pounds
from traded_app.extensions import db
from traded_app.models import AcademicYear, CsvImport, CsvImportKind, Document, School, User
from traded_app.models.invoices import DocumentType
from traded_app.models.types import BillingRoute
from traded_app.services.documents.issuing import buyer_details, require_council_details, seller
from traded_app.services.documents.numbering import InvoicingError, financial_year_of
from traded_app.services.platform import csv_upload
from traded_app.services.platform.settings import today

COLUMNS = ("URN", "original number", "date", "due date", "amount", "VAT", "description")
KIND = CsvImportKind.OPENING_BALANCES
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")
NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,31}$")


class OpeningBalanceError(InvoicingError):
    """The file's rows cannot all be recorded (now): nothing was."""


@dataclass
class Row:
    line: int
    urn: str
    number: str
    issued: str
    due: str
    amount: str
    vat: str
    description: str
    reason: str = ""  # why it is refused; empty: it can be recorded
    school_name: str = ""
    billing: str = ""  # "VAT invoice" or "Internal recharge"
    gross_pence: int = 0
    vat_pence: int = 0

    @property
    def refused(self) -> bool:
        return bool(self.reason)


@dataclass(frozen=True)
class Checked:
    rows: list[Row]

    @property
    def refused(self) -> list[Row]:
        return [row for row in self.rows if row.refused]

    @property
    def total_pence(self) -> int:
        return sum(row.gross_pence for row in self.rows if not row.refused)


def parse_date(raw: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(raw.strip(), pattern).date()  # noqa: DTZ007 - a date
        except ValueError:
            continue
    return None


def _our_series(number: str) -> bool:
    """Whether `number` has the form of this service's own numbers (PREFIX-2026-000123), which
    the counter would one day take and find used."""
    settings = require_council_details()
    prefixes = {settings.invoice_prefix, settings.recharge_prefix, settings.credit_note_prefix}
    match = re.fullmatch(r"([A-Z][A-Z0-9]*)-\d{4}-\d{6}", number.upper())
    return match is not None and match[1] in {p.upper() for p in prefixes}


def _taken(numbers: set[str]) -> set[str]:
    if not numbers:
        return set()
    found = db.session.execute(select(Document.number).where(Document.number.in_(numbers)))
    return set(found.scalars())


def _schools(urns: set[int]) -> dict[int, School]:
    if not urns:
        return {}
    found = db.session.execute(select(School).where(School.urn.in_(urns))).scalars()
    return {school.urn: school for school in found}


def check(raw_rows: list[dict[str, Any]]) -> Checked:
    rows = [
        Row(
            int(r["line"]),
            r["urn"],
            r["number"],
            r["date"],
            r["due"],
            r["amount"],
            r["vat"],
            r["description"],
        )
        for r in raw_rows
    ]
    schools = _schools({u for r in rows if (u := whole_number(r.urn)) is not None})
    taken = _taken({r.number for r in rows if r.number})
    first_line: dict[str, int] = {}
    for row in rows:
        row.reason = _refusal(row, schools, taken, first_line) or ""
    return Checked(rows)


def _refusal(
    row: Row, schools: dict[int, School], taken: set[str], first_line: dict[str, int]
) -> str | None:
    """Why the row cannot be recorded, or None (filling in the row's figures)."""
    urn = whole_number(row.urn)
    school = schools.get(urn) if urn is not None else None
    if school is None:
        return f"There is no school with URN {row.urn}" if row.urn else "No URN"
    row.school_name = school.name
    row.billing = school.billing_route.label
    if not row.number:
        return "No original number"
    if not NUMBER.match(row.number):
        return (
            f"“{row.number}” is not a document number: up to 32 letters, digits and - / _ . "
            "with no spaces"
        )
    key = row.number.upper()
    if key in first_line:
        return f"The same original number as line {first_line[key]}"
    first_line[key] = row.line
    if row.number in taken:
        return f"{row.number} is already a document here"
    if _our_series(row.number):
        return f"{row.number} has the form of this service's own numbers and would clash with them"
    return _dates_refusal(row) or _money_refusal(row, school)


def _dates_refusal(row: Row) -> str | None:
    issued, due = parse_date(row.issued), parse_date(row.due)
    if issued is None:
        return f"“{row.issued}” is not a date, like 31/03/2026" if row.issued else "No date"
    if due is None:
        return f"“{row.due}” is not a due date, like 30/04/2026" if row.due else "No due date"
    if issued > today():
        return f"The date {issued:%d/%m/%Y} is in the future"
    if due < issued:
        return "The due date is before the date"
    return None


def _money_refusal(row: Row, school: School) -> str | None:
    try:
        row.gross_pence = parse_pounds(row.amount)
    except MoneyError as error:
        return f"Amount “{row.amount}”: {error}"
    if row.gross_pence == 0:
        return "The amount is £0: only unpaid invoices are brought forward"
    try:
        row.vat_pence = parse_pounds(row.vat or "0")
    except MoneyError as error:
        return f"VAT “{row.vat}”: {error}"
    if row.vat_pence > row.gross_pence:
        return "The VAT is more than the amount (the amount includes VAT)"
    if row.vat_pence and school.billing_route == BillingRoute.RECHARGE:
        return f"{school.name} is charged by internal recharge, which carries no VAT"
    if len(row.description) > 500:
        return "The description is longer than 500 characters"
    return None


def preview(stream: IO[bytes], filename: str, by: User, max_bytes: int) -> CsvImport:
    """Read the file and keep its rows for confirming; CsvFileError if it cannot be read."""
    read = csv_upload.read_csv(stream, COLUMNS, max_bytes=max_bytes)
    names = {"original number": "number", "date": "date", "due date": "due"}
    raw = [
        {"line": r.line, **{names.get(c, c.lower()): r.values[c] for c in COLUMNS}} for r in read
    ]
    return csv_upload.store(KIND, filename, raw, by)


def _academic_year_of(on: date) -> AcademicYear | None:
    return db.session.execute(
        select(AcademicYear).where(AcademicYear.starts_on <= on, AcademicYear.ends_on >= on)
    ).scalar_one_or_none()


def apply(record: CsvImport, by: User) -> list[Document]:
    """Record every row as a brought-forward document, or none (OpeningBalanceError) if any row
    is refused now."""
    csv_upload.lock_previewed(record)
    settings = require_council_details()
    checked = check(csv_upload.rows_of(record))
    if checked.refused:
        raise OpeningBalanceError(
            f"{len(checked.refused)} rows of the file cannot be recorded: correct the file and "
            "upload it again. Nothing was recorded."
        )
    schools = _schools({int(row.urn) for row in checked.rows})
    documents = []
    for row in checked.rows:
        school = schools[int(row.urn)]
        issued, due = parse_date(row.issued), parse_date(row.due)
        assert issued is not None and due is not None  # checked
        document = Document(
            document_type=DocumentType.INVOICE
            if school.billing_route == BillingRoute.INVOICE
            else DocumentType.RECHARGE,
            number=row.number,
            financial_year=financial_year_of(issued, settings.financial_year_start_month),
            sequence=None,
            order_id=None,
            academic_year=_academic_year_of(issued),
            issued_by_id=by.id,
            issue_date=issued,
            due_date=due,
            po_number="",
            order_reference="",
            reason=row.description,
            net_pence=row.gross_pence - row.vat_pence,
            vat_pence=row.vat_pence,
            gross_pence=row.gross_pence,
            pdf_path="",
            pdf_sha256="",
            pdf_bytes=0,
            brought_forward=True,
            **seller(settings),
            **buyer_details(school),
        )
        db.session.add(document)
        documents.append(document)
    db.session.flush()
    csv_upload.mark_applied(record, by)
    return documents
