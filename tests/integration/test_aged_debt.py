"""Aged debt by school and age with a chart that needs no script or inline style, and reminders
that go at most once in the council's interval, logged on the invoice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import issue_document
from traded_app.extensions import db
from traded_app.models import DocumentType, Reminder
from traded_app.models.types import Role, VatTreatment
from traded_app.services.finance import aged_debt, payments, reminders
from traded_app.services.platform.settings import today


def _invoice(world: Any, days_overdue: int, school: Any = None) -> Any:
    # Due 30 days after issue: issued (30 + days overdue) days ago.
    return issue_document(world, school=school, on=today() - timedelta(days=30 + days_overdue))


def test_buckets_by_school(world: Any, as_role: Any) -> None:
    world.other_school.billing_route = world.academy.billing_route
    _invoice(world, -5)  # not yet due: £540
    _invoice(world, 1)  # 0 to 30
    _invoice(world, 30)  # 0 to 30
    _invoice(world, 31)  # 31 to 60
    part = _invoice(world, 75)  # 61 to 90, £40 paid
    payments.record_bank_transfer(part, 4000, today(), "B", world.users[Role.LA_FINANCE])
    _invoice(world, 200, school=world.other_school)  # over 90
    issue_document(world, school=world.school, on=today() - timedelta(days=200))  # a recharge
    db.session.commit()
    debt = aged_debt.aged_debt()
    totals = debt.totals
    assert (totals.current, totals.d0_30, totals.d31_60, totals.d61_90, totals.d90_plus) == (
        54_000,
        108_000,
        54_000,
        50_000,
        54_000,
    )
    assert debt.recharges_awaiting == 1
    # The oldest debt first (Hilltop's £540 is over 90 days overdue), as the caption says; the
    # sort control lists the most overdue in pounds first instead.
    assert [s.name for s in debt.schools] == ["Hilltop Infant School", "Meadow Academy"]
    by_amount = aged_debt.aged_debt(sort="amount")
    assert [s.name for s in by_amount.schools] == ["Meadow Academy", "Hilltop Infant School"]
    page = as_role(Role.LA_ADMIN).get("/finance/aged-debt")
    soup = page.soup
    assert "oldest debt first" in text_of(soup, "caption")
    assert soup.select_one("#sort option[selected]")["value"] == "oldest"
    names = [a.get_text(strip=True) for a in soup.select("tbody th[scope=row] a")]
    assert names.index("Hilltop Infant School") < names.index("Meadow Academy")
    sorted_page = as_role(Role.LA_ADMIN).get("/finance/aged-debt?sort=amount").soup
    names = [a.get_text(strip=True) for a in sorted_page.select("tbody th[scope=row] a")]
    assert names.index("Meadow Academy") < names.index("Hilltop Infant School")
    assert "most overdue in pounds first" in text_of(sorted_page, "caption")
    assert "£3,200.00" in text_of(soup, "tfoot")
    assert "not debt: 1 recharge is waiting" in text_of(soup, "main")
    chart = soup.select_one("svg.app-aged-chart")
    assert chart is not None and chart["aria-hidden"] == "true"
    assert not soup.select("[style]")  # the CSP allows no inline style
    assert soup.select_one("form[action='/finance/reminders']") is None  # admins only read


def test_school_rows_show_names_as_written_and_link_to_their_invoices(
    world: Any, as_role: Any
) -> None:
    """The table of schools is built in one pass, not cell by cell: a name with markup in it is
    shown as written, and each row links to the school's invoices with its figures."""
    world.academy.name = 'St Anne & St Agnes <b>"Academy"</b>'
    _invoice(world, -5)  # not yet due: £540
    _invoice(world, 100)  # over 90 days: £540
    db.session.commit()
    soup = as_role(Role.LA_FINANCE).get("/finance/aged-debt").soup
    (row,) = soup.select("main table tbody tr:has(th[scope=row])")
    link = row.select_one("th a")
    assert link.get_text() == 'St Anne & St Agnes <b>"Academy"</b>'
    assert row.select_one("th b") is None
    assert link["href"] == f"/finance/invoices?school={world.academy.urn}&type=invoice"
    assert f"URN {world.academy.urn}" in row.select_one("th span").get_text()
    assert "2 invoices" in row.select_one("th span").get_text()
    cells = [td.get_text() for td in row.select("td")]
    assert cells == ["£540.00", "£0.00", "£0.00", "£0.00", "£540.00", "£1,080.00"]


