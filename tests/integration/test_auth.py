"""Signing in and out, sessions and CSRF, as a person at the keyboard sees them (the sign-in
limits are in test_sign_in_limits.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.conftest import text_of
from tests.factories import PASSWORD
from traded_app.extensions import db
from traded_app.models import User
from traded_app.models.types import Role
from traded_app.services.platform import auth as auth_service

FAILED = "Enter a correct email address and password"


def sign_in(client: Any, email: str, password: str, next_url: str | None = None) -> Any:
    url = "/sign-in" + (f"?next={next_url}" if next_url else "")
    return client.post_form(url, {"email": email, "password": password})


def test_sign_in_page_is_the_front_door(client: Any) -> None:
    response = client.get("/", follow_redirects=True)
    assert response.request.path == "/sign-in"
    assert response.soup.h1.get_text(strip=True) == "Sign in"
    assert response.soup.select_one("input#email")["autocomplete"] == "username"
    assert response.soup.select_one("input#password")["type"] == "password"


def test_school_business_manager_lands_on_their_school(client: Any, world: Any) -> None:
    response = sign_in(client, "SBM@School.example ", PASSWORD)
    assert response.status_code == 302
    page = client.get(response.location, follow_redirects=True)
    assert page.soup.h1.get_text(strip=True) == "Riverside Primary School"
    assert f"Academic year {world.year.label}" in text_of(page.soup, "main")
    link = page.soup.find("a", string=lambda s: s and "catalogue" in s.lower())
    assert link is not None and link["href"] == "/catalogue"
    catalogue = client.get("/catalogue")
    assert "Headteacher performance management" in text_of(catalogue.soup, "main")
    assert "£450.00" in text_of(catalogue.soup, "main")


def test_council_users_land_on_the_council_side(client: Any, world: Any) -> None:
    for email in ("finance@council.example", "admin@council.example"):
        fresh = client.application.test_client()
        response = sign_in(fresh, email, PASSWORD)
        page = fresh.get(response.location, follow_redirects=True)
        assert page.request.path == "/council/"
        assert page.soup.h1.get_text(strip=True) == "Traded services overview"
        assert "Mid" in text_of(page.soup, "table")


def test_wrong_password_and_unknown_email_get_the_same_message(client: Any, world: Any) -> None:
    wrong = sign_in(client, "sbm@school.example", "not the password")
    unknown = sign_in(client, "nobody@school.example", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert text_of(response.soup, ".govuk-error-summary") == f"There is a problem {FAILED}"
        assert response.soup.title.get_text().startswith("Error: ")
        # The address typed is kept; the password never is.
        assert response.soup.select_one("input#password").get("value") in (None, "")
    assert wrong.soup.select_one("input#email")["value"] == "sbm@school.example"


def test_missing_fields_show_govuk_errors_linked_to_the_fields(client: Any, world: Any) -> None:
    response = sign_in(client, "", "")
    links = {
        a["href"]: a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")
    }
    assert links == {"#email": "Enter your email address", "#password": "Enter your password"}
    assert "Enter your email address" in text_of(response.soup, "#email-error")


def _write_elsewhere(statement: Any) -> None:
    """Another request's write, on a connection of its own, that will not wait long for a lock."""
    with db.engine.connect() as other:
        if other.dialect.name == "sqlite":
            other.exec_driver_sql("PRAGMA busy_timeout = 200")
        other.execute(statement)
        other.commit()


