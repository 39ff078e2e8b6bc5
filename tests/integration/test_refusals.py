"""A refused request keeps nothing: the commit hook rolls back when a service's DomainError
reached the view, whether the page answers with the form again or a flash and a redirect."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import confirmed_order, make_service, submitted_order
from traded_app.extensions import db
from traded_app.models import Order, QuadrantDistrict, School
from traded_app.models.types import Role
from traded_app.services.ordering import basket, workflow


def test_a_refusal_after_a_change_saves_nothing_though_the_answer_is_a_redirect(
    as_role: Any, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = submitted_order(world, {world.service: 4})
    db.session.commit()

    def confirm_then_refuse(order: Order, user: Any) -> None:
        order.school.name = "Renamed by a refused step"
        db.session.flush()
        raise basket.OrderError("The council cannot confirm this order today")

    monkeypatch.setattr(workflow, "confirm", confirm_then_refuse)
    client = as_role(Role.LA_ADMIN)
    response = client.post_form(f"/orders/{order.id}/confirm")
    assert response.status_code == 302
    page = client.get(response.location)
    assert "The council cannot confirm this order today." in page.soup.get_text(" ")
    assert db.session.get(School, world.school.id).name == "Riverside Primary School"


def test_a_form_refused_halfway_saves_none_of_it(as_role: Any, world: Any) -> None:
    confirmed_order(world, 6)  # 3 days sold this year
    client = as_role(Role.LA_ADMIN)
    page = client.post_form(
        f"/council/manage/quadrants/{world.quadrant.id}",
        {"districts": "Chelmsford\nMaldon", f"capacity_{world.year.start_year}": "2"},
    )
    assert page.status_code == 200
    assert "has already sold 3 days" in page.soup.select_one(".govuk-error-summary").get_text()
    # The districts were set before the capacity was refused: the request rolled them back.
    assert db.session.execute(select(QuadrantDistrict)).scalars().all() == []


def test_a_refused_line_of_the_catalogue_keeps_the_lines_that_were_saved(
    as_role: Any, world: Any
) -> None:
    # Each line is its own step, refused or saved inside the ordering service: the valid line
    # of the same form is kept.
    second = make_service("GOVREV", world.year, name="Review of governance", half_days=(4, 2, 6))
    db.session.commit()
    page = as_role(Role.SCHOOL_BUSINESS_MANAGER).post_form(
        "/catalogue", {f"days-{world.service.id}": "2", f"days-{second.id}": "0.5"}
    )
    assert page.status_code == 200
    assert "Review of governance can be ordered for 1 to 3 days" in page.soup.get_text(" ")
    draft = db.session.execute(select(Order).where(Order.school_id == world.school.id)).scalar_one()
    assert {line.service_id: line.half_days for line in draft.lines} == {world.service.id: 4}


def test_a_record_no_view_looks_for_answers_the_not_found_page(as_role: Any, world: Any) -> None:
    page = as_role(Role.LA_ADMIN).get("/council/manage/services/999999")
    assert page.status_code == 404
    assert page.soup.h1.get_text(strip=True) == "Page not found"
