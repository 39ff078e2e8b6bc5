"""Visit reports: the adviser writes a delivered visit's report and sends it; the school reads it
on its Days page; the service manager sees the late ones."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.types import Role
from traded_app.forms.visit_reports import ACTION_ROWS, CorrectionForm, ReportForm
from traded_app.services.days import activities as activity_list
from traded_app.services.days import visit_reports, visits
from traded_app.services.documents import visit_report_pdf
from traded_app.services.platform.document_store import MissingPdfError

bp = Blueprint("visit_reports", __name__)

WRITERS = frozenset({Role.ADVISER, Role.LA_ADMIN})
READERS = frozenset({Role.ADVISER, Role.LA_ADMIN, Role.HEADTEACHER, Role.SCHOOL_BUSINESS_MANAGER})


# --- What other pages show (the Days page, the visit, the adviser's visits) ------------------


@bp.app_template_global()
def visit_reports_of(school: Any, year: Any) -> list[Any]:
    """The school's sent reports of the year that the signed-in user may read."""
    if current_user.role not in READERS:
        return []
    return [
        report
        for report in visit_reports.school_reports(school.id, year.id)
        if visit_reports.may_read(report.visit, current_user)
    ]


@bp.app_template_global()
def visit_report_versions(visit: Any) -> list[Any]:
    return visit_reports.versions(visit.id)


@bp.app_template_global()
def visit_report_due_on(visit: Any) -> Any:
    return visit_reports.due_on(visit.visit_date)


@bp.app_template_global()
def reports_due_for(adviser: Any) -> list[visit_reports.Due]:
    """The adviser's delivered visits whose report is not sent yet."""
    return visit_reports.reports_due(adviser.id) if adviser is not None else []


# --- Writing and sending ----------------------------------------------------------------------


def _visit(visit_id: int) -> visits.Visit:
    try:
        return visit_reports.visit_of(current_user, visit_id)
    except visit_reports.ReportNotFound:
        abort(404)


def _prepare(form: ReportForm, report: visit_reports.VisitReport | None) -> None:
    chosen = {a.id for a in report.activities} if report is not None else set()
    offered = activity_list.activities()
    # A retired activity a draft already holds stays offered, so saving does not drop it.
    offered += [a for a in (report.activities if report else []) if a not in offered]
    form.activities.choices = [(str(a.id), a.name) for a in offered]
    if request.method != "POST" and report is not None:
        details = visit_reports.details_of(report)
        form.activities.data = [str(i) for i in sorted(chosen)]
        form.what_was_done.data = details.what_was_done
        form.next_visit.data = details.next_visit
        form.next_visit_on.data = details.next_visit_on
        form.copy_to_chair.data = details.copy_to_chair
        if isinstance(form, CorrectionForm) and report.status.value == "draft":
            form.correction_reason.data = details.correction_reason
        for number, action in enumerate(details.actions[:ACTION_ROWS], start=1):
            getattr(form, f"action_{number}").data = action.action
            getattr(form, f"owner_{number}").data = action.owner
            getattr(form, f"due_{number}").data = action.due_on


def _details(form: ReportForm) -> visit_reports.ReportDetails:
    return visit_reports.ReportDetails(
        activity_ids=[int(v) for v in form.activities.data or [] if v.isdigit()],
        what_was_done=form.what_was_done.data or "",
        actions=[
            visit_reports.ActionDetails(
                getattr(form, f"action_{n}").data or "",
                getattr(form, f"owner_{n}").data or "",
                getattr(form, f"due_{n}").data,
            )
            for n in range(1, ACTION_ROWS + 1)
        ],
        next_visit=form.next_visit.data or "",
        next_visit_on=form.next_visit_on.data,
        copy_to_chair=bool(form.copy_to_chair.data),
        correction_reason=getattr(getattr(form, "correction_reason", None), "data", "") or "",
    )


