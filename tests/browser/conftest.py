"""Browser tests: the app served on loopback, driven by Playwright in Debian's Chromium.

axe-core runs on every page a test visits (`Journey.check` and the teardown check that no page
went unchecked), failing on any WCAG 2.0/2.1/2.2 A or AA violation. These tests fail, never
skip, when Chromium or axe-core is missing: CI must have them.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import environ_for_tests
from traded_app import create_app
from traded_app.config import PROJECT_ROOT
from traded_app.demo import load_demo
from traded_app.demo.accounts import DEMO_PASSWORD
from traded_app.extensions import db
from traded_app.services.ordering import buy_back
from traded_app.services.platform.auth import hash_password

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with the demo data on its own SQLite file, served on a free loopback port."""
    tmp = tmp_path_factory.mktemp("live")
    app = create_app(environ_for_tests(tmp, f"sqlite:///{tmp / 'live.db'}"))

    def prepare() -> None:
        with app.app_context():
            upgrade()
            load_demo(password_hash=_demo_hash())
            db.session.commit()

    contextvars.Context().run(prepare)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=contextvars.Context().run, args=(server.serve_forever,), daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def serve_in_spring(
    tmp: Path, then: Callable[[], None] | None = None
) -> Iterator[tuple[Flask, str]]:
    """The demo on its own SQLite file with next year's offer taken back (not published, no
    buy-back window), as if it were spring before the service manager's work; `then` changes
    more inside the same app context before serving. Yields the app and its address."""
    app = create_app(environ_for_tests(tmp, f"sqlite:///{tmp / 'live.db'}"))

    def prepare() -> None:
        with app.app_context():
            upgrade()
            load_demo(password_hash=_demo_hash())
            upcoming = buy_back.next_year()
            assert upcoming is not None
            upcoming.offer_published_at = None
            upcoming.buy_back_opens_on = upcoming.buy_back_closes_on = None
            if then is not None:
                then()
            db.session.commit()

    contextvars.Context().run(prepare)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=contextvars.Context().run, args=(server.serve_forever,), daemon=True
    )
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def in_app(app: Flask, work: Callable[[], Any]) -> Any:
    """Run `work` in the served app's context (as its daily schedules would), committed."""

    def run() -> Any:
        with app.app_context():
            try:
                result = work()
                db.session.commit()
                return result
            finally:
                db.session.remove()

    return contextvars.Context().run(run)


def _demo_hash() -> str:
    return hash_password(DEMO_PASSWORD)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: run `make test` (it installs chromium) or apt-get install chromium."
        )
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make test` (npm ci installs it).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
        )
        yield browser
        browser.close()


@dataclass
class Journey:
    page: Page
    base_url: str
    checked: set[str] = field(default_factory=set)
    visited: set[str] = field(default_factory=set)
    console_errors: list[str] = field(default_factory=list)
    # With JavaScript off, axe-core cannot run in the page itself: it runs on a copy of the
    # page's HTML in this JavaScript-enabled page instead.
    checker: Page | None = None

    def goto(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        self.check()
        return self.page

    def check(self) -> None:
        """Run axe-core on the page as it is now; fail on any WCAG A/AA violation."""
        self.page.wait_for_load_state("load")
        target = self.page
        if self.checker is None:
            # Judge the page as it settles, not half-way through an htmx swap.
            self.page.wait_for_function("() => !document.querySelector('.htmx-request')")
        if self.checker is not None:
            html = self.page.content().replace("<head>", f'<head><base href="{self.page.url}">', 1)
            self.checker.set_content(html, wait_until="load")
            target = self.checker
        if not target.evaluate("() => typeof window.axe !== 'undefined'"):
            target.evaluate(AXE.read_text())
        result = target.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
            AXE_TAGS,
        )
        violations = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
        ]
        assert violations == [], f"axe-core on {self.page.url}:\n" + "\n".join(violations)
        self.checked.add(self.page.url.split("#")[0])


def _journey(browser: Browser, base_url: str, **context_args: Any) -> Iterator[Journey]:
    context = browser.new_context(**context_args)
    page = context.new_page()
    page.set_default_timeout(15_000)
    journey = Journey(page, base_url)
    checker_context = None
    if context_args.get("java_script_enabled") is False:
        checker_context = browser.new_context()
        journey.checker = checker_context.new_page()

    def on_console(message: Any) -> None:
        if message.type == "error":
            journey.console_errors.append(message.text)

    def on_navigated(frame: Any) -> None:
        if frame == page.main_frame:
            journey.visited.add(frame.url.split("#")[0])

    page.on("console", on_console)
    page.on("framenavigated", on_navigated)
    yield journey
    context.close()
    if checker_context is not None:
        checker_context.close()
    unchecked = journey.visited - journey.checked - {"about:blank"}
    assert not unchecked, f"pages visited without an axe-core check: {sorted(unchecked)}"
    assert journey.console_errors == [], f"browser console errors (CSP?): {journey.console_errors}"


@pytest.fixture()
def journey(browser: Browser, live_server: str) -> Iterator[Journey]:
    yield from _journey(browser, live_server)


@pytest.fixture()
def journey_without_js(browser: Browser, live_server: str) -> Iterator[Journey]:
    yield from _journey(browser, live_server, java_script_enabled=False)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Werkzeug's development server leaves a static file unclosed when the browser drops a
    # connection it no longer needs; that is the test server's, not the app's, and is ignored.
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )
