"""The PDF renderer on its own (no database): the static-only URL fetcher, hostile text that
must stay text, the tagged PDF/UA-1 structure, A4 pages with numbered footers, and what each
kind of document says about paying."""

from __future__ import annotations

import io
import json
import os
import re
import urllib.request
from collections import Counter
from dataclasses import replace
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

from traded_app.models.invoices import DocumentType
from traded_app.models.types import VatTreatment
from traded_app.services.documents import pdf
from traded_app.services.documents.document_data import DocumentData, LineData, VatBandData

HOSTILE = (
    '<img src="file:///etc/passwd">',
    '<link rel=attachment href="file:///etc/passwd">',
    '<img src="http://127.0.0.1:9/x">',
)


def line(code: str, half_days: int, *, rate_bp: int = 2000, price: int = 45_000) -> LineData:
    treatment = VatTreatment.STANDARD if rate_bp else VatTreatment.OUTSIDE_SCOPE
    return LineData(
        code,
        f"Service {code}",
        f"What {code} is, in a sentence or two that a school business manager would recognise.",
        half_days,
        price,
        half_days * price // 2,
        treatment,
        rate_bp,
    )


def document(
    document_type: DocumentType = DocumentType.INVOICE,
    lines: tuple[LineData, ...] | None = None,
    **values: Any,
) -> DocumentData:
    """Document data as issuing builds it, with totals that add up."""
    recharge = document_type == DocumentType.RECHARGE
    lines = lines or (line("HTPM", 3, rate_bp=0 if recharge else 2000), line("SAFE", 2))
    net = sum(item.net_pence for item in lines)
    vat = sum(item.net_pence * item.vat_rate_bp // 10_000 for item in lines)
    band = VatBandData(lines[0].vat_treatment, lines[0].vat_rate_bp, net, vat)
    fields: dict[str, Any] = {
        "document_type": document_type,
        "number": {"invoice": "INV", "recharge": "RCH", "credit_note": "CRN"}[document_type.value]
        + "-2026-000007",
        "issue_date": date(2026, 11, 25),
        "due_date": date(2026, 12, 25),
        "seller_name": "Testshire County Council",
        "seller_address": "County Hall\nMarket Road\nChelmsford\nCM1 1QH",
        "seller_vat_number": "GB 104 2195 43",
        "seller_email": "team@council.example",
        "seller_phone": "01234 567890",
        "bank_name": "Example Bank",
        "bank_account_name": "Testshire County Council",
        "bank_sort_code": "20-00-00",
        "bank_account_number": "12345678",
        "buyer_name": "Meadow Academy",
        "buyer_urn": 100003,
        "buyer_address": "1 Meadow Lane\nTesttown\nTT1 1TT",
        "buyer_contact_name": "Sam Patel",
        "buyer_contact_email": "office@meadow.example",
        "buyer_cost_centre": "CC100001" if recharge else "",
        "po_number": "PO-4471",
        "order_reference": "ORD-000042",
        "academic_year_label": "2026/27",
        "lines": lines,
        "vat_bands": (band,),
        "net_pence": net,
        "vat_pence": vat,
        "gross_pence": net + vat,
    }
    fields.update(values)
    return DocumentData(**fields)


def text_of(content: bytes) -> str:
    """Every page's text with runs of whitespace made single spaces."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def squashed(text: str) -> str:
    return "".join(text.split())


class RecordingFetcher(pdf.StaticOnlyFetcher):
    """The static-only fetcher, noting every URL WeasyPrint asks it for."""

    def __init__(self, root: Path = pdf.STATIC) -> None:
        super().__init__(root)
        self.asked: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> Any:
        self.asked.append(url)
        return super().fetch(url, headers)


def embedded_files(content: bytes) -> list[Any]:
    """Embedded files and file-attachment annotations anywhere in the PDF."""
    reader = PdfReader(io.BytesIO(content))
    found: list[Any] = []
    names = reader.trailer["/Root"].get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        found.append(names.get_object()["/EmbeddedFiles"])
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            if annotation.get_object().get("/Subtype") == "/FileAttachment":
                found.append(annotation)
    return found


# --- The URL fetcher ----------------------------------------------------------------------


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any attempt to open a URL through urllib is recorded and fails."""
    opened: list[str] = []

    def refuse(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        url = request if isinstance(request, str) else request.full_url
        opened.append(url)
        if url.startswith("data:"):
            return original(self, request, *args, **kwargs)
        raise AssertionError(f"urllib was asked to open {url}")

    original = urllib.request.OpenerDirector.open
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", refuse)
    return opened


def test_the_fetcher_serves_the_apps_own_static_files_and_data_urls() -> None:
    fetcher = pdf.StaticOnlyFetcher()
    response = fetcher.fetch(pdf.STYLESHEET.as_uri())
    assert response.read() == pdf.STYLESHEET.read_bytes()
    assert response.content_type == "text/css"
    assert fetcher.fetch("data:text/plain;base64,aGVsbG8=").read() == b"hello"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        f"{pdf.BASE_URL}../../pyproject.toml",
        f"{pdf.BASE_URL}%2e%2e/%2e%2e/pyproject.toml",
        f"{pdf.STATIC.as_uri()}/../traded_app/config.py",
        f"file://localhost{pdf.STATIC.parent}/pyproject.toml",
        f"file://elsewhere.example{pdf.STYLESHEET}",
        f"{pdf.STATIC.as_uri()}/",  # a folder, not a file
        f"{pdf.STATIC.as_uri()}/invoices/missing.css",
        f"{pdf.STATIC.as_uri()}/invoices/print.css%00.png",
        "http://127.0.0.1:9/x",
        "https://example.com/logo.png",
        "ftp://example.com/file",
        "gopher://127.0.0.1:70/",
        "jar:file:///etc/passwd!/",
        "/etc/passwd",
    ],
)
def test_the_fetcher_refuses_anything_else_before_opening_it(
    url: str, no_network: list[str]
) -> None:
    with pytest.raises(ValueError, match=r"Refused to fetch|Not an absolute URI"):
        pdf.StaticOnlyFetcher().fetch(url)
    assert no_network == []