def _field_error(form: ReportForm, error: visit_reports.ReportError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        field = form.what_was_done
    field.errors = [*field.errors, str(error)]


def _save(
    visit: visits.Visit, form: ReportForm, correcting: bool
) -> visit_reports.VisitReport | None:
    """Save the draft (or start the correction) and send it when asked; None when refused."""
    details = _details(form)
    try:
        if correcting:
            report = visit_reports.start_correction(visit, current_user, details)
        else:
            report = visit_reports.save_draft(visit, current_user, details)
        if form.intent.data == "send":
            visit_report_pdf.send(report, current_user)
    except visit_reports.ReportError as error:
        _field_error(form, error)
        return None
    return report


def _page(visit: visits.Visit, form: ReportForm, correcting: bool, status: int = 200) -> Any:
    history = visit_reports.versions(visit.id)
    return render_template(
        "visits/report.html",
        visit=visit,
        form=form,
        correcting=correcting,
        history=history,
        latest=history[-1] if history else None,
        due_on=visit_reports.due_on(visit.visit_date),
        action_rows=ACTION_ROWS,
        against=visits.against_label(visit),
    ), status


@bp.route("/visits/<int:visit_id>/report", methods=["GET", "POST"])
@roles_required(WRITERS)
def write_report(visit_id: int) -> Any:
    """Write the delivered visit's report as a draft, and send it."""
    visit = _visit(visit_id)
    if visit.status.value != "delivered":
        abort(404)
    latest = visit_reports.latest(visit.id)
    # A correction's draft keeps asking for its reason.
    correcting = latest is not None and latest.version > 1
    form = CorrectionForm() if correcting else ReportForm()
    _prepare(form, latest)
    sent = latest is not None and latest.status.value != "draft"
    if not sent and form.validate_on_submit():
        report = _save(visit, form, correcting=correcting)
        if report is not None:
            return _done(report)
    return _page(visit, form, correcting=correcting, status=422 if form.errors else 200)


@bp.route("/visits/<int:visit_id>/report/correct", methods=["GET", "POST"])
@roles_required(WRITERS)
def correct_report(visit_id: int) -> Any:
    """A new version of the sent report, with why: saved as a draft, or sent."""
    visit = _visit(visit_id)
    latest = visit_reports.latest(visit.id)
    if latest is None or latest.status.value == "draft":
        return redirect(url_for("visit_reports.write_report", visit_id=visit.id))
    form = CorrectionForm()
    _prepare(form, latest)
    if form.validate_on_submit():
        report = _save(visit, form, correcting=True)
        if report is not None:
            return _done(report)
    return _page(visit, form, correcting=True, status=422 if form.errors else 200)


def _done(report: visit_reports.VisitReport) -> BaseResponse:
    if report.status.value == "sent":
        flash(
            f"Report {report.reference} sent to {report.recipients}.",
            "success",
        )
    else:
        flash(f"Draft of report {report.reference} saved. It has not been sent.", "success")
    return redirect(url_for("visit_reports.write_report", visit_id=report.visit_id))


# --- Reading ----------------------------------------------------------------------------------


@bp.route("/visits/<int:visit_id>/report/<int:version>.pdf")
@roles_required(READERS)
def report_pdf(visit_id: int, version: int) -> BaseResponse:
    if not (0 < visit_id < 2**31 and 0 < version < 10_000):
        abort(404)
    try:
        report = visit_reports.sent_version(current_user, visit_id, version)
        content = visit_reports.read_pdf(report)
    except visit_reports.ReportNotFound:
        abort(404)
    except MissingPdfError:
        abort(503)
    return Response(
        content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{report.reference}.pdf"'},
    )


@bp.route("/council/visit-reports/late")
@roles_required(Role.LA_ADMIN)
def late_reports() -> str:
    """Delivered visits past the deadline with no report sent, and reports sent late."""
    return render_template(
        "council/late_reports.html",
        late=visit_reports.late_reports(),
        deadline_days=visit_reports.deadline_days(),
    )
