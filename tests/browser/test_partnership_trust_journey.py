"""Journey (issue 16): a partnership order split three ways across a maintained school and two
academies of one trust, then the trust's finance lead pays both academies' invoices by card and
downloads the trust's statement.

The demo's Myland Community Primary (maintained: an internal recharge) leads a partnership that
two academies of the demo trust join, Frinton-on-Sea and Great Bentley (VAT invoices, each
requiring a PO number), as the council's service manager would have recorded it. Myland's
business manager orders; the academies' business managers give their PO numbers; Myland's
share is over its approval limit, so its headteacher approves it; the council confirms. The
trust's finance lead (trust@example.org) reads the order, pays both invoices through the fake
Stripe (tests/stripe_fake.py, as test_card_payment.py does) and reads the statement's PDF and
CSV. axe-core checks every page."""

from __future__ import annotations

import contextvars
import csv
import io
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_migrate import upgrade
from playwright.sync_api import Browser, expect
from pypdf import PdfReader
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.browser import test_card_payment as card
from tests.browser.conftest import Journey, _demo_hash, _journey
from tests.browser.test_ordering import sign_out
from tests.browser.test_sign_in import sign_in
from tests.conftest import environ_for_tests
from tests.stripe_fake import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from traded_app import create_app
from traded_app.demo import load_demo
from traded_app.extensions import db
from traded_app.models import Partnership, School, Service, User
from traded_app.models.partnership_orders import WhoOrders
from traded_app.services.ordering import partnership_buying

pytestmark = pytest.mark.browser

fake_stripe = card.fake_stripe  # the fake Stripe on loopback, for this module

PARTNERSHIP = "Colne and Coast partnership"
SERVICE_CODE = "PEER"
LEAD, FRINTON, BENTLEY = "sbm3@example.org", "sbm5@example.org", "sbm10@example.org"
NAMES: dict[str, str] = {}  # filled by the server fixture: the service's and schools' names


def _school_of(email: str) -> School:
    user = db.session.execute(select(User).where(User.email == email)).scalar_one()
    assert user.school is not None
    return user.school


def _arrange() -> None:
    """The partnership as the service manager records it: Myland (the lead) with the trust's
    Frinton-on-Sea and Great Bentley academies; who orders: any member's business manager.
    Myland's approval limit is £400, so its £450 share waits for its headteacher."""
    lead, frinton, bentley = (_school_of(e) for e in (LEAD, FRINTON, BENTLEY))
    assert frinton.trust_id is not None and frinton.trust_id == bentley.trust_id
    assert lead.trust_id is None
    partnership = Partnership(name=PARTNERSHIP, quadrant_id=lead.quadrant_id)
    db.session.add(partnership)
    db.session.flush()
    for school in (lead, frinton, bentley):
        school.partnership_id = partnership.id
        school.quadrant_id = lead.quadrant_id
    lead.approval_limit_pence = 40_000
    db.session.flush()
    partnership_buying.set_buying(partnership, lead.id, WhoOrders.BUSINESS_MANAGERS)
    service = db.session.execute(select(Service).where(Service.code == SERVICE_CODE)).scalar_one()
    NAMES.update(service=service.name, lead=lead.name, frinton=frinton.name, bentley=bentley.name)


@pytest.fixture(scope="module")
def trust_server(
    tmp_path_factory: pytest.TempPathFactory, fake_stripe: FakeStripe
) -> Iterator[str]:
    """The demo app with Stripe keys, talking to the fake Stripe, and the partnership above."""
    tmp = tmp_path_factory.mktemp("partnership")
    app = create_app(
        environ_for_tests(
            tmp,
            f"sqlite:///{tmp / 'partnership.db'}",
            STRIPE_SECRET_KEY=SECRET_KEY,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            STRIPE_API_BASE=fake_stripe.checkout_base,
        )
    )

    def prepare() -> None:
        with app.app_context():
            upgrade()
            load_demo(password_hash=_demo_hash())
            _arrange()
            db.session.commit()

    contextvars.Context().run(prepare)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=contextvars.Context().run, args=(server.serve_forever,), daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def trust_journey(browser: Browser, trust_server: str) -> Iterator[Journey]:
    yield from _journey(browser, trust_server)


def _place_the_order(journey: Journey) -> tuple[str, str]:
    """Myland's business manager orders three days for the partnership, split equally."""
    page = journey.page
    sign_in(journey, LEAD)
    page.get_by_role("link", name="Partnership", exact=True).click()
    journey.check()
    page.get_by_role("link", name="Order for the partnership").click()
    journey.check()
    page.get_by_label(NAMES["service"], exact=True).fill("3")
    expect(page.get_by_role("checkbox", name=NAMES["frinton"])).to_be_checked()
    expect(page.get_by_role("checkbox", name=NAMES["bentley"])).to_be_checked()
    page.get_by_label("Equally between the schools").check()
    page.get_by_role("button", name="Check each school's share").click()
    journey.check()
    proposal = page.locator("#proposal")
    expect(proposal.locator("tbody tr")).to_have_count(3)
    expect(proposal.locator("thead")).not_to_contain_text("Pupils")  # an equal split
    expect(proposal.locator("tbody tr", has_text=NAMES["lead"])).to_contain_text(
        "Its headteacher approves it"
    )
    expect(proposal.locator("tbody tr", has_text=NAMES["frinton"])).to_contain_text("£450.00")
    page.get_by_role("button", name="Place the order").click()
    journey.check()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Partnership order PTN-\d+$"))
    expect(page.locator("main")).to_contain_text("Waiting for")
    url, reference = page.url, heading.inner_text().removeprefix("Partnership order ")
    sign_out(journey)
    return url, reference