def test_symlinks_out_of_static_are_refused_and_those_inside_followed(tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "invoices").mkdir(parents=True)
    (static / "invoices" / "print.css").write_text("p { color: black }")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for PDFs")
    os.symlink(secret, static / "invoices" / "escape.css")
    os.symlink(tmp_path, static / "invoices" / "up")
    os.symlink(static / "invoices" / "print.css", static / "invoices" / "alias.css")
    fetcher = pdf.StaticOnlyFetcher(root=static)

    for name in ("escape.css", "up/secret.txt"):
        with pytest.raises(pdf.RefusedURLError):
            fetcher.fetch((static / "invoices").as_uri() + "/" + name)
    assert fetcher.fetch((static / "invoices" / "alias.css").as_uri()).read() == (
        b"p { color: black }"
    )


def test_the_fetcher_follows_no_redirects() -> None:
    # Redirects only exist for http(s), which is refused outright; no handler for them is
    # installed either, should a future WeasyPrint reach urllib some other way.
    fetcher = pdf.StaticOnlyFetcher()
    assert not any(
        isinstance(handler, urllib.request.HTTPRedirectHandler) for handler in fetcher.handlers
    )


def test_markup_given_to_weasyprint_reaches_the_fetcher_and_is_refused() -> None:
    """The control for the tests below: were text ever to become markup, the recording fetcher
    would see these URLs, refuse them, and embed nothing."""
    fetcher = RecordingFetcher()
    content = pdf.render_html(
        '<!DOCTYPE html><html lang="en-GB"><title>t</title><body><p>x</p>'
        + "".join(HOSTILE)
        + "</body></html>",
        url_fetcher=fetcher,
    )
    assert "file:///etc/passwd" in fetcher.asked
    assert "http://127.0.0.1:9/x" in fetcher.asked
    assert embedded_files(content) == []
    assert "root:" not in text_of(content)


# --- Hostile text stays text ---------------------------------------------------------------


@pytest.mark.parametrize("markup", HOSTILE)
@pytest.mark.parametrize("kind", list(DocumentType))
def test_markup_in_text_fields_prints_as_text_and_fetches_nothing(
    markup: str, kind: DocumentType
) -> None:
    hostile_line = replace(
        line("EVIL", 2, rate_bp=0 if kind == DocumentType.RECHARGE else 2000),
        service_name=f"Review {markup}",
        description=f"Described {markup}",
    )
    data = document(
        kind,
        lines=(hostile_line,),
        buyer_name=f"School {markup}",
        buyer_address=f"1 Road {markup}\nTown",
        buyer_contact_name=f"Head {markup}",
        po_number=markup[:40],
        reason=f"Because {markup}",
        credits_number="INV-2026-000001" if kind == DocumentType.CREDIT_NOTE else "",
        credits_type=DocumentType.INVOICE if kind == DocumentType.CREDIT_NOTE else None,
    )
    fetcher = RecordingFetcher()
    content = pdf.render(data, url_fetcher=fetcher)

    assert fetcher.asked == []
    assert embedded_files(content) == []
    text = squashed(text_of(content))  # long markup wraps where the line is full
    assert squashed(f"School {markup}") in text
    assert squashed(f"Review {markup}") in text
    assert squashed(f"Described {markup}") in text
    assert squashed(markup[:40]) in text
    if kind == DocumentType.CREDIT_NOTE:
        assert squashed(f"Because {markup}") in text
    assert "root:" not in text
    reader = PdfReader(io.BytesIO(content))
    assert all(
        annotation.get_object().get("/A", {}).get("/URI") is None
        for page in reader.pages
        for annotation in page.get("/Annots") or []
    )


