"""Never a 500 on bad input (issue 12, part 6): a GOV.UK date sent with parts missing, digits
that are not ASCII ("１", "²"), and numbers too big for the database in a URL, a form or a query
string each get the field's error message, or a 404, or are ignored as a filter; never a server
error. (The test client itself fails any 5xx answer.)"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import (
    book_visit,
    core_allocation,
    gias_csv,
    gias_row,
    issue_document,
    submitted_order,
)
from tests.integration.test_admin import _settings_form
from tests.integration.test_ordering import checkout
from traded_app.extensions import db
from traded_app.models import (
    ClosureDay,
    CouncilSettings,
    GiasImport,
    Order,
    OrderStatus,
    Payment,
    ServicePrice,
)
from traded_app.models.types import Role, VatTreatment
from traded_app.services.platform.settings import today

TOO_BIG = "99999999999999999999999"  # beyond 64 bits


def _errors(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    assert response.soup.title.get_text().startswith("Error:")
    return text_of(response.soup, ".govuk-error-summary")


def _full_width(number: int) -> str:
    return str(number).translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})


def _date(on: Any = None) -> list[str]:
    on = on or today()
    return [str(on.day), str(on.month), str(on.year)]


@dataclass(frozen=True)
class DateForm:
    """A form with a GOV.UK date field, and what it takes to post it."""

    role: Role
    url: Callable[[Any], str]
    field: str
    label: str
    data: Callable[[Any], dict[str, Any]]


DATE_FORMS = {
    "closure day": DateForm(
        Role.LA_ADMIN,
        lambda w: "/council/closure-days",
        "closed_on",
        "Date",
        lambda w: {"name": "X"},
    ),
    "academic year": DateForm(
        Role.LA_ADMIN,
        lambda w: f"/council/manage/academic-years/{w.year.start_year}",
        "starts_on",
        "Start date",
        lambda w: {"ends_on": ["31", "8", str(w.year.start_year + 1)]},
    ),
    "export": DateForm(
        Role.LA_FINANCE,
        lambda w: "/finance/exports",
        "date_from",
        "Date to export from",
        lambda w: {"kind": "sales_csv", "date_to": _date()},
    ),
    "payment": DateForm(
        Role.LA_FINANCE,
        lambda w: f"/finance/documents/{w.invoice.id}/payments/new",
        "received_on",
        "Date received",
        lambda w: {"amount": "10", "reference": "BACS 1"},
    ),
    "visit": DateForm(
        Role.ADVISER,
        lambda w: f"/visits/new?school={w.school.urn}",
        "visit_date",
        "Date of the visit",
        lambda w: {
            "adviser_id": str(w.users[Role.ADVISER].id),
            "half_days": "2",
            "against": "core",
            "purpose": "Termly visit",
        },
    ),
}


@pytest.fixture()
def bad_input_world(world: Any) -> Any:
    world.invoice = issue_document(world, lines=[(4, 45_000, VatTreatment.STANDARD, 2000)])
    core_allocation(world, 4)
    db.session.commit()
    return world


@pytest.mark.parametrize("form", DATE_FORMS.values(), ids=DATE_FORMS.keys())
@pytest.mark.parametrize(
    ("parts", "problem"),
    [
        ([], "Enter the {lower}"),
        (["27"], "{label} must be a real date, like 27 3 2027"),
        (["27", "3"], "{label} must be a real date, like 27 3 2027"),
        (["27", "3", "2027", "4"], "{label} must be a real date, like 27 3 2027"),
        (["２７", "３", "２０２７"], "{label} must be a real date, like 27 3 2027"),
        (["²", "3", "2027"], "{label} must be a real date, like 27 3 2027"),
        (["27", "3", TOO_BIG], "{label} must be a real date, like 27 3 2027"),
    ],
    ids=["none", "one part", "two parts", "four parts", "full-width", "superscript", "too big"],
)
def test_a_date_with_parts_missing_or_not_ascii_gets_the_fields_error(
    as_role: Any, bad_input_world: Any, form: DateForm, parts: list[str], problem: str
) -> None:
    world = bad_input_world
    data = {**form.data(world), form.field: parts} if parts else form.data(world)
    response = as_role(form.role).post_form(form.url(world), data)
    assert problem.format(label=form.label, lower=form.label.lower()) in _errors(response)
    field = response.soup.select(f"input[name={form.field}]")
    assert len(field) == 3  # the widget is drawn again, with what was typed where it fits


def test_full_width_digits_in_number_fields_are_refused(as_role: Any, bad_input_world: Any) -> None:
    world = bad_input_world
    finance = as_role(Role.LA_FINANCE)
    url = f"/finance/documents/{world.invoice.id}/payments/new"
    page = finance.post_form(url, {"amount": "１０", "received_on": _date(), "reference": "B"})
    assert "Enter an amount in pounds, like 1500" in _errors(page)
    assert db.session.query(Payment).count() == 0

    admin = as_role(Role.LA_ADMIN)
    page = admin.post_form(
        f"/council/allocations/{world.school.urn}",
        {"reason": "adjustment", "days": "１", "note": "More"},
    )
    assert "Enter days as a whole or half number, like 1.5" in _errors(page)
    page = admin.post_form(
        f"/council/manage/partnerships/{world.partnership.id}/members",
        {"urn": _full_width(world.academy.urn)},
    )
    assert page.status_code == 200
    assert "URN must be a number, like 114706" in text_of(page.soup, ".govuk-error-message")
    page = admin.post_form(
        "/council/closure-days", {"closed_on": ["１", "１", str(today().year)], "name": "X"}
    )
    assert "Date must be a real date" in _errors(page)
    assert db.session.query(ClosureDay).count() == 0


@pytest.mark.parametrize("value", ["²", "１４", TOO_BIG])
def test_odd_digits_in_the_councils_settings_are_refused(
    as_role: Any, world: Any, value: str
) -> None:
    page = as_role(Role.LA_ADMIN).post_form(
        "/council/manage/settings",
        _settings_form(
            payment_terms_days=value, la_code="８８１", bank_account_number="１２３４５６７８"
        ),
    )
    errors = _errors(page)
    assert "Payment terms (days) must be a whole number from 0 to 365" in errors
    assert "Local authority code must be 3 digits, like 881" in errors
    assert "Account number must be 8 digits" in errors
    assert db.session.get(CouncilSettings, 1).payment_terms_days == 30


def test_odd_urns_in_a_gias_file_are_errors_of_their_rows(as_role: Any, world: Any) -> None:
    world.council.la_code = "881"
    db.session.commit()
    rows = [gias_row(300001, "Superscript", URN="²"), gias_row(300002, "Wide", URN="３００００２")]
    page = as_role(Role.LA_ADMIN).post_form(
        "/council/manage/schools/import",
        {"file": (io.BytesIO(gias_csv(rows)), "edubasealldata.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200
    errors = text_of(page.soup, "main")
    assert "Row 2: the URN “²” is not a number" in errors
    assert "Row 3: the URN “３００００２” is not a number" in errors
    assert db.session.query(GiasImport).count() == 0


def test_full_width_days_in_the_catalogue_are_refused(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    response = client.post_form(
        f"/catalogue/services/{world.service.id}/days",
        {f"days-{world.service.id}": "２"},
        headers={"HX-Request": "true"},
    )
    assert "as a whole or half number, like 1.5" in response.get_data(as_text=True)


QUERY_VALUES = ["²", "１", "１２３４５６", TOO_BIG, "-1", "0"]


@pytest.mark.parametrize("value", QUERY_VALUES)
@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.LA_ADMIN, "/council/schools?q={v}"),
        (Role.LA_ADMIN, "/council/schools?page={v}"),
        (Role.LA_ADMIN, "/council/orders?school={v}&quadrant={v}&service={v}&page={v}"),
        (Role.LA_ADMIN, "/council/days?q={v}&quadrant={v}&partnership={v}&page={v}"),
        (Role.LA_ADMIN, "/council/days?year={v}"),
        (Role.LA_ADMIN, "/council/manage/schools?q={v}&page={v}"),
        (Role.LA_ADMIN, "/council/manage/users?page={v}"),
        (Role.LA_ADMIN, "/council/manage/audit?actor={v}&page={v}"),
        (Role.LA_ADMIN, "/visits?adviser={v}"),
        (Role.ADVISER, "/visits/new?school={v}"),
        (Role.LA_FINANCE, "/finance/register?q={v}&quadrant={v}&school={v}&page={v}"),
        (Role.LA_FINANCE, "/finance/aged-debt?quadrant={v}"),
        (Role.LA_FINANCE, "/finance/card-payments/reconcile?date_from={v}&date_from=1&date_from=1"),
    ],
)
def test_odd_numbers_in_query_strings_are_never_a_server_error(
    as_role: Any, world: Any, role: Role, path: str, value: str
) -> None:
    response = as_role(role).get(path.format(v=value))
    assert response.status_code in (200, 404)


def test_queue_and_search_ignore_non_ascii_digits(as_role: Any, world: Any) -> None:
    submitted_order(world)
    client = as_role(Role.LA_ADMIN)
    urn, wide = str(world.school.urn), _full_width(world.school.urn)
    found = client.get(f"/council/schools?q={urn}").soup
    assert [a.get_text(strip=True) for a in found.select("tbody a")] == [world.school.name]
    assert client.get(f"/council/schools?q={wide}").soup.select("tbody a") == []
    queue = client.get(f"/council/orders?status=all&school={urn}").soup
    assert queue.select("tbody tr")
    assert client.get(f"/council/orders?status=all&school={wide}").soup.select("tbody tr") == []


@pytest.mark.parametrize(
    "path",
    [
        "/orders/１",
        "/schools/１",
        "/schools/{urn_wide}",
        "/documents/٣",
        f"/orders/{TOO_BIG}",
        "/orders/2147483648",
        f"/council/manage/academic-years/{TOO_BIG}",
        f"/visits/{TOO_BIG}",
    ],
)
def test_ids_that_are_not_ascii_or_too_big_in_urls_are_not_found(
    as_role: Any, world: Any, path: str
) -> None:
    response = as_role(Role.LA_ADMIN).get(path.format(urn_wide=_full_width(world.school.urn)))
    assert response.status_code == 404


@pytest.mark.parametrize("value", ["full-width", "²", TOO_BIG, "-1"])
def test_odd_ids_in_a_forms_checkboxes_get_the_fields_error(
    as_role: Any, world: Any, value: str
) -> None:
    recharge = issue_document(world, school=world.school)  # offered to settle
    db.session.commit()
    sent = _full_width(recharge.id) if value == "full-width" else value
    page = as_role(Role.LA_FINANCE).post_form(
        "/finance/journals",
        {"documents": [sent], "reference": "J1", "journal_date": _date()},
    )
    assert "can no longer be chosen" in _errors(page)


# NUL (U+0000) is no character a person types and PostgreSQL can neither store nor compare it:
# each of these was a 500 on PostgreSQL, found by tests/integration/test_fuzz_posts.py. A NUL in a
# form or a query string now arrives as U+FFFD (as an HTML parser makes it), shown back and
# checked like any other odd character; an address with one is not found.


def test_a_nul_typed_into_a_name_is_kept_as_a_visible_character(as_role: Any, world: Any) -> None:
    page = as_role(Role.LA_ADMIN).post_form(
        "/council/closure-days", {"closed_on": _date(), "name": "Training\x00day"}
    )
    assert page.status_code == 302
    assert db.session.query(ClosureDay).one().name == "Training\ufffdday"


def test_a_nul_in_a_visits_cancellation_reason_is_not_a_server_error(
    as_role: Any, world: Any
) -> None:
    core_allocation(world, 4)
    visit = book_visit(world)
    page = as_role(Role.ADVISER).post_form(
        f"/visits/{visit.id}/cancel", {"party": "council", "reason": "\x00"}
    )
    assert page.status_code == 302
    db.session.refresh(visit)
    assert visit.cancellation_reason == "\ufffd"


def test_a_nul_in_an_email_address_finds_no_account(client: Any, world: Any) -> None:
    page = client.post_form("/sign-in", {"email": "sbm@school.example\x00", "password": "x"})
    assert "Enter a correct email address and password" in _errors(page)
    page = client.post_form("/reset-password", {"email": "sbm@school.example\x00"})
    assert page.soup.h1.get_text(strip=True) == "Check your email"  # as for any address


def test_a_nul_in_a_search_finds_nothing(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_ADMIN)
    for path in ("/council/schools?q=Riverside%00", "/council/manage/schools?q=Riverside%00"):
        page = client.get(path)
        assert page.status_code == 200
        assert world.school.name not in text_of(page.soup, "main table")


def test_a_nul_in_an_address_is_not_found(as_role: Any, world: Any) -> None:
    page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/invoices/INV%00/pay")
    assert page.status_code == 404
    assert page.soup.h1.get_text(strip=True) == "Page not found"


def test_a_gias_file_with_a_nul_in_it_is_not_a_csv(as_role: Any, world: Any) -> None:
    world.council.la_code = "881"
    db.session.commit()
    rows = [gias_row(300001, "Nul\x00 Primary School")]
    page = as_role(Role.LA_ADMIN).post_form(
        "/council/manage/schools/import",
        {"file": (io.BytesIO(gias_csv(rows)), "edubasealldata.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200
    assert "The file is not a CSV file from Get Information About Schools" in text_of(
        page.soup, "main"
    )
    assert db.session.query(GiasImport).count() == 0


def test_an_order_too_big_for_its_figures_is_refused_with_a_message(
    as_role: Any, world: Any
) -> None:
    """The catalogue allows £1,000,000 a day: 30 days of it came to more than the order's
    INTEGER columns hold on PostgreSQL, a 500 at submission."""
    world.service.max_half_days = 60
    db.session.execute(select(ServicePrice)).scalar_one().price_per_day_pence = 100_000_000
    db.session.commit()
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    client.post_form(
        f"/catalogue/services/{world.service.id}/days", {f"days-{world.service.id}": "30"}
    )
    response = checkout(client)
    assert response.status_code == 302 and response.location.endswith("/order/check")
    page = client.get("/order/check")
    assert "An order can be for £1,000,000 at most: choose fewer days" in text_of(
        page.soup, ".govuk-notification-banner"
    )
    assert db.session.query(Order).one().status == OrderStatus.DRAFT


@pytest.mark.parametrize("order_id", ["2147483648", TOO_BIG, "１", "-1"])
def test_an_odd_order_id_in_check_answers_is_not_a_server_error(
    as_role: Any, world: Any, order_id: str
) -> None:
    """The page's hidden order id was read by `int` alone: past 32 bits it was a 500 on
    PostgreSQL (and "１" or "-1" let the order through). Now: the page again, nothing sent."""
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    client.post_form(
        f"/catalogue/services/{world.service.id}/days", {f"days-{world.service.id}": "2"}
    )
    response = checkout(client, order_id=order_id)
    assert response.status_code == 200
    assert response.soup.h1.get_text(strip=True) == "Check your order before you submit it"
    assert "Check your order again, then submit it" in _errors(response)
    assert db.session.query(Order).one().status == OrderStatus.DRAFT
