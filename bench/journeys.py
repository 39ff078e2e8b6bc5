"""Simulated people for bench/buyback.py: what a browser sends, request by request.

A `Browser` is one person's `requests.Session` (cookies kept), behind its own address as the
reverse proxy reports it (`X-Forwarded-For`) and, as a default nginx in front does, on a
connection of its own per request; it follows redirects one hop at a time so that each request
is timed and checked on its own. Every answer is recorded in a
`Tally` under a name saying what it was ("day-count htmx POST", "GET /order/check"...):

- an error: no answer (a refused or timed-out connection), a status other than 2xx/3xx (409
  aside), a redirect or status the step did not expect, or a page without what it must show;
- a conflict: a 409, or a page or fragment telling the person that someone else changed the
  order ("changed by someone else", "changed since you checked it");
- an unexpected error summary: a page carrying GOV.UK's error summary (or a fragment an
  `Error:` announcement) when every answer the person gave was valid.

The journeys are a business manager's buy-back morning (sign in, the catalogue, eight day-count
changes as htmx sends them, Continue, check answers, submit) and a finance officer's (sign in,
then the register and aged debt in turn until the morning is over), with think time between
steps, scaled by `think` (1.0 is a person's pace).
"""

from __future__ import annotations

import datetime
import html
import json
import random
import re
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import requests

PASSWORD = "demo-password"  # noqa: S105 - the published demo password, every bench account's
REQUEST_TIMEOUT = 60.0  # seconds; a person gives up after a minute (gunicorn's own is 30 s)
ERROR_SUMMARY = "govuk-error-summary"
CONFLICTS = ("changed by someone else", "changed since you checked it")
SAVED = "Order updated:"  # the announcement a day-count fragment carries when the days were saved
CHANGES = 8  # day-count changes per business manager


# --- Recording --------------------------------------------------------------------------------


@dataclass
class Tally:
    """Every request's time by name, and what went wrong, shared by all the simulated people."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)  # unexpected error summaries
    finished: int = 0  # business managers whose order was submitted
    active: int = 0
    peak_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def time(self, name: str, seconds: float) -> None:
        with self.lock:
            self.latencies[name].append(seconds)

    def error(self, kind: list[str], what: str) -> None:
        with self.lock:
            kind.append(what)

    def arrive(self) -> None:
        with self.lock:
            self.active += 1
            self.peak_active = max(self.peak_active, self.active)

    def leave(self, submitted: bool) -> None:
        with self.lock:
            self.active -= 1
            self.finished += submitted

    def pct(self, name: str, q: float) -> float:
        ordered = sorted(self.latencies[name])
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def spread(self, name: str) -> float:
        values = self.latencies[name]
        return statistics.pstdev(values) / statistics.mean(values) if len(values) > 1 else 0.0


class JourneyFailed(Exception):
    """A step the person could not get past (already counted as an error)."""


# --- Pages ------------------------------------------------------------------------------------


class Forms(HTMLParser):
    """The page's forms: each one's action and its fields as a browser would send them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}, "radios": {}})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            fields, radios = self.forms[-1]["fields"], self.forms[-1]["radios"]
            assert isinstance(fields, dict) and isinstance(radios, dict)
            if a.get("type") == "radio":
                radios.setdefault(a["name"], []).append(a.get("value", ""))
                if "checked" in a:
                    fields[a["name"]] = a.get("value", "")
            elif a.get("type") != "checkbox" or "checked" in a:
                fields[a["name"]] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, dict)
            fields[a["name"]] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, dict)
            fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


