"""The daily check of the stored PDFs: each issued document's file, each consolidated trust
invoice's and each sent visit report's is read and its SHA-256 compared with the one recorded
when it was made (platform.document_store.check_stored).

An issued document never changes and its PDF is never made again, so a file that has gone or
changed is found here, before a school or an auditor asks for it, and restored from the backup
of INVOICE_DIR. The files are read in a transaction that takes no write lock (a check of many
thousands of files would otherwise hold up every request that writes); what is wrong is written
at the end, in the run's own short transaction.

The findings are rows of `pdf_check_finding` rather than JSON in the run's `detail`: the page
lists them with each document's number and school (a join, limited by the database however
many there are), and the run's `detail` stays the one readable line every schedule's run has. Only
the latest check's findings are kept: a check that finishes replaces the previous one's (every
run's counts stay in its detail).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import CompoundSelect, delete, func, literal, select, union_all

from traded_app import formatting
from traded_app.extensions import db
from traded_app.models import (
    ConsolidatedInvoice,
    Document,
    PdfCheckFinding,
    PdfProblem,
    ScheduledRun,
    School,
    Trust,
    Visit,
    VisitReport,
)
from traded_app.models.visit_reports import ReportStatus
from traded_app.services.platform import schedules
from traded_app.services.platform.document_store import check_stored
from traded_app.services.platform.settings import council_settings
from traded_app.services.platform.transactions import reading_only

NAME = "pdf-check"
DEFAULT_TIME = time(3, 0)
BATCH = 500
LISTED = 500  # findings listed on the page (the count says how many more)


@dataclass
class CheckResult:
    checked: int = 0
    # (which file: (kind, id), what is wrong, a line about it)
    problems: list[tuple[tuple[str, int], PdfProblem, str]] = field(default_factory=list)

    def count(self, problem: PdfProblem) -> int:
        return sum(1 for _id, found, _line in self.problems if found == problem)

    @property
    def summary(self) -> str:
        """The run's detail: "1,204 PDFs checked: 1,202 as issued, 1 missing, 1 altered"."""
        good = self.checked - len(self.problems)
        noun = "PDF" if self.checked == 1 else "PDFs"
        if not self.problems:
            return f"{self.checked:,} {noun} checked: all as issued"
        parts = [f"{good:,} as issued"]
        for problem, words in (
            (PdfProblem.MISSING, "missing"),
            (PdfProblem.ALTERED, "altered"),
            (PdfProblem.UNREADABLE, "unreadable"),
        ):
            if count := self.count(problem):
                parts.append(f"{count:,} {words}")
        return f"{self.checked:,} {noun} checked: " + ", ".join(parts)


def check_time() -> time:
    settings = council_settings()
    return settings.pdf_check_time if settings is not None else DEFAULT_TIME


def _period(now: datetime) -> str | None:
    return schedules.daily_at(now, check_time())


def _describe() -> str:
    return f"Every day from {check_time():%H:%M} (Europe/London)"


# What the check reads, by kind: the PDFs the service made and recorded the SHA-256 of.
DOCUMENT, CONSOLIDATED, VISIT_REPORT = "document", "consolidated", "visit_report"
FINDING_COLUMN = {
    DOCUMENT: "document_id",
    CONSOLIDATED: "consolidated_invoice_id",
    VISIT_REPORT: "visit_report_id",
}


def _stored_pdfs() -> CompoundSelect:
    """(kind, id, path, SHA-256) of every stored PDF, in one statement read in batches."""
    return union_all(
        select(literal(DOCUMENT), Document.id, Document.pdf_path, Document.pdf_sha256).where(
            Document.brought_forward.is_(False)  # no PDF of ours to check
        ),
        select(
            literal(CONSOLIDATED),
            ConsolidatedInvoice.id,
            ConsolidatedInvoice.pdf_path,
            ConsolidatedInvoice.pdf_sha256,
        ),
        select(
            literal(VISIT_REPORT), VisitReport.id, VisitReport.pdf_path, VisitReport.pdf_sha256
        ).where(VisitReport.status != ReportStatus.DRAFT, VisitReport.pdf_path != ""),
    )


def check_store() -> CheckResult:
    """Read every stored PDF and compare it with the SHA-256 recorded when it was made."""
    result = CheckResult()
    with reading_only():
        rows = db.session.execute(_stored_pdfs().execution_options(yield_per=BATCH)).tuples()
        for kind, ref_id, pdf_path, sha256 in rows:
            result.checked += 1
            found = check_stored(pdf_path, sha256)
            if found is not None:
                result.problems.append(((kind, ref_id), *found))
    return result


