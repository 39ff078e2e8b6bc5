"""The daily payment reminders: the council's policy applied to every VAT invoice with something
left to pay, once a day from the council's time of day (Europe/London), while it has them on.

The policy (council settings, `kind_due`):
- a **friendly note**, once, when the due date is at most `friendly_note_days` away (0: none);
- once the invoice is overdue, a **reminder**, and another each `reminder_interval_days` after
  the last reminder (whether finance sent it by hand or the schedule did);
- when `reminders_before_final` reminders have gone, the next is the **final notice**, which
  says what happens next in the council's words (`final_notice_text`); after it the schedule
  sends nothing more (finance still may, by hand).

Invoices whose reminders finance paused (one invoice, or one school's) are passed over and
counted in the run's detail. Recharges are never reminded: the council settles them by journal.
Each e-mail goes through reminders.queue_reminder, with the invoice's row locked and the policy
checked again under the lock, so a reminder sent by hand at the same moment is not doubled.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models import CouncilSettings, Document, DocumentType, ScheduledRun
from traded_app.models.finance import Reminder, ReminderKind
from traded_app.services.finance import balances, reminder_pauses, reminders
from traded_app.services.finance.payments import lock_document
from traded_app.services.platform import schedules
from traded_app.services.platform.settings import council_settings

NAME = "payment-reminders"
CHUNK = 500  # ids per IN (…) when reading many invoices' reminders


@dataclass(frozen=True)
class Policy:
    friendly_note_days: int
    interval_days: int
    reminders_before_final: int

    @classmethod
    def of(cls, settings: CouncilSettings | None) -> Policy:
        if settings is None:
            return cls(0, reminders.DEFAULT_INTERVAL_DAYS, 2)
        return cls(
            settings.friendly_note_days,
            settings.reminder_interval_days,
            settings.reminders_before_final,
        )


@dataclass
class History:
    """What an invoice has been sent (reminders that went or may have gone)."""

    friendly_sent: bool = False
    reminders: int = 0  # after the due date, before the final notice
    final_sent: bool = False
    last_after_due: date | None = None  # the day the latest reminder or final notice went

    def add(self, kind: ReminderKind, on: date) -> None:
        if kind == ReminderKind.FRIENDLY:
            self.friendly_sent = True
            return
        if kind == ReminderKind.FINAL:
            self.final_sent = True
        else:
            self.reminders += 1
        if self.last_after_due is None or on > self.last_after_due:
            self.last_after_due = on


def kind_due(due_date: date, on: date, policy: Policy, history: History) -> ReminderKind | None:
    """Which e-mail, if any, the policy sends about an unpaid invoice on `on`."""
    if on <= due_date:  # not overdue yet
        days_left = (due_date - on).days
        if 0 < policy.friendly_note_days and days_left <= policy.friendly_note_days:
            return None if history.friendly_sent else ReminderKind.FRIENDLY
        return None
    if history.final_sent:
        return None
    if (
        history.last_after_due is not None
        and (on - history.last_after_due).days < policy.interval_days
    ):
        return None
    if history.reminders >= policy.reminders_before_final:
        return ReminderKind.FINAL
    return ReminderKind.REMINDER


def _histories(document_ids: list[int]) -> dict[int, History]:
    found: dict[int, History] = {}
    for start in range(0, len(document_ids), CHUNK):
        rows = db.session.execute(
            select(Reminder.document_id, Reminder.kind, Reminder.queued_at).where(
                Reminder.document_id.in_(document_ids[start : start + CHUNK]),
                Reminder.succeeded.is_not(False),
            )
        ).tuples()
        for document_id, kind, queued_at in rows:
            found.setdefault(document_id, History()).add(kind, queued_at.astimezone(LONDON).date())
    return found


def _history_of(document_id: int) -> History:
    return _histories([document_id]).get(document_id, History())


def _unpaid_invoices(on: date, policy: Policy) -> list[tuple[int, int, date]]:
    """(id, school id, due date) of each VAT invoice with something left to pay that is overdue
    or within the friendly note's days of its due date, in id order (the order rows are locked)."""
    horizon = on + timedelta(days=policy.friendly_note_days)
    stmt, cols = balances.with_figures(
        select(Document).where(
            Document.document_type == DocumentType.INVOICE, Document.due_date <= horizon
        ),
        on,
    )
    return list(
        db.session.execute(
            stmt.with_only_columns(Document.id, Document.school_id, Document.due_date)
            .where(cols.balance > 0)
            .order_by(Document.id)
        ).tuples()
    )


