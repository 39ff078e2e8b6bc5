"""The schedules of issue 13: payment reminders on the council's policy (with finance's pauses),
the nightly SQLite backup, and the daily check of the stored PDFs; each due by its council
setting and time of day, once a period however often the worker's tick fires."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import charged_order, issue_document
from tests.integration.test_admin import _errors, _settings_form
from tests.integration.test_database import head_revision
from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models import (
    CouncilSettings,
    Document,
    OutgoingEmail,
    PdfCheckFinding,
    Reminder,
    ReminderKind,
    ReminderPause,
)
from traded_app.models.base import utcnow
from traded_app.models.types import Role
from traded_app.services.council import backup
from traded_app.services.documents import pdf_check
from traded_app.services.finance import payments, reminder_schedule, reminders
from traded_app.services.finance.reminder_schedule import History, Policy, kind_due
from traded_app.services.platform import schedules
from traded_app.services.platform.document_store import invoice_dir
from traded_app.services.platform.settings import today

REMINDERS = schedules.SCHEDULES[reminder_schedule.NAME]
BACKUP = schedules.SCHEDULES[backup.SCHEDULE_NAME]
PDF_CHECK = schedules.SCHEDULES[pdf_check.NAME]


def at(hour: int, minute: int = 0, day: date | None = None) -> datetime:
    """A moment on the council's clock (Europe/London), as the worker's tick would see it."""
    return datetime.combine(day or today(), time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def reminders_on(world: Any, **values: Any) -> None:
    world.academy.billing_contact_email = "bursar@meadow.example"
    settings = {
        "reminders_on": True,
        "friendly_note_days": 7,
        "reminder_interval_days": 14,
        "reminders_before_final": 2,
        "reminder_send_time": time(9, 0),
        **values,
    }
    for name, value in settings.items():
        setattr(world.council, name, value)
    db.session.commit()


def invoice(world: Any, due_in: int, school: Any = None) -> Document:
    """A VAT invoice (a recharge for a maintained school) due `due_in` days from today."""
    document = issue_document(
        world, school=school or world.academy, on=today() + timedelta(days=due_in - 30)
    )
    db.session.commit()
    return document


def sent_before(document: Document, kind: ReminderKind, days_ago: int) -> None:
    db.session.add(
        Reminder(
            document_id=document.id,
            kind=kind,
            recipient="bursar@meadow.example",
            balance_pence=document.gross_pence,
            days_overdue=1,
            queued_at=utcnow() - timedelta(days=days_ago),
            succeeded=True,
        )
    )
    db.session.commit()


def kinds(document: Document) -> list[ReminderKind]:
    db.session.expire_all()
    return [r.kind for r in reminders.reminders_of(document)]


def emails_about(document: Document) -> list[OutgoingEmail]:
    return list(
        db.session.scalars(
            select(OutgoingEmail)
            .where(OutgoingEmail.document_id == document.id, OutgoingEmail.kind == "reminder")
            .order_by(OutgoingEmail.id)
        )
    )


# --- When each schedule is due ----------------------------------------------------------------


def test_reminders_are_due_only_when_on_and_from_their_time_of_day(world: Any) -> None:
    assert REMINDERS.period_at(at(10)) is None  # off until the council turns them on
    assert "Off" in REMINDERS.timing
    reminders_on(world, reminder_send_time=time(9, 30))
    assert REMINDERS.period_at(at(9, 29)) is None
    assert REMINDERS.period_at(at(9, 30)) == today().isoformat()
    assert REMINDERS.period_at(at(23, 59)) == today().isoformat()
    assert REMINDERS.timing.startswith("Every day from 09:30 (Europe/London): a friendly note 7")


def test_backup_and_pdf_check_are_due_from_their_times(app: Flask, world: Any) -> None:
    world.council.backup_time = time(1, 15)
    world.council.pdf_check_time = time(5, 0)
    db.session.commit()
    if backup.on_sqlite():
        assert BACKUP.period_at(at(1, 14)) is None
        assert BACKUP.period_at(at(1, 15)) == today().isoformat()
    assert PDF_CHECK.period_at(at(4, 59)) is None
    assert PDF_CHECK.period_at(at(5, 0)) == today().isoformat()
    assert PDF_CHECK.timing == "Every day from 05:00 (Europe/London)"


def test_on_postgresql_the_backup_is_never_due_and_the_page_says_why(
    app: Flask, world: Any, as_role: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://h/traded")
    assert BACKUP.period_at(at(23)) is None
    page = as_role(Role.LA_FINANCE).get("/council/schedules").soup
    assert "Backups are the database’s own: on PostgreSQL, back up with pg_dump" in text_of(
        page, "main"
    )
    assert "backed up by its own tools (pg_dump" in text_of(page, ".govuk-summary-list")


@pytest.mark.parametrize(
    ("due_in", "history", "expected"),
    [
        (8, History(), None),  # further off than the friendly note's 7 days
        (7, History(), ReminderKind.FRIENDLY),
        (0, History(), ReminderKind.FRIENDLY),  # due today: not overdue yet
        (3, History(friendly_sent=True), None),
        (-1, History(friendly_sent=True), ReminderKind.REMINDER),
        (-20, History(reminders=1, last_after_due=date(2026, 1, 1)), None),  # see `on` below
        (-30, History(reminders=2, last_after_due=date(2025, 12, 1)), ReminderKind.FINAL),
        (-90, History(reminders=2, final_sent=True, last_after_due=date(2025, 12, 1)), None),
    ],
)
def test_the_policy_picks_the_kind(
    due_in: int, history: History, expected: ReminderKind | None
) -> None:
    on = date(2026, 1, 10)
    policy = Policy(friendly_note_days=7, interval_days=14, reminders_before_final=2)
    assert kind_due(on + timedelta(days=due_in), on, policy, history) == expected


def test_with_no_friendly_note_and_no_reminders_before_it_the_first_is_the_final_notice() -> None:
    policy = Policy(friendly_note_days=0, interval_days=14, reminders_before_final=0)
    on = date(2026, 1, 10)
    assert kind_due(on, on, policy, History()) is None
    assert kind_due(on - timedelta(days=1), on, policy, History()) == ReminderKind.FINAL


# --- Payment reminders --------------------------------------------------------------------------


def test_each_kind_goes_once_even_when_the_tick_runs_twice(app: Flask, world: Any) -> None:
    reminders_on(world)
    friendly = invoice(world, 5)
    too_early = invoice(world, 10)
    first_reminder = invoice(world, -3)
    final = invoice(world, -40)
    sent_before(final, ReminderKind.REMINDER, 35)
    sent_before(final, ReminderKind.REMINDER, 20)
    within_interval = invoice(world, -40)
    sent_before(within_interval, ReminderKind.REMINDER, 5)
    paid = invoice(world, -10)
    payments.record_bank_transfer(
        paid, paid.gross_pence, today(), "BACS 1", world.users[Role.LA_FINANCE]
    )
    recharge = invoice(world, -60, school=world.school)
    db.session.commit()

    run = schedules.run_if_due(REMINDERS, at(10))
    assert run is not None and run.outcome == "ok", run and run.detail
    assert run.detail == "1 friendly note, 1 reminder and 1 final notice queued"
    assert schedules.run_if_due(REMINDERS, at(10, 5)) is None  # the next tick: claimed
    assert schedules.run_if_due(REMINDERS, at(18)) is None
    # Even the work itself, run again the same day, sends nothing twice.
    assert reminder_schedule.send_due_reminders(today()).detail == "Nothing due"
    db.session.commit()

    assert kinds(friendly) == [ReminderKind.FRIENDLY]
    assert kinds(too_early) == []
    assert kinds(first_reminder) == [ReminderKind.REMINDER]
    assert kinds(final) == [ReminderKind.REMINDER, ReminderKind.REMINDER, ReminderKind.FINAL]
    assert kinds(within_interval) == [ReminderKind.REMINDER]
    assert kinds(paid) == [] and kinds(recharge) == []
    [note] = emails_about(friendly)
    assert note.subject == f"Invoice {friendly.number} is due on {friendly.due_date.day} " + (
        f"{friendly.due_date:%B %Y}"
    )
    assert (
        "A friendly note that invoice" in note.body and note.recipients == "bursar@meadow.example"
    )
    [email] = emails_about(first_reminder)
    assert email.subject == f"Reminder: invoice {first_reminder.number} is overdue"
    assert "is 3 days overdue" in email.body
    assert all(r.succeeded for r in reminders.reminders_of(first_reminder))  # sent by the queue

    # The next day: a friendly note is once only, the interval holds, a final notice is the last.
    tomorrow = today() + timedelta(days=1)
    run = schedules.run_if_due(REMINDERS, at(10, day=tomorrow))
    assert run is not None and run.detail == "Nothing due"
    # A fortnight on: reminders for the four now overdue and out of their interval; the final
    # notice was the last.
    later = today() + timedelta(days=14)
    run = schedules.run_if_due(REMINDERS, at(10, day=later))
    assert run is not None and run.detail == "4 reminders queued"
    assert kinds(friendly) == [ReminderKind.FRIENDLY, ReminderKind.REMINDER]
    assert kinds(first_reminder) == [ReminderKind.REMINDER, ReminderKind.REMINDER]
    assert kinds(final) == [ReminderKind.REMINDER, ReminderKind.REMINDER, ReminderKind.FINAL]


def test_the_final_notice_says_it_is_final_and_what_happens_next(
    app: Flask, world: Any, as_role: Any
) -> None:
    reminders_on(
        world,
        reminders_before_final=1,
        final_notice_text="We will refer the debt to Testshire's debt recovery team on day 60.",
    )
    overdue = invoice(world, -30)
    sent_before(overdue, ReminderKind.REMINDER, 15)
    run = schedules.run_if_due(REMINDERS, at(9))
    assert run is not None and run.detail == "1 final notice queued"
    [email] = emails_about(overdue)
    assert email.subject == f"Final notice: invoice {overdue.number} is overdue"
    assert f"This is our final notice about invoice {overdue.number}" in email.body
    assert "is 30 days overdue" in email.body
    assert "We will not send another reminder." in email.body
    assert (
        "What happens next: We will refer the debt to Testshire's debt recovery team on day 60."
        in email.body
    )
    assert "Please pay by bank transfer to Testshire CC, sort code 12-34-56" in email.body
    sent = sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))
    assert any(b"Final notice" in path.read_bytes() for path in sent)
    page = as_role(Role.LA_FINANCE).get(f"/documents/{overdue.id}").soup
    assert "Final notice:" in text_of(page, "main")
    assert "by the daily schedule" in text_of(page, "main")


def test_finance_pauses_and_resumes_one_invoice_or_one_school(
    app: Flask, world: Any, as_role: Any
) -> None:
    reminders_on(world)
    disputed = invoice(world, -3)
    other = invoice(world, -3)
    finance = as_role(Role.LA_FINANCE)

    page = finance.get(f"/documents/{disputed.id}").soup
    assert text_of(page, "#reminders + p") == f"Pause reminders for {disputed.number}"
    url = f"/finance/documents/{disputed.id}/pause-reminders"
    page = finance.post_form(url, {"reason": "  "}).soup
    assert text_of(page, ".govuk-error-summary").endswith("Enter why reminders are being paused")
    response = finance.post_form(url, {"reason": "The school disputes the days delivered"})
    assert response.status_code == 302 and response.location == f"/documents/{disputed.id}"
    page = finance.get(f"/documents/{disputed.id}").soup
    assert "Reminders are paused for this invoice" in text_of(page, "#reminders-paused")
    assert "by Finance" in text_of(page, "#reminders-paused")
    assert "The school disputes the days delivered" in text_of(page, "#reminders-paused")
    again = finance.get(url).soup
    assert "Reminders are already paused" in text_of(again, "main")
    admin_page = as_role(Role.LA_ADMIN).get(f"/documents/{disputed.id}").soup
    assert "The school disputes the days delivered" in text_of(admin_page, "#reminders-paused")
    assert admin_page.select_one("#reminders-paused form") is None  # only finance resumes

    run = schedules.run_if_due(REMINDERS, at(10))
    assert run is not None and run.detail == "1 reminder queued; 1 paused by finance, not sent"
    assert kinds(disputed) == [] and kinds(other) == [ReminderKind.REMINDER]
    outcome = reminders.send_reminders([disputed.id], world.users[Role.LA_FINANCE])
    assert outcome.skipped == [
        (disputed.number, "its reminders are paused: The school disputes the days delivered")
    ]
    db.session.rollback()

    # The whole school, from its invoices in the register.
    register = finance.get(f"/finance/invoices?school={world.academy.urn}").soup
    link = register.select_one(f"a[href='/finance/schools/{world.academy.urn}/pause-reminders']")
    assert link is not None
    response = finance.post_form(link["href"], {"reason": "Payment plan agreed to March"})
    assert response.location == f"/finance/invoices?school={world.academy.urn}"
    register = finance.get(response.location).soup
    assert "Reminders are paused for all of Meadow Academy’s invoices" in text_of(
        register, "#reminders-paused"
    )
    page = finance.get(f"/documents/{other.id}").soup
    assert "paused for all of Meadow Academy" in text_of(page, "#reminders-paused")

    # Resume the invoice: the school's pause still holds it, then resume the school.
    finance.post_form(f"/finance/documents/{disputed.id}/resume-reminders")
    later = today() + timedelta(days=14)
    run = schedules.run_if_due(REMINDERS, at(10, day=later))
    assert run is not None and run.detail == "Nothing due; 2 paused by finance, not sent"
    response = finance.post_form(f"/finance/schools/{world.academy.urn}/resume-reminders")
    assert response.status_code == 302
    register = finance.get(response.location).soup
    assert register.select_one("#reminders-paused") is None
    run = schedules.run_if_due(REMINDERS, at(10, day=later + timedelta(days=1)))
    assert run is not None and run.detail == "2 reminders queued"
    pauses = db.session.scalars(select(ReminderPause).order_by(ReminderPause.id)).all()
    assert [(p.resumed_at is not None, p.resumed_by_id) for p in pauses] == [
        (True, world.users[Role.LA_FINANCE].id),
        (True, world.users[Role.LA_FINANCE].id),
    ]
    # Resuming what is not paused says so; a recharge cannot be paused (it is never reminded).
    response = finance.post_form(f"/finance/documents/{disputed.id}/resume-reminders")
    page = finance.get(response.location).soup
    assert f"Reminders for {disputed.number} are not paused" in text_of(page, "main")
    recharge = invoice(world, -3, school=world.school)
    response = finance.get(f"/finance/documents/{recharge.id}/pause-reminders")
    assert response.status_code == 302


def test_the_aged_debt_page_marks_paused_invoices(world: Any, as_role: Any) -> None:
    reminders_on(world)
    disputed = invoice(world, -20)
    invoice(world, -20)
    finance = as_role(Role.LA_FINANCE)
    finance.post_form(f"/finance/documents/{disputed.id}/pause-reminders", {"reason": "Disputed"})
    page = finance.get("/finance/aged-debt").soup
    assert len(page.select("input[name=documents]")) == 1
    assert page.select_one("input#documents") is not None  # the error summary's target
    assert "Paused" in text_of(page, "#overdue-invoices ~ form table")


def test_the_aged_debt_page_marks_a_paused_schools_invoices(world: Any, as_role: Any) -> None:
    """A school's pause holds each of its invoices: none can be ticked, each says so."""
    reminders_on(world)
    invoice(world, -20)
    invoice(world, -40)
    finance = as_role(Role.LA_FINANCE)
    url = f"/finance/schools/{world.academy.urn}/pause-reminders"
    finance.post_form(url, {"reason": "Payment plan"})
    page = finance.get("/finance/aged-debt").soup
    assert page.select("input[name=documents]") == []
    rows = page.select("#overdue-invoices ~ form table tbody tr")
    assert [row.select_one("td").get_text(strip=True) for row in rows] == ["Paused", "Paused"]


