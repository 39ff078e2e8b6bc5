"""Rendering a document's PDF with WeasyPrint, from its data alone.

The HTML comes from templates/invoices/ through a Jinja environment of its own (autoescaped:
names, PO numbers and notes are text, never markup), styled by static/invoices/print.css, in
the fonts installed on the machine. Resources are fetched by `StaticOnlyFetcher`: the app's own
static files and `data:` URLs, nothing else (no network, no other files, no redirects). The
PDF is tagged PDF/UA-1, with a title and a language.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from traded_app import formatting
from traded_app.config import PROJECT_ROOT
from traded_app.services.invoicing import DocumentData

TEMPLATES = PROJECT_ROOT / "templates" / "invoices"
STATIC = (PROJECT_ROOT / "static").resolve()
BASE_URL = (STATIC / "invoices").as_uri() + "/"


class StaticOnlyFetcher(URLFetcher):
    """Fetch `data:` URLs and files under the app's static folder; refuse everything else."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False, timeout=1)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if not path.is_relative_to(STATIC) or not path.is_file():
                raise ValueError(f"Refused to fetch {url}: only the app's static files are allowed")
        elif scheme != "data":
            raise ValueError(f"Refused to fetch {url}: only static files and data: URLs")
        return super().fetch(url, headers)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    for name in ("pounds", "days", "days_number", "long_date"):
        env.filters[name] = getattr(formatting, name)
    env.filters["vat_rate"] = vat_rate
    return env


def vat_rate(rate_bp: int) -> str:
    whole, part = divmod(rate_bp, 100)
    return f"{whole}%" if part == 0 else f"{whole}.{part:02d}".rstrip("0") + "%"


def html_for(data: DocumentData) -> str:
    return _environment().get_template("document.html").render(doc=data)


def render(data: DocumentData) -> bytes:
    """The document's PDF (tagged, PDF/UA-1)."""
    html = HTML(string=html_for(data), base_url=BASE_URL, url_fetcher=StaticOnlyFetcher())
    pdf = html.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=data.number.encode())
    assert pdf is not None
    return pdf