# --- Tagged, titled, A4, in the installed font -----------------------------------------------


def test_the_pdf_is_tagged_pdf_ua_1_with_title_and_language() -> None:
    data = document()
    reader = PdfReader(io.BytesIO(pdf.render(data)))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert root["/MarkInfo"]["/Marked"].value is True
    assert "/StructTreeRoot" in root
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert reader.metadata is not None
    assert reader.metadata.title == "VAT invoice INV-2026-000007" == data.title
    assert reader.metadata.author == "Testshire County Council"
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfuaid:part="1"' in xmp
    assert reader.xmp_metadata is not None
    assert reader.xmp_metadata.dc_title == {"x-default": data.title}
    assert reader.pdf_header == "%PDF-1.7"


def structure(content: bytes) -> list[str]:
    """The tagged structure's headings, tables, captions and lists in reading (tree) order."""
    return [
        kind for kind, _element in tagged(content) if kind in {"H1", "H2", "Table", "Caption", "L"}
    ]


def tagged(content: bytes) -> list[tuple[str, DictionaryObject]]:
    """Every element of the tagged structure, with its type, in reading (tree) order."""
    reader = PdfReader(io.BytesIO(content))
    order: list[tuple[str, DictionaryObject]] = []

    def walk(element: Any) -> None:
        element = element.get_object()
        if not isinstance(element, DictionaryObject) or "/S" not in element:
            return
        order.append((str(element["/S"])[1:], element))
        kids = element.get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            if hasattr(kid, "get_object"):
                walk(kid)

    for top in reader.trailer["/Root"]["/StructTreeRoot"]["/K"]:
        walk(top)
    return order


def test_the_reading_order_is_from_to_details_lines_totals_then_how_to_pay() -> None:
    assert structure(pdf.render(document())) == [
        "H1",  # VAT invoice INV-…, after the council's name and address
        "H2",  # Invoice to, then the invoice's details (number, dates, PO)
        "Table",  # the lines and, as its last rows, the totals,
        "Caption",  # … with their caption
        "H2",  # How to pay, then the bank details
    ]


def test_each_document_states_its_total_days_after_its_lines_and_before_its_money() -> None:
    """Read in the tagged order (the text as extracted follows the content's order, which
    WeasyPrint writes as the tags are read): the lines, the total days, then the money."""
    for kind, data in one_of_each_kind().items():
        text = " ".join(text_of(pdf.render(data)).split())
        label = (
            "Total days credited"
            if data.document_type == DocumentType.CREDIT_NOTE
            else "Total days"
        )
        total = sum(line.half_days for line in data.lines)
        expected = f"{label} {total // 2}{'.5' if total % 2 else ''}"
        assert expected in text, kind
        last_line = data.lines[-1].service_name
        final = next(
            t for t in ("Total due", "Total to be recharged", "Total credited") if t in text
        )
        paying = next(t for t in ("How to pay", "Do not pay", "Nothing to pay") if t in text)
        assert (
            text.rindex(last_line) < text.index(expected) < text.index(final) < text.index(paying)
        ), kind


def test_every_amount_in_the_table_is_tagged_with_its_headers() -> None:
    """Each cell of the lines and totals is tied to its column's header and each total to its
    own row header (`scope`), so a screen reader announces "Total due, Amount before VAT"."""
    elements = tagged(pdf.render(document()))
    headers = [element for kind, element in elements if kind == "TH"]
    cells = [element for kind, element in elements if kind == "TD"]
    # Service … Amount before VAT; total days, before VAT, VAT at 20%, due
    assert len(headers) == 5 + 4
    assert all("/ID" in header for header in headers)
    ids = {str(header["/ID"]) for header in headers}
    associations = []
    for cell in cells:
        linked = cell["/A"]["/Headers"]
        assert isinstance(linked, ArrayObject)
        assert {str(header) for header in linked} <= ids
        associations.append(len(linked))
    # Two lines of five cells under their column headers; the total days under "Days" beside
    # its row header (and an empty cell across the other columns); then three totals under
    # "Amount" and beside their row headers.
    assert associations == [1] * 10 + [2, 4] + [2] * 3


