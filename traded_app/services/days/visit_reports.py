"""Visit reports: the adviser's record of a delivered visit, sent to the school.

A report says which of the council's delivery activities the visit covered, what was done, the
actions agreed (each with an owner and a date) and when the next visit is (a date, or to be
arranged). The adviser (or the service manager) saves it as a draft and sends it: sending makes
its PDF (documents.visit_report_pdf, the only place that renders it), stores it with its SHA-256
and e-mails it through the outbox to the school's headteachers, copied to the chair of
governors when ticked. The school's headteachers and business manager download it from the Days
page.

Sent means sent: a sent version never changes (`_refuse_change_once_sent` guards every flush). A
correction is a new version with its reason, sent again; the version it corrects is kept and
marked replaced.

A report is due within the council's deadline: `visit_report_deadline_days` working days after
the visit (weekends and England's bank holidays skipped). Visits delivered with no report sent
past that day, and reports sent after it, are listed for the service manager as late.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import joinedload

from traded_app import formatting
from traded_app.extensions import db
from traded_app.models import User, Visit, VisitStatus
from traded_app.models.base import utcnow
from traded_app.models.types import Role
from traded_app.models.visit_reports import ReportStatus, VisitReport, VisitReportAction
from traded_app.services.days import activities as activity_list
from traded_app.services.days import school_calendar
from traded_app.services.platform import mail, memberships, outbox
from traded_app.services.platform.document_store import read_checked
from traded_app.services.platform.errors import DomainError, NotFound
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.settings import council_settings, today

DEFAULT_DEADLINE_DAYS = 10
MAX_TEXT = 5000
MAX_ACTION = 500
MAX_OWNER = 120
MAX_REASON = 500
MAX_ACTIONS = 10
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
SENT = (ReportStatus.SENT, ReportStatus.REPLACED)


class ReportError(DomainError, ValueError):
    """A report change that cannot be made; the message is for the person making it."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class ReportNotFound(NotFound):
    pass


class SentReportChanged(DomainError, RuntimeError):
    """Something tried to change a sent report (a bug: no page offers it)."""


# --- The deadline -----------------------------------------------------------------------------


def working_days_after(start: date, days: int, holidays: Iterable[date]) -> date:
    """The `days`-th working day after `start` (Monday to Friday, not a holiday)."""
    closed = set(holidays)
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            counted += 1
    return day


def deadline_days() -> int:
    settings = council_settings()
    return settings.visit_report_deadline_days if settings else DEFAULT_DEADLINE_DAYS


def _holidays_from(start: date, days: int) -> set[date]:
    # Enough calendar days to hold `days` working days and the holidays among them.
    return set(school_calendar.bank_holidays(start, start + timedelta(days=days * 2 + 21)))


def due_on(visit_date: date, days: int | None = None) -> date:
    """The day a report of a visit on `visit_date` is due by."""
    days = deadline_days() if days is None else days
    return working_days_after(visit_date, days, _holidays_from(visit_date, days))


# --- Reading ----------------------------------------------------------------------------------


def versions(visit_id: int) -> list[VisitReport]:
    """Every version of the visit's report, first first."""
    return list(
        db.session.execute(
            select(VisitReport)
            .where(VisitReport.visit_id == visit_id)
            .order_by(VisitReport.version)
        ).scalars()
    )


def latest(visit_id: int) -> VisitReport | None:
    found = versions(visit_id)
    return found[-1] if found else None


def current_sent(visit_id: int) -> VisitReport | None:
    return next((r for r in reversed(versions(visit_id)) if r.status == ReportStatus.SENT), None)


def may_write(visit: Visit, user: User) -> bool:
    return user.role == Role.LA_ADMIN or (user.role == Role.ADVISER and visit.adviser_id == user.id)


def may_read(visit: Visit, user: User) -> bool:
    """The visit's adviser, the service manager, and the school's headteachers and business
    managers read its sent reports; nobody else."""
    if user.role in (Role.HEADTEACHER, Role.SCHOOL_BUSINESS_MANAGER):
        return user.school_id == visit.school_id
    return may_write(visit, user)


def sent_version(user: User, visit_id: int, version: int) -> VisitReport:
    """A sent (or replaced) version the user may read, else ReportNotFound."""
    report = db.session.execute(
        select(VisitReport).where(
            VisitReport.visit_id == visit_id,
            VisitReport.version == version,
            VisitReport.status.in_(SENT),
        )
    ).scalar_one_or_none()
    if report is None or not may_read(report.visit, user):
        raise ReportNotFound
    return report


def read_pdf(report: VisitReport) -> bytes:
    """The PDF as sent, checked against its SHA-256."""
    return read_checked(report.pdf_path, report.pdf_sha256, report.reference)


