"""Static files as the app serves them: hashed names in pages, a year's caching for those,
compressed answers to browsers that accept them, plain names when nothing is built."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import pytest
from flask import Flask

from tests.conftest import CheckedClient, environ_for_tests
from traded_app import create_app
from traded_app.extensions import db
from traded_app.static_assets import IMMUTABLE, build

ASSETS = {
    "images/favicon.svg": "<svg xmlns='http://www.w3.org/2000/svg'></svg>\n",
    "vendor/app.css": ".govuk-body { margin: 0 }\n" * 300,
    "vendor/htmx/htmx.min.js": "var htmx = {};\n" * 300,
    "vendor/govuk-frontend/govuk-frontend.min.js": "export function initAll() {}\n" * 100,
    "js/app.js": 'import { initAll } from "/static/vendor/govuk-frontend/govuk-frontend.min.js";\n'
    * 30,
}


def static_folder(root: Path) -> Path:
    for name, text in ASSETS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


OTHER_APPS: list[Flask] = []


@pytest.fixture(autouse=True)
def _close_other_apps() -> Iterator[None]:
    """The apps a test builds for itself close their database connections when it ends."""
    yield
    while OTHER_APPS:
        other = OTHER_APPS.pop()
        with other.app_context():
            db.engine.dispose()


def app_with_static(app: Flask, tmp: Path, root: Path) -> CheckedClient:
    environ = environ_for_tests(tmp, app.config["SQLALCHEMY_DATABASE_URI"])
    other = create_app(environ, STATIC_FOLDER=str(root))
    other.test_client_class = CheckedClient
    OTHER_APPS.append(other)
    return other.test_client()  # type: ignore[return-value]


@pytest.fixture()
def built(app: Flask, tmp_path: Path) -> tuple[CheckedClient, dict[str, str]]:
    root = static_folder(tmp_path / "static")
    manifest = build(root)
    return app_with_static(app, tmp_path, root), manifest


def page_assets(client: CheckedClient) -> list[str]:
    soup = client.get("/sign-in").soup
    links = [link["href"] for link in soup.find_all("link", href=True)]
    return links + [script["src"] for script in soup.find_all("script", src=True)]


def test_pages_link_the_hashed_names_when_the_manifest_exists(built: Any) -> None:
    client, manifest = built
    assets = page_assets(client)
    for name in ("images/favicon.svg", "vendor/app.css", "vendor/htmx/htmx.min.js", "js/app.js"):
        assert f"/static/{manifest[name]}" in assets
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == IMMUTABLE, url


def test_hashed_files_are_cached_a_year_and_plain_ones_a_minute(built: Any) -> None:
    client, manifest = built
    hashed = client.get(f"/static/{manifest['vendor/app.css']}")
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = client.get("/static/vendor/app.css")
    assert plain.headers["Cache-Control"] == "public, max-age=60"
    assert hashed.data == plain.data == ASSETS["vendor/app.css"].encode()
    assert plain.mimetype == "text/css"
    manifest_file = client.get("/static/dist/manifest.json")  # not hashed: a release changes it
    assert manifest_file.headers["Cache-Control"] == "public, max-age=60"
    # A plain file a browser has already is not sent again.
    again = client.get("/static/vendor/app.css", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_static_files_carry_the_security_headers(built: Any) -> None:
    client, manifest = built
    response = client.get(f"/static/{manifest['images/favicon.svg']}")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self';" in csp
    assert "unsafe" not in csp and "nonce" not in csp
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Set-Cookie" not in response.headers


def test_compressed_answers_for_browsers_that_accept_them(built: Any) -> None:
    client, manifest = built
    url = f"/static/{manifest['vendor/app.css']}"
    plain = ASSETS["vendor/app.css"].encode()

    zipped = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain
    assert len(zipped.data) < len(plain) / 10

    squeezed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert squeezed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(squeezed.data) == plain

    identity = client.get(url)
    assert "Content-Encoding" not in identity.headers
    assert identity.data == plain


def test_scripts_import_the_hashed_names_too(built: Any) -> None:
    client, manifest = built
    app_js = client.get(f"/static/{manifest['js/app.js']}").get_data(as_text=True)
    govuk = manifest["vendor/govuk-frontend/govuk-frontend.min.js"].removeprefix("dist/")
    assert f'from "../{govuk}";' in app_js
    assert client.get(f"/static/dist/{govuk}").headers["Cache-Control"] == IMMUTABLE


def test_without_a_build_pages_link_the_plain_names(app: Flask, tmp_path: Path) -> None:
    client = app_with_static(app, tmp_path, static_folder(tmp_path / "static"))
    assets = page_assets(client)
    assert "/static/vendor/app.css" in assets and "/static/js/app.js" in assets
    assert all("/dist/" not in url for url in assets)
    response = client.get("/static/js/app.js")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"


def test_unknown_static_files_are_not_found(built: Any) -> None:
    client, _manifest = built
    assert client.get("/static/dist/vendor/app.000000000000.css").status_code == 404
    assert client.get("/static/../traded_app/__init__.py").status_code == 404
