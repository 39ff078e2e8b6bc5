"""The council's delivery activities: the service manager keeps the list that visit reports and
partnership plans choose from; a retired activity is offered no more but keeps its history."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from tests.conftest import text_of
from traded_app.extensions import db
from traded_app.models import DeliveryActivity
from traded_app.models.types import Role
from traded_app.services.days import activities


def _errors(response: Any) -> list[str]:
    return [a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")]


def test_the_service_manager_adds_changes_and_retires_activities(app: Any, as_role: Any) -> None:
    activities.ensure_non_negotiable_activities()
    db.session.commit()
    admin = as_role(Role.LA_ADMIN)
    page = admin.get("/council/manage/activities")
    listed = text_of(page.soup, "#activities")
    for name in activities.NON_NEGOTIABLE:
        assert name in listed
    assert listed.count("Non-negotiable") == 4

    added = admin.post_form(
        "/council/manage/activities",
        {"name": "  Curriculum   review ", "description": "Subject leads", "non_negotiable": "no"},
    )
    assert added.status_code == 302
    review = db.session.query(DeliveryActivity).filter_by(name="Curriculum review").one()
    assert (review.non_negotiable, review.active, review.description) == (
        False,
        True,
        "Subject leads",
    )
    # Non-negotiable ones are listed first, then the agreed ones.
    assert [a.name for a in activities.activities()][-1] == "Curriculum review"

    changed = admin.post_form(
        f"/council/manage/activities/{review.id}",
        {"name": "Bespoke curriculum review", "description": "", "non_negotiable": "yes"},
    )
    assert changed.status_code == 302
    db.session.refresh(review)
    assert (review.name, review.non_negotiable) == ("Bespoke curriculum review", True)

    retired = admin.post_form(f"/council/manage/activities/{review.id}/active", {})
    assert retired.status_code == 302
    assert review.id not in {a.id for a in activities.activities()}
    assert "Retired" in text_of(admin.get("/council/manage/activities").soup, "#activities")
    admin.post_form(f"/council/manage/activities/{review.id}/active", {})
    assert review.id in {a.id for a in activities.activities()}


def test_bad_activities_are_refused_with_the_reason(app: Any, as_role: Any) -> None:
    activities.ensure_non_negotiable_activities()
    db.session.commit()
    admin = as_role(Role.LA_ADMIN)
    before = db.session.query(DeliveryActivity).count()
    empty = admin.post_form("/council/manage/activities", {"name": " ", "non_negotiable": "no"})
    assert _errors(empty) == ["Enter the activity's name"]
    same = admin.post_form(
        "/council/manage/activities",
        {"name": activities.NON_NEGOTIABLE[0].upper(), "non_negotiable": "no"},
    )
    assert _errors(same) == [
        f"There is already an activity called {activities.NON_NEGOTIABLE[0].upper()}"
    ]
    no_kind = admin.post_form("/council/manage/activities", {"name": "Something new"})
    assert _errors(no_kind) == ["Select whether the activity is non-negotiable"]
    too_long = admin.post_form(
        "/council/manage/activities", {"name": "x" * 121, "non_negotiable": "no"}
    )
    assert _errors(too_long) == ["Activity must be 120 characters or fewer"]
    assert db.session.query(DeliveryActivity).count() == before


def test_only_the_service_manager_keeps_the_list(app: Any, as_role: Any) -> None:
    for role in (Role.ADVISER, Role.LA_FINANCE, Role.HEADTEACHER):
        assert as_role(role).get("/council/manage/activities").status_code == 403


def test_a_new_database_is_given_the_same_non_negotiable_activities() -> None:
    """Migration 0023 loads the four into a new database; the service's list (the demo's, and
    the name checks) must name the same ones."""
    path = Path(activities.__file__).parents[2] / "migrations/versions/0023_delivery_activities.py"
    spec = importlib.util.spec_from_file_location("migration_0023", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.NON_NEGOTIABLE == activities.NON_NEGOTIABLE
