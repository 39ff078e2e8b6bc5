"""The finance register: filters, search, sort, pages, htmx fragments, totals from SQL, bad
filters with GOV.UK messages (the same queries for 10 documents as for 1,000:
test_finance_query_counts.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import text_of
from tests.factories import issue_document
from traded_app.extensions import db
from traded_app.models import DocumentType, Quadrant
from traded_app.models.types import Role, VatTreatment
from traded_app.services.finance import payments, register
from traded_app.services.finance.balances import DocumentStatus
from traded_app.services.platform.settings import today


def numbers(page: Any) -> list[str]:
    return [r.select_one("a").get_text(strip=True) for r in page.select("main tbody tr")]


@pytest.fixture()
def documents(world: Any) -> dict[str, Any]:
    finance = world.users[Role.LA_FINANCE]
    east = Quadrant(code="EAST", name="East")
    db.session.add(east)
    db.session.flush()
    world.other_school.quadrant_id = east.id
    old = issue_document(
        world, on=today() - timedelta(days=70), po_number="PO-OLD", number="INV-2026-000001"
    )
    paid = issue_document(
        world, lines=[(6, 45_000, VatTreatment.STANDARD, 2000)], number="INV-2026-000002"
    )
    recharge = issue_document(world, school=world.other_school, number="RCH-2026-000001")
    credit = issue_document(
        world,
        document_type=DocumentType.CREDIT_NOTE,
        lines=[(1, 45_000, VatTreatment.STANDARD, 2000)],
        credits=old,
        number="CRN-2026-000001",
    )
    payments.record_bank_transfer(paid, 162_000, today(), "BACS", finance)
    db.session.commit()
    return {"old": old, "paid": paid, "recharge": recharge, "credit": credit, "east": east}


def test_every_document_with_totals(as_role: Any, documents: dict[str, Any]) -> None:
    page = as_role(Role.LA_ADMIN).get("/finance/invoices").soup
    assert page.h1.get_text(strip=True) == "Invoices and credit notes"
    assert sorted(numbers(page)) == sorted(d.number for k, d in documents.items() if k != "east")
    totals = text_of(page, ".app-register-totals")
    # Invoiced: £540 + £1,620 + £450; credit notes £270; paid £1,620; outstanding
    # £540 − £270 + £450.
    assert "Invoiced (invoices and recharges) £2,610.00" in totals
    assert "Credit notes issued £270.00" in totals
    assert "Paid £1,620.00" in totals and "Outstanding £720.00" in totals
    assert "4 documents" in text_of(page, "main h2")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # VAT invoices: £540 (£270 credited) and £1,620 (paid).
        ("type=invoice", ("£2,160.00", "£0.00", "£1,620.00", "£270.00")),
        ("type=credit_note", ("£0.00", "£270.00", "£0.00", "£0.00")),
        ("status=overdue", ("£540.00", "£0.00", "£0.00", "£270.00")),
    ],
)
def test_totals_of_one_type_or_status(
    as_role: Any, documents: dict[str, Any], query: str, expected: tuple[str, ...]
) -> None:
    """Filtered to charges or to credit notes alone, the totals add up the gross without asking
    each document its type: the same figures as the unfiltered totals' rules give."""
    page = as_role(Role.LA_FINANCE).get(f"/finance/invoices?{query}").soup
    values = [dd.get_text(strip=True) for dd in page.select(".app-register-totals dd")]
    assert tuple(values) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=recharge", ["RCH-2026-000001"]),
        ("type=credit_note", ["CRN-2026-000001"]),
        ("status=paid", ["INV-2026-000002"]),
        ("status=overdue", ["INV-2026-000001"]),
        ("q=PO-OLD", ["INV-2026-000001"]),
        ("q=rch-2026", ["RCH-2026-000001"]),
        ("q=100002", ["RCH-2026-000001"]),
        ("q=hilltop", ["RCH-2026-000001"]),
        ("school=100002", ["RCH-2026-000001"]),
        ("min=500&max=600", ["INV-2026-000001"]),
        ("min=1000", ["INV-2026-000002"]),
    ],
)
def test_filters_and_search(
    as_role: Any, documents: dict[str, Any], query: str, expected: list[str]
) -> None:
    page = as_role(Role.LA_FINANCE).get(f"/finance/invoices?{query}").soup
    assert numbers(page) == expected


