"""The school's Days page, its CSV, the council overview and the allocations screens."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert

from tests.conftest import text_of
from tests.factories import book_visit, confirmed_order, core_allocation, weekday_in_year
from traded_app.extensions import db
from traded_app.models import AllocationChange, CoreAllocation, School
from traded_app.models.types import (
    AllocationReason,
    BillingRoute,
    CustomerType,
    EstablishmentType,
    Phase,
    Role,
)
from traded_app.services.days import visits


def _days_with_a_delivered_visit(world: Any) -> Any:
    core_allocation(world, 4)
    order = confirmed_order(world, 5)
    visit = book_visit(
        world, on=weekday_in_year(world, past=True), against=str(order.lines[0].id), half_days=2
    )
    visits.deliver(visit, world.users[Role.ADVISER], "Agreed the head's objectives with governors")
    db.session.commit()
    book_visit(world, half_days=1, purpose="Review of the action plan")
    return order


def test_headteacher_lands_on_days_and_sees_figures_and_visits(as_role: Any, world: Any) -> None:
    _days_with_a_delivered_visit(world)
    client = as_role(Role.HEADTEACHER)
    home = client.get("/")
    assert home.status_code == 302 and home.location.endswith("/days")
    page = client.get("/days")
    assert page.status_code == 200
    assert page.soup.h1.get_text(strip=True) == "Your days"
    rows = {
        tr.th.get_text(" ", strip=True).split(" ORD-")[0]: [
            td.get_text(" ", strip=True) for td in tr.select("td")[:5]
        ]
        for tr in page.soup.select("#days-figures tbody tr")
    }
    assert rows["Core allocation (free)"][:5] == ["2", "0", "0.5", "2", "1.5"]
    assert rows["Headteacher performance management"][:5] == ["2.5", "1", "0", "1.5", "1.5"]
    assert text_of(page.soup, "#days-remaining") == "3.5 days"
    body = page.get_data(as_text=True)
    assert "Agreed the head&#39;s objectives with governors" in body
    assert "Review of the action plan" in body
    assert page.soup.select("svg.app-bar[role=img]")


def test_business_manager_still_lands_on_the_school_dashboard(as_role: Any, world: Any) -> None:
    assert as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/").location.endswith("/school")


def test_a_school_user_cannot_open_another_schools_days(as_role: Any, world: Any) -> None:
    client = as_role(Role.HEADTEACHER)
    for path in (
        f"/schools/{world.other_school.urn}/days",
        f"/schools/{world.academy.urn}/days/visits.csv",
        "/schools/999999/days",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert world.other_school.name not in response.get_data(as_text=True)


def test_an_unknown_year_is_not_found(as_role: Any, world: Any) -> None:
    assert as_role(Role.HEADTEACHER).get("/days?year=1999").status_code == 404


def test_visit_history_downloads_as_csv(as_role: Any, world: Any) -> None:
    _days_with_a_delivered_visit(world)
    book_visit(world, half_days=1, purpose="=HYPERLINK(evil)")
    response = as_role(Role.HEADTEACHER).get(f"/schools/{world.school.urn}/days/visits.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["Visit", "Date", "Half or whole day", "Days"]
    assert len(rows) == 4
    delivered = next(r for r in rows if r[7] == "Delivered")
    assert delivered[8] == "Agreed the head's objectives with governors"
    assert any(r[6] == "'=HYPERLINK(evil)" for r in rows)  # no formula injection


def test_council_users_see_any_schools_days(as_role: Any, world: Any) -> None:
    _days_with_a_delivered_visit(world)
    for role in (Role.LA_FINANCE, Role.LA_ADMIN, Role.ADVISER):
        page = as_role(role).get(f"/schools/{world.school.urn}/days")
        assert page.status_code == 200
        assert page.soup.h1.get_text(strip=True) == "Days"


# --- The council's overview -------------------------------------------------------------------


def test_overview_filters_search_and_totals(as_role: Any, world: Any) -> None:
    _days_with_a_delivered_visit(world)
    client = as_role(Role.LA_ADMIN)
    page = client.get("/council/days")
    assert page.status_code == 200
    assert text_of(page.soup, "#overview-count") == "3 schools"
    quadrant = page.soup.select_one("#quadrant-totals tbody tr")
    cells = [td.get_text(" ", strip=True) for td in quadrant.select("td")]
    assert cells[0] == "3"
    assert cells[-1].startswith("2.5 of 100")

    unused = client.get("/council/days?unused=yes")
    assert text_of(unused.soup, "#overview-count") == "1 school with unused days"
    by_urn = client.get(f"/council/days?q={world.other_school.urn}")
    assert text_of(by_urn.soup, "#overview-count").startswith("1 school matching")
    by_phase = client.get("/council/days?phase=secondary")
    assert text_of(by_phase.soup, "#overview-count") == "0 schools"
    partnership = client.get(f"/council/days?partnership={world.partnership.id}")
    assert text_of(partnership.soup, "#overview-count") == "1 school"


def test_overview_answers_htmx_with_the_results_fragment(as_role: Any, world: Any) -> None:
    response = as_role(Role.LA_FINANCE).get("/council/days?q=Hill", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.soup.h1 is None
    assert "Hilltop Infant School" in response.get_data(as_text=True)
    assert "Riverside" not in response.get_data(as_text=True)
    assert response.headers.get("Vary", "").find("HX-Request") >= 0


@contextmanager
def count_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if (
            not statement.lstrip()
            .upper()
            .startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))
        ):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def _add_schools(world: Any, count: int, start_urn: int) -> None:
    rows = [
        {
            "urn": start_urn + n,
            "name": f"Generated School {n:05d}",
            "phase": Phase.PRIMARY,
            "establishment_type": EstablishmentType.LA_MAINTAINED,
            "customer_type": CustomerType.MAINTAINED,
            "billing_route": BillingRoute.RECHARGE,
            "quadrant_id": world.quadrant.id,
            "partnership_id": world.partnership.id if n % 3 == 0 else None,
        }
        for n in range(count)
    ]
    db.session.execute(insert(School), rows)
    db.session.flush()
    ids = [s.id for s in db.session.query(School).filter(School.urn >= start_urn)]
    db.session.execute(
        insert(CoreAllocation),
        [
            {
                "school_id": school_id,
                "academic_year_id": world.year.id,
                "reason": AllocationReason.UNPARTNERED_VISIT,
                "half_days": 1,
            }
            for school_id in ids
        ],
    )
    db.session.commit()


def test_overview_query_count_does_not_grow_with_schools(as_role: Any, world: Any) -> None:
    _days_with_a_delivered_visit(world)
    client = as_role(Role.LA_ADMIN)
    _add_schools(world, 10, 500_000)
    client.get("/council/days")  # warm caches (settings, templates)
    with count_queries() as few:
        assert client.get("/council/days?unused=yes&page=2").status_code == 200
    _add_schools(world, 990, 600_000)
    with count_queries() as many:
        page = client.get("/council/days?unused=yes&page=2")
    assert page.status_code == 200
    assert text_of(page.soup, "#overview-count") == "1001 schools with unused days"
    assert len(many) == len(few), (len(few), len(many))


# --- Allocations ------------------------------------------------------------------------------


def test_admin_generates_allocations_and_every_change_is_kept(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_ADMIN)
    page = client.get("/council/allocations")
    assert page.soup.h1.get_text(strip=True) == "Core allocations"
    response = client.post_form("/council/allocations/generate")
    assert response.status_code == 302
    page = client.get(response.location)
    assert "generated from the rules" in page.get_data(as_text=True)
    assert db.session.query(AllocationChange).count() == 3  # one per school


def test_admin_adjusts_a_schools_allocation_with_a_reason(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_ADMIN)
    url = f"/council/allocations/{world.school.urn}"
    missing = client.post_form(url, {"reason": "causing_concern", "days": "2.25", "note": ""})
    assert missing.status_code == 200
    messages = [a.get_text(strip=True) for a in missing.soup.select(".govuk-error-summary a")]
    assert "Enter days as a whole or half number, like 1.5" in messages
    assert "Enter the reason for the change" in messages
    assert missing.soup.title.get_text().startswith("Error:")

    done = client.post_form(
        url, {"reason": "causing_concern", "days": "3", "note": "Ofsted: requires improvement"}
    )
    assert done.status_code == 302
    page = client.get(done.location)
    assert text_of(page.soup, "#core-total") == "3"
    history = text_of(page.soup, "#allocation-history")
    assert "Ofsted: requires improvement" in history and "Adjusted by Admin" in history


def test_closure_days_are_managed_by_the_admin_and_refuse_visits(as_role: Any, world: Any) -> None:
    core_allocation(world, 4)
    day = weekday_in_year(world)
    client = as_role(Role.LA_ADMIN)
    added = client.post_form(
        "/council/closure-days",
        {"closed_on": [str(day.day), str(day.month), str(day.year)], "name": "Training day"},
    )
    assert added.status_code == 302
    page = client.get(added.location)
    assert "Training day" in text_of(page.soup, "#closure-days")
    try:
        book_visit(world, on=day)
    except visits.VisitError as error:
        assert "The council is closed" in str(error)
    else:
        raise AssertionError("a visit was booked on a closure day")
    bad = client.post_form(
        "/council/closure-days", {"closed_on": ["31", "2", "2027"], "name": "Nope"}
    )
    assert "Date must be a real date, like 27 3 2027" in text_of(bad.soup, ".govuk-error-summary")


def test_pagination_links_keep_the_filters(as_role: Any, world: Any) -> None:
    _add_schools(world, 120, 700_000)
    page = as_role(Role.LA_ADMIN).get("/council/days?unused=yes&page=2").soup
    links = {a.get_text(" ", strip=True): a["href"] for a in page.select(".govuk-pagination a")}
    assert "unused=yes" in links["Previous page"] and "page=1" in links["Previous page"]
    assert "page=3" in links["Next page"]
    assert page.select_one('.govuk-pagination [aria-current="page"]').get_text() == "2"
