"""Remittances: a school tells the council what it paid; finance matches it, which records the
payments in one step, once."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.factories import issue_document
from traded_app.extensions import db
from traded_app.models import Payment, Remittance, RemittanceStatus
from traded_app.models.types import Role
from traded_app.services.finance import balances, remittances
from traded_app.services.platform.settings import today


def _invoices(world: Any) -> list[Any]:
    made = [
        issue_document(world, on=today() - timedelta(days=40)),  # £540 each, to the academy
        issue_document(world, on=today() - timedelta(days=10)),
    ]
    db.session.commit()
    return made


def _academy(as_role: Any, world: Any) -> Any:
    return as_role(None).sign_in_as(world.academy_sbm)


def _form(client: Any) -> dict[str, Any]:
    page = client.get("/remittances")
    key = page.soup.find("input", attrs={"name": "form_key"})["value"]
    return {"form_key": key}


def _fields(documents: list[Any], pounds: str, reference: str = "BACS 9001") -> dict[str, Any]:
    day = today() - timedelta(days=1)
    return {
        "documents": [str(d.id) for d in documents],
        "amount": pounds,
        "paid_on": [str(day.day), str(day.month), str(day.year)],
        "reference": reference,
    }


def _payments() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Payment)) or 0)


def test_a_school_sends_a_remittance_and_finance_matches_it_once(world: Any, as_role: Any) -> None:
    first, second = _invoices(world)
    school = _academy(as_role, world)
    data = {**_form(school), **_fields([first, second], "1080.00")}
    data["file"] = (io.BytesIO(b"invoice,amount\n1,540\n2,540\n"), "our remittance.csv")
    response = school.post_form("/remittances", data, content_type="multipart/form-data")
    assert response.status_code == 302
    # The same form submitted again (a double click, a reload) makes no second remittance.
    data["file"] = (io.BytesIO(b"invoice,amount\n1,540\n2,540\n"), "our remittance.csv")
    assert (
        school.post_form("/remittances", data, content_type="multipart/form-data").status_code
        == 302
    )
    remittance = db.session.execute(select(Remittance)).scalar_one()
    assert remittance.amount_pence == 108_000 and remittance.file_type == "csv"
    assert remittance.file_name == "our remittance.csv"
    assert [link.document_id for link in remittance.documents] == sorted([first.id, second.id])
    listed = school.get("/remittances").soup.select_one("#remittances").get_text(" ", strip=True)
    assert "BACS 9001" in listed and "Waiting to be matched" in listed

    finance = as_role(Role.LA_FINANCE)
    page = finance.get("/finance/remittances")
    text = page.soup.select_one("#remittances").get_text(" ", strip=True)
    assert world.academy.name in text and "Waiting to be matched" in text
    assert finance.post_form(f"/finance/remittances/{remittance.id}/match").status_code == 302
    assert _payments() == 2
    for invoice in (first, second):
        assert balances.figures_of(invoice).balance_pence == 0
    db.session.expire_all()
    assert remittance.status == RemittanceStatus.MATCHED
    paid = db.session.execute(select(Payment).order_by(Payment.id)).scalars().all()
    assert {(p.document_id, p.amount_pence, p.reference) for p in paid} == {
        (first.id, 54_000, "BACS 9001"),
        (second.id, 54_000, "BACS 9001"),
    }
    # Matching again records nothing more.
    response = finance.post_form(f"/finance/remittances/{remittance.id}/match")
    assert response.status_code == 302 and _payments() == 2
    page = finance.get("/finance/remittances")
    assert "BACS 9001" in page.soup.select_one("#matched").get_text()


def test_a_remittance_that_does_not_add_up_is_shown_and_not_matched(
    world: Any, as_role: Any
) -> None:
    first, _second = _invoices(world)
    school = _academy(as_role, world)
    school.post_form("/remittances", {**_form(school), **_fields([first], "500.00")})
    remittance = db.session.execute(select(Remittance)).scalar_one()
    finance = as_role(Role.LA_FINANCE)
    text = (
        finance.get("/finance/remittances")
        .soup.select_one("#remittances")
        .get_text(" ", strip=True)
    )
    assert (
        "Does not add up: £40.00 less was paid than is left to pay on its invoices (£540.00)"
        in text
    )
    assert "Match and record" not in text
    response = finance.post_form(f"/finance/remittances/{remittance.id}/match")
    assert response.status_code == 302 and _payments() == 0
    assert (
        "Does not add up"
        in finance.get("/finance/remittances")
        .soup.select_one(".govuk-notification-banner")
        .get_text()
    )


def test_the_remittance_file_is_downloaded_never_shown(world: Any, as_role: Any) -> None:
    first, _second = _invoices(world)
    school = _academy(as_role, world)
    data = {**_form(school), **_fields([first], "540.00")}
    data["file"] = (io.BytesIO(b"%PDF-1.4\n<script>alert(1)</script>"), "../../advice.pdf")
    school.post_form("/remittances", data, content_type="multipart/form-data")
    remittance = db.session.execute(select(Remittance)).scalar_one()
    assert remittance.file_name == "advice.pdf"
    for client in (school, as_role(Role.LA_FINANCE)):
        response = client.get(f"/remittances/{remittance.id}/file")
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"] == "attachment; filename=advice.pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    # Another school's staff cannot fetch it.
    assert (
        as_role(Role.SCHOOL_BUSINESS_MANAGER).get(f"/remittances/{remittance.id}/file").status_code
        == 404
    )


def test_files_that_are_not_pdf_or_csv_or_too_big_are_refused(world: Any, as_role: Any) -> None:
    first, _second = _invoices(world)
    school = _academy(as_role, world)
    for content, name, message in (
        (b"<html><script>alert(1)</script></html>", "advice.pdf", "must be a PDF file"),
        (b"MZ\x00\x01", "advice.exe", "must be a PDF or CSV file"),
        (b"\xff\xfe\x00bad", "advice.csv", "must be a CSV file in UTF-8"),
        (b"%PDF-" + b"0" * (remittances.MAX_FILE_BYTES + 10), "big.pdf", "smaller than 2 MB"),
    ):
        data = {**_form(school), **_fields([first], "540.00")}
        data["csrf_token"] = school.csrf_token()
        data["file"] = FileStorage(io.BytesIO(content), filename=name)
        # Encoded here: the test client would spool a large upload to a file it never closes.
        boundary, body = encode_multipart(data)
        page = school.post(
            "/remittances", data=body, content_type=f"multipart/form-data; boundary={boundary}"
        )
        assert page.status_code == 200, name
        assert message in page.soup.select_one(".govuk-error-summary").get_text(), name
    assert db.session.scalar(select(func.count()).select_from(Remittance)) == 0


def test_a_school_can_only_name_its_own_invoices_left_to_pay(world: Any, as_role: Any) -> None:
    first, _second = _invoices(world)
    other = issue_document(world, school=world.school)  # a recharge of another school
    db.session.commit()
    school = _academy(as_role, world)
    page = school.post_form("/remittances", {**_form(school), **_fields([first, other], "540.00")})
    assert page.status_code == 200
    assert (
        "One of the documents chosen can no longer be chosen"
        in page.soup.select_one(".govuk-error-summary").get_text()
    )
    # A maintained school is recharged: nothing to remit.
    page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/remittances")
    assert "there is nothing to pay and no remittance to send" in page.get_data(as_text=True)
