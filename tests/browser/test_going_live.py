"""Journey: a council goes live from an empty database in production mode, with no demo data at
any point. `create-service-manager` invites the first account; the service manager accepts,
completes every task of "Set up the service" in the browser (a logo, a catalogue CSV and a GIAS
extract uploaded on the way), invites an academy's business manager and headteacher; the
business manager orders, the headteacher approves, the council confirms, and the VAT invoice is
numbered from the first number the council chose. axe-core checks every page."""

from __future__ import annotations

import contextvars
import logging
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.browser.conftest import Journey, _journey
from tests.browser.test_ordering import sign_out
from tests.browser.test_sign_in import sign_in
from tests.conftest import (
    database_url_for_tests,
    environ_for_tests,
    owner_engine,
    owner_url_for_tests,
    reset_schema,
)
from tests.factories import gias_csv, gias_row
from tests.setup_helpers import CATALOGUE_HEADER, png_bytes
from traded_app import create_app
from traded_app.extensions import db
from traded_app.models import CouncilSettings, OutgoingEmail
from traded_app.services.documents.numbering import financial_year_of
from traded_app.services.platform import jobs
from traded_app.services.platform.settings import today

pytestmark = pytest.mark.browser

PASSWORD = "a password for going live"
SECRET = "going-live-secret-key-of-at-least-32-characters"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture()
def production_app(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The app in production mode on an empty, migrated database of its own, served."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # On PostgreSQL (TRADED_TEST_DB=postgres) the test database, emptied; else a new SQLite file.
    owner = owner_url_for_tests()
    environ = environ_for_tests(tmp_path, database_url_for_tests(tmp_path))
    environ.update(APP_ENV="production", SECRET_KEY=SECRET, APP_BASE_URL=base)
    if owner:
        environ["DATABASE_OWNER_URL"] = owner
    # The queue is one per process: this production app points it at a file with no worker.
    # The other journeys' server runs its jobs at once, so its queue is put back afterwards.
    queue_before = (jobs.huey.storage, jobs.huey._immediate)
    app = create_app(environ)

    def migrate() -> None:
        reset_schema(app)

    contextvars.Context().run(migrate)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(
        target=contextvars.Context().run, args=(server.serve_forever,), daemon=True
    )
    thread.start()
    yield app, base
    server.shutdown()

    def dispose() -> None:
        with app.app_context():
            db.engine.dispose()
            if owner:
                owner_engine().dispose()

    contextvars.Context().run(dispose)
    jobs.huey.storage, jobs.huey._immediate = queue_before


@pytest.fixture()
def live_journey(browser: Browser, production_app: tuple[Flask, str]) -> Iterator[Journey]:
    yield from _journey(browser, production_app[1])


def _in_app(app: Flask, work: Any) -> Any:
    def run() -> Any:
        with app.app_context():
            try:
                return work()
            finally:
                db.session.remove()

    return contextvars.Context().run(run)


def _invitation_link(app: Flask, email: str) -> str:
    def find() -> str:
        body = (
            db.session.execute(
                select(OutgoingEmail.body)
                .where(
                    OutgoingEmail.recipients == email,
                    OutgoingEmail.subject.startswith("You have been invited"),
                )
                .order_by(OutgoingEmail.id.desc())
            )
            .scalars()
            .first()
        )
        assert body is not None, f"no e-mail to {email}"
        return re.search(r"http://\S+", body).group(0)  # type: ignore[union-attr]

    return str(_in_app(app, find))


def _accept(journey: Journey, link: str, email: str) -> None:
    page = journey.page
    journey.goto(link.removeprefix(journey.base_url))
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm the new password").fill(PASSWORD)
    page.get_by_role("button", name="Save the password").click()
    journey.check()
    sign_in(journey, email, PASSWORD)


def _task(journey: Journey, name: str) -> None:
    journey.goto("/council/manage/set-up")
    journey.page.locator("#setup-tasks").get_by_role("link", name=name, exact=True).click()
    journey.check()


def _completed(journey: Journey) -> None:
    page = journey.page
    page.get_by_label("Yes, I've completed this section").check()
    page.get_by_role("button", name="Continue").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("completed")


def _status(journey: Journey, key: str) -> Any:
    return journey.page.locator(f"#{key}-status")


def test_a_council_goes_live_from_an_empty_database(
    live_journey: Journey, production_app: tuple[Flask, str], tmp_path: Path
) -> None:
    app, _base = production_app
    journey, page = live_journey, live_journey.page
    result = app.test_cli_runner().invoke(
        args=["create-service-manager", "sam@thurrock.example", "Sam Manager"]
    )
    assert result.exit_code == 0, result.output
    link = next(line for line in result.output.splitlines() if line.startswith("http"))
    assert _in_app(app, lambda: db.session.get(CouncilSettings, 1).demo_data) is False
    _accept(journey, link, "sam@thurrock.example")

    page.get_by_role("link", name="Manage", exact=True).click()
    journey.check()
    page.get_by_role("link", name="Set up the service").click()
    journey.check()
    expect(_status(journey, "partnerships")).to_have_text("Cannot start yet")
    expect(page.locator("#invite-waiting")).to_contain_text("Council details")

    # Council details, with a logo.
    _task(journey, "Council details")
    logo = tmp_path / "logo.png"
    logo.write_bytes(png_bytes(120, 40))
    page.get_by_label("Legal name of the council").fill("Thurrock Council")
    page.get_by_label("Address").fill("Civic Offices\nNew Road\nGrays")
    page.get_by_label("Postcode").fill("RM17 6SL")
    page.get_by_label("VAT registration number").fill("GB 123 4567 89")
    page.get_by_label("Bank name").fill("Lloyds")
    page.get_by_label("Account name").fill("Thurrock Council")
    page.get_by_label("Sort code").fill("30-00-00")
    page.get_by_label("Account number").fill("12345678")
    page.get_by_label("Remittance advice email (optional)").fill("remit@thurrock.example")
    page.get_by_label("Contact email").fill("traded@thurrock.example")
    page.get_by_label("Logo (optional)").set_input_files(str(logo))
    page.get_by_role("button", name="Save and continue").click()
    journey.check()
    expect(_status(journey, "details")).to_have_text("Completed")

    _task(journey, "Local authority code and financial year")
    page.get_by_label("Local authority code").fill("881")
    page.get_by_label("Financial year starts in").select_option(label="April")
    page.get_by_role("button", name="Save and continue").click()
    journey.check()

    _task(journey, "Academic years")
    page.get_by_role("button", name="Set up this academic year and the two ahead").click()
    journey.check()
    _completed(journey)

    # A quadrant team with its district and capacity.
    _task(journey, "Quadrant teams")
    page.get_by_label("Team name").fill("Grays and Tilbury")
    page.get_by_label("Short code").fill("GT")
    page.get_by_role("button", name="Add the team").click()
    journey.check()
    page.get_by_label("Districts").fill("Thurrock")
    year = today().year if today().month >= 9 else today().year - 1
    page.get_by_label(f"Traded capacity in {year}/{str(year + 1)[-2:]} (days)").fill("100")
    page.get_by_role("button", name="Save the team").click()
    journey.check()
    _task(journey, "Quadrant teams")
    _completed(journey)

    _task(journey, "Partnerships")
    _completed(journey)

    # The catalogue from a CSV file, previewed first.
    _task(journey, "Catalogue and prices")
    page.get_by_role("link", name="Import services and prices from a CSV file").click()
    journey.check()
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(
        CATALOGUE_HEADER
        + "\nGOVREV,Governance review,A review of the board,governance,2,1,4,T1001,450,"
        "outside scope,standard 20,standard 20\n",
        encoding="utf-8",
    )
    page.get_by_label("Upload a CSV file").set_input_files(str(catalogue))
    page.get_by_role("button", name="Upload and preview").click()
    journey.check()
    expect(page.locator("#preview-summary")).to_contain_text("1 new, 0 changed")
    page.get_by_role("button", name="Import the catalogue").click()
    journey.check()
    expect(page.locator("#setup-services")).to_contain_text("£450.00")
    _completed(journey)

    # Schools from a GIAS extract: one academy in the team's district.
    _task(journey, "Schools")
    page.get_by_role("link", name="Import schools from GIAS").click()
    journey.check()
    extract = tmp_path / "edubasealldata.csv"
    extract.write_bytes(
        gias_csv(
            [
                gias_row(
                    137001,
                    "Gateway Academy",
                    **{
                        "TypeOfEstablishment (name)": "Academy converter",
                        "EstablishmentTypeGroup (name)": "Academies",
                        "DistrictAdministrative (name)": "Thurrock",
                        "Town": "Tilbury",
                        "Postcode": "RM18 8LH",
                    },
                )
            ]
        )
    )
    page.get_by_label("Upload a GIAS CSV file").set_input_files(str(extract))
    page.get_by_role("button", name="Upload and preview").click()
    journey.check()
    page.get_by_role("button", name="Import these changes").click()
    journey.check()
    _task(journey, "Schools")
    _completed(journey)

    # Orders over £500 need the headteacher's approval (council settings, linked from the task).
    _task(journey, "Approval and reminder settings")
    page.get_by_role("link", name="council settings").click()
    journey.check()
    page.get_by_label("Default approval limit").fill("500")
    page.get_by_role("button", name="Save the settings").click()
    journey.check()
    _task(journey, "Approval and reminder settings")
    _completed(journey)

    # The council continues its old invoice numbers at 5000.
    _task(journey, "Document numbering")
    page.get_by_label("VAT invoices: next number").fill("5000")
    page.get_by_role("button", name="Save and continue").click()
    journey.check()

    _task(journey, "Payment options")
    _completed(journey)
    expect(page.locator("#progress")).to_have_text("You have completed 10 of 10 tasks.")
    expect(page.locator("#invite-ready")).to_be_visible()

    # Invite the academy's business manager and headteacher.
    for name, email, role in (
        ("Bea Manager", "bea@gateway.example", "School business manager"),
        ("Hal Head", "hal@gateway.example", "Headteacher"),
    ):
        journey.goto("/council/manage/users/new")
        page.get_by_label("Full name").fill(name)
        page.get_by_label("Email address").fill(email)
        page.get_by_label(role, exact=True).check()
        page.get_by_label("School URN").fill("137001")
        page.get_by_role("button", name="Send the invitation").click()
        journey.check()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Invitation sent")
    sign_out(journey)

    # The business manager orders 2 days (£900, over the limit).
    _accept(journey, _invitation_link(app, "bea@gateway.example"), "bea@gateway.example")
    # The first sign-in of the year: the business manager checks the school's billing details.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your school’s details")
    page.get_by_role("link", name="Change billing e-mail").click()
    journey.check()
    page.get_by_label("Billing address", exact=True).fill("Gateway Academy\nBasildon\nSS14 1AA")
    page.get_by_label("Billing e-mail", exact=True).fill("finance@gateway.example")
    page.get_by_role("button", name="Save").click()
    journey.check()
    page.get_by_role("button", name="These details are right").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("confirmed")
    page.get_by_role("button", name="Go to the catalogue").click()
    journey.check()
    page.get_by_label("Days of Governance review").fill("2")
    page.get_by_label("Days of Governance review").press("Tab")
    expect(page.locator("#summary-total")).to_contain_text("£1,080.00")
    journey.check()
    page.get_by_role("button", name="Continue to check your order").click()
    journey.check()
    page.get_by_role("button", name="Continue").click()  # the order's details: none needed
    journey.check()
    page.get_by_role("button", name="Send to your headteacher for approval").click()
    journey.check()
    panel = page.locator(".govuk-panel")
    expect(panel).to_contain_text("Order sent to your headteacher")
    expect(page.locator("#what-happens-next")).to_contain_text("your headteacher approves it")
    reference = re.search(r"ORD-\d+", panel.inner_text()).group(0)  # type: ignore[union-attr]
    sign_out(journey)

    # The headteacher approves it.
    _accept(journey, _invitation_link(app, "hal@gateway.example"), "hal@gateway.example")
    page.get_by_role("link", name="Orders", exact=True).click()
    journey.check()
    page.get_by_role("link", name=reference).click()
    journey.check()
    page.get_by_role("button", name="Approve order").click()
    journey.check()
    sign_out(journey)

    # The service manager confirms it: the VAT invoice is issued, numbered from 5000.
    sign_in(journey, "sam@thurrock.example", PASSWORD)
    page.get_by_role("link", name="Orders", exact=True).click()
    journey.check()
    page.get_by_role("link", name=reference).click()
    journey.check()
    page.get_by_role("button", name="Confirm order").click()
    journey.check()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is confirmed")
    sign_out(journey)

    financial_year = financial_year_of(today(), 4)
    sign_in(journey, "bea@gateway.example", PASSWORD)
    page.get_by_role("link", name="See your invoices").click()
    journey.check()
    expect(page.locator("main")).to_contain_text(f"INV-{financial_year}-005000")
    expect(page.locator("main")).to_contain_text("£1,080.00")
    sign_out(journey)