def test_others_can_write_while_a_password_is_being_checked(
    client: Any, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking an argon2 hash takes a fifth of a second of CPU, seconds on a busy morning. On
    SQLite a sign-in's transaction held the database's one write lock all that time, so every
    day-count change, order and payment waited behind each sign-in."""
    db.session.commit()
    real_verify = auth_service._verify
    written: list[str] = []

    def verify_while_another_writes(password_hash: str, password: str) -> bool:
        # "database is locked" here (after 0.2 s) if this sign-in holds the write lock.
        _write_elsewhere(
            update(User).where(User.email == "finance@council.example").values(name="Meanwhile")
        )
        written.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth_service, "_verify", verify_while_another_writes)
    response = sign_in(client, "sbm@school.example", PASSWORD)
    assert response.status_code == 302
    assert written == [PASSWORD]
    assert client.get("/school").status_code == 200
    db.session.expire_all()
    signed_in = db.session.execute(select(User).where(User.email == "sbm@school.example"))
    assert signed_in.scalar_one().last_sign_in_at is not None
    finance = db.session.execute(select(User).where(User.email == "finance@council.example"))
    assert finance.scalar_one().name == "Meanwhile"


def test_a_password_changed_while_it_was_being_checked_does_not_sign_in(
    client: Any, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old password, checked just as a reset set a new one, is refused, not let in."""
    db.session.commit()
    real_verify = auth_service._verify
    new_hash = auth_service.hash_password("a brand new password")

    def verify_during_a_reset(password_hash: str, password: str) -> bool:
        _write_elsewhere(
            update(User).where(User.email == "sbm@school.example").values(password_hash=new_hash)
        )
        return real_verify(password_hash, password)

    monkeypatch.setattr(auth_service, "_verify", verify_during_a_reset)
    response = sign_in(client, "sbm@school.example", PASSWORD)
    assert response.status_code == 200
    assert FAILED in text_of(response.soup, ".govuk-error-summary")


def test_deactivated_user_cannot_sign_in_and_is_signed_out(client: Any, world: Any) -> None:
    user = world.users[Role.HEADTEACHER]
    client.sign_in_as(user)
    assert client.get("/school").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/school").location.startswith("/sign-in")
    assert FAILED in text_of(sign_in(client, "head@school.example", PASSWORD).soup, "main")


def test_sign_out_ends_the_session(client: Any, world: Any) -> None:
    client.sign_in_as(world.users[Role.LA_FINANCE])
    response = client.post_form("/sign-out", follow_redirects=True)
    assert "You have been signed out." in text_of(response.soup, ".govuk-notification-banner")
    assert client.get("/council/").location.startswith("/sign-in?next=/council/")


def test_a_copied_session_cookie_stops_working_after_sign_out(client: Any, world: Any) -> None:
    assert sign_in(client, "finance@council.example", PASSWORD).status_code == 302
    copied = client.get_cookie("traded_session").value
    client.post_form("/sign-out")
    thief = client.application.test_client()
    thief.set_cookie("traded_session", copied)
    assert thief.get("/council/").location.startswith("/sign-in")


def test_htmx_post_carries_csrf_in_the_header(client: Any, world: Any) -> None:
    client.sign_in_as(world.users[Role.LA_FINANCE])
    token = client.csrf_token()  # what <body hx-headers> hands to htmx
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    response = client.post("/sign-out", headers=headers, check=False)  # a redirect, not a page
    assert response.status_code == 302
    assert client.get("/council/").location.startswith("/sign-in")


def test_sign_out_needs_a_post_with_csrf(client: Any, world: Any) -> None:
    client.sign_in_as(world.users[Role.LA_FINANCE])
    assert client.get("/sign-out").status_code == 405
    response = client.post("/sign-out", data={})
    assert response.status_code == 400
    assert response.soup.h1.get_text(strip=True) == "Your form could not be sent"
    assert client.get("/council/").status_code == 200  # still signed in


def test_idle_session_expires_with_a_message(client: Any, world: Any) -> None:
    client.sign_in_as(world.users[Role.LA_ADMIN])
    idle = client.application.config["SESSION_IDLE_MINUTES"] * 60
    with client.session_transaction() as session:
        session["last_seen"] = int(time.time()) - idle - 5
    response = client.get("/council/", follow_redirects=True)
    assert response.request.path == "/sign-in"
    assert "Your session expired" in text_of(response.soup, ".govuk-notification-banner")


def test_session_ends_at_its_maximum_age_however_busy(client: Any, world: Any) -> None:
    client.sign_in_as(world.users[Role.LA_ADMIN])
    max_age = client.application.permanent_session_lifetime.total_seconds()
    with client.session_transaction() as session:
        session["signed_in_at"] = int(time.time() - max_age) - 5
    response = client.get("/council/", follow_redirects=True)
    assert response.request.path == "/sign-in"
    assert "Your session expired" in text_of(response.soup, ".govuk-notification-banner")


def test_next_goes_only_to_this_site(client: Any, world: Any) -> None:
    assert (
        sign_in(client, "admin@council.example", PASSWORD, "/council/schools").location
        == "/council/schools"
    )
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        fresh = client.application.test_client()
        assert sign_in(fresh, "admin@council.example", PASSWORD, evil).location == "/"


def test_session_cookie_flags(client: Any, world: Any) -> None:
    response = sign_in(client, "admin@council.example", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # only in production, where the app is behind HTTPS


def test_the_last_seen_time_is_re_signed_at_most_once_a_minute(client: Any, world: Any) -> None:
    """Each request would otherwise send a new cookie (signing costs, and the browser stores it)."""
    client.sign_in_as(world.users[Role.LA_ADMIN])
    client.get("/council/")  # the first page puts its CSRF token in the session
    response = client.get("/council/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with client.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 61
    response = client.get("/council/")
    assert "traded_session=" in response.headers.get("Set-Cookie", "")
    with client.session_transaction() as session:
        assert int(time.time()) - session["last_seen"] < 5