def test_the_user_agent_stylesheet_is_weasyprints_less_footnotes_notes_and_stray_markers() -> None:
    """Documents are parsed with WeasyPrint's own user-agent stylesheet less the rules that give
    every element a footnote, note or list-marker style to compute (render time): the five
    footnote and note rules go, and list markers are styled on list items only."""
    source = (files("weasyprint.css") / "html5_ua.css").read_text("utf-8")
    trimmed = pdf.trimmed_user_agent_css(source)
    removed = set(source.splitlines()) - set(trimmed.splitlines())
    added = set(trimmed.splitlines()) - set(source.splitlines())
    assert sorted(line.split(" ", 1)[0] for line in removed) == [
        "::footnote-call",
        "::footnote-marker",
        "::marker",
        "::note-call",
        "::note-callback",
        "::note-marker",
    ]
    assert added == {"li" + line for line in removed if line.startswith("::marker ")}
    document = pdf.InvoiceHTML(string="<p>x</p>")
    assert document._ua_stylesheets()[0] is pdf.user_agent_stylesheet()


def test_list_items_keep_their_markers() -> None:
    content = pdf.render_html(
        '<!DOCTYPE html><html lang="en-GB"><title>t</title><ul><li>First</li></ul></html>'
    )
    text = text_of(content)
    assert "•" in text and "First" in text  # the bullet is drawn after its item


def test_pages_are_a4_in_liberation_sans_embedded() -> None:
    reader = PdfReader(io.BytesIO(pdf.render(document())))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
    names = {str(font["/BaseFont"]).split("+", 1)[-1] for font in fonts}
    assert names <= {"Liberation-Sans", "Liberation-Sans-Bold"}, names
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor  # embedded, not left to the reader's machine
    css = pdf.STYLESHEET.read_text()
    assert re.search(r'html \{[^}]*font-family: "Liberation Sans"', css)
    assert "govuk" not in css.lower()


def test_a_typical_invoice_is_one_page_with_its_number_in_the_footer() -> None:
    text = text_of(pdf.render(document()))
    assert "Page 1 of 1" in text
    assert "(continued)" not in text


def test_a_long_document_runs_on_with_the_header_row_on_every_page() -> None:
    lines = tuple(line(f"S{number:02d}", 1 + number % 6) for number in range(40))
    content = pdf.render(document(lines=lines))
    reader = PdfReader(io.BytesIO(content))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Service Days Price per day VAT rate Amount before VAT" in text, number
        if number > 1:
            assert "Testshire County Council VAT invoice INV-2026-000007 (continued)" in text
    # Each line once, totals and how to pay once, at the end.
    everything = " ".join(pages)
    for item in lines:
        assert everything.count(f"Service {item.service_code} ({item.service_code})") == 1
    assert everything.count("Total due") == 1
    assert "Total due" in pages[-1] and "How to pay" in pages[-1]


# --- Every word of the template before it was made lean (issue 12) ---------------------------

# pdf_words.json holds the words of each kind of document below as the template before issue 12
# (four tables, a float per column) rendered them, counted: the leaner template must say the
# same things, only laid out with fewer boxes. A change of wording updates the file on purpose:
# {kind: " ".join(sorted(words(pdf.render(data)).elements())) for kind, data in one_of_each_kind().items()}
WORDS_BEFORE = Path(__file__).with_name("pdf_words.json")


def one_of_each_kind() -> dict[str, DocumentData]:
    """An invoice with a card link, one with two VAT rates, a recharge, and credit notes
    against an invoice and against a recharge."""
    two_rates = (line("HTPM", 3), line("BOOKS", 2, rate_bp=500))
    bands = tuple(
        VatBandData(VatTreatment.STANDARD, item.vat_rate_bp, item.net_pence, vat)
        for item, vat in ((two_rates[0], 27_000), (two_rates[1], 2_250))
    )
    net = sum(item.net_pence for item in two_rates)
    return {
        "invoice": document(payment_link="https://pay.example/i/INV-2026-000007"),
        "two_vat_rates": document(
            lines=two_rates,
            vat_bands=bands,
            net_pence=net,
            vat_pence=29_250,
            gross_pence=net + 29_250,
        ),
        "recharge": document(DocumentType.RECHARGE),
        "credit_note": document(
            DocumentType.CREDIT_NOTE,
            credits_number="INV-2026-000003",
            credits_type=DocumentType.INVOICE,
            reason="Order cancelled: 1.5 days not delivered",
        ),
        "credit_note_on_recharge": document(
            DocumentType.CREDIT_NOTE,
            lines=(line("HTPM", 2, rate_bp=0),),
            credits_number="RCH-2026-000003",
            credits_type=DocumentType.RECHARGE,
            buyer_cost_centre="CC100001",
            reason="Cancelled",
        ),
    }


