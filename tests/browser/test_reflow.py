"""Every page of every role at 320 px wide (WCAG 1.4.10 reflow: 1280 px at 400% zoom), with axe.

The pages are the app's own list: every GET route in `app.url_map` that the role may open (the
design in tests/integration/test_access.py's EXPECTED), with URL arguments pointing at one of
everything (tests/routes.py), as the route × role test builds them. A new page is checked the
day it is added. A page fails when the document is wider than the viewport (the reader would
have to scroll sideways to read it: wide tables belong in a focusable scrolling region), and
on any axe-core violation. Files (PDFs, CSV files, calendar feeds, images) are not pages.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import url_for
from flask_migrate import upgrade
from playwright.sync_api import Browser, Error
from werkzeug.serving import make_server

from tests.browser.conftest import Journey
from tests.conftest import environ_for_tests
from tests.factories import PASSWORD, build_world
from tests.integration.test_access import ANON, EXPECTED, PUBLIC
from tests.routes import add_one_of_everything, url_args
from tests.stripe_fake import FakeStripe
from traded_app import create_app
from traded_app.extensions import db
from traded_app.models.types import Role

pytestmark = pytest.mark.browser

WIDTH = 320  # CSS pixels: a 1280 px window at 400% zoom, or a small phone
HEIGHT = 640

# What is widest on an overflowing page, to say where to look.
WIDEST = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (box.right > width + 0.5 && box.width > 0) {
      let inScroller = false;
      for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
        const overflow = getComputedStyle(up).overflowX;
        if (overflow === 'auto' || overflow === 'scroll' || overflow === 'hidden') { inScroller = true; break; }
      }
      if (!inScroller) {
        const name = element.tagName.toLowerCase() + (element.id ? '#' + element.id : '') +
          (element.className && typeof element.className === 'string' ? '.' + element.className.trim().split(/\\s+/).join('.') : '');
        wide.push(name + ' right=' + Math.round(box.right));
      }
    }
  }
  return wide.slice(0, 4);
}"""


@dataclass
class Site:
    base_url: str
    pages: dict[Role | None, list[str]]
    emails: dict[Role, str]


def _pages_by_role(app: Any, world: Any) -> dict[Role | None, list[str]]:
    """Each role's GET pages, as paths, from the url_map and the access design."""
    pages: dict[Role | None, list[str]] = {}
    get_endpoints = {
        rule.endpoint for rule in app.url_map.iter_rules() if "GET" in (rule.methods or set())
    }
    for role in (ANON, *Role):
        paths = []
        for endpoint, allowed in EXPECTED.items():
            if endpoint not in get_endpoints or endpoint in ("static", "health.healthz"):
                continue
            if allowed == PUBLIC or (role is not None and role in allowed):
                with app.test_request_context():
                    paths.append(url_for(endpoint, **url_args(endpoint, world)))
        pages[role] = sorted(set(paths))
    return pages


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One of everything (the route × role test's world) served on a free loopback port."""
    tmp = tmp_path_factory.mktemp("reflow")
    app = create_app(environ_for_tests(tmp, f"sqlite:///{tmp / 'reflow.db'}"))
    app.extensions["stripe_http_client"] = FakeStripe().http_client()
    found: dict[str, Any] = {}

    def prepare() -> None:
        with app.app_context():
            upgrade()
            world = add_one_of_everything(build_world())
            found["pages"] = _pages_by_role(app, world)
            found["emails"] = {role: user.email for role, user in world.users.items()}
            db.session.commit()
            db.session.remove()

    contextvars.Context().run(prepare)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=contextvars.Context().run, args=(server.serve_forever,), daemon=True
    )
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_port}", found["pages"], found["emails"])
    server.shutdown()


def _visit(journey: Journey, path: str, seen: set[str]) -> list[str]:
    """The page's problems at 320 px: wider than the viewport, or axe-core violations. A page
    reached again (a redirect to the landing page) is checked once."""
    page = journey.page
    try:
        response = page.goto(journey.base_url + path)
    except Error as error:
        if "Download is starting" in str(error):
            return []  # a file to save (CSV, calendar feed), not a page
        raise
    if response is None or not response.headers.get("content-type", "").startswith("text/html"):
        return []  # a PDF or an image shown as it is
    if page.url in seen:
        return []
    seen.add(page.url)
    problems = []
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        problems.append(
            f"{path} ({page.url}) is {widths[0]} px wide at {widths[1]} px: {page.evaluate(WIDEST)}"
        )
    try:
        journey.check()
    except AssertionError as error:
        problems.append(f"{path}: {error}")
    return problems


@pytest.mark.parametrize("role", [ANON, *Role], ids=lambda r: r.value if r else "anonymous")
def test_every_page_reflows_at_320_px(browser: Browser, site: Site, role: Role | None) -> None:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        journey = Journey(page, site.base_url)
        if role is not None:
            page.goto(site.base_url + "/sign-in")
            page.get_by_label("Email address").fill(site.emails[role])
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state("load")
            assert "/sign-in" not in page.url, f"{role} could not sign in"
        if role == Role.TRUST_FINANCE:  # ordering for the trust's academy: its ordering pages
            academy = next(p for p in site.pages[role] if p.startswith("/trust/academies/"))
            page.goto(site.base_url + academy)
            page.locator("#order-for-academy button").click()
            page.wait_for_load_state("load")
        problems: list[str] = []
        seen: set[str] = set()
        for path in site.pages[role]:
            problems.extend(_visit(journey, path, seen))
        assert len(site.pages[role]) >= 3
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)
    finally:
        context.close()