def school_reports(school_id: int, year_id: int) -> list[VisitReport]:
    """The school's sent reports (replaced versions too) of the year, newest visit first."""
    return list(
        db.session.execute(
            select(VisitReport)
            .join(Visit, Visit.id == VisitReport.visit_id)
            .options(joinedload(VisitReport.visit).joinedload(Visit.adviser))
            .where(
                Visit.school_id == school_id,
                Visit.academic_year_id == year_id,
                VisitReport.status.in_(SENT),
            )
            .order_by(Visit.visit_date.desc(), Visit.id.desc(), VisitReport.version.desc())
        ).scalars()
    )


@dataclass(frozen=True)
class Due:
    visit: Visit
    due_on: date
    draft: bool

    @property
    def overdue(self) -> bool:
        return self.due_on < today()


def _unsent_visits(adviser_id: int | None) -> list[Visit]:
    has_sent = (
        select(VisitReport.id)
        .where(VisitReport.visit_id == Visit.id, VisitReport.status.in_(SENT))
        .exists()
    )
    stmt = (
        select(Visit)
        .options(joinedload(Visit.school), joinedload(Visit.adviser))
        .where(Visit.status == VisitStatus.DELIVERED, ~has_sent)
        .order_by(Visit.visit_date, Visit.id)
    )
    if adviser_id is not None:
        stmt = stmt.where(Visit.adviser_id == adviser_id)
    return list(db.session.execute(stmt).scalars())


def reports_due(adviser_id: int | None) -> list[Due]:
    """Delivered visits with no report sent (an adviser's, or everyone's), soonest due first."""
    visits = _unsent_visits(adviser_id)
    if not visits:
        return []
    days = deadline_days()
    first = min(v.visit_date for v in visits)
    last = max(v.visit_date for v in visits) + timedelta(days=days * 2 + 21)
    holidays = set(school_calendar.bank_holidays(first, last))
    drafts = set(
        db.session.execute(
            select(VisitReport.visit_id).where(
                VisitReport.visit_id.in_([v.id for v in visits]),
                VisitReport.status == ReportStatus.DRAFT,
            )
        ).scalars()
    )
    found = [
        Due(v, working_days_after(v.visit_date, days, holidays), v.id in drafts) for v in visits
    ]
    return sorted(found, key=lambda d: (d.due_on, d.visit.id))


@dataclass(frozen=True)
class LateReports:
    overdue: list[Due]  # delivered, no report sent, past the deadline
    sent_late: list[VisitReport]  # first versions sent after their deadline


def late_reports() -> LateReports:
    overdue = [d for d in reports_due(None) if d.overdue]
    sent = db.session.execute(
        select(VisitReport)
        .options(joinedload(VisitReport.visit).joinedload(Visit.school))
        .where(VisitReport.version == 1, VisitReport.status.in_(SENT))
        .order_by(VisitReport.sent_at.desc())
    ).scalars()
    return LateReports(overdue, [r for r in sent if r.sent_late])


# --- Writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionDetails:
    action: str
    owner: str
    due_on: date | None


@dataclass(frozen=True)
class ReportDetails:
    activity_ids: list[int] = field(default_factory=list)
    what_was_done: str = ""
    actions: list[ActionDetails] = field(default_factory=list)
    # "date" (next_visit_on says when) or "to_be_arranged"; "" when not chosen yet.
    next_visit: str = ""
    next_visit_on: date | None = None
    copy_to_chair: bool = False
    correction_reason: str = ""


def _require_writer(visit: Visit, user: User) -> None:
    if not may_write(visit, user):
        raise ReportError("Only the visit's adviser or the service manager can write its report")
    if visit.status != VisitStatus.DELIVERED:
        raise ReportError(
            f"{visit.reference} is {visit.status.label.lower()}: only a delivered visit has "
            "a report"
        )


def _checked_actions(actions: list[ActionDetails]) -> list[ActionDetails]:
    """The actions typed, in order, each with what, who and when; empty rows left out."""
    kept: list[ActionDetails] = []
    for number, row in enumerate(actions, start=1):
        what, owner = row.action.strip(), " ".join(row.owner.split())
        if not what and not owner and row.due_on is None:
            continue
        if not what:
            raise ReportError(f"Enter what action {number} is", f"action_{number}")
        if len(what) > MAX_ACTION:
            raise ReportError(
                f"Action {number} must be {MAX_ACTION} characters or fewer", f"action_{number}"
            )
        if not owner:
            raise ReportError(f"Enter who owns action {number}", f"owner_{number}")
        if len(owner) > MAX_OWNER:
            raise ReportError(
                f"The owner of action {number} must be {MAX_OWNER} characters or fewer",
                f"owner_{number}",
            )
        if row.due_on is None:
            raise ReportError(f"Enter the date action {number} is due by", f"due_{number}")
        kept.append(ActionDetails(what, owner, row.due_on))
    if len(kept) > MAX_ACTIONS:
        raise ReportError(f"A report can agree at most {MAX_ACTIONS} actions", "action_1")
    return kept