@schedules.schedule(NAME, "Check of the stored PDFs", _period, _describe)
def run_check(run: ScheduledRun) -> str:
    """The schedule's work: check the store, then keep what is wrong as this run's findings."""
    result = check_store()
    db.session.execute(delete(PdfCheckFinding))
    db.session.add_all(
        PdfCheckFinding(
            run_id=run.id, problem=problem, detail=line, **{FINDING_COLUMN[kind]: ref_id}
        )
        for (kind, ref_id), problem, line in result.problems
    )
    db.session.flush()
    return result.summary


@dataclass(frozen=True)
class Finding:
    """One stored PDF found wrong, as the page lists it."""

    kind: str  # DOCUMENT, CONSOLIDATED or VISIT_REPORT
    ref_id: int  # the document's, consolidated invoice's or visit report's id
    name: str  # its number, or the report's reference
    made_on: str  # "Issued 3 November 2026", "Sent 4 November 2026"
    whose: str  # the school or trust it is for
    problem: PdfProblem
    detail: str


def _findings_of(run_id: int) -> list[Finding]:
    """The first LISTED of a run's findings, by name (document numbers, then the trust
    invoices' INV-T-…, then the reports'): one statement whatever the kinds."""
    of_run = PdfCheckFinding.run_id == run_id
    f = PdfCheckFinding
    documents = (
        select(
            literal(DOCUMENT).label("kind"),
            Document.id,
            Document.number.label("name"),
            Document.issue_date.label("made_on"),
            Document.buyer_name.label("whose"),
            f.problem,
            f.detail,
        )
        .join(Document, Document.id == f.document_id)
        .where(of_run)
    )
    consolidated = (
        select(
            literal(CONSOLIDATED),
            ConsolidatedInvoice.id,
            ConsolidatedInvoice.number,
            ConsolidatedInvoice.issue_date,
            Trust.name,
            f.problem,
            f.detail,
        )
        .join(ConsolidatedInvoice, ConsolidatedInvoice.id == f.consolidated_invoice_id)
        .join(Trust, Trust.id == ConsolidatedInvoice.trust_id)
        .where(of_run)
    )
    reports = (
        select(
            literal(VISIT_REPORT),
            VisitReport.id,
            Visit.visit_date,  # a report is named by its visit and version, below
            VisitReport.version,
            School.name,
            f.problem,
            f.detail,
        )
        .join(VisitReport, VisitReport.id == f.visit_report_id)
        .join(Visit, Visit.id == VisitReport.visit_id)
        .join(School, School.id == Visit.school_id)
        .where(of_run)
    )
    found = [
        Finding(kind, ref_id, name, f"Issued {formatting.long_date(made_on)}", whose, p, d)
        for kind, ref_id, name, made_on, whose, p, d in db.session.execute(
            union_all(documents, consolidated).order_by("name").limit(LISTED)
        ).tuples()
    ]
    if len(found) < LISTED:
        found += [
            Finding(
                VISIT_REPORT,
                ref_id,
                f"Report of the visit on {formatting.long_date(visit_date)}, version {version}",
                f"Visit on {formatting.long_date(visit_date)}",
                whose,
                p,
                d,
            )
            for _kind, ref_id, visit_date, version, whose, p, d in db.session.execute(
                reports.order_by(Visit.visit_date, VisitReport.version).limit(LISTED - len(found))
            ).tuples()
        ]
    return found


@dataclass(frozen=True)
class LatestCheck:
    run: ScheduledRun | None  # the latest check that finished, if any has
    findings: list[Finding]  # the first LISTED, by number
    total: int  # how many it found
    last_failed: ScheduledRun | None  # the latest check, when it failed


def latest_check() -> LatestCheck:
    """The latest finished check and what it found wrong (by number), and the latest check's
    failure if it failed after that."""
    run = schedules.latest_run(NAME, "ok")
    findings: list[Finding] = []
    total = 0
    if run is not None:
        findings = _findings_of(run.id)
        total = (
            db.session.scalar(
                select(func.count())
                .select_from(PdfCheckFinding)
                .where(PdfCheckFinding.run_id == run.id)
            )
            or 0
        )
    latest = schedules.latest_run(NAME)
    failed = latest if latest is not None and latest.outcome == "failed" else None
    return LatestCheck(run, findings, total, failed)
