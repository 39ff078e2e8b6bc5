"""Visit reports: written when a visit is delivered, sent as a tagged PDF to the school's
headteachers (and its chair of governors when ticked), never changed once sent (a correction is
a new version with its reason), read only by the school, its adviser and the service manager,
due within the council's working days."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from pypdf import PdfReader

from tests.conftest import text_of
from tests.factories import book_visit, core_allocation, make_user, weekday_in_year
from tests.integration.test_admin import _settings_form
from traded_app import formatting
from traded_app.extensions import db
from traded_app.models import OutgoingEmail, VisitReport
from traded_app.models.types import Role
from traded_app.models.visit_reports import ReportStatus
from traded_app.services.days import activities, visit_reports, visits
from traded_app.services.documents import pdf_check, visit_report_pdf
from traded_app.services.platform import outbox, schedules
from traded_app.services.platform.document_store import invoice_dir
from traded_app.services.platform.settings import today

ACTION = "Share the pupil premium review with governors"


@pytest.fixture(autouse=True)
def own_outbox(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))


def _delivered(world: Any, on: date | None = None, *, allocate: bool = True) -> Any:
    if allocate:
        core_allocation(world, 4)
    visit = book_visit(world, on=on or weekday_in_year(world, past=True), half_days=1)
    visits.deliver(visit, world.users[Role.ADVISER], "Reviewed the plan")
    db.session.commit()
    return visit


def _form(world: Any, intent: str = "send", **changes: str) -> dict[str, Any]:
    activities.ensure_non_negotiable_activities()
    first = activities.activities()[0]
    db.session.commit()
    form: dict[str, Any] = {
        "activities": [str(first.id)],
        "what_was_done": "Looked at the data with the headteacher.",
        "action_1": ACTION,
        "owner_1": "Headteacher",
        "due_1": ["27", "3", "2027"],
        "next_visit": "to_be_arranged",
        "intent": intent,
    }
    form.update(changes)
    return form


def _errors(response: Any) -> list[str]:
    return [a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")]


def _send(world: Any, visit: Any, **changes: Any) -> VisitReport:
    adviser = world.users[Role.ADVISER]
    activities.ensure_non_negotiable_activities()
    details = visit_reports.ReportDetails(
        activity_ids=[activities.activities()[0].id],
        what_was_done="Looked at the data with the headteacher.",
        actions=[visit_reports.ActionDetails(ACTION, "Headteacher", date(2027, 3, 27))],
        next_visit="to_be_arranged",
        **changes,
    )
    report = visit_reports.save_draft(visit, adviser, details)
    visit_report_pdf.send(report, adviser)
    db.session.commit()
    return report


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


# --- The deadline -----------------------------------------------------------------------------


def test_the_deadline_counts_working_days_skipping_weekends_and_bank_holidays(
    app: Flask, world: Any
) -> None:
    # Monday 21 December 2026: Christmas Day (Friday), the Boxing Day holiday (Monday 28) and
    # New Year's Day (Friday 1 January) are not working days, nor the weekends.
    assert visit_reports.due_on(date(2026, 12, 21), 10) == date(2027, 1, 7)
    assert visit_reports.due_on(date(2026, 12, 21), 3) == date(2026, 12, 24)
    assert visit_reports.due_on(date(2026, 12, 21), 4) == date(2026, 12, 29)
    # A Friday's report due in one working day is due on Monday.
    assert visit_reports.due_on(date(2026, 11, 27), 1) == date(2026, 11, 30)
    # The council's setting is the default.
    world.council.visit_report_deadline_days = 4
    db.session.commit()
    assert visit_reports.due_on(date(2026, 12, 21)) == date(2026, 12, 29)


def test_late_reports_are_listed_for_the_service_manager_and_due_ones_for_the_adviser(
    as_role: Any, world: Any
) -> None:
    long_ago = weekday_in_year(world, past=True)
    while visit_reports.due_on(long_ago) >= today():
        long_ago -= timedelta(days=7)
    assert long_ago >= world.year.starts_on
    visit = _delivered(world, on=long_ago)
    adviser_page = as_role(Role.ADVISER).get(f"/visits?week={long_ago.isoformat()}")
    due = text_of(adviser_page.soup, "#reports-due")
    assert visit.school.name in due and "Late" in due

    admin = as_role(Role.LA_ADMIN)
    late = admin.get("/council/visit-reports/late")
    assert visit.reference in text_of(late.soup, "#overdue")
    assert "None." in text_of(late.soup, "#sent-late")

    report = _send(world, visit)
    assert report.sent_late and report.due_on == visit_reports.due_on(long_ago)
    late = admin.get("/council/visit-reports/late")
    assert visit.reference not in text_of(late.soup, "#overdue")
    assert report.reference in text_of(late.soup, "#sent-late")
    assert as_role(Role.ADVISER).get("/visits").soup.select_one("#reports-due") is None


# --- Sent means sent --------------------------------------------------------------------------


def test_a_sent_report_never_changes_and_a_correction_is_a_new_version_with_its_reason(
    as_role: Any, world: Any
) -> None:
    visit = _delivered(world)
    first = _send(world, visit)
    sha, path = first.pdf_sha256, first.pdf_path
    adviser = world.users[Role.ADVISER]

    with pytest.raises(visit_reports.ReportError, match="correct it instead"):
        visit_reports.save_draft(visit, adviser, visit_reports.ReportDetails(what_was_done="x"))
    db.session.rollback()
    first.what_was_done = "Changed behind the page's back"
    with pytest.raises(visit_reports.SentReportChanged):
        db.session.flush()
    db.session.rollback()

    client = as_role(Role.ADVISER)
    # Posting to the sent report's page changes nothing.
    client.post_form(f"/visits/{visit.id}/report", _form(world, what_was_done="Rewritten"))
    db.session.expire_all()
    assert [r.what_was_done for r in visit_reports.versions(visit.id)] == [
        "Looked at the data with the headteacher."
    ]

    url = f"/visits/{visit.id}/report/correct"
    refused = client.post_form(url, _form(world))
    assert "Enter why the report is being corrected" in _errors(refused)
    done = client.post_form(
        url,
        _form(
            world,
            what_was_done="Looked at the data with the deputy.",
            correction_reason="Wrong name",
        ),
    )
    assert done.status_code == 302
    db.session.expire_all()
    old, new = visit_reports.versions(visit.id)
    assert (old.version, old.status, old.what_was_done, old.pdf_sha256, old.pdf_path) == (
        1,
        ReportStatus.REPLACED,
        "Looked at the data with the headteacher.",
        sha,
        path,
    )
    assert old.replaced_at is not None
    assert (new.version, new.status, new.correction_reason) == (2, ReportStatus.SENT, "Wrong name")
    assert new.pdf_sha256 != sha
    assert "Wrong name" in _pdf_text(visit_reports.read_pdf(new))
    assert "the headteacher" in _pdf_text(visit_reports.read_pdf(old))  # still as it was sent
    page = client.get(f"/visits/{visit.id}/report")
    assert "Replaced" in text_of(page.soup, "#report-versions")


def test_a_draft_is_saved_and_bad_input_is_refused_on_the_form(as_role: Any, world: Any) -> None:
    visit = _delivered(world)
    client = as_role(Role.ADVISER)
    url = f"/visits/{visit.id}/report"
    saved = client.post_form(url, _form(world, intent="save"))
    assert saved.status_code == 302
    [draft] = visit_reports.versions(visit.id)
    assert draft.status == ReportStatus.DRAFT and [a.action for a in draft.actions] == [ACTION]
    assert db.session.query(OutgoingEmail).filter_by(kind="visit_report").count() == 0
    assert "Draft saved" in client.get(url).get_data(as_text=True)

    no_owner = client.post_form(url, _form(world, owner_1=""))
    assert "Enter who owns action 1" in _errors(no_owner)
    bad_date = client.post_form(url, _form(world, next_visit="date"))
    assert "Enter the date of the next visit" in _errors(bad_date)
    retired = client.post_form(url, _form(world, activities=["999999"]))
    assert _errors(retired) == ["Select the activities from the list"]
    db.session.expire_all()
    assert visit_reports.latest(visit.id).status == ReportStatus.DRAFT  # nothing sent


# --- Who reads it -----------------------------------------------------------------------------


def test_only_the_school_its_adviser_and_the_service_manager_read_a_report(
    as_role: Any, world: Any
) -> None:
    visit = _delivered(world)
    report = _send(world, visit)
    url = f"/visits/{visit.id}/report/1.pdf"
    for role in (Role.HEADTEACHER, Role.SCHOOL_BUSINESS_MANAGER, Role.ADVISER, Role.LA_ADMIN):
        answer = as_role(role).get(url)
        assert answer.status_code == 200, role
        assert answer.data == visit_reports.read_pdf(report)
    assert as_role(Role.LA_FINANCE).get(url).status_code == 403
    other_head = make_user("head@hilltop.example", Role.HEADTEACHER, world.other_school)
    other_adviser = make_user("spp2@council.example", Role.ADVISER)
    db.session.commit()
    assert as_role(None).sign_in_as(other_head).get(url).status_code == 404
    assert as_role(None).sign_in_as(other_adviser).get(url).status_code == 404
    assert (
        as_role(None).sign_in_as(other_adviser).get(f"/visits/{visit.id}/report").status_code == 404
    )
    assert as_role(Role.HEADTEACHER).get(f"/visits/{visit.id}/report/2.pdf").status_code == 404
    # Listed on the school's Days page for its headteacher and business manager.
    for role in (Role.HEADTEACHER, Role.SCHOOL_BUSINESS_MANAGER):
        days = as_role(role).get("/days")
        links = [a["href"] for a in days.soup.select("#visit-report-list a")]
        assert links == [url]
    other_days = as_role(None).sign_in_as(other_head).get("/days")
    assert other_days.soup.select_one("#visit-report-list") is None


def test_a_draft_is_nobodys_to_download(as_role: Any, world: Any) -> None:
    visit = _delivered(world)
    activities.ensure_non_negotiable_activities()
    visit_reports.save_draft(
        visit, world.users[Role.ADVISER], visit_reports.ReportDetails(what_was_done="Draft")
    )
    db.session.commit()
    assert as_role(Role.HEADTEACHER).get(f"/visits/{visit.id}/report/1.pdf").status_code == 404
    assert as_role(Role.HEADTEACHER).get("/days").soup.select_one("#visit-report-list") is None


# --- The PDF and the e-mail -------------------------------------------------------------------


def test_the_pdf_is_tagged_and_shows_the_activities_and_actions(world: Any) -> None:
    visit = _delivered(world)
    report = _send(world, visit)
    content = visit_reports.read_pdf(report)
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert str(root["/Lang"]) == "en-GB"
    text = _pdf_text(content)
    activity = activities.activities()[0].name
    for expected in (
        report.reference,
        visit.school.name,
        activity,
        "Looked at the data with the headteacher.",
        ACTION,
        "Headteacher",
        "27 March 2027",
        "To be arranged",
    ):
        assert expected in text, expected


def test_the_report_is_emailed_to_the_headteachers_and_the_chair_when_ticked(
    app: Flask, world: Any
) -> None:
    second_head = make_user("deputy.head@school.example", Role.HEADTEACHER, world.school)
    world.school.chair_of_governors_name = "Pat Chair"
    world.school.chair_of_governors_email = "chair@school.example"
    db.session.commit()
    visit = _delivered(world)
    report = _send(world, visit)
    [email] = db.session.query(OutgoingEmail).filter_by(kind="visit_report", ref_id=report.id)
    assert email.recipient_list == sorted([world.users[Role.HEADTEACHER].email, second_head.email])
    assert email.status.value == "sent"  # the test queue runs at once
    eml = sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))[-1].read_bytes()
    assert f"{report.reference}.pdf".encode() in eml  # the PDF attached

    second = _delivered(world, allocate=False)
    copied = _send(world, second, copy_to_chair=True)
    [email] = db.session.query(OutgoingEmail).filter_by(kind="visit_report", ref_id=copied.id)
    assert "chair@school.example" in email.recipient_list
    assert "Pat Chair, chair of governors" in _pdf_text(visit_reports.read_pdf(copied))


def test_a_copy_to_a_chair_with_no_address_is_refused(as_role: Any, world: Any) -> None:
    visit = _delivered(world)
    page = as_role(Role.ADVISER).post_form(
        f"/visits/{visit.id}/report", _form(world, copy_to_chair="y")
    )
    assert any("no e-mail address for its chair of governors" in e for e in _errors(page))
    assert db.session.query(VisitReport).count() == 0  # nothing kept from a refused send
    assert outbox.failed_count() == 0


def test_the_school_keeps_its_chair_of_governors_with_its_details(as_role: Any, world: Any) -> None:
    client = as_role(Role.HEADTEACHER)
    bad = client.post_form(
        "/school/details/change",
        {"chair_of_governors_name": "Pat Chair", "chair_of_governors_email": "not an address"},
    )
    assert "Enter an email address in the correct format, like name@example.org" in _errors(bad)
    saved = client.post_form(
        "/school/details/change",
        {
            "billing_address": world.school.billing_address,
            "billing_contact_email": world.school.billing_contact_email,
            "cost_centre": world.school.cost_centre or "CC100",
            "chair_of_governors_name": "Pat  Chair",
            "chair_of_governors_email": "chair@school.example",
        },
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert (world.school.chair_of_governors_name, world.school.chair_of_governors_email) == (
        "Pat Chair",
        "chair@school.example",
    )
    details = client.get("/school/details").soup
    assert text_of(details, "#value-chair_of_governors_email") == "chair@school.example"
    history = text_of(details, "#details-history")
    assert "Chair of governors' e-mail: – → chair@school.example" in history


def test_the_deadline_is_a_council_setting(as_role: Any, world: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    refused = admin.post_form(
        "/council/manage/settings", _settings_form(visit_report_deadline_days="0")
    )
    assert "Visit reports due within (working days) must be a whole number from 1 to 60" in _errors(
        refused
    )
    saved = admin.post_form(
        "/council/manage/settings", _settings_form(visit_report_deadline_days="15")
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert visit_reports.deadline_days() == 15


def test_the_daily_pdf_check_reads_sent_reports_too(world: Any, as_role: Any) -> None:
    """A sent report is stored like an issued document: a file gone from the store is found by
    the daily check and listed by its visit, school and version (a draft has no file to check)."""
    visit = _delivered(world)
    report = _send(world, visit)
    visit_reports.save_draft(
        _delivered(world, allocate=False),
        world.users[Role.ADVISER],
        visit_reports.ReportDetails(what_was_done="Draft"),
    )
    db.session.commit()
    (invoice_dir() / report.pdf_path).unlink()
    run = schedules.run_if_due(
        schedules.SCHEDULES[pdf_check.NAME],
        datetime.combine(today(), time(3, 10), tzinfo=ZoneInfo("Europe/London")),
    )
    assert run is not None and run.outcome == "ok", run and run.detail
    assert run.detail == "1 PDF checked: 0 as issued, 1 missing"
    page = as_role(Role.LA_ADMIN).get("/council/pdf-check").soup
    [row] = page.select("tbody tr")
    when = formatting.long_date(visit.visit_date)
    assert text_of(row, "td:nth-child(1)").startswith(f"Report of the visit on {when}, version 1")
    assert text_of(row, "td:nth-child(2)") == visit.school.name
    assert "Missing" in text_of(row, "td:nth-child(3)")