def test_reminders_go_once_in_the_interval(app: Flask, world: Any, as_role: Any) -> None:
    world.academy.billing_contact_email = "bursar@meadow.example"
    world.council.reminder_interval_days = 7
    overdue = _invoice(world, 40)
    not_due = _invoice(world, -3)
    db.session.commit()
    client = as_role(Role.LA_FINANCE)
    page = client.get("/finance/aged-debt").soup
    assert "at most once every 7 days" in text_of(page, "main")
    boxes = [b["value"] for b in page.select("input[name=documents]")]
    assert boxes == [str(overdue.id)]
    page = client.post_form("/finance/reminders", {"documents": []}).soup
    assert "Select at least one overdue invoice" in text_of(page, ".govuk-error-summary")
    response = client.post_form("/finance/reminders", {"documents": [str(overdue.id)]})
    assert response.status_code == 302
    reminder = db.session.execute(select(Reminder)).scalar_one()
    assert (reminder.succeeded, reminder.recipient, reminder.days_overdue) == (
        True,
        "bursar@meadow.example",
        40,
    )
    outbox = sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))
    message = outbox[-1].read_bytes().decode()
    assert f"Reminder: invoice {overdue.number} is overdue" in message
    assert "40 days overdue" in message
    # Again at once: refused with the date the next may go, nothing sent.
    response = client.post_form("/finance/reminders", {"documents": [str(overdue.id)]})
    page = client.get(response.location).soup
    assert f"No reminder for {overdue.number}: a reminder went on" in text_of(
        page, ".govuk-notification-banner"
    )
    outcome = reminders.send_reminders([overdue.id, not_due.id], world.users[Role.LA_FINANCE])
    db.session.rollback()
    assert outcome.queued == []
    assert outcome.skipped[0][1].startswith("a reminder went on")
    assert outcome.skipped[1] == (not_due.number, "it is not overdue")
    page = client.get(f"/documents/{overdue.id}").soup
    assert "to bursar@meadow.example by Finance" in text_of(page, "main")
    assert len(db.session.execute(select(Reminder)).scalars().all()) == 1


def _fill(world: Any, count: int) -> None:
    """`count` charges of every age, some part paid, credited or reminded."""
    finance = world.users[Role.LA_FINANCE]
    for i in range(count):
        school = world.academy if i % 3 else world.school  # invoices and recharges
        issued = today() - timedelta(days=(17 * i) % 150)  # due dates from 120 days ago on
        document = issue_document(world, school=school, on=issued)
        if i % 4 == 0:
            kind = payments.PaymentKind.BANK_TRANSFER
            if school is world.school:
                kind = payments.PaymentKind.JOURNAL
            payments.record_payment(document, kind, 100, today(), "B", finance)
        if i % 5 == 0:
            issue_document(
                world,
                school=school,
                document_type=DocumentType.CREDIT_NOTE,
                lines=[(1, 1000, VatTreatment.OUTSIDE_SCOPE, 0)],
                credits=document,
            )
        if i % 7 == 0 and school is world.academy:
            db.session.add(
                Reminder(
                    document_id=document.id,
                    recipient="bursar@meadow.example",
                    balance_pence=document.gross_pence,
                    days_overdue=1,
                    succeeded=True,
                )
            )
    db.session.commit()


def test_overdue_invoices_in_pages_and_reminded_from_any(world: Any, as_role: Any) -> None:
    world.academy.billing_contact_email = "bursar@meadow.example"
    invoices = [_invoice(world, 100 - i) for i in range(aged_debt.OVERDUE_PER_PAGE + 5)]
    _invoice(world, -3)  # not yet due: not listed
    db.session.commit()
    client = as_role(Role.LA_FINANCE)
    page = client.get("/finance/aged-debt").soup
    boxes = [int(b["value"]) for b in page.select("input[name=documents]")]
    assert boxes == [d.id for d in invoices[: aged_debt.OVERDUE_PER_PAGE]]  # longest overdue first
    next_link = page.select_one(".govuk-pagination__next a")
    assert next_link["href"].endswith("page=2#overdue-invoices")
    page = client.get(next_link["href"]).soup
    boxes = [int(b["value"]) for b in page.select("input[name=documents]")]
    assert boxes == [d.id for d in invoices[aged_debt.OVERDUE_PER_PAGE :]]
    # An invoice on the second page can be reminded like one on the first.
    last = invoices[-1]
    response = client.post_form("/finance/reminders", {"documents": [str(last.id)]})
    assert response.status_code == 302
    reminder = db.session.execute(select(Reminder)).scalar_one()
    assert reminder.document_id == last.id
