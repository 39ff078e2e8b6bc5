"""Going live (issue 14): the first service manager from the command line, "Set up the service"
and each of its tasks, and every upload's bad files refused with nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import text_of
from tests.factories import charged_order, gias_csv, gias_row
from tests.setup_helpers import GOVREV, SAFE, catalogue_csv, multipart, png_bytes
from traded_app.extensions import db
from traded_app.models import (
    CouncilLogo,
    CouncilSettings,
    GiasImport,
    OutgoingEmail,
    Partnership,
    Quadrant,
    QuadrantDistrict,
    School,
    Service,
    ServicePrice,
    SetupTask,
    User,
)
from traded_app.models.base import utcnow
from traded_app.models.types import Role
from traded_app.services.council import setup, setup_state
from traded_app.services.council import users as users_admin
from traded_app.services.documents.document_data import document_data
from traded_app.services.documents.numbering import financial_year_of
from traded_app.services.documents.pdf import html_for, render
from traded_app.services.platform.settings import today

BASE = "https://traded.example.gov.uk"


@pytest.fixture()
def base_url(app: Flask, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(app.config, "APP_BASE_URL", BASE)
    return BASE


def _count(model: Any) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# --- Part 1: create-service-manager ------------------------------------------------------------


def test_create_service_manager_on_an_empty_database(
    app: Flask, base_url: str, client: Any
) -> None:
    result = app.test_cli_runner().invoke(
        args=["create-service-manager", "Sam.Manager@Council.example", "Sam Manager"]
    )
    assert result.exit_code == 0, result.output
    council = db.session.get(CouncilSettings, 1)
    assert council is not None and not council.details_set and council.setup_in_progress
    user = db.session.execute(select(User)).scalar_one()
    assert (user.email, user.role, user.name) == (
        "sam.manager@council.example",
        Role.LA_ADMIN,
        "Sam Manager",
    )
    link = next(line for line in result.output.splitlines() if line.startswith(BASE))
    mail = db.session.execute(select(OutgoingEmail)).scalar_one()
    assert mail.recipients == user.email and link in mail.body and "24 hours" in mail.body
    # The link sets a password, once.
    path = link.removeprefix(BASE)
    page = client.get(path)
    assert page.status_code == 200 and page.soup.select_one("input[name=password]") is not None
    done = client.post_form(
        path, {"password": "a long enough password 1", "confirm": "a long enough password 1"}
    )
    assert done.status_code == 302
    again = client.get(path)
    assert "already been used" in again.get_data(as_text=True)


def test_a_second_service_manager_needs_another(app: Flask, base_url: str) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["create-service-manager", "a@council.example", "A"]).exit_code == 0
    refused = runner.invoke(args=["create-service-manager", "b@council.example", "B"])
    assert (
        refused.exit_code == 1 and "already a service manager (a@council.example)" in refused.output
    )
    assert "--another" in refused.output
    assert _count(User) == 1
    added = runner.invoke(args=["create-service-manager", "b@council.example", "B", "--another"])
    assert added.exit_code == 0, added.output
    assert _count(User) == 2
    same = runner.invoke(args=["create-service-manager", "b@council.example", "B", "--another"])
    assert same.exit_code == 1 and "already an account" in same.output


def test_create_service_manager_refuses_without_a_base_url(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["create-service-manager", "a@council.example", "A"])
    assert result.exit_code == 1 and "APP_BASE_URL" in result.output
    assert _count(User) == 0 and _count(CouncilSettings) == 0


def test_the_first_invitation_expires_after_24_hours(
    app: Flask, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = setup.create_service_manager("a@council.example", "A")
    db.session.commit()
    token = account.link.rsplit("/", 1)[1]
    assert users_admin.user_for_token(token, users_admin.INVITE_SALT).id == account.user.id
    later = utcnow() + timedelta(hours=24, minutes=1)
    monkeypatch.setattr(users_admin, "utcnow", lambda: later)
    with pytest.raises(users_admin.TokenError, match="expired"):
        users_admin.user_for_token(token, users_admin.INVITE_SALT)


# --- Part 2: the task list ---------------------------------------------------------------------


def _fresh_council(base_url: str) -> tuple[User, Any]:
    """A council just created by create-service-manager, its manager with a password."""
    account = setup.create_service_manager("sam@council.example", "Sam")
    account.user.password_hash = "x"  # anything but the unusable marker
    db.session.commit()
    return account.user, None


def _manager(app: Flask, base_url: str) -> Any:
    user, _ = _fresh_council(base_url)
    client = app.test_client()
    client.sign_in_as(user)
    return client


def _status(page: Any, key: str) -> str:
    return text_of(page.soup, f"#{key}-status")


def test_task_list_on_a_fresh_council(app: Flask, base_url: str) -> None:
    client = _manager(app, base_url)
    page = client.get("/council/manage/set-up")
    assert _status(page, "details") == "Incomplete"
    assert _status(page, "partnerships") == "Cannot start yet"
    assert "Complete Quadrant teams first" in text_of(page.soup, "#task-partnerships")
    assert _status(page, "schools") == "Cannot start yet"
    assert _status(page, "payments") == "Cannot start yet"
    dashboard = client.get("/council/")
    assert "schools can be invited once Council details, Local" in text_of(
        dashboard.soup, "#setup-waiting"
    )
    waiting = text_of(page.soup, "#invite-waiting")
    assert "Council details" in waiting and "Schools" in waiting and "Partnerships" not in waiting
    # A task that cannot start says why rather than showing its form.
    blocked = client.get("/council/manage/set-up/tasks/schools")
    assert "complete Local authority code and financial year and Quadrant teams first" in text_of(
        blocked.soup, "#cannot-start"
    )


def test_schools_staff_cannot_be_invited_until_set_up(app: Flask, base_url: str) -> None:
    client = _manager(app, base_url)
    response = client.post_form(
        "/council/manage/users/new",
        {
            "name": "Bea",
            "email": "bea@school.example",
            "role": "school_business_manager",
            "school_urn": "100001",
        },
    )
    assert response.status_code == 200
    assert (
        "cannot be invited until these set-up tasks are complete: Council details"
        in response.get_data(as_text=True)
    )
    assert _count(User) == 1
    # Council staff can be invited meanwhile.
    finance = client.post_form(
        "/council/manage/users/new",
        {"name": "Fin", "email": "fin@council.example", "role": "la_finance", "school_urn": ""},
    )
    assert finance.status_code == 302 and _count(User) == 2


def test_marking_a_task_complete_needs_its_data(app: Flask, base_url: str) -> None:
    client = _manager(app, base_url)
    refused = client.post_form("/council/manage/set-up/tasks/quadrants", {"completed": "yes"})
    assert refused.status_code == 200
    assert "Add a quadrant team with at least one district before marking" in text_of(
        refused.soup, ".govuk-error-summary"
    )
    assert _count(SetupTask) == 0
    missing = client.post_form("/council/manage/set-up/tasks/quadrants", {})
    assert "Select whether you have completed this section" in text_of(
        missing.soup, ".govuk-error-summary"
    )


DETAILS = {
    "name": "Thurrock Council",
    "address": "Civic Offices\nNew Road\nGrays",
    "postcode": "rm17 6sl",
    "vat_number": "GB 123 4567 89",
    "bank_name": "Lloyds",
    "bank_account_name": "Thurrock Council Traded Services",
    "bank_sort_code": "30 00 00",
    "bank_account_number": "12345678",
    "remittance_email": "Remittances@Thurrock.example",
    "contact_email": "traded@thurrock.example",
    "contact_phone": "01375 652652",
}


def _post_details(client: Any, logo: bytes | None = None, **changes: str) -> Any:
    fields = {"csrf_token": client.csrf_token(), **DETAILS, **changes}
    body, content_type = multipart(fields, {"logo": (logo, "logo.png")} if logo else {})
    return client.post("/council/manage/set-up/details", data=body, content_type=content_type)


def test_council_details_with_a_logo(app: Flask, base_url: str) -> None:
    client = _manager(app, base_url)
    response = _post_details(client, png_bytes(120, 40))
    assert response.status_code == 302
    council = db.session.get(CouncilSettings, 1)
    assert council is not None and council.details_set
    assert (council.name, council.postcode, council.bank_sort_code) == (
        "Thurrock Council",
        "RM17 6SL",
        "30-00-00",
    )
    assert council.remittance_email == "remittances@thurrock.example"
    logo = db.session.execute(select(CouncilLogo)).scalar_one()
    assert (logo.width, logo.height, logo.sha256) == (120, 40, council.logo_sha256)
    served = client.get("/council/manage/set-up/logo.png")
    assert served.mimetype == "image/png" and served.data == png_bytes(120, 40)
    assert _status(client.get("/council/manage/set-up"), "details") == "Completed"


@pytest.mark.parametrize(
    ("logo", "message"),
    [
        (b"GIF89a" + b"\x00" * 100, "The logo must be a PNG file"),
        (png_bytes(3000, 16), "between 16 and 2000 pixels on each side: this one is 3000 by 16"),
        (png_bytes(40, 20)[:-12], "incomplete or damaged"),
        (b"\x89PNG\r\n\x1a\n" + b"x" * (10 * 1024 * 1024), "must be 512 KB or smaller"),
    ],
    ids=["gif", "too-wide", "truncated", "10MB"],
)
def test_a_bad_logo_is_refused_and_changes_nothing(
    app: Flask, base_url: str, logo: bytes, message: str
) -> None:
    client = _manager(app, base_url)
    response = _post_details(client, logo)
    assert response.status_code == 200
    assert message in text_of(response.soup, ".govuk-error-summary")
    council = db.session.get(CouncilSettings, 1)
    assert (
        council is not None and not council.details_set and council.name == setup.PLACEHOLDER_NAME
    )
    assert _count(CouncilLogo) == 0 and _count(SetupTask) == 0


def test_council_details_bad_input(app: Flask, base_url: str) -> None:
    client = _manager(app, base_url)
    response = _post_details(client, bank_sort_code="2000", bank_account_number="12", vat_number="")
    summary = text_of(response.soup, ".govuk-error-summary")
    assert "Sort code must be 6 digits" in summary
    assert "Account number must be 8 digits" in summary
    assert "Enter the council's VAT registration number" in summary
    assert not db.session.get(CouncilSettings, 1).details_set  # type: ignore[union-attr]


def test_documents_wait_for_the_details_and_print_the_logo(as_role: Any, world: Any) -> None:
    world.council.details_set = False
    db.session.commit()
    with pytest.raises(Exception, match="Enter the council's details"):
        charged_order(world, school=world.academy)
    db.session.rollback()
    world.council.details_set = True
    world.council.remittance_email = "remit@council.example"
    world.council.logo_sha256 = setup.store_logo(setup.check_logo(png_bytes(40, 20)))
    db.session.commit()
    _order, document = charged_order(world, school=world.academy)
    data = document_data(document)
    assert data.logo_png == png_bytes(40, 20)
    html = html_for(data)
    assert 'src="data:image/png;base64,' in html
    assert "remittance advice to remit@council.example" in html
    assert b"/Image" in render(data)  # the data: URL went through the fetcher into the PDF


def test_la_code_and_financial_year(app: Flask, base_url: str) -> None:
    client = _manager(app, base_url)
    bad = client.post_form(
        "/council/manage/set-up/la-code", {"la_code": "88", "financial_year_start_month": "4"}
    )
    assert "Local authority code must be 3 digits" in text_of(bad.soup, ".govuk-error-summary")
    good = client.post_form(
        "/council/manage/set-up/la-code", {"la_code": "883", "financial_year_start_month": "1"}
    )
    assert good.status_code == 302
    council = db.session.get(CouncilSettings, 1)
    assert council is not None and (council.la_code, council.financial_year_start_month) == (
        "883",
        1,
    )


# --- Quadrants ---------------------------------------------------------------------------------


def test_quadrants_create_rename_retire(app: Flask, base_url: str) -> None:
    client = _manager(app, base_url)
    added = client.post_form(
        "/council/manage/set-up/quadrants", {"name": "North East", "code": "ne"}
    )
    assert added.status_code == 302
    quadrant = db.session.execute(select(Quadrant)).scalar_one()
    assert (quadrant.name, quadrant.code, quadrant.active) == ("North East", "NE", True)
    clash = client.post_form(
        "/council/manage/set-up/quadrants", {"name": "north east", "code": "NE2"}
    )
    assert "Another quadrant team already has the name north east" in text_of(
        clash.soup, ".govuk-error-summary"
    )
    bad_code = client.post_form(
        "/council/manage/set-up/quadrants", {"name": "South", "code": "s-1"}
    )
    assert "Code must be 1 to 16 capital letters" in text_of(bad_code.soup, ".govuk-error-summary")
    assert _count(Quadrant) == 1
    renamed = client.post_form(
        f"/council/manage/set-up/quadrants/{quadrant.id}", {"name": "Northeast", "code": "NE"}
    )
    assert renamed.status_code == 302
    db.session.add(QuadrantDistrict(name="Basildon", quadrant_id=quadrant.id))
    db.session.commit()
    assert (
        client.post_form("/council/manage/set-up/tasks/quadrants", {"completed": "yes"}).status_code
        == 302
    )
    client.post_form(f"/council/manage/set-up/quadrants/{quadrant.id}/retire")
    db.session.refresh(quadrant)
    assert quadrant.active and quadrant.name == "Northeast"  # refused: it serves Basildon
    db.session.execute(QuadrantDistrict.__table__.delete())
    db.session.commit()
    client.post_form(f"/council/manage/set-up/quadrants/{quadrant.id}/retire")
    db.session.refresh(quadrant)
    assert not quadrant.active
    # With no active team serving a district, the task is no longer complete.
    assert _status(client.get("/council/manage/set-up"), "quadrants") == "Incomplete"


# --- Catalogue: CSV import and copying prices -------------------------------------------------


def _catalogue_client(app: Flask, base_url: str) -> tuple[Any, Any]:
    client = _manager(app, base_url)
    client.post_form("/council/manage/set-up/academic-years")
    year = setup_state.current_academic_year()
    assert year is not None
    return client, year


def _import(client: Any, data: bytes, year: Any) -> Any:
    fields = {"csrf_token": client.csrf_token(), "year": str(year.start_year)}
    body, content_type = multipart(fields, {"file": (data, "catalogue.csv")})
    return client.post(
        "/council/manage/set-up/catalogue/import", data=body, content_type=content_type
    )


def test_catalogue_import_preview_then_confirm(app: Flask, base_url: str) -> None:
    client, year = _catalogue_client(app, base_url)
    preview = _import(client, catalogue_csv(GOVREV, SAFE), year)
    assert preview.status_code == 200
    assert "2 new, 0 changed and 0 unchanged" in text_of(preview.soup, "#preview-summary")
    assert _count(Service) == 0  # the preview changes nothing
    token = preview.soup.select_one("input[name=preview]")["value"]
    done = client.post_form("/council/manage/set-up/catalogue/import/confirm", {"preview": token})
    assert done.status_code == 302
    services = {s.code: s for s in db.session.execute(select(Service)).scalars()}
    assert set(services) == {"GOVREV", "SAFEAUD"}
    safe = services["SAFEAUD"]
    assert (safe.min_half_days, safe.typical_half_days, safe.max_half_days) == (1, 2, 4)
    prices = {
        p.service_id: p.price_per_day_pence
        for p in db.session.execute(select(ServicePrice)).scalars()
    }
    assert prices == {services["GOVREV"].id: 45000, safe.id: 50050}
    vat = {(v.customer_type.value, v.treatment.value, v.vat_rate_bp) for v in safe.vat_rules}
    assert vat == {
        ("maintained", "outside_scope", 0),
        ("academy", "exempt", 0),
        ("other", "standard", 2000),
    }
    # The same file again: unchanged, and a changed price is a change of price only.
    again = _import(client, catalogue_csv(GOVREV.replace(",450,", ",475,"), SAFE), year)
    assert "0 new, 0 changed and 2 unchanged" in text_of(again.soup, "#preview-summary")
    # A tampered preview is refused.
    tampered = client.post_form(
        "/council/manage/set-up/catalogue/import/confirm", {"preview": token[:-3] + "abc"}
    )
    assert tampered.status_code == 302 and _count(Service) == 2


BAD_FILES = [
    (
        catalogue_csv(GOVREV, header="code,title,group,price"),
        "The file is missing the columns “name”, “typical days”",
    ),
    ("code,name\n£,é".encode("cp1252") + b"\xa3\xff", "The file is not UTF-8 text"),
    (
        catalogue_csv(GOVREV, GOVREV.replace("Governance review", "Other")),
        "Row 3: code GOVREV is also on row 2",
    ),
    (bytes(range(256)) * (10 * 4096 + 1), "The file is larger than 1024 KB"),
    (
        catalogue_csv(GOVREV.replace("governance", "cookery")),
        "Row 2: group “cookery” is not one of",
    ),
    (catalogue_csv(GOVREV.replace(",2,1,4,", ",2,3,4,")), "Row 2: Typical days must be between"),
    (
        catalogue_csv(GOVREV.replace("standard 20,standard 20", "standard 20,vatable")),
        "vat other: “vatable” is not one of",
    ),
    (catalogue_csv(GOVREV.replace(",450,", ",lots,")), "Row 2: Enter an amount in pounds"),
    (catalogue_csv(), "The file has a header row but no services"),
    (b"", "The file is empty"),
]


@pytest.mark.parametrize(
    ("data", "message"),
    BAD_FILES,
    ids=[
        "wrong-columns",
        "wrong-encoding",
        "duplicate-rows",
        "10MB-junk",
        "bad-group",
        "bad-days",
        "bad-vat",
        "bad-price",
        "no-rows",
        "empty",
    ],
)
def test_a_bad_catalogue_file_is_refused_and_changes_nothing(
    app: Flask, base_url: str, data: bytes, message: str
) -> None:
    client, year = _catalogue_client(app, base_url)
    response = _import(client, data, year)
    assert response.status_code == 200
    assert message in text_of(response.soup, ".govuk-error-summary") + text_of(
        response.soup, "#import-problems"
    )
    assert response.soup.select_one("input[name=preview]") is None
    assert _count(Service) == 0 and _count(ServicePrice) == 0


def test_copy_a_years_prices(app: Flask, base_url: str) -> None:
    client, year = _catalogue_client(app, base_url)
    token = _import(client, catalogue_csv(GOVREV, SAFE), year).soup.select_one(
        "input[name=preview]"
    )["value"]
    client.post_form("/council/manage/set-up/catalogue/import/confirm", {"preview": token})
    nxt = str(year.start_year + 1)
    same = client.post_form(
        "/council/manage/set-up/catalogue/copy", {"source": nxt, "target": nxt, "uplift": ""}
    )
    assert "Choose two different years" in text_of(same.soup, ".govuk-error-summary")
    bad = client.post_form(
        "/council/manage/set-up/catalogue/copy",
        {"source": str(year.start_year), "target": nxt, "uplift": "lots"},
    )
    assert "Increase must be a number of per cent" in text_of(bad.soup, ".govuk-error-summary")
    done = client.post_form(
        "/council/manage/set-up/catalogue/copy",
        {"source": str(year.start_year), "target": nxt, "uplift": "3"},
    )
    assert done.status_code == 302
    copied = sorted(
        p.price_per_day_pence
        for p in db.session.execute(select(ServicePrice)).scalars()
        if p.academic_year_id != year.id
    )
    assert copied == [46350, 51552]  # £450 and £500.50 raised by 3%, to the penny
    blocked = client.get("/council/manage/set-up/tasks/catalogue")
    assert "complete Academic years first" in text_of(blocked.soup, "#cannot-start")
    years = client.post_form("/council/manage/set-up/tasks/academic_years", {"completed": "yes"})
    assert years.status_code == 302
    marked = client.post_form("/council/manage/set-up/tasks/catalogue", {"completed": "yes"})
    assert marked.status_code == 302
    page = client.get("/council/manage/set-up")
    assert _status(page, "catalogue") == _status(page, "academic_years") == "Completed"


# --- Document numbering ------------------------------------------------------------------------


def test_numbering_continues_an_old_sequence(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_ADMIN)
    blocked = client.get("/council/manage/set-up/numbering")
    assert "complete Local authority code and financial year first" in text_of(
        blocked.soup, "#cannot-start"
    )
    world.council.la_code = "881"
    db.session.commit()
    setup_state.mark("la_finance", True, world.users[Role.LA_ADMIN])
    page = client.get("/council/manage/set-up/numbering")
    assert page.soup.select_one("input[name=invoice_first]")["value"] == "1"
    saved = client.post_form(
        "/council/manage/set-up/numbering",
        {
            "invoice_prefix": "tc",
            "invoice_first": "5000",
            "recharge_prefix": "TR",
            "recharge_first": "1",
            "credit_note_prefix": "TCN",
            "credit_note_first": "70",
        },
    )
    assert saved.status_code == 302
    _order, document = charged_order(world, school=world.academy)
    year = financial_year_of(today(), world.council.financial_year_start_month)
    assert document.number == f"TC-{year}-005000"
    below = client.post_form(
        "/council/manage/set-up/numbering",
        {
            "invoice_prefix": "TC",
            "invoice_first": "4000",
            "recharge_prefix": "TR",
            "recharge_first": "1",
            "credit_note_prefix": "TCN",
            "credit_note_first": "70",
        },
    )
    assert f"VAT invoice number 5000 of {year} has already been issued" in text_of(
        below.soup, ".govuk-error-summary"
    )
    same_prefix = client.post_form(
        "/council/manage/set-up/numbering",
        {
            "invoice_prefix": "TC",
            "invoice_first": "5001",
            "recharge_prefix": "TC",
            "recharge_first": "1",
            "credit_note_prefix": "TCN",
            "credit_note_first": "x",
        },
    )
    summary = text_of(same_prefix.soup, ".govuk-error-summary")
    assert "Credit notes: next number must be a whole number" in summary
    assert (
        client.get("/council/manage/set-up/numbering").soup.select_one("input[name=invoice_first]")[
            "value"
        ]
        == "5001"
    )


# --- The GIAS extract: the same bad files at the set-up's other upload ------------------------


def _gias_bad_files() -> list[tuple[bytes, str]]:
    good = gias_csv([gias_row(300001, "New Primary")])
    return [
        (good.replace(b"EstablishmentName", b"Name"), "missing the GIAS column EstablishmentName"),
        # UTF-16 with no byte-order mark (UTF-16 with one is read).
        (gias_csv([gias_row(300001, "New Primary")], encoding="utf-16-le"), "not a CSV file"),
        (
            gias_csv([gias_row(300001, "New Primary"), gias_row(300001, "New Primary")]),
            "URN 300001 appears more than once",
        ),
        (bytes(range(256)) * (10 * 4096 + 1), "not a CSV file"),
    ]


@pytest.mark.parametrize(
    "case", range(4), ids=["wrong-columns", "wrong-encoding", "duplicate-rows", "10MB-junk"]
)
def test_a_bad_gias_extract_is_refused_and_changes_nothing(
    as_role: Any, world: Any, case: int
) -> None:
    world.council.la_code = "881"
    db.session.add(QuadrantDistrict(name="Chelmsford", quadrant_id=world.quadrant.id))
    db.session.commit()
    data, message = _gias_bad_files()[case]
    client = as_role(Role.LA_ADMIN)
    body, content_type = multipart(
        {"csrf_token": client.csrf_token()}, {"file": (data, "edubasealldata.csv")}
    )
    page = client.post("/council/manage/schools/import", data=body, content_type=content_type)
    assert page.status_code == 200
    assert message in text_of(page.soup, ".govuk-error-summary")
    assert _count(School) == 3 and _count(GiasImport) == 0


def test_a_retired_team_takes_no_districts_or_new_partnerships(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_ADMIN)
    added = client.post_form("/council/manage/set-up/quadrants", {"name": "South", "code": "S"})
    south = db.session.execute(select(Quadrant).where(Quadrant.code == "S")).scalar_one()
    assert added.location.endswith(f"/council/manage/quadrants/{south.id}")
    client.post_form(f"/council/manage/set-up/quadrants/{south.id}/retire")
    db.session.refresh(south)
    assert not south.active
    districts = client.post_form(f"/council/manage/quadrants/{south.id}", {"districts": "Basildon"})
    assert "The South team is retired" in text_of(districts.soup, ".govuk-error-summary")
    partnership = client.post_form(
        "/council/manage/partnerships", {"name": "Southern schools", "quadrant_id": str(south.id)}
    )
    assert partnership.status_code == 200 and _count(Partnership) == 1  # the world's own
    assert _count(QuadrantDistrict) == 0
    # Retired teams are not offered for a new partnership; brought back, the team is.
    assert f'value="{south.id}"' not in client.get("/council/manage/partnerships").get_data(
        as_text=True
    )
    client.post_form(f"/council/manage/set-up/quadrants/{south.id}/reinstate")
    db.session.refresh(south)
    assert south.active
    assert f'value="{south.id}"' in client.get("/council/manage/partnerships").get_data(
        as_text=True
    )


def test_an_unknown_task_is_not_found(as_role: Any, world: Any) -> None:
    # A council that was running before "Set up the service" is not asked to set up.
    assert as_role(Role.LA_ADMIN).get("/council/").soup.select_one("#setup-waiting") is None
    assert as_role(Role.LA_ADMIN).get("/council/manage/set-up/tasks/details").status_code == 404
    assert as_role(Role.LA_ADMIN).get("/council/manage/set-up/tasks/nonsense").status_code == 404
