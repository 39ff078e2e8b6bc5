"""Writing a recorded export's file: the sales ledger as CSV or XLSX, the recharge journal as CSV,
and the documents' PDFs as a ZIP, from the documents the export links (exports.create_export).

Files are written with memory that does not grow with their size: rows come from the database
in batches (yield_per) and go straight out, as CSV chunks from a generator, into openpyxl's
write-only workbook (which streams each sheet to a temporary file), or into a ZIP on disk one
PDF at a time.

Cells a spreadsheet would read as a formula (text starting with =, +, -, @, a tab or a carriage
return) are neutralised with a leading apostrophe; amounts are never text: plain decimal
numbers in CSV, numeric cells in XLSX. Dates are ISO 8601. Credit notes count negative.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased

from traded_app.database import reset_read_only, set_read_only
from traded_app.domain import pricing
from traded_app.extensions import db
from traded_app.models import Document, DocumentLine, DocumentType
from traded_app.models.finance import DocumentExport, ExportKind, FinanceExport
from traded_app.models.types import VatTreatment
from traded_app.services.platform.document_store import MissingPdfError, read_pdf

BATCH = 2000

Execute = Callable[[Any], Any]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

VAT_CODES = {
    VatTreatment.STANDARD: "S",
    VatTreatment.REDUCED: "R",
    VatTreatment.ZERO: "Z",
    VatTreatment.EXEMPT: "E",
    VatTreatment.OUTSIDE_SCOPE: "O",
}

SALES_COLUMNS = (
    "document_number",
    "document_type",
    "credits_document",
    "issue_date",
    "due_date",
    "customer_account",
    "school_name",
    "cost_centre",
    "po_number",
    "service_code",
    "description",
    "income_code",
    "days",
    "price_per_day",
    "net",
    "vat_code",
    "vat_rate",
    "vat",
    "gross",
)
SALES_NUMERIC = frozenset({"days", "price_per_day", "net", "vat_rate", "vat", "gross"})

JOURNAL_COLUMNS = (
    "journal_reference",
    "date",
    "document_number",
    "document_type",
    "account",
    "account_type",
    "customer_account",
    "school_name",
    "service_code",
    "description",
    "debit",
    "credit",
)


def neutralise(value: str) -> str:
    """Text a spreadsheet would run as a formula, made plain text by a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def pounds_number(pence: int) -> Decimal:
    """Pence as a decimal number of pounds (never a float): -45000 -> Decimal('-450.00')."""
    return Decimal(pence).scaleb(-2).quantize(Decimal("0.01"))


def days_number(half_days: int) -> Decimal:
    return Decimal(half_days) / 2


def rate_number(rate_bp: int) -> Decimal:
    """Basis points as a percentage: 2000 -> 20, 1750 -> 17.5."""
    return (Decimal(rate_bp) / 100).normalize() + 0


# --- The rows --------------------------------------------------------------------------------


def _line_rows(export_id: int, execute: Execute | None = None) -> Iterator[tuple[Any, ...]]:
    """Every line of the export's documents with its document's columns, in batches."""
    original = aliased(Document)
    stmt = (
        select(
            Document.id,
            Document.number,
            Document.document_type,
            original.number,
            Document.issue_date,
            Document.due_date,
            Document.buyer_urn,
            Document.buyer_name,
            Document.buyer_cost_centre,
            Document.po_number,
            DocumentLine.service_code,
            DocumentLine.service_name,
            DocumentLine.income_code,
            DocumentLine.half_days,
            DocumentLine.price_per_day_pence,
            DocumentLine.net_pence,
            DocumentLine.vat_treatment,
            DocumentLine.vat_rate_bp,
        )
        .select_from(DocumentExport)
        .join(Document, Document.id == DocumentExport.document_id)
        .join(DocumentLine, DocumentLine.document_id == Document.id)
        .outerjoin(original, original.id == Document.credits_document_id)
        .where(DocumentExport.export_id == export_id)
        .order_by(Document.issue_date, Document.number, DocumentLine.position)
        .execution_options(yield_per=BATCH)
    )
    for row in (execute or db.session.execute)(stmt):
        yield tuple(row)


