"""Rendering a document's PDF with WeasyPrint, from its data alone.

The HTML comes from templates/invoices/ through a Jinja environment of its own (autoescaped:
names, PO numbers and notes are text, never markup), styled by static/invoices/print.css
alone (not the GOV.UK CSS), in fonts installed on the machine (Debian's fonts-liberation2).
Resources are fetched by `StaticOnlyFetcher`: the app's own static files and `data:` URLs,
nothing else (no network, no other files, no redirects). The PDF is A4, tagged PDF/UA-1, with
a title and a language, and "Page n of m" in its footer.

The parsed stylesheet and the font configuration are made once per thread and reused: they
are most of a warm render's set-up cost, and neither depends on the document (bench/invoices.py
measures it). So is the template: a changed print.css or document.html needs a restart.

Render time grows with the boxes WeasyPrint styles, lays out, draws and tags, so the template
is kept lean (see its header), and documents are parsed by `InvoiceHTML`, whose user-agent
stylesheet leaves out what no invoice uses (see `user_agent_stylesheet`).
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import os
import re
import threading
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from traded_app import formatting
from traded_app.config import PROJECT_ROOT
from traded_app.services.documents.document_data import DocumentData, LineData, VatBandData

log = logging.getLogger(__name__)

TEMPLATES = PROJECT_ROOT / "templates" / "invoices"
STATIC = (PROJECT_ROOT / "static").resolve()
STYLESHEET = STATIC / "invoices" / "print.css"
BASE_URL = (STATIC / "invoices").as_uri() + "/"
# The first font the stylesheet names; scripts/system-packages.sh installs it.
FONT_FAMILY = "Liberation Sans"


class RefusedURLError(ValueError):
    """A resource the PDF renderer may not fetch. WeasyPrint logs it and renders without."""


class StaticOnlyFetcher(URLFetcher):
    """Fetch `data:` URLs and regular files under the app's static folder; refuse the rest.

    A `file:` URL is turned into a path, percent-decoded and resolved (so `..` and symlinks
    are followed first) and must then lie inside `root`; the file is read here, not by
    urllib, so no other handler (http, https, ftp, redirects) is ever reached.
    """

    def __init__(self, root: Path = STATIC) -> None:
        super().__init__(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
        self.root = root.resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        try:
            parts = urlsplit(url)
        except ValueError:
            raise RefusedURLError(f"Refused to fetch {url!r}: not a URL") from None
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise RefusedURLError(f"Refused to fetch {url!r}: only static files and data: URLs")
        if parts.netloc not in ("", "localhost"):
            raise RefusedURLError(f"Refused to fetch {url!r}: not a local file")
        path = self.static_path(unquote(parts.path))
        if path is None:
            raise RefusedURLError(f"Refused to fetch {url!r}: only the app's static files")
        # O_NOFOLLOW: the resolved path holds no symlink, so one appearing now is a swap.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(descriptor, "rb") as handle:
            body = handle.read()
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body, {"Content-Type": content_type})

    def static_path(self, raw_path: str) -> Path | None:
        """The regular file `raw_path` names, if it lies inside the static folder."""
        if "\x00" in raw_path:
            return None
        try:
            path = Path(raw_path).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            return None
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path


# --- The template and its filters ---------------------------------------------------------


def vat_rate(rate_bp: int) -> str:
    """2000 -> '20%', 1750 -> '17.5%', 500 -> '5%' (rates are basis points)."""
    whole, part = divmod(rate_bp, 100)
    return f"{whole}%" if part == 0 else f"{whole}.{part:02d}".rstrip("0") + "%"


_RATED = ("standard", "reduced", "zero")


def vat_column(line: LineData) -> str:
    """What a line's VAT column says: its rate, or why it carries none."""
    if line.vat_treatment.value in _RATED:
        return vat_rate(line.vat_rate_bp)
    return {"exempt": "Exempt", "outside_scope": "Outside scope"}[line.vat_treatment.value]


def vat_band(band: VatBandData) -> str:
    """The label of one VAT-by-rate row of the totals."""
    if band.vat_treatment.value in _RATED:
        return f"VAT at {vat_rate(band.vat_rate_bp)} on {formatting.pounds(band.net_pence)}"
    return f"{band.vat_treatment.label} ({formatting.pounds(band.net_pence)})"


def is_https(url: str) -> bool:
    """Only an https link becomes a "Pay by card" link (never javascript:, file: or http:)."""
    parts = urlsplit(url or "")
    return parts.scheme == "https" and bool(parts.netloc)


def png_data_url(png: bytes) -> str:
    """A PNG as a `data:` URL: the fetcher's one way to an image that is not a static file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def one_line(text: str) -> str:
    """An address's lines joined with commas, for the masthead."""
    return ", ".join(part.strip() for part in text.splitlines() if part.strip())


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    for name in ("pounds", "days", "days_number", "long_date"):
        env.filters[name] = getattr(formatting, name)
    env.filters["vat_rate"] = vat_rate
    env.filters["vat_column"] = vat_column
    env.filters["vat_band"] = vat_band
    env.filters["is_https"] = is_https
    env.filters["one_line"] = one_line
    env.filters["png_data_url"] = png_data_url
    return env


