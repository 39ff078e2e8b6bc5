"""Trusts' money (issue 16 parts 2 and 4): council finance's trust list and trust statements,
the ageing of what a trust's academies have open, and remittances from a trust.

A trust sees its own remittances and its academies', never a non-member's documents or another
trust's remittances; schools cannot use the trust's routes; matching a trust's remittance
records a payment on each academy's invoice in one step; a trust statement's ageing agrees with
aged debt and the balances to the penny."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import text_of
from tests.factories import issue_document, make_school, make_user
from traded_app.extensions import db
from traded_app.models import Document, Payment, Remittance, RemittanceStatus, School, Trust
from traded_app.models.payments import PaymentKind
from traded_app.models.types import Role, VatTreatment
from traded_app.services.finance import (
    aged_debt,
    balances,
    payments,
    remittances,
    statements,
    trust_statements,
)
from traded_app.services.platform.settings import today


@pytest.fixture()
def second_academy(world: Any) -> School:
    """Another academy of the world's trust, with its own business manager."""
    school = make_school(100004, "Brook Academy", quadrant=world.quadrant, academy=True)
    school.trust_id = world.trust.id
    make_user("sbm@brook.example", Role.SCHOOL_BUSINESS_MANAGER, school)
    db.session.commit()
    return school


@pytest.fixture()
def outsider(world: Any) -> School:
    """An academy in no trust."""
    school = make_school(100005, "Lone Academy", quadrant=world.quadrant, academy=True)
    db.session.commit()
    return school


@pytest.fixture()
def other_trust(world: Any) -> tuple[Trust, School, Any]:
    """Another trust, its academy and its finance lead."""
    trust = Trust(name="Estuary Schools Trust", companies_house_number="08123456")
    db.session.add(trust)
    db.session.flush()
    school = make_school(100006, "Estuary Academy", quadrant=world.quadrant, academy=True)
    school.trust_id = trust.id
    person = make_user("finance@estuary.example", Role.TRUST_FINANCE, trust_id=trust.id)
    db.session.commit()
    return trust, school, person


def invoice(world: Any, school: School, days_ago: int = 10, half_days: int = 2) -> Document:
    document = issue_document(
        world,
        school=school,
        on=today() - timedelta(days=days_ago),
        lines=[(half_days, 45_000, VatTreatment.STANDARD, 2000)],
    )
    db.session.commit()
    return document


def _payments() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Payment)) or 0)


def _remittance_form(client: Any, documents: list[Document], pounds: str) -> dict[str, Any]:
    page = client.get("/trust/remittances")
    assert page.status_code == 200
    key = page.soup.find("input", attrs={"name": "form_key"})["value"]
    day = today() - timedelta(days=1)
    return {
        "form_key": key,
        "documents": [str(d.id) for d in documents],
        "amount": pounds,
        "paid_on": [str(day.day), str(day.month), str(day.year)],
        "reference": "TRUST BACS 77",
    }


def _submit(payer: Any, user: Any, key: str, documents: list[Document], file: bool = True) -> Any:
    owed = sum(balances.figures_of(d).balance_pence or 0 for d in documents)
    remittance = remittances.submit(
        payer,
        user,
        key,
        owed,
        today(),
        f"REF {key}",
        [d.id for d in documents],
        file=remittances.check_file("advice.csv", b"invoice,amount\n") if file else None,
    )
    db.session.commit()
    return remittance


# --- Council finance's trust list and statement -------------------------------------------------


def test_finance_lists_each_trust_with_its_balance(
    world: Any, as_role: Any, second_academy: School, outsider: School, other_trust: Any
) -> None:
    invoice(world, world.academy, days_ago=45)  # overdue by 15 days: £540
    invoice(world, second_academy, days_ago=5)  # not yet due: £540
    invoice(world, outsider, days_ago=60)  # in no trust
    invoice(world, other_trust[1], days_ago=5, half_days=4)  # £1,080
    for role in (Role.LA_FINANCE, Role.LA_ADMIN):
        page = as_role(role).get("/finance/trusts")
        assert page.status_code == 200
        rows = {
            text_of(row, "td a").split(":")[0].strip(): [
                c.get_text(strip=True) for c in row.select("td")
            ]
            for row in page.soup.select("#trusts tbody tr")
        }
        assert rows[world.trust.name][1:] == ["2", "£540.00", "£1,080.00"]
        assert rows["Estuary Schools Trust"][1:] == ["1", "£0.00", "£1,080.00"]
    by_id = {row.trust_id: row for row in trust_statements.trust_balances()}
    start, end = statements.default_period()
    for trust in (world.trust, other_trust[0]):
        members = db.session.scalars(select(School).where(School.trust_id == trust.id)).all()
        statement = trust_statements.statement_for(trust, list(members), start, end)
        assert by_id[trust.id].balance_pence == statement.closing_pence
        assert by_id[trust.id].overdue_pence == statement.ageing.ages.overdue


