"""Long exports (the sales ledger as XLSX, a ZIP of PDFs) are built by the job queue.

Finance asks for one; the export is recorded as for a CSV (exports.create_export), and its file
is built by a queue job into EXPORT_DIR, reporting how far it has got through the queue's store.
The page polls that progress and offers the file when it is ready; the file stays for later
downloads. The job reads in a read-only transaction, so on SQLite the web app keeps writing while
a 100,000-line workbook is built. A build that fails is retried, then marked failed with the
reason, and finance can build it again (the export itself is not made twice).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from traded_app.database import reset_read_only, set_read_only
from traded_app.extensions import db
from traded_app.models.base import utcnow
from traded_app.models.finance import ExportBuild, ExportBuildStatus, ExportKind, FinanceExport
from traded_app.services.finance import export_files
from traded_app.services.finance.exports import ExportError, filename_of
from traded_app.services.platform import jobs
from traded_app.services.platform.after_commit import after_commit
from traded_app.services.platform.settings import app_config

BUILT_KINDS = (ExportKind.SALES_XLSX, ExportKind.PDF_ZIP)


def export_dir() -> Path:
    return Path(app_config("EXPORT_DIR"))


def queue_build(export: FinanceExport) -> ExportBuild:
    """Record that the export's file is to be built; the job starts once this commits."""
    build = db.session.get(ExportBuild, export.id)
    if build is None:
        build = ExportBuild(export_id=export.id)
        db.session.add(build)
    build.status = ExportBuildStatus.BUILDING
    build.total = (
        export.row_count if export.kind == ExportKind.SALES_XLSX else export.document_count
    )
    build.error = ""
    build.started_at = utcnow()
    build.finished_at = None
    db.session.flush()
    after_commit(db.session, build_file, export.id)
    return build


def _gave_up(export_id: int) -> None:
    build = db.session.get(ExportBuild, export_id)
    if build is not None and build.status == ExportBuildStatus.BUILDING:
        build.status = ExportBuildStatus.FAILED
        build.error = build.error or "The file could not be built"
        build.finished_at = utcnow()


@jobs.job(name="finance.build_export", retries=2, retry_delay=10, on_giving_up=_gave_up)
def build_file(export_id: int) -> None:
    export = db.session.get(FinanceExport, export_id)
    build = db.session.get(ExportBuild, export_id)
    if export is None or build is None or build.status != ExportBuildStatus.BUILDING:
        return
    kind, name = export.kind, f"{export.id}-{filename_of(export)}"
    db.session.commit()  # read the export's rows in a read-only transaction of their own
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    token = set_read_only(True)
    try:
        export = db.session.get(FinanceExport, export_id)  # type: ignore[assignment]
        assert export is not None
        with os.fdopen(handle, "wb") as out:
            report = _reporter(export_id)
            if kind == ExportKind.SALES_XLSX:
                export_files.write_xlsx(export, out, report)
            else:
                export_files.write_zip(export, out, report)
        db.session.commit()
    except BaseException as error:
        db.session.rollback()
        if os.path.exists(temporary):
            os.unlink(temporary)
        _record_error(export_id, error)
        raise
    finally:
        reset_read_only(token)
    os.replace(temporary, folder / name)
    build = db.session.get(ExportBuild, export_id)
    assert build is not None
    build.status = ExportBuildStatus.READY
    build.file_name = name
    build.size_bytes = (folder / name).stat().st_size
    build.finished_at = utcnow()
    jobs.report_progress(f"export:{export_id}", build.total)


def _reporter(export_id: int) -> export_files.Progress:
    def report(done: int) -> None:
        jobs.report_progress(f"export:{export_id}", done)

    return report


def _record_error(export_id: int, error: BaseException) -> None:
    build = db.session.get(ExportBuild, export_id)
    if build is not None:
        build.error = f"{error.__class__.__name__}: {error}"[:1000]
        db.session.commit()


@dataclass(frozen=True)
class BuildState:
    build: ExportBuild
    done: int

    @property
    def percent(self) -> int:
        if self.build.status == ExportBuildStatus.READY:
            return 100
        return min(99, self.done * 100 // self.build.total) if self.build.total else 0


def state_of(export_id: int) -> BuildState | None:
    build = db.session.get(ExportBuild, export_id)
    if build is None:
        return None
    return BuildState(build, jobs.progress(f"export:{export_id}"))


def file_of(export_id: int) -> Path:
    """The built file, or ExportError when it is not ready (or has gone from EXPORT_DIR)."""
    build = db.session.get(ExportBuild, export_id)
    if build is None or build.status != ExportBuildStatus.READY:
        raise ExportError("This export's file is not ready")
    path = export_dir() / build.file_name
    if not path.is_file():
        raise ExportError("This export's file has been removed: build it again")
    return path


def rebuild(export_id: int) -> ExportBuild:
    """Build a failed or removed export's file again (the export's rows are as recorded)."""
    export = db.session.get(FinanceExport, export_id)
    if export is None or export.kind not in BUILT_KINDS:
        raise ExportError("There is no such export to build")
    build = db.session.get(ExportBuild, export_id)
    if build is not None and build.status == ExportBuildStatus.BUILDING:
        raise ExportError("This export's file is being built")
    return queue_build(export)
