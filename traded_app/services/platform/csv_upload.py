"""Uploaded CSV files that are checked before anything changes (staff to invite, opening
balances): reading one safely, and keeping its checked rows until they are confirmed.

Reading refuses, with one message a person can act on, a file that is too large, not text (a
spreadsheet saved as .xlsx, UTF-16, random bytes), has no header or lacks a column, or has too
many rows. Text is UTF-8 (with or without the byte-order mark Excel writes) or, failing that,
Windows-1252 (Excel's "CSV (Comma delimited)"). Column names match whatever their case and spaces.

The rows each service has checked are stored as JSON on a `CsvImport`, with what confirming would
do to each; confirming re-checks them against the database as it is then (see each service).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import CsvImport, CsvImportKind, CsvImportStatus, User
from traded_app.models.base import utcnow
from traded_app.services.platform.errors import DomainError, NotFound

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_FIELD_CHARS = 2000


class CsvFileError(DomainError, ValueError):
    """The file cannot be read as the CSV asked for; nothing was changed."""


class CsvImportStateError(DomainError, ValueError):
    """The import was already applied or discarded."""


@dataclass(frozen=True)
class CsvRow:
    line: int  # the row's line in the file (the header is line 1)
    values: dict[str, str]  # by the expected column's name, stripped


def _text_of(content: bytes) -> str:
    if b"\x00" in content:
        raise CsvFileError(
            "The file is not a CSV text file (it may be a spreadsheet or saved as UTF-16). "
            "Save it as “CSV UTF-8” and upload it again."
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise CsvFileError(
            "The file’s characters could not be read. Save it as “CSV UTF-8” and upload it again."
        ) from None


def _key(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).lower()


def read_csv(
    stream: IO[bytes], columns: tuple[str, ...], *, max_bytes: int = MAX_BYTES
) -> list[CsvRow]:
    """The file's rows with the `columns` asked for (others are ignored); CsvFileError when the
    file cannot be one. Blank lines are skipped; line numbers count from the header's line 1."""
    content = stream.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise CsvFileError(
            f"The file is larger than {max_bytes // (1024 * 1024)} MB: it is not the CSV asked "
            "for. Check you chose the right file."
        )
    text = _text_of(content)
    if not text.strip():
        raise CsvFileError("The file is empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        wanted = {_key(column): column for column in columns}
        positions = {wanted[_key(name)]: i for i, name in enumerate(header) if _key(name) in wanted}
        missing = [column for column in columns if column not in positions]
        if missing:
            raise CsvFileError(
                f"The file must have a header row with the columns {', '.join(columns)}. "
                f"Missing: {', '.join(missing)}."
            )
        rows: list[CsvRow] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvFileError(f"The file has more than {MAX_ROWS:,} rows: split it")
            if any(len(cell) > MAX_FIELD_CHARS for cell in cells):
                raise CsvFileError(
                    f"Line {reader.line_num} has a value longer than {MAX_FIELD_CHARS:,} "
                    "characters: it is not the CSV asked for"
                )
            values = {
                column: (cells[i].strip() if i < len(cells) else "")
                for column, i in positions.items()
            }
            rows.append(CsvRow(reader.line_num, values))
    except csv.Error as error:
        raise CsvFileError(f"The file is not a valid CSV file: {error}") from None
    if not rows:
        raise CsvFileError("The file has a header row but no rows under it")
    return rows


# --- Keeping the checked rows until they are confirmed ---------------------------------------


def store(kind: CsvImportKind, filename: str, rows: list[dict[str, Any]], by: User) -> CsvImport:
    record = CsvImport(
        kind=kind,
        filename=filename[:255],
        uploaded_by_id=by.id,
        rows=json.dumps(rows),
    )
    db.session.add(record)
    db.session.flush()
    return record


def get(import_id: int, kind: CsvImportKind) -> CsvImport:
    record = db.session.get(CsvImport, import_id)
    if record is None or record.kind != kind:
        raise NotFound(f"No {kind.value} import {import_id}")
    return record


def rows_of(record: CsvImport) -> list[dict[str, Any]]:
    rows = json.loads(record.rows)
    return rows if isinstance(rows, list) else []


def lock_previewed(record: CsvImport) -> None:
    """Lock the import for applying it, refused if it has been applied or discarded (a second
    click, or two people at once)."""
    db.session.refresh(record, with_for_update=True)
    if record.status != CsvImportStatus.PREVIEWED:
        raise CsvImportStateError(f"This file was already {record.status.value}")


def mark_applied(record: CsvImport, by: User) -> None:
    record.status = CsvImportStatus.APPLIED
    record.applied_at = utcnow()
    record.applied_by_id = by.id
    db.session.flush()


def discard(record: CsvImport) -> None:
    lock_previewed(record)
    record.status = CsvImportStatus.DISCARDED
    db.session.flush()


def recent(kind: CsvImportKind, limit: int = 10) -> list[CsvImport]:
    return list(
        db.session.execute(
            select(CsvImport)
            .where(CsvImport.kind == kind)
            .order_by(CsvImport.id.desc())
            .limit(limit)
        ).scalars()
    )
