"""Feedback on visits: asked once when a visit is delivered, given once by a headteacher of the
school, read by the service manager by service, adviser and quadrant."""

from __future__ import annotations

from typing import Any

from tests.conftest import text_of
from tests.factories import book_visit, confirmed_order, core_allocation, make_user, weekday_in_year
from traded_app.extensions import db
from traded_app.models import OutgoingEmail, VisitFeedback
from traded_app.models.types import Role
from traded_app.services.days import feedback, visits


def _delivered(world: Any, against: str = "core") -> Any:
    visit = book_visit(world, on=weekday_in_year(world, past=True), half_days=1, against=against)
    visits.deliver(visit, world.users[Role.ADVISER], "Reviewed the plan")
    db.session.commit()
    return visit


def _errors(response: Any) -> list[str]:
    return [a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")]


def test_delivering_a_visit_asks_the_headteacher_once(
    app: Any, as_role: Any, world: Any, monkeypatch: Any
) -> None:
    monkeypatch.setitem(app.config, "APP_BASE_URL", "https://traded.example")
    core_allocation(world, 4)
    visit = _delivered(world)
    asked = db.session.query(OutgoingEmail).filter_by(kind="visit_feedback", ref_id=visit.id).all()
    assert [m.recipients for m in asked] == [world.users[Role.HEADTEACHER].email]
    assert f"https://traded.example/days/visits/{visit.id}/feedback" in asked[0].body
    feedback.ask_for(visit)  # again: nothing more
    db.session.commit()
    assert db.session.query(OutgoingEmail).filter_by(kind="visit_feedback").count() == 1

    head = as_role(Role.HEADTEACHER)
    days = head.get("/days")
    assert "Tell us how this visit went" in text_of(days.soup, "#feedback-waiting")
    # The business manager is not asked: the headteacher is.
    assert (
        as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/days").soup.select_one("#feedback-waiting")
        is None
    )

    done = head.post_form(
        f"/days/visits/{visit.id}/feedback", {"rating": "4", "comment": "Clear next steps."}
    )
    assert done.status_code == 302
    row = db.session.query(VisitFeedback).one()
    assert (row.rating, row.comment, row.given_by_id) == (
        4,
        "Clear next steps.",
        world.users[Role.HEADTEACHER].id,
    )
    assert head.get("/days").soup.select_one("#feedback-waiting") is None
    again = head.post_form(f"/days/visits/{visit.id}/feedback", {"rating": "1"})
    assert "You rated this visit 4: Good" in text_of(again.soup, "#given")
    assert db.session.query(VisitFeedback).one().rating == 4
    detail = as_role(Role.LA_ADMIN).get(f"/visits/{visit.id}")
    assert "4 out of 5: Clear next steps." in detail.get_data(as_text=True)


def test_bad_ratings_are_refused_on_the_form(as_role: Any, world: Any) -> None:
    core_allocation(world, 4)
    visit = _delivered(world)
    head = as_role(Role.HEADTEACHER)
    url = f"/days/visits/{visit.id}/feedback"
    assert "Select how the visit went, from 1 to 5" in _errors(head.post_form(url, {}))
    assert "Not a valid choice." in _errors(head.post_form(url, {"rating": "9"}))
    too_long = head.post_form(url, {"rating": "3", "comment": "x" * 2001})
    assert "Comments must be 2000 characters or fewer" in _errors(too_long)
    assert db.session.query(VisitFeedback).count() == 0


def test_only_the_schools_headteacher_rates_a_delivered_visit(as_role: Any, world: Any) -> None:
    core_allocation(world, 4)
    visit = _delivered(world)
    scheduled = book_visit(world, half_days=1)
    other_head = make_user("head@hilltop.example", Role.HEADTEACHER, world.other_school)
    db.session.commit()
    client = as_role(None).sign_in_as(other_head)
    assert client.get(f"/days/visits/{visit.id}/feedback").status_code == 404
    head = as_role(Role.HEADTEACHER)
    assert head.get(f"/days/visits/{scheduled.id}/feedback").status_code == 404
    assert head.get("/days/visits/99999999999/feedback").status_code == 404
    sbm = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert sbm.get(f"/days/visits/{visit.id}/feedback").status_code == 403


def test_the_service_manager_sees_ratings_by_service_adviser_and_quadrant(
    as_role: Any, world: Any
) -> None:
    core_allocation(world, 4)
    order = confirmed_order(world, 2)
    head = world.users[Role.HEADTEACHER]
    for visit, rating in ((_delivered(world), 5), (_delivered(world, str(order.lines[0].id)), 2)):
        feedback.give(visit, head, rating, f"Rated {rating}")
    db.session.commit()
    admin = as_role(Role.LA_ADMIN)
    by_service = admin.get("/council/feedback?by=service")
    rows = {
        r.th.get_text(strip=True): r.select("td")[0].get_text(" ", strip=True)
        for r in by_service.soup.select("#ratings tbody tr")
    }
    assert rows == {"Core days": "5.0 (1)", "Headteacher performance management": "2.0 (1)"}
    by_adviser = admin.get("/council/feedback?by=adviser&months=6")
    rows = {
        r.th.get_text(strip=True): r.select("td")[0].get_text(" ", strip=True)
        for r in by_adviser.soup.select("#ratings tbody tr")
    }
    assert rows == {world.users[Role.ADVISER].name: "3.5 (2)"}
    by_quadrant = admin.get("/council/feedback?by=quadrant&months=999")
    assert "Mid" in text_of(by_quadrant.soup, "#ratings")
    assert len(by_quadrant.soup.select("#ratings thead th")) == 2 + 12  # a bad choice: 12 months
    assert "Rated 2" in text_of(by_quadrant.soup, "#comments")


def test_rating_averages_are_worked_out_in_whole_numbers() -> None:
    assert [
        feedback.average(1, 5),
        feedback.average(2, 7),
        feedback.average(3, 10),
        feedback.average(3, 11),
        feedback.average(6, 13),
    ] == ["5.0", "3.5", "3.3", "3.7", "2.2"]
