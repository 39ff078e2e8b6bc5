"""The store of issued documents' PDFs: files under INVOICE_DIR, each checked against the SHA-256
recorded when it was issued.

Issuing writes a document's PDF here once; everything else (the download, e-mails, reminders,
finance's ZIP export) reads it back through `read_pdf`, which refuses a file that is missing or
is not the one issued: a PDF is never made again, since it would not be the document the school
was sent. `check_stored` says the same of a file without keeping it in memory (the daily check
of every stored PDF).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from traded_app.models import Document
from traded_app.models.jobs import PdfProblem
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import app_config


class MissingPdfError(DomainError, RuntimeError):
    """An issued document's PDF is not where it was stored, or is not the one issued."""


def invoice_dir() -> Path:
    """The folder the PDFs are stored in (INVOICE_DIR)."""
    return Path(app_config("INVOICE_DIR"))


def store_pdf(relative_path: str, content: bytes) -> str:
    """Write the PDF atomically (a temporary file in the same folder, then a rename) and return
    its SHA-256. A reader never sees half a file."""
    target = invoice_dir() / relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return hashlib.sha256(content).hexdigest()


def read_pdf(document: Document) -> bytes:
    """The stored PDF, checked against the SHA-256 recorded when it was issued."""
    return read_checked(document.pdf_path, document.pdf_sha256, document.number)


def read_checked(pdf_path: str, sha256: str, name: str) -> bytes:
    """The PDF stored at `pdf_path` (relative to INVOICE_DIR), checked against `sha256`; `name`
    says whose it is in the error (a document's number, a visit report's reference)."""
    path = invoice_dir() / pdf_path
    try:
        content = path.read_bytes() if pdf_path else b""
    except FileNotFoundError:
        raise MissingPdfError(f"The PDF of {name} is missing from {path}") from None
    if not pdf_path or hashlib.sha256(content).hexdigest() != sha256:
        raise MissingPdfError(f"The PDF of {name} at {path} does not match the one issued")
    return content


def check_stored(pdf_path: str, sha256: str) -> tuple[PdfProblem, str] | None:
    """None when the file at `pdf_path` (relative to INVOICE_DIR) is the one issued (its SHA-256
    is `sha256`), else what is wrong, with a line about it. Read in chunks: memory stays flat
    whatever the file's size."""
    path = invoice_dir() / pdf_path
    try:
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return PdfProblem.MISSING, f"No file at {path}"
    except OSError as error:
        return PdfProblem.UNREADABLE, f"{path}: {error.strerror or error.__class__.__name__}"
    if digest != sha256:
        return PdfProblem.ALTERED, f"{path} has SHA-256 {digest}, not {sha256} as issued"
    return None