def _by_document(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    current: list[tuple[Any, ...]] = []
    for row in rows:
        if current and current[0][0] != row[0]:
            yield current
            current = []
        current.append(row)
    if current:
        yield current


def line_vat(lines: list[tuple[int, VatTreatment, int]]) -> list[int]:
    """Each line's share of its document's VAT: VAT is worked out per rate on the lines' total
    (as the document shows it), then shared across that rate's lines in proportion to their net,
    the odd pence going to the largest remainders, so the lines add up to the document exactly."""
    shares = [0] * len(lines)
    bands: dict[tuple[VatTreatment, int], list[int]] = {}
    for index, (_net, treatment, rate) in enumerate(lines):
        bands.setdefault((treatment, rate), []).append(index)
    for (_treatment, rate), indexes in bands.items():
        band_net = sum(lines[i][0] for i in indexes)
        band_vat = pricing.vat_pence(band_net, rate)
        if band_net == 0:
            continue
        exact = [(band_vat * lines[i][0], i) for i in indexes]
        for value, i in exact:
            shares[i] = value // band_net
        left = band_vat - sum(shares[i] for i in indexes)
        for _remainder, i in sorted(((v % band_net, i) for v, i in exact), reverse=True)[:left]:
            shares[i] += 1
    return shares


@dataclass(frozen=True)
class SalesRow:
    values: tuple[Any, ...]  # in SALES_COLUMNS order: text, date, Decimal


def sales_rows(export_id: int, execute: Execute | None = None) -> Iterator[tuple[Any, ...]]:
    """The sales ledger's rows (SALES_COLUMNS): one per document line, credit notes negative;
    text already neutralised, dates as dates, numbers as Decimals."""
    for lines in _by_document(_line_rows(export_id, execute)):
        vats = line_vat([(r[15], r[16], r[17]) for r in lines])
        for row, vat in zip(lines, vats, strict=True):
            (
                _id,
                number,
                document_type,
                credits_number,
                issue_date,
                due_date,
                urn,
                name,
                cost_centre,
                po_number,
                code,
                service_name,
                income_code,
                half_days,
                price,
                net,
                treatment,
                rate,
            ) = row
            sign = -1 if document_type == DocumentType.CREDIT_NOTE else 1
            yield (
                neutralise(number),
                document_type.value,
                neutralise(credits_number or ""),
                issue_date,
                due_date,
                str(urn),
                neutralise(name),
                neutralise(cost_centre or ""),
                neutralise(po_number or ""),
                neutralise(code),
                neutralise(service_name),
                neutralise(income_code),
                days_number(sign * half_days),
                pounds_number(price),
                pounds_number(sign * net),
                VAT_CODES[treatment],
                rate_number(rate),
                pounds_number(sign * vat),
                pounds_number(sign * (net + vat)),
            )


def journal_rows(
    export_id: int, reference: str, execute: Execute | None = None
) -> Iterator[tuple[Any, ...]]:
    """The recharge journal's rows (JOURNAL_COLUMNS): for each line, the school's cost centre
    debited and the service's income code credited (the other way round for a credit note)."""
    for row in _line_rows(export_id, execute):
        (
            _id,
            number,
            document_type,
            _credits,
            issue_date,
            _due,
            urn,
            name,
            cost_centre,
            _po,
            code,
            service_name,
            income_code,
            _half_days,
            _price,
            net,
            _treatment,
            _rate,
        ) = row
        amount = pounds_number(net)
        zero = pounds_number(0)
        credit_note = document_type == DocumentType.CREDIT_NOTE
        common = (neutralise(number), document_type.value)
        school = (str(urn), neutralise(name), neutralise(code), neutralise(service_name))
        journal = neutralise(reference)
        cost_centre_row = (
            journal,
            issue_date,
            *common,
            neutralise(cost_centre or ""),
            "cost_centre",
            *school,
            zero if credit_note else amount,
            amount if credit_note else zero,
        )
        income_row = (
            journal,
            issue_date,
            *common,
            neutralise(income_code),
            "income_code",
            *school,
            amount if credit_note else zero,
            zero if credit_note else amount,
        )
        yield cost_centre_row
        yield income_row


# --- Files -----------------------------------------------------------------------------------


def _csv_text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def csv_chunks(header: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> Iterator[bytes]:
    """CSV as UTF-8 (with a byte-order mark, so Excel reads the names right), in chunks of
    about 64 KB; the header goes out before the first row is read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield ("\ufeff" + buffer.getvalue()).encode()
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        if buffer.tell() > 65_536:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def csv_stream(engine: Engine, export_id: int) -> Iterator[bytes]:
    """The export's CSV for a streamed response. It runs after the request has ended (and its
    transaction committed), on a connection of its own in a read-only transaction: on SQLite a
    plain BEGIN, which takes no write lock however long the download lasts. Nothing here
    depends on a context variable lasting from one chunk to the next (a server may hand each
    chunk to a different context)."""
    connection = engine.connect()
    try:
        token = set_read_only(True)
        try:
            kind, reference = connection.execute(
                select(FinanceExport.kind, FinanceExport.reference).where(
                    FinanceExport.id == export_id
                )
            ).one()
        finally:
            reset_read_only(token)
        yield from _csv_for(ExportKind(kind), export_id, reference, connection.execute)
    finally:
        connection.rollback()
        connection.close()


def csv_download(export_id: int) -> Iterator[bytes]:
    """`csv_stream` on the app's database, looked up now: the stream itself runs after the
    request (and its app context) has ended."""
    return csv_stream(db.engine, export_id)


def write_csv(export: FinanceExport) -> Iterator[bytes]:
    return _csv_for(export.kind, export.id, export.reference, None)


def _csv_for(
    kind: ExportKind, export_id: int, reference: str, execute: Execute | None
) -> Iterator[bytes]:
    if kind == ExportKind.SALES_CSV:
        return csv_chunks(SALES_COLUMNS, sales_rows(export_id, execute))
    if kind == ExportKind.JOURNAL_CSV:
        return csv_chunks(JOURNAL_COLUMNS, journal_rows(export_id, reference, execute))
    raise ValueError(f"{kind} is not a CSV export")


Progress = Callable[[int], None]


def write_xlsx(export: FinanceExport, out: IO[bytes], progress: Progress | None = None) -> None:
    """The sales ledger as an XLSX workbook (openpyxl's write-only mode: each sheet streams to
    a temporary file, so memory stays flat): the lines, then a summary sheet with the totals.
    `progress(lines written)` is told every thousand lines."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sales ledger")
    bold = Font(bold=True)

    def header_row(values: tuple[str, ...]) -> list[WriteOnlyCell]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = bold
            cells.append(cell)
        return cells

    sheet.append(header_row(SALES_COLUMNS))
    # One styled cell per formatted column, reused row after row (write-only mode writes each
    # row as it is appended): numbers and dates keep their formats without a style lookup per
    # cell. Text goes in as plain strings, already neutralised, so none starts with "=" and
    # openpyxl never takes one for a formula.
    templates: list[WriteOnlyCell | None] = []
    for column in SALES_COLUMNS:
        number_format = None
        if column in ("issue_date", "due_date"):
            number_format = "yyyy-mm-dd"
        elif column in ("days", "vat_rate"):
            number_format = "0.0#"
        elif column in SALES_NUMERIC:
            number_format = "#,##0.00"
        if number_format is None:
            templates.append(None)
        else:
            cell = WriteOnlyCell(sheet)
            cell.number_format = number_format
            templates.append(cell)
    for written, row in enumerate(sales_rows(export.id), start=1):
        if progress is not None and written % 1000 == 0:
            progress(written)
        values: list[Any] = []
        for value, template in zip(row, templates, strict=True):
            if template is None:
                values.append(value)
            else:
                template.value = value
                values.append(template)
        sheet.append(values)
    summary = workbook.create_sheet("Summary")
    for label, value in (
        ("Export", export.id),
        ("Issued from", export.date_from),
        ("Issued to", export.date_to),
        ("Documents", export.document_count),
        ("Lines", export.row_count),
        ("Net", pounds_number(export.net_pence)),
        ("VAT", pounds_number(export.vat_pence)),
        ("Gross", pounds_number(export.gross_pence)),
    ):
        cell = WriteOnlyCell(summary, value=value)
        if isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
        elif isinstance(value, Decimal):
            cell.number_format = "#,##0.00"
        summary.append([WriteOnlyCell(summary, value=label), cell])
    workbook.save(out)


