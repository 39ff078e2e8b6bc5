"""`flask --app wsgi finance …`: the ledger exports, for scheduled runs.

Each command records its export (as made from the command line) and writes the file atomically;
documents already exported in the same family are left out unless --include-exported is given,
so a schedule that runs twice over the same dates posts nothing twice.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
from flask.cli import with_appcontext

from traded_app.extensions import db
from traded_app.models.finance import ExportKind
from traded_app.services.finance import export_files, exports

F = TypeVar("F", bound=Any)


@click.group("finance")
def finance_cli() -> None:
    """Finance: exports for the council's ledger."""


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2027-04-01", param_hint=name
        ) from None


def _export(
    kind: ExportKind,
    date_from: str,
    date_to: str,
    out: Path,
    include_exported: bool,
    reference: str = "",
) -> None:
    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    try:
        summary = exports.summarise_range(kind, *exports.check_range(start, end))
        export = exports.create_export(
            kind,
            start,
            end,
            None,
            exclude_already_exported=not include_exported,
            source="cli",
            reference=reference,
        )
    except exports.NothingToExport as nothing:
        db.session.rollback()
        click.echo(f"{nothing}: nothing written.")
        return
    except exports.ExportError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    if summary.already_exported and not include_exported:
        click.echo(
            f"Left out {summary.already_exported} documents exported before "
            "(--include-exported to export them again)."
        )
    export_files.write_file(export, str(out))
    db.session.commit()
    click.echo(
        f"Export {export.id}: {export.kind.label}, {export.document_count} documents, "
        f"{export.row_count} rows, gross {export.gross_pence / 100:.2f}, written to {out}."
    )


def _common(command: F) -> F:
    for option in reversed(
        [
            click.option("--from", "date_from", required=True, help="First issue date (ISO)."),
            click.option("--to", "date_to", required=True, help="Last issue date (ISO)."),
            click.option(
                "--out",
                required=True,
                type=click.Path(dir_okay=False, writable=True, path_type=Path),
                help="File to write.",
            ),
            click.option(
                "--include-exported",
                is_flag=True,
                help="Export documents already exported before too.",
            ),
        ]
    ):
        command = option(command)
    return command


@finance_cli.command("export-sales")
@_common
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "xlsx"]),
    default="csv",
    show_default=True,
)
@with_appcontext
def export_sales(
    date_from: str, date_to: str, out: Path, include_exported: bool, file_format: str
) -> None:
    """The sales ledger: one row per document line, credit notes negative."""
    kind = ExportKind.SALES_XLSX if file_format == "xlsx" else ExportKind.SALES_CSV
    _export(kind, date_from, date_to, out, include_exported)


@finance_cli.command("export-journal")
@_common
@click.option("--reference", default="", help="The journal's reference (default: from the dates).")
@with_appcontext
def export_journal(
    date_from: str, date_to: str, out: Path, include_exported: bool, reference: str
) -> None:
    """The recharge journal: cost centres debited, income codes credited."""
    _export(ExportKind.JOURNAL_CSV, date_from, date_to, out, include_exported, reference)


@finance_cli.command("export-pdfs")
@_common
@with_appcontext
def export_pdfs(date_from: str, date_to: str, out: Path, include_exported: bool) -> None:
    """A ZIP of the documents' PDFs, as issued."""
    _export(ExportKind.PDF_ZIP, date_from, date_to, out, include_exported)
