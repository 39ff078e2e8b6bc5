"""Never a 500 (issue 12, part 6): hypothesis posts random values to every POST route's fields, as
each role that may post there and one that may not (signed out, or signed in with another role),
with a valid CSRF token, and fails any 5xx answer. A refused post must be refused (the sign-in
page, or 403) and must write nothing to the database.

Everything comes from the app itself: the routes are `app.url_map`'s POST rules, their URLs carry
the test world's real ids (tests/routes.py), and each route's fields are read from the WTForms
classes its view uses and from the page that shows its form (its own GET, or the nearest page
above its URL), with the values those pages offer (hidden ids, options, checkboxes). Values drawn:
what the page offers, text (any unicode), numbers huge, negative and small (small ones are real
ids), digits that are not ASCII, very long strings, dates with parts missing or extra, fields
missing or repeated, bytes that are not UTF-8, files of random bytes; each sent as a plain form
or as htmx.

Run it on PostgreSQL too (TRADED_TEST_DB=postgres): it refuses what SQLite keeps (a NUL in a
string, a number past a column's size). Examples per route and role are few, and drawn the same
way every run (derandomize), so the test stays quick and reproducible in CI;
FUZZ_POST_EXAMPLES=100 runs it deeper, and FUZZ_POST_SEED=<n> draws other values.
"""

from __future__ import annotations

import inspect
import io
import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import CodeType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from bs4 import BeautifulSoup
from flask import Flask, has_request_context, url_for
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import event
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from wtforms import BooleanField, FileField

from tests.conftest import CheckedClient, RoleClients
from tests.factories import GIAS_HEADER, gias_csv, gias_row
from tests.routes import add_one_of_everything, url_args
from traded_app.access import PUBLIC, access_of
from traded_app.extensions import db
from traded_app.forms.dates import GovDateField
from traded_app.limits import limiter
from traded_app.models.types import Role

# Stripe's webhook takes only signed payloads (tests/integration/test_stripe_webhook.py tries
# odd shapes); signing out has no fields and would end the session under test.
NOT_FUZZED = {"card_payments.webhook", "auth.sign_out"}

EXAMPLES = int(os.environ.get("FUZZ_POST_EXAMPLES", "8"))
REFUSED_EXAMPLES = 3  # a role the route refuses is turned away before the form is read
SEED = os.environ.get("FUZZ_POST_SEED")

settings.register_profile(
    "fuzz-posts",
    max_examples=EXAMPLES,
    deadline=None,  # a request on a busy machine can take a second
    derandomize=SEED is None,  # the same values every run, so CI is reproducible
    database=None,  # every route's inner test has the same name: saved examples would mix
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile("fuzz-posts")
QUERY_READ = re.compile(r"request\.args\.get(?:list)?\(\s*\"([^\"]+)\"")
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "UPSERT", "TRUNCATE")

# Values that have broken forms somewhere: numbers a float or a 32- or 64-bit column cannot
# hold, digits that are not ASCII, money and dates in other shapes, characters PostgreSQL
# refuses (NUL) or HTML does not allow.
ODD = [
    "",
    " ",
    "-1",
    "-0",
    "0.5",
    "2.5",
    "1.005",
    "1e3",
    "1e309",
    "nan",
    "inf",
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1" * 40,
    "١٢",  # Arabic-Indic digits
    "１",
    "２７",
    "²",
    "1,000",
    "£1,500.50",
    "27 3",
    "2027-03-27",
    "y",
    "on",
    "None",
    "<b>x</b>",
    "\u202e",
    "😀",
    "\x00",
    "a\x00b",
    "\x1f\x7f",
]

# Bytes that are not UTF-8 (a Latin-1 form, a lone surrogate, an overlong NUL, a cut-off
# character), sent raw: the form parser decodes them as U+FFFD.
NOT_UTF8 = [b"caf\xe9", b"\xff\xfe", b"\xed\xa0\x80", b"\xc0\x80", b"\xe2\x82", b"1\x80"]

