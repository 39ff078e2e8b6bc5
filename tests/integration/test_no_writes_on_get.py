"""A GET never writes: every GET page, as every role (and signed out), runs no INSERT, UPDATE or
DELETE. Reading a page twice, a prefetch, a crawler or a refresh must change nothing; what a
page needs (an academic year, a draft order) is made by the POST, the service manager or a
command, never as a side effect of looking.

Nothing is excluded: signing in is a POST, and the test clients are signed in by cookie.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, has_request_context, request, url_for
from sqlalchemy import event

from tests.integration.test_access import EXPECTED
from tests.routes import add_one_of_everything, url_args
from traded_app.extensions import db
from traded_app.models.types import Role
from traded_app.services.council import catalogue

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "UPSERT")


@pytest.fixture()
def writes(app: Flask) -> Iterator[list[tuple[str, str]]]:
    """(path, statement) of every write a request sends to the database while the test runs."""
    seen: list[tuple[str, str]] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if has_request_context() and statement.lstrip().upper().startswith(WRITES):
            seen.append((request.full_path, " ".join(statement.split())[:120]))

    event.listen(db.engine, "after_cursor_execute", watch)
    yield seen
    event.remove(db.engine, "after_cursor_execute", watch)


def _listed(writes: list[tuple[str, str]]) -> str:
    return "GET pages wrote:\n" + "\n".join(sorted({f"{path}: {sql}" for path, sql in writes}))


def _get_urls(app: Flask, world: Any) -> list[str]:
    urls = []
    for endpoint in EXPECTED:
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        if "GET" not in (rule.methods or set()) or endpoint == "static":
            continue
        with app.test_request_context():
            urls.append(url_for(endpoint, **url_args(endpoint, world)))
    return urls


@pytest.mark.usefixtures("stripe_fake")  # pages that ask Stripe ask the fake
@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_no_get_page_writes_to_the_database(
    app: Flask, as_role: Any, world: Any, role: Role | None, writes: Any
) -> None:
    add_one_of_everything(world)
    urls = _get_urls(app, world)
    client = as_role(role)
    for url in urls:
        client.get(url)
        client.get(url, headers={"HX-Request": "true"})
    assert not writes, _listed(writes)


def test_pages_that_choose_a_year_write_nothing_when_this_year_is_not_set_up(
    app: Flask, as_role: Any, world: Any, writes: Any
) -> None:
    """Before, the days pages created this academic year and the catalogue's pages the two
    ahead, when the council had not set them up."""
    year = world.year
    year.start_year -= 3
    year.starts_on = year.starts_on.replace(year=year.starts_on.year - 3)
    year.ends_on = year.ends_on.replace(year=year.ends_on.year - 3)
    db.session.commit()
    for role, path in [
        (Role.SCHOOL_BUSINESS_MANAGER, "/days"),
        (Role.LA_ADMIN, f"/schools/{world.school.urn}/days"),
        (Role.LA_ADMIN, f"/schools/{world.school.urn}/days/visits.csv"),
        (Role.LA_ADMIN, "/council/days"),
        (Role.LA_ADMIN, "/council/allocations"),
        (Role.LA_ADMIN, f"/council/allocations/{world.school.urn}"),
        (Role.LA_ADMIN, "/council/closure-days"),
        (Role.LA_ADMIN, f"/visits/new?school={world.school.urn}"),
        (Role.LA_ADMIN, "/council/manage/services"),
        (Role.LA_ADMIN, f"/council/manage/services/{world.service.id}"),
        (Role.LA_ADMIN, "/council/manage/quadrants"),
        (Role.LA_ADMIN, f"/council/manage/quadrants/{world.quadrant.id}"),
        (Role.SCHOOL_BUSINESS_MANAGER, "/catalogue"),
    ]:
        response = as_role(role).get(path)
        assert response.status_code in (200, 404), path
        response = as_role(role).get(f"{path}{'&' if '?' in path else '?'}year={year.start_year}")
        assert response.status_code in (200, 404), path
    assert not writes, _listed(writes)


def test_the_command_line_sets_up_this_year_and_the_two_ahead(app: Flask, world: Any) -> None:
    this = world.year.start_year
    runner = app.test_cli_runner()
    result = runner.invoke(args=["academic-years", "ensure"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{world.year.label}: 1 September {this} to 31 August {this + 1}")
    assert lines[0].endswith("already set up.") and lines[2].endswith("set up now.")
    db.session.expire_all()
    assert [y.start_year for y in catalogue.price_years()] == [this, this + 1, this + 2]
    again = runner.invoke(args=["academic-years", "ensure"])
    assert again.output.count("already set up.") == 3


def test_the_prices_page_offers_only_the_years_set_up(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_ADMIN)
    page = client.get(f"/council/manage/services/{world.service.id}").soup
    offered = [o.get_text(strip=True) for o in page.select("select[name=year] option")]
    assert offered == [world.year.label]
    client.post_form("/council/manage/academic-years")  # the service manager adds the next
    page = client.get(f"/council/manage/services/{world.service.id}").soup
    offered = [o.get_text(strip=True) for o in page.select("select[name=year] option")]
    assert len(offered) == 2 and offered[0] == world.year.label
