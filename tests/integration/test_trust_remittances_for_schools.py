"""An academy sees the remittances its trust sent for its invoices (issue 16 part 4): on its
remittances page, each trust remittance that covers any of its invoices, with the date, the
trust's reference, only its own invoices and the amount against each, and the state. Never the
other academies' invoices or amounts, the remittance's whole amount, its note or its file; a
school whose invoices it does not cover never sees it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import text_of
from tests.factories import make_school, make_user
from tests.integration.test_trust_money import invoice, second_academy  # noqa: F401
from traded_app.extensions import db
from traded_app.models import Document, Remittance, School, Trust, User
from traded_app.models.payments import PaymentKind
from traded_app.models.types import Role
from traded_app.services.finance import balances, payments, remittances
from traded_app.services.platform.settings import today

SECTION = "#trust-remittances"
# invoice(world, school): 2 half-days at £450 a day with VAT, £540; half_days=4, £1,080.


@pytest.fixture()
def both_invoices(world: Any, second_academy: School) -> tuple[Document, Document]:  # noqa: F811
    """An invoice of Meadow Academy (£540) and one of Brook Academy, the trust's other (£1,080)."""
    return invoice(world, world.academy), invoice(world, second_academy, half_days=4)


@pytest.fixture()
def academy_head(world: Any) -> User:
    """The headteacher of the world's trust academy (Meadow Academy)."""
    person = make_user("head@academy.example", Role.HEADTEACHER, world.academy)
    db.session.commit()
    return person


def _left(document: Document) -> int:
    return balances.figures_of(document).balance_pence or 0


def _trust_pays(world: Any, documents: list[Document], extra_pence: int = 0) -> Remittance:
    remittance = remittances.submit(
        world.trust,
        world.users[Role.TRUST_FINANCE],
        "trust-key",
        sum(_left(d) for d in documents) + extra_pence,
        today() - timedelta(days=1),
        "MEADOW TRUST BACS 4471",
        [d.id for d in documents],
        note="Brook's share is for the summer term",
        file=remittances.check_file("trust advice.csv", b"invoice,amount\n"),
    )
    db.session.commit()
    return remittance


def _seen_by(as_role: Any, user: User) -> str:
    page = as_role(None).sign_in_as(user).get("/remittances")
    assert page.status_code == 200
    return text_of(page.soup, SECTION)


def _pounds(text: str) -> list[str]:
    return re.findall(r"£[\d,]+\.\d\d", text)


def test_each_academy_sees_only_its_own_part_of_a_trust_remittance(
    world: Any,
    as_role: Any,
    both_invoices: tuple[Document, Document],
    academy_head: User,
) -> None:
    meadow_invoice, brook_invoice = both_invoices  # £540 and £1,080
    remittance = _trust_pays(world, [meadow_invoice, brook_invoice])  # £1,620 in all
    brook_sbm = db.session.query(User).filter_by(email="sbm@brook.example").one()

    for user in (world.academy_sbm, academy_head):
        seen = _seen_by(as_role, user)
        assert remittance.reference in seen and world.trust.name in seen
        assert (today() - timedelta(days=1)).strftime("%-d %B %Y") in seen
        assert meadow_invoice.number in seen and "Waiting to be matched" in seen
        assert _pounds(seen) == ["£540.00", "£540.00"]  # against its invoice, and its total
        assert brook_invoice.number not in seen and "Brook Academy" not in seen
        assert "£1,620.00" not in seen and "£1,080.00" not in seen
        assert "summer term" not in seen and "trust advice.csv" not in seen

    seen = _seen_by(as_role, brook_sbm)
    assert brook_invoice.number in seen and _pounds(seen) == ["£1,080.00", "£1,080.00"]
    assert meadow_invoice.number not in seen and world.academy.name not in seen
    # The academy's own list of what it sent does not take the trust's for its own.
    page = as_role(None).sign_in_as(world.academy_sbm).get("/remittances").soup
    assert remittance.reference not in text_of(page, "#remittances")


def test_an_academy_sees_a_trust_remittance_matched_with_what_was_recorded_on_its_invoice(
    world: Any,
    as_role: Any,
    both_invoices: tuple[Document, Document],
) -> None:
    meadow_invoice, brook_invoice = both_invoices  # £540 and £1,080
    remittance = _trust_pays(world, [meadow_invoice, brook_invoice])
    finance = as_role(Role.LA_FINANCE)
    assert finance.post_form(f"/finance/remittances/{remittance.id}/match").status_code == 302

    seen = _seen_by(as_role, world.academy_sbm)
    assert "Matched" in seen and "Waiting" not in seen
    assert f"{meadow_invoice.number} (£540.00 paid)" in seen
    assert "£1,080.00" not in seen and "£1,620.00" not in seen