def test_quadrant_and_dates(as_role: Any, documents: dict[str, Any]) -> None:
    client = as_role(Role.LA_FINANCE)
    page = client.get(f"/finance/invoices?quadrant={documents['east'].id}").soup
    assert numbers(page) == ["RCH-2026-000001"]
    since = (today() - timedelta(days=10)).isoformat()
    page = client.get(f"/finance/invoices?from={since}&type=invoice").soup
    assert numbers(page) == ["INV-2026-000002"]
    before = (today() - timedelta(days=60)).isoformat()
    page = client.get(f"/finance/invoices?to={before}").soup
    assert numbers(page) == ["INV-2026-000001"]
    # The form asks with GOV.UK's three-field date input, as the other forms do, and shows the
    # date in use in it (from a sorting or paging link's ISO date too).
    day = today() - timedelta(days=10)
    typed = f"from-day={day.day}&from-month={day.month}&from-year={day.year}"
    page = client.get(f"/finance/invoices?{typed}&type=invoice").soup
    assert numbers(page) == ["INV-2026-000002"]
    assert [page.select_one(f"#{i}")["value"] for i in ("from", "from-month", "from-year")] == [
        str(day.day),
        str(day.month),
        str(day.year),
    ]
    assert page.select_one("input[type=date]") is None


def test_sorting_and_htmx(as_role: Any, documents: dict[str, Any]) -> None:
    client = as_role(Role.LA_FINANCE)
    page = client.get("/finance/invoices?sort=number&dir=asc").soup
    assert numbers(page) == sorted(numbers(page))
    header = page.select_one("th[aria-sort]")
    assert header is not None and header["aria-sort"] == "ascending"
    page = client.get("/finance/invoices?sort=amount&dir=desc").soup
    assert numbers(page)[0] == "INV-2026-000002"
    response = client.get("/finance/invoices?type=invoice", headers={"HX-Request": "true"})
    assert response.soup.select_one("h1") is None  # just the results
    assert "match the filters" in text_of(response.soup, "#register-status")
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("type=bogus", "Select a type from the list"),
        ("status=lost", "Select a status from the list"),
        ("from=2027-02-30", "Issued from must be a real date"),
        ("from-day=30&from-month=2&from-year=2027", "Issued from must be a real date"),
        ("to-day=1&to-month=3", "Issued to must be a real date"),
        ("to-day=1&to-month=3&to-year=２０２７", "Issued to must be a real date"),
        ("from=2027-03-01&to=2027-02-01", "Issued from must be the same as or before issued to"),
        ("min=10.001", "no more than 2 decimal places"),
        ("min=-4", "Amount from must be £0 or more"),
        ("min=50&max=10", "Amount from must be the same as or less than amount to"),
        ("sort=secret", "Sort by one of the columns offered"),
    ],
)
def test_unknown_or_bad_filters_are_explained(
    as_role: Any, documents: dict[str, Any], query: str, message: str
) -> None:
    page = as_role(Role.LA_FINANCE).get(f"/finance/invoices?{query}").soup
    assert message in text_of(page, ".govuk-error-summary")
    assert page.title.get_text().startswith("Error:")
    assert numbers(page) == []


def test_pages_of_fifty(world: Any, as_role: Any) -> None:
    for _ in range(55):
        issue_document(world)
    db.session.commit()
    client = as_role(Role.LA_FINANCE)
    page = client.get("/finance/invoices").soup
    assert len(numbers(page)) == 50
    next_link = page.select_one(".govuk-pagination__next a")
    assert next_link is not None
    page = client.get(next_link["href"]).soup
    assert len(numbers(page)) == 5


