"""Fixtures: the app on a migrated database, a clean database for every test, role clients.

The database is SQLite (a file) unless TRADED_TEST_DB=postgres, when TEST_DATABASE_URL is used:
the app connects as its role, and migrations (and the wipe between tests) run as the tables'
owner, TEST_DATABASE_OWNER_URL's role, as in production (README). Without
TEST_DATABASE_OWNER_URL the app's role owns the tables, and the tests of the roles skip.
"""

from __future__ import annotations

import contextvars
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask, current_app, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.factories import build_world
from tests.pages import check_html
from traded_app import create_app
from traded_app.extensions import db
from traded_app.limits import limiter
from traded_app.models import User
from traded_app.models.types import Role
from traded_app.services.platform import jobs

TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-checks"


def database_url_for_tests(tmp_path: Path) -> str:
    if os.environ.get("TRADED_TEST_DB") == "postgres":
        url = os.environ.get("TEST_DATABASE_URL", "")
        if not url:
            raise pytest.UsageError("TRADED_TEST_DB=postgres needs TEST_DATABASE_URL")
        return url
    return f"sqlite:///{tmp_path / 'test.db'}"


def owner_url_for_tests() -> str:
    """TEST_DATABASE_OWNER_URL on PostgreSQL (the tables' owner), else empty."""
    if os.environ.get("TRADED_TEST_DB") == "postgres":
        return os.environ.get("TEST_DATABASE_OWNER_URL", "")
    return ""


_ENGINES: dict[str, Engine] = {}


def _engine_for(url: str) -> Engine:
    """One engine per URL for the session (disposed with the app, so no connection is left
    open for the interpreter to find at exit)."""
    if url not in _ENGINES:
        _ENGINES[url] = create_engine(url)
    return _ENGINES[url]


def owner_engine() -> Engine:
    """The tables' owner (the app's DATABASE_OWNER_URL), who alone may drop the schema or lift
    the triggers; the app's own engine when its role owns the tables (always on SQLite)."""
    url = current_app.config["DATABASE_OWNER_URL"]
    return _engine_for(url) if url else db.engine


def environ_for_tests(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {
        "APP_ENV": "test",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "INVOICE_DIR": str(tmp_path / "invoices"),
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "EXPORT_DIR": str(tmp_path / "exports"),
        "BACKUP_DIR": str(tmp_path / "backups"),
        **extra,
    }


def reset_schema(app: Flask) -> None:
    """Drop everything, then build the schema from the migrations (never from create_all)."""
    with app.app_context():
        with owner_engine().begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            else:
                db.metadata.drop_all(connection)
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp("app")
    owner = owner_url_for_tests()
    environ = environ_for_tests(
        tmp, database_url_for_tests(tmp), **({"DATABASE_OWNER_URL": owner} if owner else {})
    )
    application = create_app(environ)
    application.test_client_class = CheckedClient
    reset_schema(application)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
        for engine in _ENGINES.values():
            engine.dispose()
        owner_engine().dispose()


def empty_database() -> None:
    db.session.remove()
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with owner_engine().begin() as connection:
        if connection.dialect.name == "postgresql":
            # The append-only tables refuse TRUNCATE (triggers); lift that for the wipe, within
            # its transaction, so no other connection ever sees them lifted.
            triggers = connection.execute(
                text(
                    "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                    "WHERE NOT tgisinternal AND tgtype & 32 <> 0"  # 32: a TRUNCATE trigger
                )
            ).all()
            for table, name in triggers:
                connection.execute(text(f'ALTER TABLE {table} DISABLE TRIGGER "{name}"'))
            quoted = ", ".join(f'"{t}"' for t in tables)
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            for table, name in triggers:
                connection.execute(text(f'ALTER TABLE {table} ENABLE TRIGGER "{name}"'))
        else:
            # Issued documents refuse DELETE (triggers); lift that for the wipe, then restore it.
            triggers = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            for name, _sql in triggers:
                connection.execute(text(f'DROP TRIGGER "{name}"'))
            for table in tables:
                connection.execute(text(f'DELETE FROM "{table}"'))
            for _name, sql in triggers:
                connection.execute(text(sql))


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with an empty database and fresh rate limits.

    The session-wide app context stays pushed, so `db.session` in a test body is one session;
    it is closed after each test so it never holds SQLite's write lock into the next.
    """
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    empty_database()
    limiter.reset()
    # The queue is one per process: an app a test made for itself may have pointed it elsewhere.
    jobs.configure(application.config)
    yield
    db.session.remove()


class CheckedClient(FlaskClient):
    """A test client that checks every HTML page it receives (tests.pages.check_html)."""

    def open(
        self, *args: Any, check: bool = True, unavailable_ok: bool = False, **kwargs: Any
    ) -> Any:
        # Run each request as a separate client would: in its own app context (so `g` and the
        # database session are its own), after the test's own work is committed.
        if has_app_context():
            db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        response.get_data()  # buffer the body so files and streams are closed at once
        response.close()
        # A 503 is an answer only where a test expects one (Stripe's webhook, Stripe down).
        if response.status_code >= 500 and not (unavailable_ok and response.status_code == 503):
            raise AssertionError(f"{response.request.path} answered {response.status_code}")
        if check and response.mimetype == "text/html" and response.status_code != 304:
            # htmx gets fragments, except error pages, which are whole pages for every client.
            whole = response.get_data(as_text=True).lstrip()[:15].lower() == "<!doctype html>"
            fragment = response.request.headers.get("HX-Request") == "true" and not whole
            response.soup = check_html(response, fragment=fragment)
        return response

    def csrf_token(self) -> str:
        """The token of this client's session, read from a page's hx-headers."""
        page = self.get("/accessibility")
        headers = page.soup.body.get("hx-headers")
        return str(json.loads(headers)["X-CSRFToken"])

    def post_form(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.post(url, data={"csrf_token": self.csrf_token(), **(data or {})}, **kwargs)

    def sign_in_as(self, user: User) -> FlaskClient:
        """Start a signed-in session without the cost of a password check."""
        now = int(time.time())
        with self.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            session["signed_in_at"] = now
            session["last_seen"] = now
        return self


@pytest.fixture()
def client(app: Flask) -> CheckedClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture()
def world(app: Flask) -> Any:
    return build_world()


@dataclass
class RoleClients:
    world: Any
    app: Flask

    def __call__(self, role: Role | None) -> CheckedClient:
        client: CheckedClient = self.app.test_client()  # type: ignore[assignment]
        if role is not None:
            client.sign_in_as(self.world.users[role])
        return client


@pytest.fixture()
def as_role(app: Flask, world: Any) -> RoleClients:
    """`as_role(Role.LA_ADMIN)` is a client signed in as the world's user with that role."""
    return RoleClients(world, app)


def text_of(soup: BeautifulSoup, selector: str) -> str:
    node = soup.select_one(selector)
    return re.sub(r"\s+", " ", node.get_text(" ", strip=True)) if node else ""