@dataclass
class RunSummary:
    queued: Counter[ReminderKind] = field(default_factory=Counter)
    paused: int = 0  # due an e-mail, but finance paused its reminders
    no_contact: list[str] = field(default_factory=list)  # due one, but nobody to send it to

    @property
    def detail(self) -> str:
        """The run's line: "1 friendly note, 3 reminders and 1 final notice queued; 2 paused"."""
        words = {
            ReminderKind.FRIENDLY: ("friendly note", "friendly notes"),
            ReminderKind.REMINDER: ("reminder", "reminders"),
            ReminderKind.FINAL: ("final notice", "final notices"),
        }
        parts = [
            f"{count} {words[kind][0] if count == 1 else words[kind][1]}"
            for kind in ReminderKind
            if (count := self.queued[kind])
        ]
        line = (
            (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])
            + " queued"
            if parts
            else "Nothing due"
        )
        if self.paused:
            line += f"; {self.paused} paused by finance, not sent"
        if self.no_contact:
            line += (
                f"; {len(self.no_contact)} not sent, the school has no billing contact e-mail: "
                + ", ".join(self.no_contact)
            )
        return line


def send_due_reminders(on: date) -> RunSummary:
    """Queue every friendly note, reminder and final notice the council's policy sends on `on`."""
    policy = Policy.of(council_settings())
    summary = RunSummary()
    invoices = _unpaid_invoices(on, policy)
    histories = _histories([document_id for document_id, _school, _due in invoices])
    pauses = reminder_pauses.open_pauses()
    for document_id, school_id, due_date in invoices:
        if kind_due(due_date, on, policy, histories.get(document_id, History())) is None:
            continue
        if pauses.covers(document_id, school_id):
            summary.paused += 1
            continue
        # Under the row lock, all again: a payment, a pause or a reminder by hand may have
        # been committed since the list was read.
        document = lock_document(document_id)
        figures = balances.figures_of(document)
        kind = kind_due(document.due_date, on, policy, _history_of(document_id))
        if kind is None or (figures.balance_pence or 0) <= 0:
            continue
        if reminder_pauses.pause_affecting(document) is not None:
            summary.paused += 1
            continue
        recipient = (document.school.billing_contact_email or "").strip()
        if not recipient:
            summary.no_contact.append(document.number)
            continue
        reminders.queue_reminder(document, figures, kind, recipient, on)
        summary.queued[kind] += 1
    return summary


# --- The schedule ----------------------------------------------------------------------------


def _period(now: datetime) -> str | None:
    settings = council_settings()
    if settings is None or not settings.reminders_on:
        return None
    return schedules.daily_at(now, settings.reminder_send_time)


def _describe() -> str:
    settings = council_settings()
    if settings is None or not settings.reminders_on:
        return "Off: finance sends reminders by hand (the council settings turn this on)"
    policy = Policy.of(settings)
    friendly = (
        f"a friendly note {policy.friendly_note_days} "
        f"{'day' if policy.friendly_note_days == 1 else 'days'} before the due date, "
        if policy.friendly_note_days
        else ""
    )
    return (
        f"Every day from {settings.reminder_send_time:%H:%M} (Europe/London): {friendly}"
        f"once it is overdue a reminder every {policy.interval_days} "
        f"{'day' if policy.interval_days == 1 else 'days'}, and a final notice after "
        f"{policy.reminders_before_final} "
        f"{'reminder' if policy.reminders_before_final == 1 else 'reminders'}"
    )


@schedules.schedule(NAME, "Payment reminders", _period, _describe)
def run_reminders(run: ScheduledRun) -> str:
    """The schedule's work, for the council's day the run started on."""
    return send_due_reminders(run.started_at.astimezone(LONDON).date()).detail