# --- Settings -----------------------------------------------------------------------------------


def test_the_service_manager_sets_the_policy_and_times(world: Any, as_role: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    page = admin.get("/council/manage/settings").soup
    assert page.select_one("#reminder_send_time")["value"] == "09:00"
    page = admin.post_form(
        "/council/manage/settings",
        _settings_form(
            reminders_on="yes",
            friendly_note_days="61",
            reminders_before_final="ten",
            reminder_send_time="25:00",
            final_notice_text="",
            backup_time="2am",
            backups_kept="0",
            pdf_check_time="03:60",
        ),
    )
    assert _errors(page) == [
        "Friendly note before the due date (days) must be a whole number from 0 to 60",
        "Reminders before the final notice must be a whole number from 0 to 10",
        "Time to send reminders must be a time on the 24-hour clock, like 09:00",
        "Enter what the final notice says happens next",
        "Time of the nightly backup must be a time on the 24-hour clock, like 09:00",
        "Backups to keep must be a whole number from 1 to 365",
        "Time of the daily check of the stored PDFs must be a time on the 24-hour clock, "
        "like 09:00",
    ]
    response = admin.post_form(
        "/council/manage/settings",
        _settings_form(
            reminders_on="yes",
            friendly_note_days="0",
            reminders_before_final="3",
            reminder_send_time="7.45",
            final_notice_text="  Debt recovery next.  ",
            backup_time="23:30",
            backups_kept="30",
            pdf_check_time="4:05",
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    settings = db.session.get(CouncilSettings, 1)
    assert settings is not None
    assert (
        settings.reminders_on,
        settings.friendly_note_days,
        settings.reminders_before_final,
        settings.reminder_send_time,
        settings.final_notice_text,
        settings.backup_time,
        settings.backups_kept,
        settings.pdf_check_time,
    ) == (True, 0, 3, time(7, 45), "Debt recovery next.", time(23, 30), 30, time(4, 5))
    page = as_role(Role.LA_FINANCE).get("/council/schedules").soup
    timings = text_of(page, ".govuk-summary-list")
    assert "Every day from 07:45 (Europe/London): once it is overdue a reminder every" in timings
    assert "Every day from 04:05" in timings


# --- The nightly backup ---------------------------------------------------------------------------


def test_the_nightly_backup_is_written_and_the_oldest_pruned(
    app: Flask, world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not backup.on_sqlite():
        pytest.skip("the nightly backup is SQLite's; PostgreSQL uses pg_dump")
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(tmp_path))
    for day in (1, 2, 3):
        (tmp_path / f"traded-2020010{day}T020000Z.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("not a backup")
    (tmp_path / "traded-by-hand.db").write_bytes(b"not named by the schedule")
    world.council.backups_kept = 2
    db.session.commit()

    moment = at(2, 30)
    run = schedules.run_if_due(BACKUP, moment)
    assert run is not None and run.outcome == "ok", run and run.detail
    written = tmp_path / f"traded-{moment:%Y%m%dT%H%M%SZ}.db"
    assert run.detail.startswith(f"Backed up to {written} (")
    assert run.detail.endswith("2 backups kept, 2 older removed")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [written.name, "traded-20200103T020000Z.db", "notes.txt", "traded-by-hand.db"]
    )
    with sqlite3.connect(written) as copy:
        assert copy.execute("SELECT name FROM council_settings").fetchone() == (
            "Testshire County Council",
        )
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == (
            head_revision(),
        )
    assert schedules.run_if_due(BACKUP, at(3)) is None  # once a night


# --- The daily check of the stored PDFs ------------------------------------------------------------


def test_the_pdf_check_finds_a_deleted_and_an_altered_file(
    app: Flask, world: Any, as_role: Any
) -> None:
    documents = [charged_order(world, 2)[1] for _ in range(3)]
    db.session.commit()
    deleted, altered, intact = documents
    deleted_path = invoice_dir() / deleted.pdf_path
    kept = deleted_path.read_bytes()
    deleted_path.unlink()
    with (invoice_dir() / altered.pdf_path).open("ab") as handle:
        handle.write(b"\n% changed after issue\n")

    run = schedules.run_if_due(PDF_CHECK, at(3, 10))
    assert run is not None and run.outcome == "ok", run and run.detail
    assert run.detail == "3 PDFs checked: 1 as issued, 1 missing, 1 altered"
    page = as_role(Role.LA_FINANCE).get("/council/pdf-check").soup
    rows = [
        text_of(row, "td:nth-child(1) a") + " " + text_of(row, "td:nth-child(3) strong")
        for row in page.select("tbody tr")
    ]
    assert rows == sorted([f"{deleted.number} Missing", f"{altered.number} Not the PDF issued"])
    assert "3 PDFs checked" in text_of(page, "main")
    assert intact.number not in text_of(page, "main")

    # The file is restored from the backup: the next day's check lists only the altered one.
    deleted_path.write_bytes(kept)
    run = schedules.run_if_due(PDF_CHECK, at(3, 10, day=today() + timedelta(days=1)))
    assert run is not None and run.detail == "3 PDFs checked: 2 as issued, 1 altered"
    findings = db.session.scalars(select(PdfCheckFinding)).all()
    assert [(f.document_id, f.problem.value) for f in findings] == [(altered.id, "altered")]
    page = as_role(Role.LA_ADMIN).get("/council/pdf-check").soup
    assert [text_of(row, "td:nth-child(1) a") for row in page.select("tbody tr")] == [
        altered.number
    ]
