"""Sign-in limits: per account only wrong passwords count; per address there is room for a
whole school's staff at once; with Redis (TEST_REDIS_URL) two app instances count together.

The limits' windows are real minutes, so password checks here are made cheap (argon2 at its
lowest cost): at the real cost, 60 sign-ins on a busy machine can outlast the minute.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask

from tests.conftest import CheckedClient, environ_for_tests, text_of
from tests.factories import PASSWORD
from traded_app import create_app
from traded_app.extensions import db
from traded_app.limits import limiter
from traded_app.models import User
from traded_app.models.types import Role
from traded_app.services.platform import auth as auth_service

FAILED = "Enter a correct email address and password"
LOCKED = "A wrong password has been entered for this account too many times. Try again in 1 minute."


CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_service, "_hasher", CHEAP)
    monkeypatch.setattr(auth_service, "_DUMMY_HASH", CHEAP.hash("not-a-real-password"))


def sign_in(client: Any, email: str, password: str) -> Any:
    return client.post_form("/sign-in", {"email": email, "password": password})


def fresh(app: Flask) -> Any:
    """A new browser: signing in checks the password again (a signed-in one is sent home)."""
    return app.test_client()


def test_sign_in_attempts_are_limited_per_account(client: Any, world: Any) -> None:
    statuses = [sign_in(client, "sbm@school.example", "guess").status_code for _ in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    limited = sign_in(client, "sbm@school.example", PASSWORD)
    assert limited.status_code == 429
    assert limited.soup.h1.get_text(strip=True) == "Too many attempts"
    assert text_of(limited.soup, "main p") == LOCKED
    assert 1 <= int(limited.headers["Retry-After"]) <= 61  # the per-minute limit resets soon
    # Another account from the same address is not locked out by that.
    assert sign_in(client, "admin@council.example", PASSWORD).status_code == 302


def test_sign_in_attempts_are_limited_per_address(client: Any, world: Any) -> None:
    # 60 a minute: a school's 50 staff behind one address, with room for some typing errors.
    statuses = [sign_in(client, f"user{i}@nowhere.example", "guess").status_code for i in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429
    response = sign_in(client, "user99@nowhere.example", "guess")
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert text_of(response.soup, "main p") == (
        "There have been too many attempts to sign in from your network. Try again in 1 minute."
    )


def test_the_account_limit_counts_only_wrong_passwords(app: Flask, world: Any) -> None:
    email = "sbm@school.example"
    for _ in range(6):  # more than the limit: signing in and out all day never locks anyone out
        assert sign_in(fresh(app), email, PASSWORD).status_code == 302
    for _ in range(3):  # a form sent without a password is not a wrong password
        assert "Enter your password" in text_of(sign_in(fresh(app), email, "").soup, "main")
    for _ in range(4):
        wrong = sign_in(fresh(app), email, "guess")
        assert wrong.status_code == 200 and FAILED in text_of(wrong.soup, "main")
    assert sign_in(fresh(app), email, PASSWORD).status_code == 302  # 4 wrong: still let in
    assert sign_in(fresh(app), email, "guess").status_code == 200  # the 5th wrong password

    locked = sign_in(fresh(app), email, PASSWORD)
    assert locked.status_code == 429
    assert locked.soup.h1.get_text(strip=True) == "Too many attempts"
    assert text_of(locked.soup, "main p") == LOCKED
    assert 1 <= int(locked.headers["Retry-After"]) <= 61
    # Only that account: the rest of the school signs in as usual.
    assert sign_in(fresh(app), "head@school.example", PASSWORD).status_code == 302


def test_fifty_staff_of_one_school_sign_in_from_one_address_within_a_minute(
    app: Flask, world: Any
) -> None:
    one_hash = CHEAP.hash(PASSWORD)
    staff = [f"teacher{i}@school.example" for i in range(50)]
    for email in staff:
        db.session.add(
            User(
                email=email,
                name=email.split("@")[0].title(),
                password_hash=one_hash,
                role=Role.HEADTEACHER,
                school_id=world.school.id,
            )
        )
    db.session.commit()

    assert [sign_in(fresh(app), email, PASSWORD).status_code for email in staff] == [302] * 50
    # The same minute still has room for ten typing errors; the one after them is refused, so
    # all fifty really were let in within one window of the per-address limit.
    typos = [sign_in(fresh(app), staff[i], "typo").status_code for i in range(10)]
    assert typos == [200] * 10
    refused = sign_in(fresh(app), "someone@school.example", PASSWORD)
    assert refused.status_code == 429
    assert "too many attempts to sign in from your network" in text_of(refused.soup, "main p")


@pytest.fixture()
def second_instances(app: Flask, tmp_path: Path) -> Iterator[Any]:
    """`make(**environ)`: another app instance on the suite's database, as another gunicorn
    worker or host would be. Afterwards the limiter is bound to the suite's app again."""
    made: list[Flask] = []

    def make(**extra: str) -> Flask:
        database_url = app.config["SQLALCHEMY_DATABASE_URI"]
        instance = create_app(environ_for_tests(tmp_path, database_url, **extra))
        instance.test_client_class = CheckedClient
        made.append(instance)
        return instance

    yield make
    for instance in made:
        with instance.app_context():
            limiter.reset()
            db.session.remove()
            db.engine.dispose()
    limiter.init_app(app)  # back to the suite's storage (memory://)


STORAGES = ["memory", "redis"]


@pytest.mark.parametrize("storage", STORAGES)
def test_two_app_instances_count_one_accounts_wrong_passwords_together(
    storage: str, second_instances: Any, world: Any
) -> None:
    """Two instances made the way every worker makes its app. On Redis they count together: 3
    wrong passwords on one and 2 on the other lock the account on both. In memory (the
    contrast) a new instance starts with counts of its own, as every process does, so the
    account is not locked."""
    if storage == "redis":
        url = os.environ.get("TEST_REDIS_URL", "")
        if not url:
            pytest.skip("TEST_REDIS_URL is not set (.ci/run starts redis-server and sets it)")
        environ = {"REDIS_URL": url}
    else:
        environ = {"RATELIMIT_STORAGE_URI": "memory://"}
    first = second_instances(**environ)
    with first.app_context():
        limiter.reset()  # counts left in Redis by an earlier run
    a = first.test_client()
    for _ in range(3):
        assert sign_in(a, "sbm@school.example", "guess").status_code == 200

    second = second_instances(**environ)  # its own connection to the limiter's storage
    b = second.test_client()
    for _ in range(2):
        assert sign_in(b, "sbm@school.example", "guess").status_code == 200

    if storage == "redis":
        for client in (a, b):
            locked = sign_in(client, "sbm@school.example", PASSWORD)
            assert locked.status_code == 429
            assert text_of(locked.soup, "main p") == LOCKED
    else:
        assert sign_in(a, "sbm@school.example", PASSWORD).status_code == 302


def test_reset_links_refused_say_when_to_ask_again(client: Any, world: Any) -> None:
    statuses = [
        client.post_form("/reset-password", {"email": "sbm@school.example"}).status_code
        for _ in range(3)
    ]
    assert statuses == [200] * 3
    refused = client.post_form("/reset-password", {"email": "sbm@school.example"})
    assert refused.status_code == 429
    said = text_of(refused.soup, "main p")
    assert said.startswith("A reset link has been asked for this email address too many times.")
    assert re.fullmatch(r".* Try again in (1 minute|\d+ minutes)\.", said)
    assert 1 <= int(refused.headers["Retry-After"]) <= 3601
