"""Invoice schedule pages: the council sets each route's plan (validated, GOV.UK errors), and an
order's page shows its school and the council what has been charged and what is to come."""

from __future__ import annotations

from typing import Any

from tests.conftest import text_of
from tests.factories import submitted_order
from tests.integration.test_instalments import confirmed, council_details, on_plan  # noqa: F401
from traded_app.extensions import db
from traded_app.models.instalments import ChargeTiming
from traded_app.models.types import BillingRoute, Role
from traded_app.services.documents import charge_plans, instalments

EDIT = "/council/invoice-schedules/invoice"


def errors(page: Any) -> list[str]:
    return [a.get_text(" ", strip=True) for a in page.soup.select(".govuk-error-summary__list a")]


def plan_form(**rows: str) -> dict[str, str]:
    return {"timing": "instalments", "name": "April and September", **rows}


def test_finance_sets_a_plan_in_instalments_for_academies(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_FINANCE)
    page = client.get(EDIT + "?start=april_september")
    assert page.soup.select_one("#share_1")["value"] == "7"
    assert page.soup.select_one("#month_2")["value"] == "9"
    answer = client.post_form(
        EDIT,
        plan_form(
            share_1="7", day_1="1", month_1="4", year_1="start",
            share_2="5", day_2="1", month_2="9", year_2="start",
        ),
    )  # fmt: skip
    assert answer.status_code == 302
    plan = charge_plans.plan_for(BillingRoute.INVOICE)
    assert plan is not None and plan.timing == ChargeTiming.INSTALMENTS
    assert [(p.share, p.day, p.month, p.in_end_year) for p in plan.parts] == [
        (7, 1, 4, False),
        (5, 1, 9, False),
    ]
    listing = client.get("/council/invoice-schedules")
    assert "April and September: 7/12 on 1 April" in text_of(listing.soup, "main")
    assert charge_plans.plan_for(BillingRoute.RECHARGE) is None  # the other route is unchanged


def test_a_plan_that_does_not_add_up_is_refused_with_a_clear_message(
    as_role: Any, world: Any
) -> None:
    client = as_role(Role.LA_ADMIN)
    page = client.post_form(
        EDIT,
        plan_form(
            share_1="7", day_1="1", month_1="4", year_1="start",
            share_2="4", day_2="1", month_2="9", year_2="start",
        ),
    )  # fmt: skip
    assert page.status_code == 200
    assert errors(page) == [
        "The instalments' shares add up to 11/12: they must add up to 12/12, the whole order"
    ]
    assert page.soup.select_one(".govuk-error-summary__list a")["href"] == "#parts"
    assert page.soup.select_one("#parts.govuk-form-group--error")
    assert charge_plans.plan_for(BillingRoute.INVOICE) is None


def test_dates_after_the_year_and_unreadable_rows_are_refused(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_FINANCE)
    after = client.post_form(EDIT, plan_form(share_1="12", day_1="1", month_1="10", year_1="end"))
    assert errors(after) == [
        "Instalment 1's date is after the academic year ends: choose a date inside or before "
        "the year"
    ]
    unreadable = client.post_form(EDIT, plan_form(share_1="seven", day_1="1", month_1="4"))
    assert errors(unreadable)[0].startswith("Instalment 1: enter its share in twelfths")
    nameless = client.post_form(
        EDIT, {**plan_form(share_1="12", day_1="1", month_1="9"), "name": " "}
    )
    assert errors(nameless) == ["Enter a name for the plan, like “April and September”"]
    assert client.get("/council/invoice-schedules/cheque").status_code == 404


def test_at_the_start_of_the_year_needs_no_instalments(as_role: Any, world: Any) -> None:
    answer = as_role(Role.LA_FINANCE).post_form(
        "/council/invoice-schedules/recharge", {"timing": "year_start", "share_1": "junk"}
    )
    assert answer.status_code == 302
    plan = charge_plans.plan_for(BillingRoute.RECHARGE)
    assert plan is not None and plan.timing == ChargeTiming.YEAR_START and not plan.parts


def test_the_order_page_shows_what_is_charged_and_what_is_to_come(
    as_role: Any,
    world: Any,
    council_details: Any,  # noqa: F811
) -> None:
    on_plan(world)
    order = confirmed(world, 6)
    db.session.commit()
    admin_page = as_role(Role.LA_ADMIN).get(f"/orders/{order.id}")
    schedule = text_of(admin_page.soup, "#charge-schedule ~ .app-table-scroll")
    assert "1 of 2" in schedule and "£945.00" in schedule and "INV-" in schedule
    assert "2 of 2" in schedule and "£675.00" in schedule and "To come" in schedule
    summary = text_of(admin_page.soup, "main")
    assert "Charged so far: £945.00" in summary and "Still to come: £675.00" in summary
    link = admin_page.soup.select_one("#charge-schedule ~ .app-table-scroll a")
    first = instalments.charges_of(order)[0]
    assert link["href"] == f"/documents/{first.document_id}"

    academy = as_role(None)
    academy.sign_in_as(world.academy_sbm)
    own = academy.get(f"/orders/{order.id}")
    assert "Still to come: £675.00" in text_of(own.soup, "main")
    # Another school's staff never see it.
    other = as_role(Role.SCHOOL_BUSINESS_MANAGER).get(f"/orders/{order.id}")
    assert other.status_code == 404
    listing = as_role(Role.LA_FINANCE).get("/council/invoice-schedules")
    assert order.reference in text_of(listing.soup, "main")


def test_the_submitted_page_says_when_the_order_will_be_charged(
    as_role: Any,
    world: Any,
    council_details: Any,  # noqa: F811
) -> None:
    on_plan(world)
    order = submitted_order(world, {world.service: 2}, school=world.academy)
    academy = as_role(None)
    academy.sign_in_as(world.academy_sbm)
    page = academy.get(f"/orders/{order.id}/submitted")
    start = world.year.start_year
    assert (
        "The council sends your VAT invoice in 2 instalments, each due on its own date: "
        f"1 September {start}, 1 April {start + 1}"
    ) in text_of(page.soup, "main")
