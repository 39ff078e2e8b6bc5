"""Exports for the council's ledger, recorded: the sales ledger (CSV or XLSX), the recharge
journal (CSV) and a ZIP of the documents' PDFs, each for a range of issue dates.

Making an export is two steps. `create_export` records it (who, when, what, the range) and links
every document it carries (DocumentExport rows, inserted by one INSERT … SELECT), with its row
count and totals; the file is then written from those links alone (export_files), so it holds
exactly what was recorded whatever is issued meanwhile, and the same export can be written again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, exists, func, insert, literal, or_, select
from sqlalchemy.orm import aliased, selectinload

from traded_app.extensions import db
from traded_app.formatting import long_date
from traded_app.models import Document, DocumentLine, DocumentType, User
from traded_app.models.finance import DocumentExport, ExportKind, FinanceExport
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import today

MAX_RANGE_DAYS = 366  # a whole financial year, leap day included


class ExportError(DomainError, ValueError):
    """An export that cannot be made; the message is for the finance officer, `field` names
    the form field it is about."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class NothingToExport(ExportError):
    pass


def check_range(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    if date_from is None:
        raise ExportError("Enter the date to export from", "date_from")
    if date_to is None:
        raise ExportError("Enter the date to export to", "date_to")
    if date_from > date_to:
        raise ExportError(
            "The date to export from must be the same as or before the date to export to",
            "date_from",
        )
    if (date_to - date_from).days >= MAX_RANGE_DAYS:
        raise ExportError(
            f"The date range must be {MAX_RANGE_DAYS} days or shorter (a financial year): "
            "export a longer period in parts",
            "date_to",
        )
    return date_from, date_to


# --- Which documents an export carries ----------------------------------------------------


def _in_range(kind: ExportKind, date_from: date, date_to: date) -> Any:
    stmt = select(Document.id).where(
        Document.issue_date >= date_from,
        Document.issue_date <= date_to,
        # Brought forward: the previous system already put it in the ledger.
        Document.brought_forward.is_(False),
    )
    if kind == ExportKind.JOURNAL_CSV:
        original = aliased(Document)
        stmt = stmt.outerjoin(original, original.id == Document.credits_document_id).where(
            or_(
                Document.document_type == DocumentType.RECHARGE,
                and_(
                    Document.document_type == DocumentType.CREDIT_NOTE,
                    original.document_type == DocumentType.RECHARGE,
                ),
            )
        )
    return stmt


def _already_exported(kind: ExportKind) -> Any:
    return exists(
        select(DocumentExport.document_id)
        .join(FinanceExport, FinanceExport.id == DocumentExport.export_id)
        .where(
            DocumentExport.document_id == Document.id,
            FinanceExport.kind.in_(kind.kinds_in_family),
        )
    )


@dataclass(frozen=True)
class RangeSummary:
    documents: int
    already_exported: int
    last_exported: FinanceExport | None


def summarise_range(kind: ExportKind, date_from: date, date_to: date) -> RangeSummary:
    """How many documents the range holds, and how many went out in an earlier export of the
    same family (so finance can leave them out)."""
    stmt = _in_range(kind, date_from, date_to)
    documents, already = db.session.execute(
        stmt.with_only_columns(
            func.count(), func.coalesce(func.sum(case((_already_exported(kind), 1), else_=0)), 0)
        )
    ).one()
    last = None
    if already:
        last = db.session.execute(
            select(FinanceExport)
            .where(
                FinanceExport.kind.in_(kind.kinds_in_family),
                exists(
                    select(DocumentExport.document_id)
                    .join(Document, Document.id == DocumentExport.document_id)
                    .where(
                        DocumentExport.export_id == FinanceExport.id,
                        Document.issue_date >= date_from,
                        Document.issue_date <= date_to,
                    )
                ),
            )
            .order_by(FinanceExport.id.desc())
            .limit(1)
        ).scalar_one_or_none()
    return RangeSummary(int(documents), int(already), last)


def create_export(
    kind: ExportKind,
    date_from: date | None,
    date_to: date | None,
    user: User | None,
    *,
    exclude_already_exported: bool,
    source: str = "web",
    reference: str = "",
) -> FinanceExport:
    """Record an export of the documents issued in the range (less those already exported in
    this family, when asked) with its row count and totals. Raises NothingToExport when no
    document would be in it; nothing is recorded then."""
    date_from, date_to = check_range(date_from, date_to)
    reference = " ".join(reference.split())
    if len(reference) > 80:
        raise ExportError("The journal reference must be 80 characters or fewer", "reference")
    if kind == ExportKind.JOURNAL_CSV and not reference:
        reference = f"TS-JNL-{date_from:%Y%m%d}-{date_to:%Y%m%d}"
    chosen = _in_range(kind, date_from, date_to)
    if exclude_already_exported:
        chosen = chosen.where(~_already_exported(kind))
    if not db.session.execute(chosen.with_only_columns(func.count())).scalar_one():
        if exclude_already_exported and summarise_range(kind, date_from, date_to).documents:
            raise NothingToExport(
                f"Every document issued from {long_date(date_from)} to {long_date(date_to)} "
                "has been exported before",
                "date_from",
            )
        raise NothingToExport(
            f"No documents were issued from {long_date(date_from)} to {long_date(date_to)}",
            "date_from",
        )
    export = FinanceExport(
        kind=kind,
        date_from=date_from,
        date_to=date_to,
        created_by_id=user.id if user else None,
        source=source,
        reference=reference,
        excluded_already_exported=exclude_already_exported,
    )
    db.session.add(export)
    db.session.flush()
    db.session.execute(
        insert(DocumentExport).from_select(
            ["export_id", "document_id"],
            chosen.with_only_columns(literal(export.id), Document.id),
        )
    )
    signed = case((Document.document_type == DocumentType.CREDIT_NOTE, -1), else_=1)
    count, net, vat, gross = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(signed * Document.net_pence), 0),
            func.coalesce(func.sum(signed * Document.vat_pence), 0),
            func.coalesce(func.sum(signed * Document.gross_pence), 0),
        )
        .select_from(DocumentExport)
        .join(Document, Document.id == DocumentExport.document_id)
        .where(DocumentExport.export_id == export.id)
    ).one()
    lines = db.session.execute(
        select(func.count())
        .select_from(DocumentExport)
        .join(DocumentLine, DocumentLine.document_id == DocumentExport.document_id)
        .where(DocumentExport.export_id == export.id)
    ).scalar_one()
    export.document_count = int(count)
    export.row_count = {
        ExportKind.PDF_ZIP: int(count),
        ExportKind.JOURNAL_CSV: 2 * int(lines),
    }.get(kind, int(lines))
    export.net_pence, export.vat_pence, export.gross_pence = int(net), int(vat), int(gross)
    db.session.flush()
    return export