def html_for(data: DocumentData) -> str:
    return _environment().get_template("document.html").render(doc=data)


def html_of(template: str, **context: Any) -> str:
    """Another template of templates/invoices/ (a statement of account) in the same environment."""
    return _environment().get_template(template).render(**context)


# --- Rendering ----------------------------------------------------------------------------

_local = threading.local()

# Rules of WeasyPrint's user-agent stylesheet that style a pseudo-element of every element: list
# markers, and footnote and note calls, markers and call-backs. Each gives every element of every
# document one more style to compute (six per element, more than the element's own), and an
# invoice has no list, footnote or note.
_FOOTNOTES_AND_NOTES = re.compile(r"^::(?:footnote|note)-[a-z]+ \{[^}]*\}\n", re.M)
_EVERY_MARKER = re.compile(r"^::marker ", re.M)


@cache
def user_agent_stylesheet() -> CSS:
    """WeasyPrint's own user-agent stylesheet without the footnote and note rules, and with list
    markers styled on list items only (`<li>`) rather than on every element. Everything else
    (display types, margins, table defaults, page rules) is WeasyPrint's, unchanged. Parsed once
    per process, like WeasyPrint's own, which every thread shares."""
    source = (files("weasyprint.css") / "html5_ua.css").read_text("utf-8")
    return CSS(string=trimmed_user_agent_css(source))


def trimmed_user_agent_css(source: str) -> str:
    """The user-agent stylesheet `source` less its footnote and note rules, with list markers
    styled on `<li>` only."""
    return _EVERY_MARKER.sub("li::marker ", _FOOTNOTES_AND_NOTES.sub("", source))


class InvoiceHTML(HTML):
    """A document parsed for the renderer: WeasyPrint's HTML with `user_agent_stylesheet`.

    `_ua_stylesheets` is WeasyPrint's hook for its user-agent stylesheets (its own test suite
    replaces them the same way); weasyprint is pinned in pyproject.toml, and should the hook
    ever go, documents render as before, only slower."""

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return [user_agent_stylesheet(), *super()._ua_stylesheets(forms)[1:]]


def _prepared() -> tuple[FontConfiguration, CSS]:
    """This thread's font configuration and parsed print stylesheet, made on first use.

    Per thread, because neither Pango's font map nor WeasyPrint's caches promise to be safe to
    share between threads; an invoice run in processes gets one set per process."""
    prepared = getattr(_local, "prepared", None)
    if prepared is None:
        font_config = FontConfiguration()
        stylesheet = CSS(
            filename=str(STYLESHEET),
            base_url=BASE_URL,
            url_fetcher=StaticOnlyFetcher(),
            font_config=font_config,
        )
        prepared = _local.prepared = (font_config, stylesheet)
    return prepared  # type: ignore[no-any-return]


def render_html(
    html: str, url_fetcher: URLFetcher | None = None, identifier: bytes | None = None
) -> bytes:
    """Any HTML through the invoice stylesheet, fonts, fetcher and PDF options (statements,
    tests and the bench use it; documents go through `render`)."""
    font_config, stylesheet = _prepared()
    document = InvoiceHTML(
        string=html, base_url=BASE_URL, url_fetcher=url_fetcher or StaticOnlyFetcher()
    )
    pdf = document.write_pdf(
        stylesheets=[stylesheet],
        font_config=font_config,
        pdf_variant="pdf/ua-1",
        pdf_identifier=identifier,
    )
    assert pdf is not None
    return pdf


def render_certificate(context: dict[str, str]) -> bytes:
    """A certificate of attendance on a course (templates/invoices/certificate.html), from the
    plain text values given: tagged PDF/UA-1 through the same stylesheet, fonts and fetcher."""
    html = _environment().get_template("certificate.html").render(cert=context)
    return render_html(html)


def render(data: DocumentData, url_fetcher: URLFetcher | None = None) -> bytes:
    """The document's PDF (A4, tagged PDF/UA-1), from its data alone."""
    font_config, stylesheet = _prepared()
    document = InvoiceHTML(
        string=html_for(data), base_url=BASE_URL, url_fetcher=url_fetcher or StaticOnlyFetcher()
    )
    pdf = document.write_pdf(
        stylesheets=[stylesheet],
        font_config=font_config,
        pdf_variant="pdf/ua-1",
        pdf_identifier=data.number.encode(),
    )
    assert pdf is not None
    return pdf


def render_named(template: str, identifier: str, **context: Any) -> bytes:
    """Another template of templates/invoices/ (a visit report, a quote) to PDF, through the same
    environment, stylesheet, fonts, fetcher and PDF/UA options as documents."""
    html = _environment().get_template(template).render(**context)
    font_config, stylesheet = _prepared()
    document = InvoiceHTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher())
    pdf = document.write_pdf(
        stylesheets=[stylesheet],
        font_config=font_config,
        pdf_variant="pdf/ua-1",
        pdf_identifier=identifier.encode(),
    )
    assert pdf is not None
    return pdf