def _apply(report: VisitReport, details: ReportDetails) -> None:
    text = details.what_was_done.strip()
    if len(text) > MAX_TEXT:
        raise ReportError(f"What was done must be {MAX_TEXT} characters or fewer", "what_was_done")
    actions = _checked_actions(details.actions)
    kept = {a.id for a in report.activities}  # a retired activity a draft holds stays
    try:
        chosen = activity_list.activities_by_ids([i for i in details.activity_ids if i not in kept])
    except activity_list.ActivityError:
        raise ReportError("Select the activities from the list", "activities") from None
    chosen = [a for a in report.activities if a.id in details.activity_ids] + chosen
    if details.next_visit not in ("", "date", "to_be_arranged"):
        raise ReportError("Select when the next visit is", "next_visit")
    next_on = details.next_visit_on if details.next_visit == "date" else None
    if details.next_visit == "date" and next_on is None:
        raise ReportError("Enter the date of the next visit", "next_visit_on")
    if next_on is not None and next_on <= report.visit.visit_date:
        raise ReportError("The next visit must be after this one", "next_visit_on")
    report.what_was_done = text
    report.activities = chosen
    report.actions = [
        VisitReportAction(position=n, action=a.action, owner=a.owner, due_on=a.due_on)
        for n, a in enumerate(actions, start=1)
    ]
    report.next_visit_on = next_on
    report.copy_to_chair = details.copy_to_chair
    report.updated_at = utcnow()


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason:
        raise ReportError("Enter why the report is being corrected", "correction_reason")
    if len(reason) > MAX_REASON:
        raise ReportError(
            f"The reason must be {MAX_REASON} characters or fewer", "correction_reason"
        )
    return reason


def save_draft(visit: Visit, user: User, details: ReportDetails) -> VisitReport:
    """Save the visit's report as a draft: the first version, or the draft being written (a
    correction's draft keeps needing its reason). A sent report is corrected, never saved over."""
    _require_writer(visit, user)
    db.session.refresh(visit, with_for_update=True)  # one writer of a visit's report at a time
    report = latest(visit.id)
    if report is not None and report.status != ReportStatus.DRAFT:
        raise ReportError(
            f"Version {report.version} of the report has been sent and cannot be changed: "
            "correct it instead"
        )
    if report is None:
        report = VisitReport(
            visit=visit, version=1, status=ReportStatus.DRAFT, created_by_id=user.id
        )
        db.session.add(report)
    if report.version > 1:
        report.correction_reason = _reason(details.correction_reason)
    _apply(report, details)
    db.session.flush()
    return report


def start_correction(visit: Visit, user: User, details: ReportDetails) -> VisitReport:
    """A new version of a sent report, with why it is corrected, saved as a draft to send."""
    _require_writer(visit, user)
    db.session.refresh(visit, with_for_update=True)
    report = latest(visit.id)
    if report is None or report.status == ReportStatus.DRAFT:
        return save_draft(visit, user, details)
    correction = VisitReport(
        visit=visit,
        version=report.version + 1,
        status=ReportStatus.DRAFT,
        created_by_id=user.id,
        correction_reason=_reason(details.correction_reason),
    )
    db.session.add(correction)
    _apply(correction, details)
    db.session.flush()
    return correction


def details_of(report: VisitReport | None) -> ReportDetails:
    """A report's contents as details to start a form (or a correction) from."""
    if report is None:
        return ReportDetails()
    return ReportDetails(
        activity_ids=[a.id for a in report.activities],
        what_was_done=report.what_was_done,
        actions=[ActionDetails(a.action, a.owner, a.due_on) for a in report.actions],
        next_visit="date" if report.next_visit_on else "to_be_arranged",
        next_visit_on=report.next_visit_on,
        copy_to_chair=report.copy_to_chair,
        correction_reason=report.correction_reason,
    )


def recipients(report: VisitReport) -> list[str]:
    """The school's active headteachers, and its chair of governors when ticked."""
    heads = list(
        db.session.execute(
            select(User.email)
            .where(
                User.id.in_(memberships.user_ids_at(report.visit.school_id, Role.HEADTEACHER)),
                User.active.is_(True),
            )
            .order_by(User.email)
        ).scalars()
    )
    chair = report.visit.school.chair_of_governors_email.strip()
    return heads + ([chair] if report.copy_to_chair and chair else [])


