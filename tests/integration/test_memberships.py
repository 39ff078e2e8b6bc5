"""One person, several schools: the header's switch, and only the chosen school's records."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import func, select

from tests.conftest import text_of
from tests.factories import charged_order, make_user, submitted_order
from traded_app.extensions import db
from traded_app.models import OutgoingEmail, SchoolMembership, User
from traded_app.models.types import Role
from traded_app.services.platform import memberships


def _two_schools(world: Any) -> Any:
    """The world's business manager also serves the academy, as its business manager."""
    sbm = world.users[Role.SCHOOL_BUSINESS_MANAGER]
    memberships.add(sbm, world.academy.id, Role.SCHOOL_BUSINESS_MANAGER)
    db.session.commit()
    return sbm


def _switch(client: Any, school_id: int) -> Any:
    return client.post_form("/school/switch", {"school_id": str(school_id)})


def test_every_school_user_has_a_membership_for_their_first_school(world: Any) -> None:
    rows = db.session.execute(
        select(SchoolMembership.user_id, SchoolMembership.school_id, SchoolMembership.role)
    ).all()
    head = world.users[Role.HEADTEACHER]
    assert (head.id, world.school.id, Role.HEADTEACHER) in rows
    assert len(rows) == 3  # two at Riverside, one at the academy; no council user


def test_header_switch_shows_only_the_chosen_schools_records(world: Any, as_role: Any) -> None:
    sbm = _two_schools(world)
    riverside_order = submitted_order(world, po_number="PO-RIVERSIDE")
    academy_order = submitted_order(world, school=world.academy, po_number="PO-ACADEMY")
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)

    page = client.get("/orders")
    assert "Riverside Primary School" in text_of(page.soup, ".app-header__user")
    assert riverside_order.reference in page.get_data(as_text=True)
    assert academy_order.reference not in page.get_data(as_text=True)
    assert client.get(f"/orders/{academy_order.id}").status_code == 404
    switch = page.soup.select_one("form.app-school-switch")
    assert switch is not None and switch.select_one("select[name=school_id]") is not None

    answer = _switch(client, world.academy.id)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/school")

    page = client.get("/orders")
    assert "Meadow Academy" in text_of(page.soup, ".app-header__user")
    assert academy_order.reference in page.get_data(as_text=True)
    assert riverside_order.reference not in page.get_data(as_text=True)
    assert client.get(f"/orders/{riverside_order.id}").status_code == 404
    assert client.get(f"/orders/{academy_order.id}").status_code == 200
    # Another session of the same person is still at their first school: the choice is the
    # session's, never written to the account.
    other_session = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert riverside_order.reference in other_session.get("/orders").get_data(as_text=True)
    db.session.refresh(sbm)
    assert sbm.school_id == world.school.id


def test_documents_follow_the_chosen_school(world: Any, as_role: Any) -> None:
    _two_schools(world)
    _order, recharge = charged_order(world)
    _order, invoice = charged_order(world, school=world.academy)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    listing = client.get("/invoices").get_data(as_text=True)
    assert recharge.number in listing and invoice.number not in listing
    assert client.get(f"/documents/{invoice.id}").status_code == 404
    _switch(client, world.academy.id)
    listing = client.get("/invoices").get_data(as_text=True)
    assert invoice.number in listing and recharge.number not in listing
    assert client.get(f"/documents/{recharge.id}").status_code == 404
    assert client.get(f"/documents/{invoice.id}").status_code == 200


def test_switching_to_a_school_without_a_membership_is_refused(world: Any, as_role: Any) -> None:
    _two_schools(world)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    answer = _switch(client, world.other_school.id)
    assert answer.status_code == 403
    assert "You cannot switch to that school" in answer.get_data(as_text=True)
    assert "nothing has changed" in answer.get_data(as_text=True)
    page = client.get("/school")
    assert "Riverside Primary School" in text_of(page.soup, ".app-header__user")
    assert _switch(client, 999_999).status_code == 403
    assert _switch(client, "not a number").status_code == 403  # type: ignore[arg-type]