def test_status_filters_and_totals_agree_with_each_document(world: Any) -> None:
    """A status filter works each document's figures out; the unfiltered totals add up from
    the documents, credit notes and payments apart. Both agree with the rows one by one."""
    finance = world.users[Role.LA_FINANCE]
    for i in range(40):
        school = world.academy if i % 3 else world.school
        document = issue_document(world, school=school, on=today() - timedelta(days=3 * i))
        kind = payments.PaymentKind.BANK_TRANSFER
        if document.document_type == DocumentType.RECHARGE:
            kind = payments.PaymentKind.JOURNAL
        if i % 4 == 1:
            payments.record_payment(document, kind, document.gross_pence, today(), "B", finance)
        if i % 4 == 2:
            payments.record_payment(document, kind, 1000, today(), "B", finance)
        credit = None
        if i % 5 == 0 or i % 8 == 1:  # part credited, or a refund due after a payment
            credit = [(1, 2000, VatTreatment.OUTSIDE_SCOPE, 0)]
        elif i % 10 == 3:  # credited in full
            credit = [
                (line.half_days, line.price_per_day_pence, line.vat_treatment, line.vat_rate_bp)
                for line in document.lines
            ]
        if credit:
            issue_document(
                world,
                school=school,
                document_type=DocumentType.CREDIT_NOTE,
                lines=credit,
                credits=document,
            )
    db.session.commit()
    everything = register.register(register.RegisterFilters(), per_page=1_000)
    rows = everything.rows.items
    charges = [r for r in rows if not r.document.is_credit_note]
    assert {r.status for r in charges} == set(DocumentStatus)
    by_status = []
    for status in DocumentStatus:
        chosen = register.register(register.RegisterFilters(status=status), per_page=1_000)
        expected = [r for r in charges if r.status == status]
        assert [r.document.id for r in chosen.rows.items] == [r.document.id for r in expected]
        assert chosen.totals.outstanding_pence == sum(r.figures.balance_pence for r in expected)
        assert chosen.totals.paid_pence == sum(r.figures.paid_pence for r in expected)
        by_status.append(chosen.totals)
    totals = everything.totals
    assert totals.count == len(rows)
    assert totals.count == sum(t.count for t in by_status) + len(rows) - len(charges)
    for name in ("invoiced_pence", "credited_pence", "paid_pence", "outstanding_pence"):
        assert getattr(totals, name) == sum(getattr(t, name) for t in by_status), name
    assert totals.outstanding_pence == sum(r.figures.balance_pence or 0 for r in rows)


def test_lists_that_scan(as_role: Any, documents: dict[str, Any]) -> None:
    """Numbers and dates never break inside; a credit is "−£…" (the minus sign) with "credit"
    in its accessible name; a recharge says it is settled by journal instead of a due date and
    a balance; one document "matches"."""
    client = as_role(Role.LA_FINANCE)
    page = client.get("/finance/invoices?sort=number&dir=asc").soup
    rows = {r.select_one("a").get_text(strip=True): r for r in page.select("main tbody tr")}
    for row in rows.values():
        assert "app-nowrap" in row.select_one("a span")["class"]
        assert "app-nowrap" in row.select("td")[2]["class"]  # the issue date
    credit = rows[documents["credit"].number].select("td")[4]
    assert credit.get_text("", strip=True).startswith("\u2212£")
    assert credit.get_text(" ", strip=True).endswith("credit")
    recharge = rows[documents["recharge"].number].select("td")
    assert recharge[3].get_text(strip=True) == "Settled by journal"
    assert recharge[6].get_text(strip=True) == "Not applicable"
    number = documents["recharge"].number
    response = client.get(f"/finance/invoices?q={number}", headers={"HX-Request": "true"})
    assert text_of(response.soup, "#register-status") == "1 document matches the filters."


def test_a_row_shows_the_buyer_as_written_with_its_figures(world: Any, as_role: Any) -> None:
    """The page's rows are built in one pass, not cell by cell: a buyer's name with markup in
    it is shown as written, and an invoice's row has its link, dates, amounts and status."""
    world.academy.name = 'St Anne & St Agnes <b>"Academy"</b>'
    invoice = issue_document(
        world, school=world.academy, on=today() - timedelta(days=40), po_number="<i>7</i> & 8"
    )
    payments.record_bank_transfer(invoice, 1000, today(), "B", world.users[Role.LA_FINANCE])
    db.session.commit()
    soup = as_role(Role.LA_FINANCE).get(f"/finance/invoices?school={world.academy.urn}").soup
    (row,) = soup.select("main table tbody tr")
    cells = row.select("td")
    assert cells[0].select_one("a")["href"] == f"/documents/{invoice.id}"
    assert cells[0].select_one("a").get_text() == invoice.number
    assert "VAT invoice" in cells[0].get_text()
    assert cells[1].get_text().startswith('St Anne & St Agnes <b>"Academy"</b>')
    assert row.select_one("td b") is None
    assert f"URN {world.academy.urn}" in cells[1].get_text()
    assert "PO <i>7</i> & 8" in cells[1].get_text()
    assert row.select_one("td i") is None
    assert cells[4].get_text() == "£540.00"
    assert cells[5].get_text() == "£10.00"
    assert cells[6].get_text() == "£530.00"
    assert cells[7].get_text() == "Overdue"