def check_sendable(report: VisitReport, user: User) -> None:
    """Refuse to send a report that is not a complete draft the user may send."""
    _require_writer(report.visit, user)
    if report.status != ReportStatus.DRAFT:
        raise ReportError(f"Version {report.version} of the report has already been sent")
    if not report.what_was_done:
        raise ReportError("Enter what was done", "what_was_done")
    school = report.visit.school
    if report.copy_to_chair and not EMAIL.match(school.chair_of_governors_email.strip()):
        raise ReportError(
            f"{school.name} has no e-mail address for its chair of governors: the school or "
            "the service manager can add it with the school's details, or untick the copy",
            "copy_to_chair",
        )
    if not recipients(report):
        raise ReportError(f"{school.name} has no headteacher with an account to send the report to")


def pdf_path(report: VisitReport) -> str:
    """Where the PDF is kept, under the document store's folder."""
    return f"visit-reports/{report.visit.visit_date.year}/{report.reference}.pdf"


def record_sent(
    report: VisitReport, user: User, path: str, sha256: str, at: datetime | None = None
) -> VisitReport:
    """Mark the draft sent with its stored PDF, mark the version it corrects replaced, and
    queue the e-mail to the school (documents.visit_report_pdf.send calls this). `at` is now,
    except in the demo's history."""
    check_sendable(report, user)
    now = at or utcnow()
    # Everything read first: a sent version is written once, in one flush.
    to = recipients(report)
    deadline = due_on(report.visit.visit_date)
    earlier = [r for r in versions(report.visit_id) if r.status == ReportStatus.SENT]
    with db.session.no_autoflush:
        for replaced in earlier:
            replaced.status = ReportStatus.REPLACED
            replaced.replaced_at = now
        report.status = ReportStatus.SENT
        report.sent_at = now
        report.sent_by_id = user.id
        report.due_on = deadline
        report.recipients = ", ".join(to)
        report.pdf_path = path
        report.pdf_sha256 = sha256
    db.session.flush()
    _queue_email(report, to)
    return report


def _queue_email(report: VisitReport, to: list[str]) -> None:
    visit = report.visit
    link = absolute_url("days.my_days")
    corrected = (
        f"This corrects the report sent earlier (version {report.version - 1}): "
        f"{report.correction_reason}\n\n"
        if report.version > 1
        else ""
    )
    body = (
        f"{visit.adviser.name}'s report of the visit to {visit.school.name} on "
        f"{formatting.long_date(visit.visit_date)} is attached ({report.reference}).\n\n"
        + corrected
        + "It lists the activities covered, what was done, the actions agreed and the next "
        "visit. You can also download it from your school's Days page"
        + (f": {link}" if link else ".")
    )
    outbox.queue_email(
        to,
        f"{'Corrected report' if report.version > 1 else 'Report'} of the visit on "
        f"{formatting.long_date(visit.visit_date)}",
        body,
        purpose="Visit report",
        school_id=visit.school_id,
        kind="visit_report",
        ref_id=report.id,
        requested_by_id=report.sent_by_id,
    )


@outbox.attaches("visit_report")
def _attachment(ref_id: int) -> mail.Attachment | None:
    report = db.session.get(VisitReport, ref_id)
    if report is None or not report.pdf_path:
        return None
    return mail.Attachment(f"{report.reference}.pdf", read_pdf(report))


def visit_of(user: User, visit_id: int) -> Visit:
    """A visit the user may write the report of, else ReportNotFound."""
    visit = db.session.get(Visit, visit_id) if 0 < visit_id < 2**31 else None
    if visit is None or not may_write(visit, user):
        raise ReportNotFound
    return visit


# --- Sent means sent --------------------------------------------------------------------------

# What may still change on a sent version: that it is replaced, and when.
_MAY_CHANGE_ONCE_SENT = frozenset({"status", "replaced_at"})


def _committed_status(report: VisitReport) -> Any:
    history = inspect(report).attrs.status.history
    return history.deleted[0] if history.deleted else report.status


@event.listens_for(VisitReport, "before_update")
def _refuse_change_once_sent(_mapper: Any, _connection: Any, report: VisitReport) -> None:
    if _committed_status(report) == ReportStatus.DRAFT:
        return
    state = inspect(report)
    changed = {a.key for a in state.attrs if a.history.has_changes()}
    if changed - _MAY_CHANGE_ONCE_SENT:
        raise SentReportChanged(f"{report.reference} has been sent and cannot be changed")
    if _committed_status(report) == ReportStatus.REPLACED:
        raise SentReportChanged(f"{report.reference} has been replaced and cannot be changed")


@event.listens_for(VisitReportAction, "before_insert")
@event.listens_for(VisitReportAction, "before_update")
@event.listens_for(VisitReportAction, "before_delete")
def _refuse_action_change_once_sent(
    _mapper: Any, _connection: Any, action: VisitReportAction
) -> None:
    report = action.report
    if report is not None and _committed_status(report) != ReportStatus.DRAFT:
        raise SentReportChanged(f"{report.reference} has been sent: its actions cannot change")