def write_zip(export: FinanceExport, out: IO[bytes], progress: Progress | None = None) -> list[str]:
    """Each document's stored PDF, checked against its SHA-256, into a ZIP (one file in memory
    at a time); a PDF that is missing or altered is left out and named in MISSING.txt. Returns
    the numbers left out. `progress(documents done)` is told every fifty documents."""
    missing: list[str] = []
    documents = db.session.execute(
        select(Document)
        .join(DocumentExport, DocumentExport.document_id == Document.id)
        .where(DocumentExport.export_id == export.id, Document.brought_forward.is_(False))
        .order_by(Document.issue_date, Document.number)
        .execution_options(yield_per=200)
    ).scalars()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for done, document in enumerate(documents, start=1):
            if progress is not None and done % 50 == 0:
                progress(done)
            try:
                content = read_pdf(document)
            except MissingPdfError:
                missing.append(document.number)
                continue
            archive.writestr(f"{document.issue_date.year}/{document.number}.pdf", content)
            db.session.expunge(document)
        if missing:
            archive.writestr(
                "MISSING.txt",
                "These documents' stored PDFs are missing or are not the ones issued, so they "
                "are not in this file. Restore them from the backup of the invoice folder.\n\n"
                + "\n".join(missing)
                + "\n",
            )
    return missing


def write_to_temporary(export: FinanceExport) -> IO[bytes]:
    """The XLSX or ZIP written to an unnamed temporary file, rewound for reading (the file
    disappears when closed)."""
    writer: Callable[[FinanceExport, IO[bytes]], Any] = (
        write_xlsx if export.kind == ExportKind.SALES_XLSX else write_zip
    )
    handle = tempfile.TemporaryFile()  # closed by the response that sends it
    try:
        writer(export, handle)
        handle.flush()
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return handle


def write_file(export: FinanceExport, path: str) -> None:
    """Write the export to `path` (for the command line), atomically."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            if export.kind in (ExportKind.SALES_CSV, ExportKind.JOURNAL_CSV):
                for chunk in write_csv(export):
                    out.write(chunk)
            elif export.kind == ExportKind.SALES_XLSX:
                write_xlsx(export, out)
            else:
                write_zip(export, out)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