def form_on(page: str, action: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The fields (and radio choices) of the page's form posting to `action`."""
    parser = Forms()
    parser.feed(page)
    for form in parser.forms:
        if urlsplit(str(form["action"])).path == action:
            return dict(form["fields"]), dict(form["radios"])  # type: ignore[call-overload]
    raise KeyError(action)


def htmx_token(page: str) -> str:
    """The CSRF token htmx sends, from `<body hx-headers='{"X-CSRFToken": "..."}'>`."""
    found = re.search(r"<body[^>]*\shx-headers=(?:'([^']*)'|\"([^\"]*)\")", page)
    if found is None:
        return ""
    return str(json.loads(html.unescape(found.group(1) or found.group(2)))["X-CSRFToken"])


@dataclass
class DaysControl:
    field: str
    path: str  # its hx-post
    low: float
    high: float


def days_controls(page: str) -> list[DaysControl]:
    """Each service's days field on the catalogue: its htmx URL, and the range its hint states
    ("1 to 5 days"; the field is a text input, so the range is not in min and max attributes)."""
    ranges = {
        f"days-{service}": (float(low), float(high))
        for service, low, high in re.findall(
            r'id="days-(\d+)-hint"[^>]*>\s*([\d.]+) to ([\d.]+) days?', page
        )
    }
    controls = []
    for tag in re.findall(r'<input[^>]*\sname="days-\d+"[^>]*>', page, flags=re.S):
        a = dict(re.findall(r'\s([\w-]+)="([^"]*)"', tag))
        if a["name"] in ranges and "hx-post" in a:
            controls.append(DaysControl(a["name"], html.unescape(a["hx-post"]), *ranges[a["name"]]))
    return controls


# --- A browser --------------------------------------------------------------------------------


class Browser:
    """One person's browser: a session with its cookies, behind its own address."""

    def __init__(self, base: str, address: str, tally: Tally, think: float, seed: int) -> None:
        self.base = base
        self.tally = tally
        self.think_scale = think
        self.random = random.Random(seed)
        self.session = requests.Session()
        self.session.headers.update(
            {
                "X-Forwarded-For": address,
                "User-Agent": "buyback-bench",
                "Accept": "text/html",
                # As a default nginx talks to gunicorn (HTTP/1.0 upstream, no keep-alive): the
                # proxy keeps the browser's connection, each request reaches the app on its own.
                "Connection": "close",
            }
        )

    def think(self, low: float, high: float) -> None:
        time.sleep(self.random.uniform(low, high) * self.think_scale)

    def send(
        self,
        name: str,
        method: str,
        path: str,
        *,
        expect: int | tuple[int, ...] = 200,
        must_show: str = "",
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """One request, timed and checked; raises JourneyFailed when the person is stuck."""
        started = time.perf_counter()
        try:
            response = self.session.request(
                method,
                urljoin(self.base, path),
                data=data,
                headers=headers,
                allow_redirects=False,
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException as error:
            self.tally.time(name, time.perf_counter() - started)
            self.tally.error(self.tally.errors, f"{name}: {type(error).__name__}: {error}")
            raise JourneyFailed from error
        self.tally.time(name, time.perf_counter() - started)
        self._check(name, response, expect, must_show)
        return response

    def _check(
        self, name: str, response: requests.Response, expect: int | tuple[int, ...], shows: str
    ) -> None:
        text = response.text
        where = f"{name} ({response.request.method} {urlsplit(response.url).path})"
        if response.status_code == 409 or any(c in text for c in CONFLICTS):
            self.tally.error(self.tally.conflicts, f"{where} -> {response.status_code}")
            return
        if ERROR_SUMMARY in text or (
            response.request.headers.get("HX-Request") and "Error:" in text
        ):
            self.tally.error(self.tally.summaries, f"{where}: {_first_error(text)}")
            raise JourneyFailed
        expected = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in expected or shows not in text:
            self.tally.error(
                self.tally.errors,
                f"{where} -> {response.status_code}"
                + ("" if shows in text else f" without {shows!r}"),
            )
            raise JourneyFailed

    def follow(self, response: requests.Response, must_show: str = "") -> requests.Response:
        """Follow redirects one hop at a time, each hop timed as `GET <path>`; the page landed
        on must show `must_show`."""
        while response.is_redirect:
            # The query stays: the order's pages carry its year (`/order/check?year=2027`).
            target = urlsplit(urljoin(response.url, response.headers["Location"]))
            path = target.path + (f"?{target.query}" if target.query else "")
            response = self.send(
                f"GET {_pattern(target.path)}", "GET", path, expect=(200, 302, 303)
            )
        if must_show not in response.text:
            self.tally.error(self.tally.errors, f"{response.url} without {must_show!r}")
            raise JourneyFailed
        return response

    def sign_in(self, email: str) -> requests.Response:
        page = self.send("GET /sign-in", "GET", "/sign-in")
        fields, _radios = form_on(page.text, "/sign-in")
        fields.update(email=email, password=PASSWORD)
        self.think(3, 8)  # typing an e-mail address and a password
        signed = self.send("POST /sign-in", "POST", "/sign-in", data=fields, expect=302)
        return self.follow(signed)


def _pattern(path: str) -> str:
    """`/orders/123` -> `/orders/<id>`: one row of the table per kind of page."""
    return re.sub(r"/\d+(?=/|$)", "/<id>", path)


def _first_error(text: str) -> str:
    found = re.search(r"govuk-error-summary__list.*?<a[^>]*>(.*?)</a>", text, flags=re.S)
    if found:
        return html.unescape(found.group(1)).strip()
    announced = re.search(r"Error: ([^<]*)", text)
    return html.unescape(announced.group(1)).strip() if announced else "?"


# --- Journeys ---------------------------------------------------------------------------------


def _plan(controls: list[DaysControl], rng: random.Random) -> list[tuple[DaysControl, str]]:
    """Eight changes to two to four services, the way a person settles on their days: whole and
    half days within each service's range, now and then clearing one, the last a real number."""
    chosen = rng.sample(controls, min(len(controls), rng.randint(2, 4)))
    changes = []
    for n in range(CHANGES):
        control = chosen[n % len(chosen)] if n < len(chosen) else rng.choice(chosen)
        steps = int((min(control.high, control.low + 5) - control.low) * 2)
        days = control.low + rng.randint(0, max(steps, 0)) / 2
        value = f"{days:g}"
        if n not in (0, CHANGES - 1) and rng.random() < 0.1:
            value = ""  # cleared: the service taken out of the basket
        changes.append((control, value))
    return changes


def next_academic_year() -> int:
    """The academic year after today's (its starting calendar year): the one bought back."""
    today = datetime.datetime.now(ZoneInfo("Europe/London")).date()
    return (today.year if today.month >= 9 else today.year - 1) + 1


def business_manager(browser: Browser, email: str, urn: int) -> bool:
    """Sign in, order days in the catalogue, check answers and submit; True once submitted."""
    browser.sign_in(email)
    browser.think(3, 8)  # the school's home page
    # The window has opened: the business manager orders next year's days (?year= is their
    # choice on the catalogue's first page).
    year = next_academic_year()
    catalogue, check_url = f"/catalogue?year={year}", f"/order/check?year={year}"
    details_url = f"/order/details?year={year}"
    page = browser.send("GET /catalogue", "GET", catalogue, must_show="days-").text
    token = htmx_token(page)
    fields, _radios = form_on(page, "/catalogue")
    browser.think(5, 15)  # reading the catalogue
    for control, value in _plan(days_controls(page), browser.random):
        browser.think(2, 6)  # typing; htmx sends 400 ms after the last keystroke
        fields[control.field] = value
        browser.send(
            "day-count htmx POST",
            "POST",
            control.path,
            data={control.field: value},
            must_show=SAVED,
            headers={
                "HX-Request": "true",
                "HX-Current-URL": urljoin(browser.base, catalogue),
                "HX-Trigger": control.field,
                "HX-Trigger-Name": control.field,
                "HX-Target": f"{control.field}-result",
                "X-CSRFToken": token,
            },
        )
    browser.think(3, 8)
    fields["action"] = "continue"  # the "Continue to check your order" button
    sent = browser.send("POST /catalogue (continue)", "POST", catalogue, data=fields, expect=302)
    details_page = browser.follow(sent, must_show='name="po_number"')
    fields, radios = form_on(details_page.text, "/order/details")
    fields["po_number"] = f"PO-{urn}-{browser.random.randint(1000, 9999)}"
    if radios.get("preferred_term"):
        fields["preferred_term"] = browser.random.choice(radios["preferred_term"])
    fields["preferred_dates"] = browser.random.choice(("", "Not on Fridays", "After half term"))
    browser.think(10, 30)  # finding the purchase order number
    given = browser.send("POST /order/details", "POST", details_url, data=fields, expect=302)
    check = browser.follow(given, must_show="Check your order")
    fields = _check_answers_fields(check.text)
    browser.think(5, 15)  # reading the order and the terms
    submitted = browser.send("POST /order/check", "POST", check_url, data=fields, expect=302)
    if submitted.status_code == 200:  # a conflict (counted): the page as it is now, submit again
        fields.update(_check_answers_fields(submitted.text))
        browser.think(3, 8)
        submitted = browser.send("POST /order/check", "POST", check_url, data=fields, expect=302)
    browser.follow(submitted, must_show="Your order number")
    return True


def _check_answers_fields(page: str) -> dict[str, str]:
    """The check answers form's fields, the year's terms accepted when the page asks."""
    fields = form_on(page, "/order/check")[0]
    if 'name="accept_terms"' in page:
        fields["accept_terms"] = "y"
    return fields


def finance_officer(browser: Browser, email: str, until: threading.Event) -> None:
    """Sign in, then the register and aged debt in turn, reading each, until the morning ends."""
    browser.sign_in(email)
    pages = (
        ("GET /finance/invoices", "/finance/invoices", "documents"),
        ("GET /finance/aged-debt", "/finance/aged-debt", "Total"),
    )
    while not until.is_set():
        for name, path, shows in pages:
            browser.send(name, "GET", path, must_show=shows)
            browser.think(5, 15)


def run_person(tally: Tally, journey: Callable[[], object], business: bool) -> None:
    """Run one journey, counting the person in and out; a failed step ends their morning."""
    tally.arrive()
    done = False
    try:
        done = bool(journey())
    except JourneyFailed:
        pass
    except Exception as error:  # a bench bug is reported, not hidden
        tally.error(tally.errors, f"journey broke: {type(error).__name__}: {error}")
    finally:
        tally.leave(done and business)


def probe(base: str, tally: Tally, until: threading.Event, every: float = 0.25) -> None:
    """`/healthz` sampled every `every` seconds throughout the run, on the clock rather than
    after the previous answer, so a slow minute is sampled as often as a quiet one; connected
    as the people's requests are."""
    sent: list[threading.Thread] = []
    n = 0
    while not until.wait(every):
        n += 1
        browser = Browser(base, "127.0.0.1", tally, 0.0, n)
        thread = threading.Thread(target=_sample, args=(browser,))
        thread.start()
        sent.append(thread)
    for thread in sent:
        thread.join()


def _sample(browser: Browser) -> None:
    try:
        browser.send("baseline /healthz", "GET", "/healthz")
    except JourneyFailed:
        pass
    finally:
        browser.session.close()