def test_a_trust_remittance_that_does_not_add_up_says_why_without_the_others_amounts(
    world: Any,
    as_role: Any,
    both_invoices: tuple[Document, Document],
) -> None:
    meadow_invoice, brook_invoice = both_invoices  # £540 and £1,080
    _trust_pays(world, [meadow_invoice, brook_invoice], extra_pence=-10_000)  # £100 short

    seen = _seen_by(as_role, world.academy_sbm)
    assert "Does not add up" in seen and "Waiting to be matched" not in seen
    assert "invoice by invoice" in seen
    assert _pounds(seen) == ["£540.00", "£540.00"]  # no total, no difference, no other invoice

    # Meanwhile the academy pays its own invoice: the reason names it.
    payments.record_payment(
        meadow_invoice, PaymentKind.BANK_TRANSFER, 54_000, today(), "OWN", world.academy_sbm
    )
    db.session.commit()
    seen = _seen_by(as_role, world.academy_sbm)
    assert f"{meadow_invoice.number} has nothing left to pay" in seen


def test_another_academys_paid_invoice_is_not_named_to_this_one(
    world: Any,
    as_role: Any,
    both_invoices: tuple[Document, Document],
) -> None:
    meadow_invoice, brook_invoice = both_invoices  # £540 and £1,080
    _trust_pays(world, [meadow_invoice, brook_invoice])
    payments.record_payment(
        brook_invoice, PaymentKind.BANK_TRANSFER, 108_000, today(), "BROOK", world.academy_sbm
    )
    db.session.commit()

    seen = _seen_by(as_role, world.academy_sbm)
    assert "Does not add up" in seen
    assert brook_invoice.number not in seen and "£1,080.00" not in seen


def test_schools_whose_invoices_it_does_not_cover_never_see_it(
    world: Any,
    as_role: Any,
    second_academy: School,  # noqa: F811
) -> None:
    brook_invoice = invoice(world, second_academy, half_days=4)
    invoice(world, world.academy)
    remittance = _trust_pays(world, [brook_invoice])
    other_trust = Trust(name="Estuary Schools Trust", companies_house_number="08123456")
    db.session.add(other_trust)
    db.session.flush()
    estuary = make_school(100006, "Estuary Academy", quadrant=world.quadrant, academy=True)
    estuary.trust_id = other_trust.id
    estuary_sbm = make_user("sbm@estuary.example", Role.SCHOOL_BUSINESS_MANAGER, estuary)
    db.session.commit()

    # Academies whose invoices it does not cover (of this trust, or of another): their trust
    # section, but not this remittance.
    for user in (world.academy_sbm, estuary_sbm):
        client = as_role(None).sign_in_as(user)
        page = client.get("/remittances").soup
        assert "Your trust has not sent a remittance" in text_of(page, "main")
        assert remittance.reference not in text_of(page, "main")
        assert client.get(f"/remittances/{remittance.id}/file").status_code == 404
    # A maintained school's staff (no trust): no trust section at all.
    for role in (Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER):
        client = as_role(role)
        page = client.get("/remittances").soup
        assert page.select_one(SECTION) is None
        assert "Remittances from your trust" not in text_of(page, "main")
        assert remittance.reference not in text_of(page, "main")
        assert client.get(f"/remittances/{remittance.id}/file").status_code == 404


def test_who_reaches_the_academys_view_of_trust_remittances(
    world: Any, as_role: Any, academy_head: User
) -> None:
    remittance = _trust_pays(world, [invoice(world, world.academy)])
    for user in (world.academy_sbm, academy_head):
        client = as_role(None).sign_in_as(user)
        assert remittance.reference in text_of(client.get("/remittances").soup, SECTION)
        # The trust's own file stays the trust's (and the council's).
        assert client.get(f"/remittances/{remittance.id}/file").status_code == 404
    for role in (Role.LA_FINANCE, Role.LA_ADMIN, Role.ADVISER, Role.TRUST_FINANCE):
        assert as_role(role).get("/remittances").status_code == 403
    # The trust and finance keep seeing the whole remittance where they did.
    assert "£540.00" in text_of(
        as_role(Role.TRUST_FINANCE).get("/trust/remittances").soup, "#remittances"
    )
    assert remittance.reference in text_of(
        as_role(Role.LA_FINANCE).get("/finance/remittances").soup, "#remittances"
    )


def test_the_service_gives_an_academy_only_its_lines(
    world: Any,
    both_invoices: tuple[Document, Document],
) -> None:
    meadow_invoice, brook_invoice = both_invoices  # £540 and £1,080
    _trust_pays(world, [meadow_invoice, brook_invoice])
    (seen,) = remittances.from_trust_for_school(world.academy)
    assert [(d.id, pence) for d, pence in seen.lines] == [(meadow_invoice.id, 54_000)]
    assert seen.total_pence == 54_000 and seen.adds_up and seen.reason == ""
    assert remittances.from_trust_for_school(world.school) == []