texts = st.one_of(
    st.sampled_from(ODD),
    st.integers(-3, 40).map(str),  # small numbers: real ids, days, months
    st.integers(-(2**70), 2**70).map(str),
    st.text(max_size=24),
    st.text(max_size=8).map(lambda text: text + "\x00"),
    st.text(alphabet="0123456789０１２３４５６７８９.-", min_size=1, max_size=8),
    st.builds(  # very long: past any column's length
        lambda text, times: text * times, st.text(min_size=1, max_size=4), st.integers(50, 3000)
    ),
)
scalars = texts | st.sampled_from(NOT_UTF8) | st.binary(min_size=1, max_size=12)
date_parts = st.lists(
    st.one_of(st.integers(0, 32).map(str), st.integers(1899, 2200).map(str), scalars), max_size=4
) | st.dates().map(lambda d: [str(d.day), str(d.month), str(d.year)])
# A GIAS export of one school with some cells changed, or bytes that are no CSV at all.
gias_files = st.builds(
    lambda urn, cells, encoding: gias_csv(
        [gias_row(urn, "Fuzz School", **cells)], encoding=encoding
    ),
    st.integers(100000, 999999) | st.integers(-(2**70), 2**70),
    st.dictionaries(st.sampled_from(GIAS_HEADER), texts, max_size=4),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
files = st.builds(
    lambda content, name: (io.BytesIO(content), name),
    gias_files
    | st.binary(max_size=2000)
    | st.text(max_size=500).map(lambda t: t.encode())
    | st.sampled_from([b"URN,EstablishmentName\n1\x00,School\n", b"\xef\xbb\xbfURN\n\xff\n"]),
    st.sampled_from(["edubasealldata.csv", "x.xlsx", "", "../../etc/passwd", "ü.csv"]),
)


@dataclass
class Field:
    """A field of a route's form: its name, the values pages offer, and what kind it is."""

    name: str
    offered: set[str] = field(default_factory=set)
    date: bool = False
    file: bool = False

    def values(self) -> st.SearchStrategy[Any]:
        if self.file:
            return st.none() | files | scalars
        one = scalars
        if self.offered:
            one = st.sampled_from(sorted(self.offered)) | scalars
        many = st.lists(one, max_size=4)
        if self.date:
            many = date_parts
        # None: the field is not sent at all.
        return st.none() | one | many


def _sent(fields: dict[str, Field]) -> st.SearchStrategy[dict[str, Any]]:
    drawn = st.fixed_dictionaries({name: f.values() for name, f in fields.items()})
    return drawn.map(lambda values: {k: v for k, v in values.items() if v is not None})


@dataclass
class Route:
    rule: Rule
    url: str
    fields: dict[str, Field]
    query: dict[str, Field] = field(default_factory=dict)  # what the view reads from the URL

    @property
    def endpoint(self) -> str:
        return self.rule.endpoint

    def add(self, name: str, value: str | None = None, **kind: bool) -> None:
        if name == "csrf_token":
            return
        found = self.fields.setdefault(name, Field(name))
        if value:
            found.offered.add(value)
        found.date = found.date or kind.get("date", False)
        found.file = found.file or kind.get("file", False)

    def add_query(self, name: str, value: str | None = None) -> None:
        found = self.query.setdefault(name, Field(name))
        if value:
            found.offered.add(value)

    def posts(self) -> st.SearchStrategy[dict[str, Any]]:
        return _sent(self.fields)

    def urls(self) -> st.SearchStrategy[str]:
        """The route's URL with a query string of what its view reads there, or without."""
        return _sent(self.query).map(
            lambda query: (
                f"{self.url}?{urlencode(list(query.items()), doseq=True)}" if query else self.url
            )
        )


# --- Each POST route's fields ------------------------------------------------------------------


def _names_in(code: CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _names_in(const)


def code_of(view: Callable[..., Any]) -> list[Callable[..., Any]]:
    """A view and the helpers in its own module it calls, however deep."""
    todo, seen = [inspect.unwrap(view)], []
    while todo:
        function = todo.pop()
        if function in seen:
            continue
        seen.append(function)
        for name in _names_in(function.__code__):
            target = function.__globals__.get(name)
            if inspect.isfunction(target) and target.__module__ == function.__module__:
                todo.append(target)
    return seen


def forms_used_by(view: Callable[..., Any]) -> set[type[FlaskForm]]:
    """The FlaskForm classes a view names, itself or through helpers in its own module."""
    return {
        target
        for function in code_of(view)
        for name in _names_in(function.__code__)
        if inspect.isclass(target := function.__globals__.get(name))
        and issubclass(target, FlaskForm)
    }


def query_names_read_by(view: Callable[..., Any]) -> set[str]:
    """The query-string arguments a view reads (`request.args.get("next")`), or its helpers."""
    return {
        name
        for function in code_of(view)
        for name in QUERY_READ.findall(inspect.getsource(function))
    }


def add_class_fields(app: Flask, route: Route) -> None:
    view = app.view_functions[route.endpoint]
    for name in query_names_read_by(view):
        route.add_query(name)
    with app.test_request_context(route.url, method="POST"):
        for form_class in forms_used_by(view):
            form = form_class(formdata=None, meta={"csrf": False})
            for form_field in form:
                choices = getattr(form_field, "choices", None) or []
                for choice in choices:
                    route.add(form_field.name, str(choice[0]))
                if isinstance(form_field, BooleanField):
                    route.add(form_field.name, "y")
                route.add(
                    form_field.name,
                    date=isinstance(form_field, GovDateField),
                    file=isinstance(form_field, FileField),
                )


def _targets(soup: BeautifulSoup, path: str) -> Iterator[tuple[Any, str]]:
    """The forms posting to `path`, and the htmx controls that post there themselves, each
    with the URL it posts to."""
    for form in soup.find_all("form"):
        if (form.get("method") or "").lower() == "post" and urlsplit(form["action"]).path == path:
            yield form, form["action"]
    for control in soup.find_all(attrs={"hx-post": True}):
        if urlsplit(control["hx-post"]).path == path:
            yield control, control["hx-post"]


def add_page_fields(app: Flask, client: CheckedClient, route: Route) -> None:
    """Fields and offered values from the page that shows the route's form: the route's own
    GET, or else the nearest page above its URL (an order's page for its approve button)."""
    path = urlsplit(route.url).path
    adapter = app.url_map.bind("localhost")
    pages = [route.url] if "GET" in (route.rule.methods or set()) else []
    parts = path.rstrip("/").split("/")
    for end in range(len(parts) - 1, 1, -1):
        parent = "/".join(parts[:end])
        try:
            adapter.match(parent, method="GET")
        except HTTPException:
            continue
        pages.append(parent)
    for page_url in pages:
        page = client.get(page_url, check=False)  # what earlier posts stored may be odd
        if page.status_code != 200 or page.mimetype != "text/html":
            continue
        soup = BeautifulSoup(page.get_data(as_text=True), "html5lib")
        found = list(_targets(soup, path))
        for target, action in found:
            for name, value in parse_qsl(urlsplit(action).query):
                route.add_query(name, value)
            controls = [target] if target.name != "form" else []
            controls += target.find_all(["input", "select", "textarea", "button"])
            texts: dict[str, int] = {}
            for control in controls:
                name = control.get("name")
                if not name:
                    continue
                kind = control.get("type")
                route.add(name, control.get("value"), file=kind == "file")
                if control.name == "input" and kind in (None, "text", "number"):
                    texts[name] = texts.get(name, 0) + 1
                for option in control.find_all("option"):
                    route.add(name, option.get("value"))
            for name, count in texts.items():
                if count == 3:  # the GOV.UK date input: day, month and year of one name
                    route.add(name, date=True)
        if found:
            return


def post_routes(app: Flask, world: Any) -> list[Route]:
    routes = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.endpoint in NOT_FUZZED:
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **url_args(rule.endpoint, world))
        routes.append(Route(rule, url, {}))
    return sorted(routes, key=lambda r: r.url)


ROLES: list[Role | None] = [None, *Role]


def allows(app: Flask, endpoint: str, role: Role | None) -> bool:
    access = access_of(app, endpoint)
    return access == PUBLIC or (role is not None and role in (access or ()))


def refused_roles_fuzzed(app: Flask, endpoint: str) -> list[Role | None]:
    """The one role the route refuses that is fuzzed there (none for a public route): signed
    out or signed in with another role, spread over the routes by their name, the same each run."""
    refused = [role for role in ROLES if not allows(app, endpoint, role)]
    return [refused[zlib.crc32(endpoint.encode()) % len(refused)]] if refused else []


def encoded(data: dict[str, Any], multipart: bool) -> dict[str, Any]:
    """The keyword arguments that post `data` as a browser would: a multipart form where the
    route takes a file, else a URL-encoded body, which carries bytes that are not UTF-8 too."""
    if multipart:
        # A bytes value goes as a part of its own with no file name: a field, read as text.
        return {
            "data": {
                name: [io.BytesIO(v) if isinstance(v, bytes) else v for v in values]
                if isinstance(values, list)
                else io.BytesIO(values)
                if isinstance(values, bytes)
                else values
                for name, values in data.items()
            },
            "content_type": "multipart/form-data",
        }
    return {
        "data": urlencode(list(data.items()), doseq=True),
        "content_type": "application/x-www-form-urlencoded",
    }


@pytest.fixture()
def writes(app: Flask) -> Iterator[list[str]]:
    """Every write a request sends to the database while the test runs."""
    seen: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if has_request_context() and statement.lstrip().upper().startswith(WRITES):
            seen.append(" ".join(statement.split())[:120])

    event.listen(db.engine, "after_cursor_execute", watch)
    yield seen
    event.remove(db.engine, "after_cursor_execute", watch)


# --- The test ----------------------------------------------------------------------------------


def _session_cookie(app: Flask, client: CheckedClient) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


@pytest.mark.usefixtures("stripe_fake")  # card payment routes ask the fake, not Stripe
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_no_post_answers_a_server_error_whatever_its_fields_hold(
    app: Flask, as_role: RoleClients, world: Any, role: Role | None, writes: list[str]
) -> None:
    add_one_of_everything(world)
    signed_in = as_role(role)
    token = signed_in.csrf_token()
    session = _session_cookie(app, signed_in)

    def client() -> CheckedClient:
        """A client in the same session (signed in, same CSRF secret) whatever the last post
        did to its cookie: a sign-in, say, or a password set from a link."""
        fresh: CheckedClient = app.test_client()  # type: ignore[assignment]
        fresh.set_cookie(app.config["SESSION_COOKIE_NAME"], session)
        return fresh

    def fuzz(route: Route, allowed: bool) -> Callable[[], None]:
        multipart = any(f.file for f in route.fields.values())

        @settings(FUZZ, max_examples=EXAMPLES if allowed else REFUSED_EXAMPLES)
        @given(url=route.urls(), data=route.posts(), htmx=st.booleans())
        def post(url: str, data: dict[str, Any], htmx: bool) -> None:
            limiter.reset()  # sign-in and reset requests are limited: reach the form each time
            headers = {"HX-Request": "true"} if htmx else {}
            writes.clear()
            # check=False: no 5xx is the property here (the client fails one). A control
            # character typed into a field is shown back in the form, which the strict HTML
            # parser of the page check refuses and browsers do not mind.
            response = client().post(
                url,
                **encoded({"csrf_token": token, **data}, multipart),
                headers=headers,
                check=False,
            )
            if allowed:
                return
            if role is None:  # to the sign-in page (htmx is told where in HX-Redirect)
                assert response.status_code == (401 if htmx else 302), response.status_code
                target = response.headers["HX-Redirect" if htmx else "Location"]
                assert "/sign-in?next=" in target
            else:
                assert response.status_code == 403, response.status_code
            assert not writes, f"a refused post wrote: {writes}"

        if SEED is not None:
            post = seed(int(SEED))(post)
        return post

    failures = []
    tried = 0
    for route in post_routes(app, world):
        allowed = allows(app, route.endpoint, role)
        if not allowed and role not in refused_roles_fuzzed(app, route.endpoint):
            continue
        tried += 1
        add_class_fields(app, route)
        add_page_fields(app, client(), route)
        try:
            fuzz(route, allowed)()
        except Exception as error:  # every route is tried before the test fails
            notes = "\n".join(getattr(error, "__notes__", []))
            failures.append(f"{route.endpoint} {route.url}: {error!r}\n{notes}")
    assert tried, "no POST route for this role"
    assert not failures, "\n\n".join(failures)


def test_every_post_route_is_fuzzed_as_a_role_it_refuses(app: Flask, world: Any) -> None:
    """Each POST route that refuses anyone is tried as one of them, and the refused roles are
    spread: signed out for some routes, signed in with the wrong role for others."""
    add_one_of_everything(world)
    chosen = {r.endpoint: refused_roles_fuzzed(app, r.endpoint) for r in post_routes(app, world)}
    for endpoint, roles in chosen.items():
        public = access_of(app, endpoint) == PUBLIC
        assert len(roles) == (0 if public else 1), endpoint
        assert not any(allows(app, endpoint, role) for role in roles), endpoint
    refused = {role for roles in chosen.values() for role in roles}
    assert {None, Role.SCHOOL_BUSINESS_MANAGER, Role.LA_FINANCE, Role.ADVISER} <= refused


@pytest.mark.usefixtures("stripe_fake")
def test_the_fuzz_reads_each_routes_fields_from_its_form_and_page(
    app: Flask, as_role: RoleClients, world: Any
) -> None:
    """The fuzz is only as good as the fields it finds: a few routes' fields, as found."""
    add_one_of_everything(world)
    routes = {route.endpoint: route for route in post_routes(app, world)}
    for role, endpoint in [
        (Role.LA_ADMIN, "council_days.closure_days"),
        (Role.LA_ADMIN, "admin.gias_upload"),
        (Role.LA_ADMIN, "admin.edit_partnership"),
        (Role.SCHOOL_BUSINESS_MANAGER, "orders.set_line_days"),
        (Role.SCHOOL_BUSINESS_MANAGER, "orders.check_answers"),
    ]:
        add_class_fields(app, routes[endpoint])
        add_page_fields(app, as_role(role), routes[endpoint])
    fields = {endpoint: route.fields for endpoint, route in routes.items()}
    assert fields["council_days.closure_days"]["closed_on"].date
    assert "name" in fields["council_days.closure_days"]
    assert fields["admin.gias_upload"]["file"].file
    assert str(world.quadrant.id) in fields["admin.edit_partnership"]["quadrant_id"].offered
    # An htmx control on the catalogue posts the line's days on its own.
    assert f"days-{world.service.id}" in fields["orders.set_line_days"]
    assert {"order_id", "version", "accept_terms"} <= set(fields["orders.check_answers"])