def words(content: bytes) -> Counter[str]:
    return Counter(text_of(content).split())


def test_every_kind_of_document_says_every_word_it_said_before_issue_12() -> None:
    before = json.loads(WORDS_BEFORE.read_text())
    kinds = one_of_each_kind()
    assert sorted(kinds) == sorted(before)
    for kind, data in kinds.items():
        now = words(pdf.render(data))
        expected = Counter(before[kind].split())
        assert now == expected, (kind, now - expected, expected - now)


# --- What each kind of document says about paying ------------------------------------------


def test_an_invoice_shows_bank_details_with_its_number_as_the_reference() -> None:
    text = text_of(pdf.render(document()))
    assert "How to pay" in text
    assert "Pay £1,350.00 by 25 December 2026 by bank transfer (BACS)" in text
    for label, value in (
        ("Bank", "Example Bank"),
        ("Account name", "Testshire County Council"),
        ("Sort code", "20-00-00"),
        ("Account number", "12345678"),
        ("Payment reference", "INV-2026-000007"),
    ):
        assert f"{label} {value}" in text
    assert "Pay by card" not in text
    assert "VAT registration number GB 104 2195 43" in text


def test_a_card_payment_link_appears_only_when_set_and_only_over_https() -> None:
    link = "https://pay.example/i/INV-2026-000007"
    content = pdf.render(document(payment_link=link))
    assert f"Pay by card: {link}" in text_of(content)
    uris = [
        annotation.get_object()["/A"]["/URI"]
        for page in PdfReader(io.BytesIO(content)).pages
        for annotation in page.get("/Annots") or []
    ]
    assert uris == [link]
    for unsafe in ("javascript:alert(1)", "http://pay.example/x", "file:///etc/passwd"):
        assert "Pay by card" not in text_of(pdf.render(document(payment_link=unsafe)))


def test_a_recharge_says_do_not_pay_settled_by_journal_against_the_cost_centre() -> None:
    content = pdf.render(document(DocumentType.RECHARGE, payment_link="https://pay.example/never"))
    text = text_of(content)
    assert "Do not pay: settled by journal" in text
    assert "journal against cost centre CC100001" in text
    assert "Cost centre CC100001" in text
    for absent in ("How to pay", "Sort code", "Pay by card", "VAT registration", "VAT rate"):
        assert absent not in text
    assert "An internal recharge is outside the scope of VAT." in text


def test_a_credit_note_refers_to_the_original_and_gives_its_reason() -> None:
    data = document(
        DocumentType.CREDIT_NOTE,
        credits_number="INV-2026-000003",
        credits_type=DocumentType.INVOICE,
        reason="Order cancelled: 1.5 days not delivered",
    )
    text = text_of(pdf.render(data))
    assert "Credit note CRN-2026-000007" in text
    assert "Credits VAT invoice INV-2026-000003" in text
    assert "Why this credit note was raised Order cancelled: 1.5 days not delivered" in text
    assert "reduces what is owed on INV-2026-000003 by £1,350.00" in text
    assert "Total credited £1,350.00" in text
    assert "Sort code" not in text


def test_a_credit_note_against_a_recharge_is_settled_by_journal() -> None:
    lines = (line("HTPM", 2, rate_bp=0),)
    data = document(
        DocumentType.CREDIT_NOTE,
        lines=lines,
        credits_number="RCH-2026-000003",
        credits_type=DocumentType.RECHARGE,
        buyer_cost_centre="CC100001",
        reason="Cancelled",
    )
    text = text_of(pdf.render(data))
    assert "Credits Internal recharge RCH-2026-000003" in text
    assert "settled by a journal against cost centre CC100001" in text
    assert "VAT rate" not in text


def test_rendering_is_repeatable_byte_for_byte() -> None:
    """The same data makes the same file, so a stored PDF can be checked by its SHA-256."""
    data = document()
    assert pdf.render(data) == pdf.render(data)
