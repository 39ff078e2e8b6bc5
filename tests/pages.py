"""The check every HTML response in the integration tests goes through (after GOV.UK Notify's
client_request): it parses, has a title and a language, no id repeats, POST forms carry CSRF."""

from __future__ import annotations

from collections import Counter

import html5lib
from bs4 import BeautifulSoup
from werkzeug.test import TestResponse


class PageProblem(AssertionError):
    pass


def check_html(response: TestResponse, *, fragment: bool) -> BeautifulSoup:
    body = response.get_data(as_text=True)
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        if fragment:
            parser.parseFragment(body)
        else:
            parser.parse(body)
    except html5lib.html5parser.ParseError as error:
        line = error.args[0] if error.args else ""
        raise PageProblem(f"{response.request.path}: HTML does not parse: {line}") from None
    soup = BeautifulSoup(body, "html5lib")
    if not fragment:
        html = soup.find("html")
        if html is None or not html.get("lang"):
            raise PageProblem(f"{response.request.path}: <html> has no lang")
        title = soup.find("title")
        if title is None or not title.get_text(strip=True):
            raise PageProblem(f"{response.request.path}: page has no <title>")
        if soup.find("h1") is None:
            raise PageProblem(f"{response.request.path}: page has no <h1>")
    ids = Counter(tag["id"] for tag in soup.find_all(id=True))
    repeated = sorted(i for i, n in ids.items() if n > 1)
    if repeated:
        raise PageProblem(f"{response.request.path}: repeated ids {repeated}")
    for form in soup.find_all("form"):
        if (form.get("method") or "get").lower() == "post":
            if form.find("input", attrs={"name": "csrf_token"}) is None:
                raise PageProblem(f"{response.request.path}: a POST form has no CSRF token")
        if not form.get("action"):
            raise PageProblem(f"{response.request.path}: a form has no action")
    if soup.find(style=True) is not None:
        raise PageProblem(f"{response.request.path}: inline style attribute (CSP forbids it)")
    return soup
