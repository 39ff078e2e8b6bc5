"""Sending a visit report: its PDF made once, stored with its SHA-256, then e-mailed.

The report itself (drafts, versions, deadlines, who reads it) is days.visit_reports; this module
is only the step that needs the PDF renderer, which lives here, above days. The PDF has the
council's masthead and the house's print styles (templates/invoices/visit_report.html through
pdf.render_named: the same safe fetcher, fonts and PDF/UA-1 tagging as invoices).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import CouncilLogo, User
from traded_app.models.visit_reports import VisitReport
from traded_app.services.days import visit_reports, visits
from traded_app.services.documents import pdf
from traded_app.services.documents.issuing import seller
from traded_app.services.platform.document_store import store_pdf
from traded_app.services.platform.settings import council_settings, today

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class ReportPage:
    """What the PDF shows: the report, and the council and school as they were when sent."""

    report: VisitReport
    reference: str
    sent_on: date
    against: str
    seller: dict[str, Any]
    logo_png: bytes
    chair: str


def _logo(sha256: str) -> bytes:
    if not sha256:
        return b""
    png = db.session.execute(
        select(CouncilLogo.png).where(CouncilLogo.sha256 == sha256)
    ).scalar_one_or_none()
    return png or b""


def page_of(report: VisitReport, at: datetime | None = None) -> ReportPage:
    settings = council_settings()
    details = (
        seller(settings) if settings is not None else {"seller_name": "", "seller_address": ""}
    )
    school = report.visit.school
    return ReportPage(
        report=report,
        reference=report.reference,
        sent_on=at.astimezone(LONDON).date() if at else today(),
        against=visits.against_label(report.visit),
        seller=details,
        logo_png=_logo(str(details.get("logo_sha256") or "")),
        chair=school.chair_of_governors_name if report.copy_to_chair else "",
    )


def render(report: VisitReport, at: datetime | None = None) -> bytes:
    return pdf.render_named("visit_report.html", report.reference, page=page_of(report, at))


def send(report: VisitReport, user: User, at: datetime | None = None) -> VisitReport:
    """Send a draft: check it, make and store its PDF, mark it sent (the version it corrects
    replaced) and queue the e-mail to the school, in the caller's transaction."""
    visit_reports.check_sendable(report, user)
    content = render(report, at)
    path = visit_reports.pdf_path(report)
    sha256 = store_pdf(path, content)
    return visit_reports.record_sent(report, user, path, sha256, at)