def test_a_membership_taken_away_ends_the_choice(world: Any, as_role: Any) -> None:
    sbm = _two_schools(world)
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    _switch(client, world.academy.id)
    assert "Meadow Academy" in text_of(client.get("/school").soup, ".app-header__user")
    db.session.delete(memberships.membership(sbm.id, world.academy.id))
    db.session.commit()
    page = client.get("/school")
    assert "Riverside Primary School" in text_of(page.soup, ".app-header__user")


def test_a_single_school_has_no_switch(world: Any, as_role: Any) -> None:
    page = as_role(Role.HEADTEACHER).get("/school")
    assert page.soup.select_one("form.app-school-switch") is None


def test_role_at_the_chosen_school_decides_approval(world: Any, as_role: Any) -> None:
    """Headteacher at one school, business manager at another: approving is for the school
    where they are the headteacher."""
    person = make_user("both@school.example", Role.SCHOOL_BUSINESS_MANAGER, world.academy)
    memberships.add(person, world.school.id, Role.HEADTEACHER)
    world.school.approval_limit_pence = 100
    db.session.commit()
    order = submitted_order(world)
    assert order.status.value == "awaiting_approval"
    client = as_role(None).sign_in_as(person)
    assert client.get("/school/ordering-rules").status_code == 403
    assert client.post_form(f"/orders/{order.id}/approve").status_code == 403
    _switch(client, world.school.id)
    assert client.get("/school/ordering-rules").status_code == 200
    answer = client.post_form(f"/orders/{order.id}/approve")
    assert answer.status_code == 302
    db.session.refresh(order)
    assert order.status.value == "submitted"


def test_school_staff_see_who_has_access(world: Any, as_role: Any) -> None:
    make_user("new@school.example", Role.HEADTEACHER, world.school).password_hash = "!unset:x"
    make_user("elsewhere@school.example", Role.HEADTEACHER, world.other_school)
    person = make_user("deputy@school.example", Role.SCHOOL_BUSINESS_MANAGER, world.other_school)
    memberships.add(person, world.school.id, Role.SCHOOL_BUSINESS_MANAGER)
    db.session.commit()
    page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/school/people")
    rows = [
        (
            text_of(row, "td:nth-child(1)"),
            text_of(row, "td:nth-child(2)"),
            text_of(row, "td:nth-child(3)"),
        )
        for row in page.soup.select("tbody tr")
    ]
    assert rows == [
        ("Deputy", "School business manager", "Accepted"),
        ("Head", "Headteacher", "Accepted"),
        ("New", "Headteacher", "Not yet accepted"),
        ("Sbm", "School business manager", "Accepted"),
    ]
    assert "Elsewhere" not in page.get_data(as_text=True)


def test_service_manager_adds_an_existing_person_to_another_school(
    world: Any, as_role: Any
) -> None:
    sbm = world.users[Role.SCHOOL_BUSINESS_MANAGER]
    admin = as_role(Role.LA_ADMIN)
    url = f"/council/manage/users/{sbm.id}/schools"
    refused = admin.post_form(url, {"membership_urn": "999999", "membership_role": "headteacher"})
    assert refused.status_code == 200
    assert "There is no school with URN 999999" in text_of(refused.soup, ".govuk-error-summary")
    answer = admin.post_form(
        url,
        {"membership_urn": str(world.academy.urn), "membership_role": "headteacher"},
        follow_redirects=True,
    )
    assert "now has a role at Meadow Academy" in text_of(answer.soup, ".govuk-notification-banner")
    assert "Meadow Academy (100003) Headteacher" in text_of(answer.soup, "main")
    told = _emails_to(sbm.email)
    assert [m.subject for m in told] == ["You now have a role at Meadow Academy"]
    assert "a role at Meadow Academy (URN 100003) as headteacher" in told[0].body
    assert "Switch school" in told[0].body and "http://localhost/sign-in" in told[0].body
    again = admin.post_form(
        url, {"membership_urn": str(world.academy.urn), "membership_role": "headteacher"}
    )
    assert "already has a role at Meadow Academy" in text_of(again.soup, ".govuk-error-summary")
    # Their first school stays; the new role is theirs at the academy only.
    choices = {c.school_id: c.role for c in memberships.choices_of(sbm)}
    assert choices == {
        world.school.id: Role.SCHOOL_BUSINESS_MANAGER,
        world.academy.id: Role.HEADTEACHER,
    }
    removed = admin.post_form(
        f"/council/manage/users/{sbm.id}/schools/{world.academy.id}/remove",
        follow_redirects=True,
    )
    assert "no longer has a role" in text_of(removed.soup, ".govuk-notification-banner")
    assert [c.school_id for c in memberships.choices_of(sbm)] == [world.school.id]


