"""Partnership plans (issue 18 part 5): non-negotiable activities required, planned vs booked vs
delivered; visits for several of a partnership's schools that draw its core days once; and who
sees a plan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import text_of
from tests.factories import core_allocation, make_school, make_user, weekday_in_year
from tests.plans_factories import second_member, shared_visit, started_plan
from traded_app.domain.types import CancelledBy
from traded_app.extensions import db
from traded_app.models import OutgoingEmail, Partnership, Visit, VisitStatus
from traded_app.models.types import Role
from traded_app.services.days import activities, plans, shared_visits, visits
from traded_app.services.days import ledger as days_ledger


def _errors(response: Any) -> list[str]:
    return [a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")]


def _core(school: Any, world: Any) -> days_ledger.Figures:
    return days_ledger.school_ledger(school.id, world.year.id).core


def test_a_plan_is_agreed_only_when_every_non_negotiable_activity_is_in_it(
    as_role: Any, world: Any
) -> None:
    activities.ensure_non_negotiable_activities()
    required = [a for a in activities.activities() if a.non_negotiable]
    agreed_with_schools = activities.save_activity(None, "Moderation of writing", "", False)
    db.session.commit()
    admin = as_role(Role.LA_ADMIN)
    url = f"/council/plans/{world.partnership.id}"
    assert "has no plan" in text_of(admin.get(url).soup, "#no-plan")
    started = admin.post_form(f"{url}/start", {"adviser_id": str(world.users[Role.ADVISER].id)})
    assert started.status_code == 302
    plan = plans.plan_for(world.partnership.id, world.year.id)
    assert plan is not None and plan.adviser_id == world.users[Role.ADVISER].id

    # The partnership's adviser writes it: the first non-negotiable activity and an agreed one.
    adviser = as_role(Role.ADVISER)
    for activity, days in ((required[0], "2"), (agreed_with_schools, "1.5")):
        saved = adviser.post_form(
            f"{url}/activities",
            {
                "activity_id": str(activity.id),
                "school_ids": [str(world.school.id)],
                "planned_days": days,
                "planned_when": "Autumn term",
            },
        )
        assert saved.status_code == 302, _errors(saved)

    refused = adviser.post_form(f"{url}/agree", {"agreed_note": "Heads' meeting, 15 September"})
    assert refused.status_code == 200
    (message,) = _errors(refused)
    assert "Every non-negotiable activity must be in the plan" in message
    for activity in required[1:]:
        assert activity.name in message
    assert required[0].name not in message

    # An activity agreed with schools is never "left out with a reason": it is just not planned.
    wrong = adviser.post_form(
        f"{url}/activities",
        {"activity_id": str(agreed_with_schools.id), "omitted_reason": "Not this year"},
    )
    assert "Only a non-negotiable activity is left out with a reason" in _errors(wrong)[0]

    # The others planned, one left out with the reason: now it can be agreed.
    for activity in required[1:-1]:
        adviser.post_form(
            f"{url}/activities",
            {
                "activity_id": str(activity.id),
                "school_ids": [str(world.school.id)],
                "planned_days": "0.5",
            },
        )
    adviser.post_form(
        f"{url}/activities",
        {
            "activity_id": str(required[-1].id),
            "omitted_reason": "No school's vulnerable pupils' outcomes cause concern this year",
        },
    )
    agreed = adviser.post_form(f"{url}/agree", {"agreed_note": "Heads' meeting, 15 September"})
    assert agreed.status_code == 302, _errors(agreed)
    page = admin.get(url)
    assert "Left out: No school's vulnerable pupils'" in text_of(page.soup, "#plan-figures")
    db.session.expire_all()
    plan = plans.plan_for(world.partnership.id, world.year.id)
    assert plan is not None and plan.agreed_at is not None

    # Another adviser is not the partnership's: refused with the reason, nothing changed.
    other = make_user("other.adviser@council.example", Role.ADVISER)
    db.session.commit()
    with pytest.raises(plans.PlanError, match="the partnership's adviser"):
        plans.save_item(
            plan,
            plans.ItemDetails(required[0].id, [world.school.id], 8),
            other,
        )


def test_a_plan_shows_days_planned_booked_and_delivered(as_role: Any, world: Any) -> None:
    other = second_member(world)
    core_allocation(world, 4)
    core_allocation(world, 4, school=other)
    plan = started_plan(world, [world.school, other], half_days=4)
    past = weekday_in_year(world, past=True)
    delivered = shared_visit(world, plan, [world.school, other], on=past)
    shared_visits.deliver(delivered, world.users[Role.ADVISER], "Looked at the data together")
    db.session.commit()
    shared_visit(world, plan, [world.school, other], half_days=1)

    figures = plans.figures(plan, world.partnership.id, world.year.id)
    first = figures.items[0]
    assert (first.planned, first.booked, first.delivered) == (4, 1, 2)
    assert figures.partnership_half_days == 8
    assert figures.planned == 4 + 3  # the other three non-negotiable activities: 1 half-day each

    page = as_role(Role.LA_ADMIN).get(f"/council/plans/{world.partnership.id}")
    assert text_of(page.soup, "#total-planned") == "3.5"
    assert text_of(page.soup, "#total-booked") == "0.5"
    assert text_of(page.soup, "#total-delivered") == "1"
    assert text_of(page.soup, "#partnership-days") == "4 days"
    visits_table = text_of(page.soup, "#partnership-visits")
    assert "Looked at the data together" in visits_table
    assert f"{world.school.name}, {other.name}" in visits_table or (
        f"{other.name}, {world.school.name}" in visits_table
    )


def test_a_visit_for_two_schools_draws_the_partnerships_days_once(as_role: Any, world: Any) -> None:
    other = second_member(world)
    core_allocation(world, 4)
    core_allocation(world, 4, school=other)
    plan = started_plan(world, [world.school, other])
    day = weekday_in_year(world)
    shared = shared_visit(world, plan, [world.school, other], on=day, half_days=2)

    # A whole day for two schools: half a day from each, one day from the partnership.
    assert sorted(v.half_days for v in shared.visits) == [1, 1]
    assert (_core(world.school, world).scheduled, _core(other, world).scheduled) == (1, 1)
    assert visits.booked_half_days(world.users[Role.ADVISER].id, day) == 2

    # Each school's Days page shows it, and says it was shared.
    own = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/days").get_data(as_text=True)
    assert "a partnership visit with other schools" in own
    head_of_other = db.session.query(type(world.users[Role.HEADTEACHER])).filter_by(
        email="head100004@school.example"
    )[0]
    client = world_client(as_role, head_of_other)
    assert "a partnership visit with other schools" in client.get("/days").get_data(as_text=True)

    # Each school's part is delivered or cancelled with the others, never alone.
    with pytest.raises(visits.VisitError, match="partnership visit PV-"):
        visits.cancel(
            shared.visits[0], world.users[Role.LA_ADMIN], CancelledBy.COUNCIL, "Ill", on=None
        )
    db.session.rollback()

    # Cancelling gives every share back.
    cancelled = as_role(Role.ADVISER).post_form(
        f"/council/shared-visits/{shared.id}/cancel",
        {"party": "council", "reason": "Adviser unwell"},
    )
    assert cancelled.status_code == 302
    db.session.expire_all()
    assert {v.status for v in db.session.query(Visit).filter_by(shared_visit_id=shared.id)} == {
        VisitStatus.CANCELLED
    }
    assert (_core(world.school, world).not_yet_booked, _core(other, world).not_yet_booked) == (4, 4)
    assert visits.booked_half_days(world.users[Role.ADVISER].id, day) == 0


def world_client(as_role: Any, user: Any) -> Any:
    return as_role.app.test_client().sign_in_as(user)


def test_a_half_day_for_two_schools_is_drawn_from_the_one_with_more_days_left(
    world: Any,
) -> None:
    other = second_member(world)
    core_allocation(world, 2)
    core_allocation(world, 4, school=other)
    plan = started_plan(world, [world.school, other])
    shared = shared_visit(world, plan, [world.school, other], half_days=1)
    shares = {v.school_id: v.half_days for v in shared.visits}
    assert shares == {world.school.id: 0, other.id: 1}
    # Each school's share is its own: a school with no core days left cannot share a visit that
    # needs some of its days.
    later = weekday_in_year(world) + timedelta(days=7)
    shared_visit(world, plan, [world.school], on=later, half_days=2)
    with pytest.raises(visits.VisitError, match=f"{world.school.name}'s core allocation has no"):
        shared_visit(world, plan, [world.school, other], on=later + timedelta(days=7), half_days=2)
    db.session.rollback()


def test_delivering_a_shared_visit_delivers_it_at_every_school_and_asks_each_head(
    as_role: Any, world: Any
) -> None:
    other = second_member(world)
    core_allocation(world, 4)
    core_allocation(world, 4, school=other)
    plan = started_plan(world, [world.school, other])
    shared = shared_visit(world, plan, [world.school, other], on=weekday_in_year(world, past=True))
    done = as_role(Role.ADVISER).post_form(
        f"/council/shared-visits/{shared.id}/deliver", {"note": "Data analysis with both heads"}
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert (_core(world.school, world).delivered, _core(other, world).delivered) == (1, 1)
    asked = {m.recipients for m in db.session.query(OutgoingEmail).filter_by(kind="visit_feedback")}
    assert asked == {world.users[Role.HEADTEACHER].email, "head100004@school.example"}

    # Each school's part now asks for its own report, written from the shared visit's page.
    page = as_role(Role.ADVISER).get(f"/council/shared-visits/{shared.id}")
    report_cells = [
        row.select("td")[-1].get_text(" ", strip=True)
        for row in page.soup.select("#shares tbody tr")
    ]
    assert len(report_cells) == 2
    assert all(cell.startswith("Not written, due by") for cell in report_cells)
    links = {a["href"] for a in page.soup.select("#shares a") if a["href"].endswith("/report")}
    assert links == {f"/visits/{v.id}/report" for v in shared.visits}


def test_the_plan_is_seen_only_by_the_partnerships_own_schools(as_role: Any, world: Any) -> None:
    other = second_member(world)
    core_allocation(world, 4)
    core_allocation(world, 4, school=other)
    plan = started_plan(world, [world.school, other])
    activity = plan.items[0].activity.name
    shared_visit(world, plan, [world.school, other])

    head = as_role(Role.HEADTEACHER)
    days = head.get("/days")
    assert days.soup.select_one("#partnership-plan-link")["href"].startswith("/days/plan")
    own = head.get("/days/plan")
    assert activity in text_of(own.soup, "#plan-figures")
    assert other.name in own.get_data(as_text=True)

    # A head of a school in another partnership sees that partnership's (no plan), never this one.
    elsewhere = Partnership(name="Hillside partnership", quadrant_id=world.quadrant.id)
    db.session.add(elsewhere)
    db.session.flush()
    outside = make_school(100020, "Hillside Primary", quadrant=world.quadrant)
    outside.partnership_id = elsewhere.id
    outsider = make_user("head@hillside.example", Role.HEADTEACHER, outside)
    db.session.commit()
    client = world_client(as_role, outsider)
    page = client.get("/days/plan")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Hillside partnership has no plan" in text_of(page.soup, "#no-plan")
    assert activity not in body and world.school.name not in body
    # Nor through the council's pages.
    assert client.get(f"/council/plans/{world.partnership.id}").status_code == 403
    # A school in no partnership has no plan to see.
    unpartnered = make_user("head@hilltop.example", Role.HEADTEACHER, world.other_school)
    db.session.commit()
    alone = world_client(as_role, unpartnered).get("/days/plan").get_data(as_text=True)
    assert "not in a partnership" in alone and activity not in alone


def test_a_past_partnership_visit_is_recorded_delivered_with_the_reason(
    as_role: Any, world: Any
) -> None:
    other = second_member(world)
    core_allocation(world, 4)
    core_allocation(world, 4, school=other)
    plan = started_plan(world, [world.school, other])
    day = weekday_in_year(world, past=True)
    form = {
        "plan_item_id": str(plan.items[0].id),
        "school_ids": [str(world.school.id), str(other.id)],
        "adviser_id": str(world.users[Role.ADVISER].id),
        "visit_date": [str(day.day), str(day.month), str(day.year)],
        "half_days": "2",
    }
    url = f"/council/plans/{world.partnership.id}/visits/new"
    adviser = as_role(Role.ADVISER)
    refused = adviser.post_form(url, form)
    assert "visits cannot be booked for past dates" in _errors(refused)[0]
    no_reason = adviser.post_form(url, {**form, "note": "Looked at the data"})
    assert _errors(no_reason) == ["Enter why the visit is recorded after the day"]
    done = adviser.post_form(
        url, {**form, "note": "Looked at the data", "recorded_after_reason": "Arranged by phone"}
    )
    assert done.status_code == 302, _errors(done)
    db.session.expire_all()
    rows = db.session.query(Visit).filter(Visit.shared_visit_id.is_not(None)).all()
    assert {(v.status, v.recorded_after_reason, v.half_days) for v in rows} == {
        (VisitStatus.DELIVERED, "Arranged by phone", 1)
    }
    assert (_core(world.school, world).delivered, _core(other, world).delivered) == (1, 1)