def test_finance_sees_a_trust_statement_as_page_pdf_and_csv(
    world: Any, as_role: Any, second_academy: School, outsider: School
) -> None:
    mine = invoice(world, world.academy, days_ago=50)
    theirs = invoice(world, second_academy, days_ago=20)
    lone = invoice(world, outsider, days_ago=20)
    finance = as_role(Role.LA_FINANCE)
    url = f"/council/trusts/{world.trust.id}/statement"
    page = finance.get(url).soup
    assert text_of(page, "#closing") == "£1,080.00"
    members = text_of(page, "#members")
    assert world.academy.name in members and second_academy.name in members
    assert outsider.name not in members
    ageing = text_of(page, "#ageing")
    assert "not yet due £540.00" in ageing
    assert "0 to 30 days overdue £540.00" in ageing
    assert text_of(page, "#open-total") == "£1,080.00"
    pdf = finance.get(f"{url}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    response = finance.get(f"{url}/csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    numbers = {row[4] for row in rows}
    assert mine.number in numbers and theirs.number in numbers and lone.number not in numbers
    assert rows[-1][5] == "Total open" and rows[-1][8] == "1080.00"
    assert as_role(Role.LA_ADMIN).get(url).status_code == 200
    assert finance.get(f"/council/trusts/{world.trust.id + 99}/statement").status_code == 404
    assert finance.get(f"{url}?from=2030-01-01").status_code == 200  # the error summary
    assert finance.get(f"{url}/csv?from=2030-01-01").status_code == 404


def test_trust_ageing_agrees_with_aged_debt_and_the_balances_to_the_penny(
    world: Any, second_academy: School, outsider: School
) -> None:
    finance_user = world.users[Role.LA_FINANCE]
    documents = [
        invoice(world, world.academy, days_ago=5),  # not yet due
        invoice(world, world.academy, days_ago=45, half_days=3),  # 15 days overdue
        invoice(world, second_academy, days_ago=75, half_days=5),  # 45 days
        invoice(world, second_academy, days_ago=105),  # 75 days
        invoice(world, world.academy, days_ago=140, half_days=7),  # 110 days
        invoice(world, outsider, days_ago=140),  # in no trust: in neither
    ]
    payments.record_payment(
        documents[2], PaymentKind.BANK_TRANSFER, 12_345, today(), "PART", finance_user
    )
    payments.record_payment(
        documents[0], PaymentKind.BANK_TRANSFER, 54_000, today(), "WHOLE", finance_user
    )
    db.session.commit()
    trust = world.trust
    members = db.session.scalars(select(School).where(School.trust_id == trust.id)).all()
    statement = trust_statements.statement_for(trust, list(members), statements.EARLIEST, today())
    debt = aged_debt.aged_debt(today())
    member_ids = {s.id for s in members}
    expected = aged_debt.Ages()
    for row in debt.schools:
        if row.school_id in member_ids:
            expected.add(row.ages)
    ageing = statement.ageing
    assert ageing.ages == expected
    assert ageing.ages.d90_plus == 7 * 27_000  # the 110-day invoice, in pence
    assert ageing.ages.current == 0  # paid in full
    assert ageing.ages.d31_60 == 5 * 27_000 - 12_345
    owed = sum(balances.outstanding_for_school(s).balance_pence for s in members)
    assert ageing.total_pence == statement.closing_pence == owed
    assert sum(m.ageing.total_pence for m in statement.members) == ageing.total_pence
    (row,) = [r for r in trust_statements.trust_balances() if r.trust_id == trust.id]
    assert row.balance_pence == statement.closing_pence
    assert row.overdue_pence == ageing.ages.overdue


# --- Remittances from a trust -------------------------------------------------------------------


def test_a_trust_sends_a_remittance_for_two_academies_and_finance_matches_it_once(
    world: Any, as_role: Any, second_academy: School
) -> None:
    first = invoice(world, world.academy, days_ago=40)
    second = invoice(world, second_academy, days_ago=10, half_days=4)
    trust = as_role(Role.TRUST_FINANCE)
    page = trust.get("/trust/remittances").soup
    payable = text_of(page, "form table")
    assert first.number in payable and second_academy.name in payable
    data = _remittance_form(trust, [first, second], "1620.00")
    data["file"] = (io.BytesIO(b"invoice,amount\n"), "trust advice.csv")
    response = trust.post_form("/trust/remittances", data, content_type="multipart/form-data")
    assert response.status_code == 302
    data["file"] = (io.BytesIO(b"invoice,amount\n"), "trust advice.csv")
    trust.post_form("/trust/remittances", data, content_type="multipart/form-data")  # again
    remittance = db.session.execute(select(Remittance)).scalar_one()
    assert remittance.trust_id == world.trust.id and remittance.school_id is None
    assert remittance.amount_pence == 162_000
    assert "Waiting to be matched" in text_of(trust.get("/trust/remittances").soup, "#remittances")
    assert trust.get(f"/remittances/{remittance.id}/file").status_code == 200

    finance = as_role(Role.LA_FINANCE)
    waiting = text_of(finance.get("/finance/remittances").soup, "#remittances")
    assert world.trust.name in waiting and "Match and record 2 payments" in waiting
    assert finance.get(f"/remittances/{remittance.id}/file").status_code == 200
    assert finance.post_form(f"/finance/remittances/{remittance.id}/match").status_code == 302
    paid = db.session.execute(select(Payment).order_by(Payment.id)).scalars().all()
    assert {(p.document_id, p.amount_pence, p.reference) for p in paid} == {
        (first.id, 54_000, "TRUST BACS 77"),
        (second.id, 108_000, "TRUST BACS 77"),
    }
    for document in (first, second):
        assert balances.figures_of(document).balance_pence == 0
    db.session.expire_all()
    assert remittance.status == RemittanceStatus.MATCHED
    finance.post_form(f"/finance/remittances/{remittance.id}/match")
    assert _payments() == 2
    assert world.trust.name in text_of(finance.get("/finance/remittances").soup, "#matched")


def test_a_trust_cannot_cover_a_non_members_invoice(
    world: Any, as_role: Any, outsider: School, other_trust: Any
) -> None:
    own = invoice(world, world.academy)
    lone = invoice(world, outsider)
    foreign = invoice(world, other_trust[1])
    trust = as_role(Role.TRUST_FINANCE)
    page = trust.get("/trust/remittances").soup
    assert lone.number not in page.get_text() and foreign.number not in page.get_text()
    for document in (lone, foreign):
        data = _remittance_form(trust, [own, document], "1080.00")
        response = trust.post_form("/trust/remittances", data)
        assert response.status_code == 200
        assert text_of(response.soup, ".govuk-error-summary")
    assert db.session.scalar(select(func.count()).select_from(Remittance)) == 0
    with pytest.raises(remittances.RemittanceError):
        remittances.submit(
            world.trust, world.users[Role.TRUST_FINANCE], "k", 54_000, today(), "R", [lone.id]
        )


def test_a_trust_sees_its_own_and_its_members_remittances_and_no_other(
    world: Any, as_role: Any, outsider: School, other_trust: Any
) -> None:
    trust_user = world.users[Role.TRUST_FINANCE]
    mine = _submit(world.trust, trust_user, "trust-own", [invoice(world, world.academy)])
    members = _submit(world.academy, world.academy_sbm, "member", [invoice(world, world.academy)])
    lone = _submit(outsider, world.academy_sbm, "lone", [invoice(world, outsider)])
    foreign_trust, foreign_school, foreign_user = other_trust
    foreign = _submit(foreign_trust, foreign_user, "foreign", [invoice(world, foreign_school)])
    trust = as_role(Role.TRUST_FINANCE)
    listed = text_of(trust.get("/trust/remittances").soup, "#remittances")
    assert mine.reference in listed and members.reference in listed
    assert lone.reference not in listed and foreign.reference not in listed
    for seen in (mine, members):
        assert trust.get(f"/remittances/{seen.id}/file").status_code == 200
    for unseen in (lone, foreign):
        assert trust.get(f"/remittances/{unseen.id}/file").status_code == 404
    # The member academy's own staff see their remittance, not the trust's.
    school = as_role(None).sign_in_as(world.academy_sbm)
    assert school.get(f"/remittances/{members.id}/file").status_code == 200
    assert school.get(f"/remittances/{mine.id}/file").status_code == 404
    # The other trust sees its own, none of this trust's.
    other = as_role(None).sign_in_as(foreign_user)
    listed = text_of(other.get("/trust/remittances").soup, "#remittances")
    assert foreign.reference in listed and mine.reference not in listed
    assert members.reference not in listed
    assert other.get(f"/remittances/{mine.id}/file").status_code == 404
    assert other.get(f"/council/trusts/{world.trust.id}/statement").status_code == 403


def test_schools_cannot_use_the_trusts_routes_nor_trusts_finances(
    world: Any, as_role: Any, outsider: School
) -> None:
    lone = invoice(world, outsider)
    school = as_role(None).sign_in_as(world.academy_sbm)
    council_urls = [
        "/finance/trusts",
        f"/council/trusts/{world.trust.id}/statement",
        f"/council/trusts/{world.trust.id}/statement/pdf",
        f"/council/trusts/{world.trust.id}/statement/csv",
    ]
    for url in ["/trust/remittances", "/trust/statement", *council_urls]:
        assert school.get(url).status_code == 403, url
    assert school.post_form("/trust/remittances", {}).status_code == 403
    trust = as_role(Role.TRUST_FINANCE)
    for url in council_urls:
        assert trust.get(url).status_code == 403, url
    assert trust.get(f"/documents/{lone.id}").status_code == 404
    statement = trust.get("/trust/statement/csv").get_data(as_text=True)
    assert lone.number not in statement and outsider.name not in statement


def test_a_remittance_has_exactly_one_payer(world: Any) -> None:
    for school_id, trust_id in ((world.academy.id, world.trust.id), (None, None)):
        db.session.add(
            Remittance(
                school_id=school_id,
                trust_id=trust_id,
                form_key=f"k{school_id}",
                amount_pence=100,
                paid_on=today(),
                reference="R",
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
