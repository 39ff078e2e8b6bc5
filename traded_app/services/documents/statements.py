"""Statements of account as PDF, and e-mailing them: to one school, or to every school with a
balance.

The figures are finance's (services/finance/statements.py); this module only prints them, with
the invoices' renderer (services/documents/pdf.py: the same template environment, print
stylesheet, static-only fetcher and tagged PDF/UA-1), and sends them through the outbox. A
statement is not a document: it has no number and is not stored. Its e-mail names the school
and period (a `StatementSend` row), and the PDF is made when the e-mail goes, so it shows the
figures as they are then. Each send is listed with how it went; sending to every school is a
queue job that queues one e-mail per school.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from traded_app.extensions import db
from traded_app.formatting import long_date, pounds
from traded_app.models import CouncilLogo, School, User
from traded_app.models.jobs import OutgoingEmail
from traded_app.models.statements import SendStatus, StatementSend
from traded_app.services.documents import pdf
from traded_app.services.finance import statements as figures
from traded_app.services.finance.statements import Statement
from traded_app.services.platform import jobs, mail, outbox
from traded_app.services.platform.after_commit import after_commit, is_suppressed
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.settings import council_settings, today

log = logging.getLogger(__name__)

SEND_KIND = "statement"
NO_CONTACT = "The school has no billing contact e-mail address"
SENDS_LISTED = 100


@dataclass(frozen=True)
class StatementSeller:
    """The council as a statement shows it (its settings now: a statement is not issued)."""

    name: str = ""
    address: str = ""
    email: str = ""
    phone: str = ""
    bank_name: str = ""
    bank_account_name: str = ""
    bank_sort_code: str = ""
    bank_account_number: str = ""
    remittance_email: str = ""
    logo_png: bytes = b""


def seller() -> StatementSeller:
    settings = council_settings()
    if settings is None:
        return StatementSeller()
    address = "\n".join(part for part in (settings.address, settings.postcode) if part)
    return StatementSeller(
        settings.name,
        address,
        settings.contact_email,
        settings.contact_phone,
        settings.bank_name,
        settings.bank_account_name,
        settings.bank_sort_code,
        settings.bank_account_number,
        settings.remittance_email or settings.contact_email,
        _logo(settings.logo_sha256),
    )


def _logo(sha256: str) -> bytes:
    if not sha256:
        return b""
    png = db.session.execute(
        select(CouncilLogo.png).where(CouncilLogo.sha256 == sha256)
    ).scalar_one_or_none()
    return png or b""


def html_of(
    statement: Statement, made_on: date | None = None, council: StatementSeller | None = None
) -> str:
    return pdf.html_of(
        "statement.html", st=statement, seller=council or seller(), made_on=made_on or today()
    )


def render(
    statement: Statement, made_on: date | None = None, council: StatementSeller | None = None
) -> bytes:
    """The statement's PDF (A4, tagged PDF/UA-1); `council` is the council's settings now
    unless given."""
    identifier = figures.file_stem(statement).encode()
    return pdf.render_html(html_of(statement, made_on, council), identifier=identifier)


# --- E-mailing -------------------------------------------------------------------------------


def send(school: School, start: date, end: date, user: User | None) -> StatementSend:
    """Queue the school's statement for its billing contact (logged as not sent when the school
    has none). The e-mail goes once this transaction commits."""
    statement = figures.statement_for(school, start, end)
    recipient = (school.billing_contact_email or "").strip()
    row = StatementSend(
        school_id=school.id,
        period_start=start,
        period_end=end,
        closing_balance_pence=statement.closing_pence,
        recipient=recipient,
        sent_by_id=user.id if user else None,
        status=SendStatus.QUEUED if recipient else SendStatus.NOT_SENT,
        attempts=0,
        error="" if recipient else NO_CONTACT,
    )
    db.session.add(row)
    db.session.flush()
    if recipient:
        subject, body = message_for(statement)
        queued = outbox.queue_email(
            [recipient],
            subject,
            body,
            purpose=f"Statement for {school.name}",
            school_id=school.id,
            kind=SEND_KIND,
            ref_id=row.id,
            requested_by_id=user.id if user else None,
        )
        if queued is None and is_suppressed(db.session):
            row.status, row.error = SendStatus.NOT_SENT, "Not sent: e-mail is off for demo data"
    return row


def message_for(statement: Statement) -> tuple[str, str]:
    school = statement.school
    name = seller().name
    subject = f"Statement of account for {school.name} from {name}"
    lines = [
        f"{name} sends the statement of account for {school.name} (URN {school.urn}) for "
        f"{statement.period_text}. It is attached as a PDF.",
        "",
        f"Opening balance: {pounds(statement.opening_pence)}",
        f"Closing balance on {long_date(statement.end)}: {pounds(statement.closing_pence)}",
    ]
    link = absolute_url("statements.school_statement")
    if link:
        lines += ["", f"See your school's statement: {link}"]
    return subject, "\n".join(lines) + "\n"


@outbox.attaches(SEND_KIND)
def _attach(ref_id: int) -> mail.Attachment | None:
    row = db.session.get(StatementSend, ref_id)
    if row is None:
        return None
    statement = figures.statement_for(row.school, row.period_start, row.period_end)
    return mail.Attachment(f"{figures.file_stem(statement)}.pdf", render(statement))


@outbox.records_results(SEND_KIND)
def _log_try(email: OutgoingEmail, outcome: outbox.Outcome, error: str) -> None:
    row = db.session.get(StatementSend, email.ref_id) if email.ref_id is not None else None
    if row is None:
        return
    if outcome is outbox.Outcome.SENT:
        row.status, row.error = SendStatus.SENT, ""
    else:
        row.status, row.error = SendStatus.NOT_SENT, error
    if outcome is not outbox.Outcome.FAILED:
        row.attempts += 1


def send_to_all_after_commit(start: date, end: date, user: User) -> None:
    """Queue the job that e-mails every school with a balance its statement (once this
    transaction commits)."""
    after_commit(db.session, send_to_all_job, start.isoformat(), end.isoformat(), user.id)


@jobs.job(name="documents.statements_to_all")
def send_to_all_job(start: str, end: str, user_id: int) -> None:
    """One statement e-mail per school with a balance, each logged (the job commits once)."""
    user = db.session.get(User, user_id)
    for school in figures.schools_with_balance():
        send(school, date.fromisoformat(start), date.fromisoformat(end), user)


def sends(school: School | None = None, limit: int = SENDS_LISTED) -> list[StatementSend]:
    """The latest statement e-mails (of one school, or of all), newest first."""
    stmt = (
        select(StatementSend)
        .options(selectinload(StatementSend.school), selectinload(StatementSend.sent_by))
        .order_by(StatementSend.queued_at.desc(), StatementSend.id.desc())
        .limit(limit)
    )
    if school is not None:
        stmt = stmt.where(StatementSend.school_id == school.id)
    return list(db.session.execute(stmt).scalars())