def get_export(export_id: int) -> FinanceExport | None:
    return db.session.get(FinanceExport, export_id)


def latest_exports(limit: int = 20) -> list[FinanceExport]:
    return list(
        db.session.execute(
            select(FinanceExport)
            .options(selectinload(FinanceExport.created_by))
            .order_by(FinanceExport.id.desc())
            .limit(limit)
        ).scalars()
    )


def exports_of(document: Document) -> list[FinanceExport]:
    """The exports that carried `document`, oldest first."""
    return list(
        db.session.execute(
            select(FinanceExport)
            .join(DocumentExport, DocumentExport.export_id == FinanceExport.id)
            .where(DocumentExport.document_id == document.id)
            .order_by(FinanceExport.id)
        ).scalars()
    )


def filename_of(export: FinanceExport) -> str:
    stem = {
        ExportKind.SALES_CSV: "sales-ledger",
        ExportKind.SALES_XLSX: "sales-ledger",
        ExportKind.JOURNAL_CSV: "recharge-journal",
        ExportKind.PDF_ZIP: "documents",
    }[export.kind]
    extension = {
        ExportKind.SALES_CSV: "csv",
        ExportKind.SALES_XLSX: "xlsx",
        ExportKind.JOURNAL_CSV: "csv",
        ExportKind.PDF_ZIP: "zip",
    }[export.kind]
    return f"{stem}-{export.date_from.isoformat()}-to-{export.date_to.isoformat()}-{export.id}.{extension}"


def default_range(on: date | None = None) -> tuple[date, date]:
    """Last calendar month: the usual period of a ledger export."""
    first_of_this = (on or today()).replace(day=1)
    last_month_end = first_of_this.fromordinal(first_of_this.toordinal() - 1)
    return last_month_end.replace(day=1), last_month_end