def test_staff_import_adds_a_person_from_another_school(world: Any, as_role: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    csv = (
        "URN,Name,Email,Role\n"
        f"{world.academy.urn},Sbm,sbm@school.example,headteacher\n"
        f"{world.school.urn},Sbm,sbm@academy.example,school business manager\n"
    ).encode()
    response = admin.post_form(
        "/council/manage/users/import",
        {"file": (io.BytesIO(csv), "staff.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = admin.get(response.location)
    assert text_of(page.soup, "#count-add") == "2"
    assert text_of(page.soup, "#count-refuse") == "0"
    line = text_of(page.soup, "#line-2")
    assert "Added to another school" in line
    assert "Already has an account at Riverside Primary School" in line
    before = db.session.execute(select(func.count()).select_from(User)).scalar_one()
    assert admin.post_form(response.location).status_code == 302
    after = db.session.execute(select(func.count()).select_from(User)).scalar_one()
    assert after == before  # no new account: a new role for the same person
    sbm = world.users[Role.SCHOOL_BUSINESS_MANAGER]
    assert {c.school_id: c.role for c in memberships.choices_of(sbm)} == {
        world.school.id: Role.SCHOOL_BUSINESS_MANAGER,
        world.academy.id: Role.HEADTEACHER,
    }
    # Confirmed again (another upload of the same file): nothing more to do.
    page = admin.get(
        admin.post_form(
            "/council/manage/users/import",
            {"file": (io.BytesIO(csv), "staff.csv")},
            content_type="multipart/form-data",
        ).location
    )
    assert text_of(page.soup, "#count-nothing") == "2"
    # Each person added to another school was told once, of that school alone.
    assert [m.subject for m in _emails_to("sbm@school.example")] == [
        "You now have a role at Meadow Academy"
    ]
    assert [m.subject for m in _emails_to("sbm@academy.example")] == [
        "You now have a role at Riverside Primary School"
    ]


def _emails_to(address: str) -> list[OutgoingEmail]:
    return list(
        db.session.execute(
            select(OutgoingEmail)
            .where(OutgoingEmail.recipients == address)
            .where(OutgoingEmail.subject.like("You now have a role at %"))
            .order_by(OutgoingEmail.id)
        ).scalars()
    )


def test_the_choice_survives_a_commit_and_is_never_written(world: Any) -> None:
    """Views may commit or roll back mid-request (expiring the signed-in user): the user still
    reads as the chosen school, and saving another change to the account leaves the row's first
    school as it was."""
    sbm = _two_schools(world)
    assert memberships.apply_choice(sbm, world.academy.id) == world.academy.id
    assert memberships.apply_choice(sbm, world.other_school.id) is None  # not theirs
    assert (sbm.school_id, sbm.school.name) == (world.academy.id, "Meadow Academy")
    sbm.name = "Sam Renamed"
    db.session.commit()
    assert (sbm.school_id, sbm.role) == (world.academy.id, Role.SCHOOL_BUSINESS_MANAGER)
    assert sbm.school.name == "Meadow Academy"
    db.session.rollback()
    assert sbm.school_id == world.academy.id
    row = db.session.execute(
        select(User.school_id, User.name)
        .where(User.id == sbm.id)
        .execution_options(populate_existing=False)
    ).one()
    assert tuple(row) == (world.school.id, "Sam Renamed")
