"""Ledger exports, read back with the csv module, openpyxl and zipfile: one row per line, credit
notes negative, text a spreadsheet would run neutralised while amounts stay numbers, ISO dates,
totals that reconcile to the register; each export recorded and shown on its documents,
re-exports warned about, bad ranges refused, and the command-line exports."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import text_of
from tests.factories import charged_order, issue_document
from traded_app.extensions import db
from traded_app.models import DocumentType, FinanceExport
from traded_app.models.base import utcnow
from traded_app.models.types import Role, VatTreatment
from traded_app.services.finance import export_files, register
from traded_app.services.platform import jobs
from traded_app.services.platform.settings import today

START = today() - timedelta(days=20)
END = today()


def _form(kind: str, start: date = START, end: date = END, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "date_from": [str(start.day), str(start.month), str(start.year)],
        "date_to": [str(end.day), str(end.month), str(end.year)],
        **extra,
    }


@pytest.fixture()
def ledger(world: Any) -> dict[str, Any]:
    world.academy.name = '=HYPERLINK("http://evil") Academy'
    invoice = issue_document(
        world,
        lines=[(3, 45_000, VatTreatment.STANDARD, 2000), (1, 33_333, VatTreatment.STANDARD, 2000)],
        po_number="+44 PO",
        on=today() - timedelta(days=5),
    )
    recharge = issue_document(world, school=world.school, po_number="@risky")
    credit = issue_document(
        world,
        document_type=DocumentType.CREDIT_NOTE,
        lines=[(1, 45_000, VatTreatment.STANDARD, 2000)],
        credits=invoice,
        po_number="-1",
    )
    outside = issue_document(world, on=today() - timedelta(days=60))
    db.session.commit()
    return {
        "invoice": invoice,
        "recharge": recharge,
        "credit": credit,
        "outside": outside,
        "world": world,
    }


def _csv(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_sales_csv(as_role: Any, ledger: dict[str, Any]) -> None:
    client = as_role(Role.LA_FINANCE)
    response = client.post_form("/finance/exports", _form("sales_csv"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert len(rows) == 4  # two lines, one, one: the document 60 days ago is outside the range
    assert list(rows[0]) == list(export_files.SALES_COLUMNS)
    by_number: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_number.setdefault(row["document_number"], []).append(row)
    invoice = by_number[ledger["invoice"].number]
    assert invoice[0]["school_name"].startswith("'=HYPERLINK")  # neutralised
    assert invoice[0]["po_number"] == "'+44 PO"
    assert invoice[0]["issue_date"] == ledger["invoice"].issue_date.isoformat()
    assert (invoice[0]["days"], invoice[0]["price_per_day"], invoice[0]["net"]) == (
        "1.5",
        "450.00",
        "675.00",
    )
    assert (invoice[0]["vat_code"], invoice[0]["vat_rate"]) == ("S", "20")
    # The lines' VAT adds up to the document's VAT exactly.
    assert sum(Decimal(r["vat"]) for r in invoice) * 100 == ledger["invoice"].vat_pence
    credit = by_number[ledger["credit"].number]
    assert credit[0]["net"] == "-225.00" and credit[0]["gross"] == "-270.00"
    assert credit[0]["days"] == "-0.5" and credit[0]["po_number"] == "'-1"
    assert credit[0]["credits_document"] == ledger["invoice"].number
    recharge = by_number[ledger["recharge"].number]
    assert recharge[0]["po_number"] == "'@risky" and recharge[0]["vat_code"] == "O"
    # Totals reconcile with the register for the same dates.
    gross = sum(Decimal(r["gross"]) for r in rows)
    totals = register.totals_of(register.RegisterFilters(issued_from=START, issued_to=END))
    assert gross * 100 == totals.net_issued_pence
    export = db.session.execute(select(FinanceExport)).scalar_one()
    assert (export.document_count, export.row_count, export.gross_pence) == (
        3,
        4,
        totals.net_issued_pence,
    )
    assert export.created_by.role == Role.LA_FINANCE


def built_file(client: Any, response: Any) -> Any:
    """Follow a long export to its page (the test environment's queue has built it by then)
    and download its file."""
    assert response.status_code == 302
    page = client.get(response.location).soup
    assert text_of(page, "#export-build .govuk-tag") == "Ready"
    download = page.select_one("#export-build a.govuk-button")["href"]
    return client.get(download)


def test_sales_xlsx_has_numbers_and_plain_text(as_role: Any, ledger: dict[str, Any]) -> None:
    client = as_role(Role.LA_FINANCE)
    response = built_file(client, client.post_form("/finance/exports", _form("sales_xlsx")))
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook["Sales ledger"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header == export_files.SALES_COLUMNS
    data = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert len(data) == 4
    for row in data:
        for column in ("net", "vat", "gross", "price_per_day", "days", "vat_rate"):
            assert isinstance(row[column], int | float), (column, row[column])
        assert not str(row["school_name"]).startswith("=")
    cells = list(sheet.iter_rows(min_row=2))
    school_cell = cells[0][header.index("school_name")]
    assert school_cell.data_type == "s"
    assert cells[0][header.index("issue_date")].number_format == "yyyy-mm-dd"
    total = sum(Decimal(str(r["gross"])) for r in data)
    assert (
        total * 100
        == register.totals_of(
            register.RegisterFilters(issued_from=START, issued_to=END)
        ).net_issued_pence
    )
    summary = dict(workbook["Summary"].iter_rows(values_only=True))
    assert summary["Documents"] == 3


def test_recharge_journal_balances(as_role: Any, world: Any, ledger: dict[str, Any]) -> None:
    response = as_role(Role.LA_FINANCE).post_form(
        "/finance/exports", _form("journal_csv", reference="JNL-APR")
    )
    rows = _csv(response)
    assert [r["document_number"] for r in rows] == [ledger["recharge"].number] * 2
    debit, credit = rows
    assert (debit["account"], debit["account_type"], debit["debit"], debit["credit"]) == (
        world.school.cost_centre,
        "cost_centre",
        "450.00",
        "0.00",
    )
    assert (credit["account"], credit["account_type"], credit["credit"]) == (
        world.service.income_code,
        "income_code",
        "450.00",
    )
    assert {r["journal_reference"] for r in rows} == {"JNL-APR"}


def test_pdf_zip(app: Flask, as_role: Any, world: Any) -> None:
    _order, invoice = charged_order(world, 2, school=world.academy)
    client = as_role(Role.LA_FINANCE)
    response = built_file(
        client,
        client.post_form("/finance/exports", _form("pdf_zip", start=today() - timedelta(days=1))),
    )
    assert response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        names = archive.namelist()
        assert names == [f"{invoice.issue_date.year}/{invoice.number}.pdf"]
        assert archive.read(names[0]).startswith(b"%PDF-")


def test_re_export_warns_and_can_leave_out(as_role: Any, ledger: dict[str, Any]) -> None:
    client = as_role(Role.LA_FINANCE)
    client.post_form("/finance/exports", _form("sales_csv"))
    page = client.post_form("/finance/exports", _form("sales_xlsx")).soup
    assert "3 of the 3 documents" in text_of(page, ".govuk-warning-text")
    # A question, not an error: no error summary, and the title does not start "Error:".
    assert page.select_one(".govuk-error-summary") is None
    assert not page.title.get_text().startswith("Error:")
    legends = [legend.get_text(strip=True) for legend in page.select("legend")]
    assert "Do you want to export them again?" in legends
    # Finance officers are not shown command lines (the README has them for the operator).
    assert "flask" not in page.get_text() and page.select("code") == []
    assert db.session.execute(select(func.count()).select_from(FinanceExport)).scalar_one() == 1
    new = issue_document(ledger["world"])
    db.session.commit()
    response = client.post_form("/finance/exports", _form("sales_csv", already_exported="exclude"))
    assert [r["document_number"] for r in _csv(response)] == [new.number]
    response = client.post_form("/finance/exports", _form("sales_csv", already_exported="include"))
    assert len(_csv(response)) == 5
    assert "Left out" not in response.get_data(as_text=True)
    # Every document has since been exported: leaving them out leaves nothing, said plainly.
    page = client.post_form("/finance/exports", _form("sales_csv", already_exported="exclude")).soup
    assert "has been exported before" in text_of(page, ".govuk-error-summary")
    detail = client.get(f"/documents/{ledger['invoice'].id}").soup
    assert "Sales ledger (CSV), export 1" in text_of(detail, "main")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (_form("sales_csv", start=END, end=START), "must be the same as or before"),
        (_form("sales_csv", start=END - timedelta(days=400)), "366 days or shorter"),
        ({**_form("sales_csv"), "date_to": ["31", "2", "2027"]}, "must be a real date"),
        ({**_form("sales_csv"), "date_from": ["", "", ""]}, "Enter the date to export from"),
        ({**_form("sales_csv"), "kind": "everything"}, "Not a valid choice"),
    ],
)
def test_bad_ranges_are_refused(
    as_role: Any, ledger: dict[str, Any], form: Any, message: str
) -> None:
    page = as_role(Role.LA_FINANCE).post_form("/finance/exports", form).soup
    assert message in text_of(page, ".govuk-error-summary")
    assert db.session.execute(select(func.count()).select_from(FinanceExport)).scalar_one() == 0


def test_nothing_in_range_is_said_plainly(as_role: Any, world: Any) -> None:
    page = as_role(Role.LA_FINANCE).post_form("/finance/exports", _form("sales_csv")).soup
    assert "No documents were issued" in text_of(page, ".govuk-error-summary")


def test_command_line_exports(app: Flask, ledger: dict[str, Any], tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    out = tmp_path / "sales.csv"
    args = ["--from", START.isoformat(), "--to", END.isoformat()]
    result = runner.invoke(args=["finance", "export-sales", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 documents, 4 rows" in result.output
    assert len(list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))) == 4
    xlsx = tmp_path / "sales.xlsx"
    result = runner.invoke(
        args=["finance", "export-sales", *args, "--format", "xlsx", "--out", str(xlsx)]
    )
    assert "has been exported before: nothing written" in result.output and not xlsx.exists()
    result = runner.invoke(
        args=[
            "finance",
            "export-sales",
            *args,
            "--format",
            "xlsx",
            "--include-exported",
            "--out",
            str(xlsx),
        ]
    )
    assert result.exit_code == 0, result.output
    assert load_workbook(xlsx)["Summary"]["B4"].value == 3
    journal = tmp_path / "journal.csv"
    result = runner.invoke(args=["finance", "export-journal", *args, "--out", str(journal)])
    assert result.exit_code == 0 and "2 rows" in result.output
    result = runner.invoke(
        args=[
            "finance",
            "export-sales",
            "--from",
            "2027-13-01",
            "--to",
            "2027-01-01",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code != 0 and "is not a date" in result.output
    result = runner.invoke(
        args=[
            "finance",
            "export-pdfs",
            "--from",
            END.isoformat(),
            "--to",
            START.isoformat(),
            "--out",
            str(tmp_path / "x.zip"),
        ]
    )
    assert result.exit_code != 0 and "must be the same as or before" in result.output


@pytest.fixture()
def queue_without_worker(app: Flask, tmp_path: Path) -> Any:
    """The queue on its SQLite store with no worker: jobs wait until the test runs them."""
    jobs.configure({"QUEUE_FILE": str(tmp_path / "queue.db"), "QUEUE_IMMEDIATE": False})
    yield jobs
    jobs.huey.flush()
    jobs.configure(app.config)


def test_a_long_export_is_built_by_the_queue_with_progress_then_offered(
    as_role: Any, ledger: dict[str, Any], queue_without_worker: Any
) -> None:
    client = as_role(Role.LA_FINANCE)
    response = client.post_form("/finance/exports", _form("sales_xlsx"))
    assert response.status_code == 302
    page = client.get(response.location).soup
    assert text_of(page, "#export-build .govuk-tag") == "Building"
    assert "0 of 4 lines written (0%)" in text_of(page, "#export-build")
    assert page.select_one("#export-build")["hx-trigger"] == "every 2s"
    assert page.select_one("#export-build a.govuk-button") is None

    assert jobs.run_pending() >= 1  # a worker builds it
    fragment = client.get(response.location, headers={"HX-Request": "true"}).soup
    assert text_of(fragment, "#export-build .govuk-tag") == "Ready"
    assert not fragment.select_one("#export-build").has_attr("hx-trigger")  # polling stops
    file = client.get(fragment.select_one("#export-build a.govuk-button")["href"])
    assert file.mimetype.endswith("spreadsheetml.sheet")
    assert load_workbook(io.BytesIO(file.get_data()))["Summary"]["B4"].value == 3
    again = client.get(fragment.select_one("#export-build a.govuk-button")["href"])
    assert again.get_data() == file.get_data()  # kept for later downloads


def test_a_build_that_fails_is_retried_then_can_be_built_again(
    as_role: Any,
    ledger: dict[str, Any],
    queue_without_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = as_role(Role.LA_FINANCE)

    def disk_full(*_args: Any) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(export_files, "write_xlsx", disk_full)
    response = client.post_form("/finance/exports", _form("sales_xlsx"))
    jobs.run_pending(retries_due_by=utcnow() + timedelta(hours=1))
    page = client.get(response.location).soup
    assert text_of(page, "#export-build .govuk-tag") == "Failed"
    assert "No space left on device" in text_of(page, "#export-build")
    assert not list(Path(client.application.config["EXPORT_DIR"]).glob("*.tmp"))

    monkeypatch.undo()
    rebuild = page.select_one("#export-build form")["action"]
    client.post_form(rebuild)
    jobs.run_pending()
    page = client.get(response.location).soup
    assert text_of(page, "#export-build .govuk-tag") == "Ready"
    assert db.session.execute(select(func.count()).select_from(FinanceExport)).scalar_one() == 1
