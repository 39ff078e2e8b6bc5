"""Statement PDF benchmark: a statement of account of 500 documents against a one-page invoice,
both rendered warm in one process.

Goal (issue 16): a statement of 500 documents renders in at most 3x the time of a one-page
invoice. Machines here are shared and noisy, so the figure is a ratio measured side by side:
rounds of the statement and of the invoice alternate, and the medians of their CPU times are
compared (rendering is single-threaded and CPU-bound; wall-clock medians are shown too). The
statement is rendered by `traded_app.services.documents.statements.render` exactly as the
statement pages and e-mails do (the invoices' template environment, print stylesheet,
static-only fetcher, tagged PDF/UA-1), from figures made in memory; the invoice is
bench/invoices.py's typical one-page invoice through `pdf.render`, as issuing does.

Each goal is printed as met or NOT MET: a figure, not a test.

    .venv/bin/python bench/statement_render.py [--rounds 5] [--documents 500]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402

from bench.invoices import typical_invoice  # noqa: E402
from traded_app.models import School  # noqa: E402
from traded_app.services.documents import pdf  # noqa: E402
from traded_app.services.documents import statements as statement_files  # noqa: E402
from traded_app.services.finance import aged_debt  # noqa: E402
from traded_app.services.finance.statements import Ageing, Entry, Statement  # noqa: E402

GOAL = 3.0  # the statement's warm render over the one-page invoice's, at most
MADE_ON = date(2027, 3, 31)

COUNCIL = statement_files.StatementSeller(
    name="Essex County Council",
    address="County Hall\nMarket Road\nChelmsford\nCM1 1QH",
    email="school.improvement@example.org",
    phone="0333 013 8899",
    bank_name="Example Bank plc",
    bank_account_name="Essex County Council",
    bank_sort_code="20-00-00",
    bank_account_number="12345678",
    remittance_email="remittances@example.org",
)


def statement_of(documents: int, payments: int = 0) -> Statement:
    """A year's statement of an academy with `documents` invoices and credit notes (one credit
    note to every ten invoices) and `payments` bank transfers, in date order."""
    school = School(
        name="de Vere Primary Academy",
        urn=137431,
        billing_contact_name="Sam Patel",
        billing_address="Chalks Road\nCastle Hedingham\nHalstead\nCO9 3DG",
        address="",
    )
    start = date(2026, 4, 1)
    entries, balance = [], 0
    for i in range(documents + payments):
        on = start + timedelta(days=i * 365 // (documents + payments))
        if i % (documents + payments) < payments and i % 2:
            kind, reference, detail, debit, credit = (
                "Bank transfer",
                f"BACS {i:06d}",
                f"For INV-2026-{i:06d}",
                0,
                54_000,
            )
        elif i % 11 == 10:
            kind, reference, detail, debit, credit = (
                "Credit note",
                f"CRN-2026-{i:06d}",
                f"Credits INV-2026-{i - 1:06d}",
                0,
                13_500,
            )
        else:
            kind, reference = "Invoice", f"INV-2026-{i:06d}"
            detail = f"PO 4471-{i}, due {on + timedelta(days=30):%-d %B %Y}"
            debit, credit = 54_000, 0
        balance += debit - credit
        entries.append(
            Entry(on, kind, reference, detail, debit, credit, balance, i, kind == "Bank transfer")
        )
    ageing = Ageing(aged_debt.Ages(current=108_000, d0_30=54_000), 3, 0, 0)
    return Statement(school, start, MADE_ON, 0, entries, ageing)


def plain_lines(count: int) -> str:
    """`count` lines of a statement's width as one block of preformatted text: no table, no
    tagging of cells; the least any layout of that many lines can cost (shown for scale)."""
    lines = "\n".join(
        f"{i:>3} 31 Mar 2027  INV-2026-{i:06d}  PO 4471-{i}, due 30 April 2027   £540.00   "
        f"£{i * 540:,}.00"
        for i in range(count)
    )
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><title>Lines</title></head><body>'
        f'<p class="lines">{lines}</p></body></html>'
    ).replace('class="lines"', 'style="white-space: pre; font-size: 7pt"')


def timed(render: Callable[[], bytes]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    render()
    return time.process_time() - cpu, time.perf_counter() - wall


def pages(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--documents", type=int, default=500)
    args = parser.parse_args()
    invoice = typical_invoice()
    statement = statement_of(args.documents)

    def render_statement() -> bytes:
        return statement_files.render(statement, MADE_ON, COUNCIL)

    def render_invoice() -> bytes:
        return pdf.render(invoice)

    if pages(render_invoice()) != 1:
        print("benchmark failed: the typical invoice is not one page")
        return 1
    content = render_statement()
    print(
        f"Statement of {args.documents} documents: {pages(content)} pages, {len(content):,} bytes"
    )
    for _ in range(2):  # warm both
        render_statement()
        render_invoice()
    statement_times, invoice_times = [], []
    for _ in range(args.rounds):
        statement_times.append(timed(render_statement))
        for _ in range(3):
            invoice_times.append(timed(render_invoice))
    cpu = statistics.median(c for c, _w in statement_times)
    base = statistics.median(c for c, _w in invoice_times)
    wall = statistics.median(w for _c, w in statement_times)
    base_wall = statistics.median(w for _c, w in invoice_times)
    ratio = cpu / base
    print(
        f"statement of {args.documents} documents / one-page invoice (CPU time): {ratio:.2f}x "
        f"(statement {cpu * 1000:.0f} ms, invoice {base * 1000:.0f} ms of CPU; wall clock "
        f"{wall * 1000:.0f} ms and {base_wall * 1000:.0f} ms, {wall / base_wall:.2f}x; medians of "
        f"{args.rounds} statements and {3 * args.rounds} invoices, alternating)"
    )
    lines = plain_lines(args.documents)
    pdf.render_html(lines)
    floor = statistics.median(timed(lambda: pdf.render_html(lines))[0] for _ in range(3))
    print(
        f"for scale: {args.documents} lines of plain text in one block / one-page invoice: "
        f"{floor / base:.2f}x ({floor * 1000:.0f} ms of CPU)"
    )
    verdict = "met" if ratio <= GOAL else "NOT MET"
    print(
        f"goal: statement of {args.documents} documents at most {GOAL}x: {verdict} ({ratio:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
