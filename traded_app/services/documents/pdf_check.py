"""The daily check of the stored PDFs: each issued document's file is read and its SHA-256
compared with the one recorded when it was issued (platform.document_store.check_stored).

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

from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from traded_app.extensions import db
from traded_app.models import Document, PdfCheckFinding, PdfProblem, ScheduledRun
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
    # (document id, what is wrong, a line about it)
    problems: list[tuple[int, PdfProblem, str]] = field(default_factory=list)

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


def check_store() -> CheckResult:
    """Read every stored PDF and compare it with the SHA-256 recorded when it was issued."""
    result = CheckResult()
    with reading_only():
        rows = db.session.execute(
            select(Document.id, Document.pdf_path, Document.pdf_sha256)
            .where(Document.brought_forward.is_(False))  # no PDF of ours to check
            .order_by(Document.id)
            .execution_options(yield_per=BATCH)
        ).tuples()
        for document_id, pdf_path, sha256 in rows:
            result.checked += 1
            found = check_stored(pdf_path, sha256)
            if found is not None:
                result.problems.append((document_id, *found))
    return result


@schedules.schedule(NAME, "Check of the stored PDFs", _period, _describe)
def run_check(run: ScheduledRun) -> str:
    """The schedule's work: check the store, then keep what is wrong as this run's findings."""
    result = check_store()
    db.session.execute(delete(PdfCheckFinding))
    db.session.add_all(
        PdfCheckFinding(run_id=run.id, document_id=document_id, problem=problem, detail=line)
        for document_id, problem, line in result.problems
    )
    db.session.flush()
    return result.summary


@dataclass(frozen=True)
class LatestCheck:
    run: ScheduledRun | None  # the latest check that finished, if any has
    findings: list[PdfCheckFinding]  # the first LISTED, by document number
    total: int  # how many it found
    last_failed: ScheduledRun | None  # the latest check, when it failed


def latest_check() -> LatestCheck:
    """The latest finished check and what it found wrong (by document number), and the
    latest check's failure if it failed after that."""
    run = schedules.latest_run(NAME, "ok")
    findings: list[PdfCheckFinding] = []
    total = 0
    if run is not None:
        of_run = PdfCheckFinding.run_id == run.id
        findings = list(
            db.session.scalars(
                select(PdfCheckFinding)
                .join(Document, Document.id == PdfCheckFinding.document_id)
                .where(of_run)
                .options(joinedload(PdfCheckFinding.document).joinedload(Document.school))
                .order_by(Document.number)
                .limit(LISTED)
            )
        )
        total = (
            db.session.scalar(select(func.count()).select_from(PdfCheckFinding).where(of_run)) or 0
        )
    latest = schedules.latest_run(NAME)
    failed = latest if latest is not None and latest.outcome == "failed" else None
    return LatestCheck(run, findings, total, failed)