def _give_po_number(journey: Journey, email: str, order_url: str, po_number: str) -> None:
    page = journey.page
    sign_in(journey, email)
    page.goto(order_url)
    journey.check()
    page.get_by_label("Your school's purchase order number").fill(po_number)
    page.get_by_role("button", name="Save the PO number").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "has your purchase order number"
    )
    sign_out(journey)


def _approve_and_confirm(journey: Journey, order_url: str) -> None:
    page = journey.page
    sign_in(journey, "head3@example.org")
    page.goto(order_url)
    journey.check()
    expect(page.locator(".govuk-inset-text").first).to_contain_text("waits for your approval")
    page.get_by_role("button", name="Approve your school's share").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("approved")
    sign_out(journey)

    sign_in(journey, "admin@example.org")
    page.goto(order_url)
    journey.check()
    page.get_by_role("button", name="Confirm and charge each school").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("3 documents issued")
    shares = page.locator("#shares")
    expect(shares.locator("tr", has_text=NAMES["lead"])).to_contain_text("Internal recharge")
    expect(shares.locator("tr", has_text=NAMES["frinton"])).to_contain_text("VAT invoice INV-")
    sign_out(journey)


def _pay(journey: Journey, reference: str, academy: str, po_number: str) -> str:
    """From the trust's academy page: the partnership order, the academy's invoice for its
    share, paid by card. Returns the invoice's number."""
    page = journey.page
    page.get_by_role("link", name="Academies", exact=True).click()
    page.get_by_role("link", name=academy).click()
    journey.check()
    page.locator("#partnership-orders ~ div").get_by_role("link", name=reference).click()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Partnership order {reference}")
    shares = page.locator("#shares")
    expect(shares.get_by_role("link")).to_have_count(2)  # the trust's two academies' invoices
    invoice = shares.locator("tr", has_text=academy).get_by_role(
        "link", name=re.compile(r"^VAT invoice INV-")
    )
    number = invoice.inner_text().removeprefix("VAT invoice ")
    invoice.click()
    journey.check()
    summary = page.locator("main .govuk-summary-list").first
    expect(summary).to_contain_text(f"Partnership order {reference}")
    expect(summary).to_contain_text(f"Purchase order number {po_number}")
    page.get_by_role("button", name="Pay by card").click()
    journey.check()
    amount = page.locator(".govuk-summary-list__row", has_text="Left to pay").locator("dd")
    page.get_by_role("button", name=f"Continue to pay {amount.inner_text()}").click()
    expect(page).to_have_url(re.compile(r"/pay/done\?session_id=cs_"))
    journey.check()
    expect(page.locator(".govuk-panel__title")).to_have_text("Payment received")
    expect(page.locator(".govuk-panel__body")).to_contain_text(number)
    return number


def test_a_partnership_order_split_three_ways_then_the_trust_pays_its_academies_shares(
    trust_journey: Journey, fake_stripe: FakeStripe
) -> None:
    journey = trust_journey
    page = journey.page
    order_url, reference = _place_the_order(journey)
    _give_po_number(journey, FRINTON, order_url, "PO-FRINTON-77")
    _give_po_number(journey, BENTLEY, order_url, "PO-BENTLEY-12")
    _approve_and_confirm(journey, order_url)

    sign_in(journey, "trust@example.org")
    paid = [
        _pay(journey, reference, NAMES["frinton"], "PO-FRINTON-77"),
        _pay(journey, reference, NAMES["bentley"], "PO-BENTLEY-12"),
    ]
    assert {s["client_reference_id"] for s in fake_stripe.sessions.values()} >= set(paid)

    page.get_by_role("link", name="Academies", exact=True).click()
    page.get_by_role("link", name="The trust’s statement of account").click()
    journey.check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the PDF").click()
    reader = PdfReader(Path(download.value.path()))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    for number in paid:
        assert number in text and f"For {number}" in text
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    for academy, number in zip((NAMES["frinton"], NAMES["bentley"]), paid, strict=True):
        charged = [r for r in rows if r[0] == academy and number in r]
        payments = [r for r in rows if r[0] == academy and f"For {number}" in r]
        assert len(charged) == 1 and len(payments) == 1, rows
        # Paid: the card payment credits exactly what the invoice charged.
        debit = [cell for cell in charged[0][6:7] if cell]
        credit = [cell for cell in payments[0][7:8] if cell]
        assert debit == credit and debit, (charged, payments)
        assert payments[0][3] == "Card payment"
