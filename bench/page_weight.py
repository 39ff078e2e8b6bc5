"""Page weight: what a browser downloads on a first visit and on a returning visit.

The app runs under gunicorn over a scratch copy of the demo data (as bench/run.py does). A small
browser cache is simulated: a visit opens the sign-in page, then (signed in as a school business
manager) the school home page, fetching each page's stylesheets, icon and scripts and the modules
those scripts import, the way a browser would (images a stylesheet might use are not followed).
A stored answer is reused without asking while it is fresh (`max-age`, unless `no-cache`), asked
again with `If-None-Match`/`If-Modified-Since` when it is stale, and fetched whole otherwise.
The returning visit is a day after the first. Bytes are as received on the wire: the status line,
the headers and the body as sent (compressed when the server compressed it).

    .venv/bin/python bench/page_weight.py [--encoding "gzip, deflate, br"]

Goal (issue 12): a returning visit fetches no static file at all. Printed as met or not; the exit
status is not 0 only when an answer was wrong (a page or a static file that did not answer 200).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import posixpath
import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser

import brotli
from run import HOST, REQUEST_TIMEOUT, serving, sign_in

ACCOUNT = "sbm@example.org"
BROWSER_ENCODING = "gzip, deflate, br"  # what a browser sends over HTTPS
RETURN_AFTER = 24 * 60 * 60  # seconds between the first visit and the returning one
PAGE_GAP = 10  # seconds between the two pages of one visit
IMPORT = re.compile(r"""\bimport\s*(?:[\w*{}\s,]+from\s*)?["']([^"']+)["']""")


class AssetLinks(HTMLParser):
    """The static files a page makes a browser fetch: stylesheets, icons and scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        rel = (attributes.get("rel") or "").split()
        if tag == "link" and ({"stylesheet", "icon"} & set(rel)) and attributes.get("href"):
            self.urls.append(str(attributes["href"]))
        elif tag == "script" and attributes.get("src"):
            self.urls.append(str(attributes["src"]))


@dataclass
class Stored:
    etag: str | None
    last_modified: str | None
    fresh_for: float  # seconds from `stored_at`; 0 means ask again every time
    stored_at: float
    body: bytes  # decoded


@dataclass
class Tally:
    requests: int = 0
    bytes: int = 0
    asset_requests: int = 0
    asset_bytes: int = 0
    not_modified: int = 0
    wrong: list[str] = field(default_factory=list)


@dataclass
class Browser:
    port: int
    encoding: str
    cookie: str = ""
    now: float = 0.0
    cache: dict[str, Stored] = field(default_factory=dict)

    def get(self, path: str, tally: Tally, asset: bool) -> bytes | None:
        """GET `path` through the cache: the body (decoded), fetched or stored; None on an error."""
        stored = self.cache.get(path)
        if stored and self.now - stored.stored_at < stored.fresh_for:
            return stored.body
        headers = {"Accept-Encoding": self.encoding}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if stored and stored.etag:
            headers["If-None-Match"] = stored.etag
        if stored and stored.last_modified:
            headers["If-Modified-Since"] = stored.last_modified
        conn = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            wire = len(f"HTTP/1.1 {response.status} {response.reason}\r\n\r\n") + sum(
                len(f"{name}: {value}\r\n") for name, value in response.getheaders()
            )
        finally:
            conn.close()
        wire += len(body)
        tally.requests += 1
        tally.bytes += wire
        if asset:
            tally.asset_requests += 1
            tally.asset_bytes += wire
        if response.status not in (200, 304):
            tally.wrong.append(f"GET {path} -> {response.status}")
            return None
        if response.status == 304 and stored:
            tally.not_modified += 1
            decoded = stored.body
        else:
            decoded = decode(body, response.getheader("Content-Encoding"))
        self.store(path, response, decoded)
        return decoded

    def store(self, path: str, response: http.client.HTTPResponse, body: bytes) -> None:
        directives = {
            part.strip().split("=")[0].lower(): part.strip().partition("=")[2]
            for part in (response.getheader("Cache-Control") or "").split(",")
            if part.strip()
        }
        if "no-store" in directives:
            self.cache.pop(path, None)
            return
        old = self.cache.get(path)
        etag = response.getheader("ETag") or (old.etag if old else None)
        modified = response.getheader("Last-Modified") or (old.last_modified if old else None)
        fresh = 0.0
        if "max-age" in directives and "no-cache" not in directives:
            fresh = float(directives["max-age"] or 0)
        if fresh or etag or modified:
            self.cache[path] = Stored(etag, modified, fresh, self.now, body)

    def visit_page(self, path: str, tally: Tally) -> None:
        page = self.get(path, tally, asset=False)
        if page is None:
            raise SystemExit(f"GET {path} gave no page: {tally.wrong}")
        parser = AssetLinks()
        parser.feed(page.decode())
        pending = list(dict.fromkeys(parser.urls))
        seen = set(pending)
        while pending:
            url = pending.pop(0)
            body = self.get(url, tally, asset=True)
            if body is None or not url.split("?")[0].endswith((".js", ".mjs")):
                continue
            for target in IMPORT.findall(body.decode(errors="replace")):
                resolved = posixpath.normpath(posixpath.join(posixpath.dirname(url), target))
                if target.startswith("/"):
                    resolved = target
                if resolved not in seen:
                    seen.add(resolved)
                    pending.append(resolved)


def decode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        return bytes(brotli.decompress(body))
    return body


def wait_until_answering(port: int, seconds: float = 120.0) -> None:
    """gunicorn listens before its workers have loaded the app: wait for one answer (slow on a
    busy machine), so the measured requests do not time out."""
    conn = http.client.HTTPConnection(HOST, port, timeout=seconds)
    try:
        conn.request("GET", "/healthz")
        conn.getresponse().read()
    finally:
        conn.close()


def visit(browser: Browser, cookie: str) -> Tally:
    """The sign-in page, then the school home page signed in, PAGE_GAP seconds apart."""
    tally = Tally()
    browser.cookie = ""
    browser.visit_page("/sign-in", tally)
    browser.now += PAGE_GAP
    browser.cookie = cookie
    browser.visit_page("/school", tally)
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--encoding", default=BROWSER_ENCODING, help="the Accept-Encoding sent")
    args = parser.parse_args()
    with serving() as server:
        wait_until_answering(server.port)
        cookie = sign_in(server.port, ACCOUNT)
        browser = Browser(server.port, args.encoding)
        first = visit(browser, cookie)
        browser.now += RETURN_AFTER
        returning = visit(browser, cookie)
    print(f"Accept-Encoding: {args.encoding}; two pages a visit (/sign-in, then /school)")
    print(
        f"{'visit':<12}{'requests':>9}{'bytes':>9}{'static req':>11}{'static bytes':>13}{'304s':>6}"
    )
    for name, tally in (("first", first), ("returning", returning)):
        print(
            f"{name:<12}{tally.requests:>9}{tally.bytes:>9}{tally.asset_requests:>11}"
            f"{tally.asset_bytes:>13}{tally.not_modified:>6}"
        )
    met = returning.asset_requests == 0
    print(
        f"goal: a returning visit fetches no static file: {'met' if met else 'NOT met'} "
        f"({returning.asset_requests} static requests)"
    )
    wrong = first.wrong + returning.wrong
    for line in wrong:
        print(f"FAILED: {line}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
