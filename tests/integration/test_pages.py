"""Cross-cutting page behaviour: error pages, security headers, health check."""

from __future__ import annotations

from typing import Any

from traded_app import create_app
from traded_app.models.types import Role
from traded_app.services.platform import jobs, outbox


def test_unknown_page_is_a_govuk_404(client: Any) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.soup.h1.get_text(strip=True) == "Page not found"
    assert "Traceback" not in response.get_data(as_text=True)


def test_security_headers_and_strict_csp(client: Any) -> None:
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe" not in csp
    assert "style-src 'self';" in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    inline_scripts = [s for s in response.soup.find_all("script") if not s.get("src")]
    assert inline_scripts and all(s.get("nonce") == nonce for s in inline_scripts)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_is_served_locally_and_configured_for_csp(app: Any, client: Any) -> None:
    soup = client.get("/sign-in").soup
    sources = [s["src"] for s in soup.find_all("script", src=True)]
    # The vendored copy, under its content-hashed name once `make assets` has built one.
    with app.test_request_context():
        htmx = app.jinja_env.globals["static_url"]("vendor/htmx/htmx.min.js")
    assert htmx.startswith("/static/") and "vendor/htmx/htmx.min." in htmx
    assert htmx in sources
    assert client.get(htmx).status_code == 200
    assert all(src.startswith("/static/") for src in sources)
    config = soup.find("meta", attrs={"name": "htmx-config"})["content"]
    assert '"includeIndicatorStyles": false' in config and '"allowEval": false' in config
    assert "X-CSRFToken" in soup.body["hx-headers"]


def test_signed_in_pages_are_not_cached(as_role: Any) -> None:
    response = as_role(Role.LA_FINANCE).get("/council/")
    assert response.headers["Cache-Control"] == "no-store"


def test_no_govuk_crown_or_transport_font(client: Any) -> None:
    body = client.get("/sign-in").get_data(as_text=True)
    assert "GOV.UK" not in body
    assert "govuk-logo" not in body and "crown" not in body.lower()


def test_healthz_checks_the_database_and_the_queue(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "database": "ok",
        "queue": {"status": "ok", "waiting": 0, "oldest_waiting_seconds": None},
    }


def test_healthz_is_503_when_jobs_wait_too_long_or_the_queue_is_down(
    app: Any, client: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    jobs.configure({"QUEUE_FILE": str(tmp_path / "queue.db"), "QUEUE_IMMEDIATE": False})
    try:
        outbox.deliver_email(1)  # waits: no worker in this test
        assert client.get("/healthz", unavailable_ok=True).status_code == 200  # only just enqueued
        monkeypatch.setitem(app.config, "QUEUE_MAX_WAIT_SECONDS", -1)
        response = client.get("/healthz", unavailable_ok=True)
        assert response.status_code == 503
        assert response.json["queue"]["waiting"] == 1
        assert "is a queue worker running?" in response.json["reason"]
        jobs.configure({"REDIS_URL": "redis://127.0.0.1:1/0", "QUEUE_IMMEDIATE": False})
        response = client.get("/healthz", unavailable_ok=True)
        assert response.status_code == 503
        assert response.json["queue"]["status"] == "unreachable"
        assert "job queue cannot be reached" in response.json["reason"]
    finally:
        jobs.configure(app.config)


def test_healthz_reports_an_unreachable_database(tmp_path: Any) -> None:
    app = create_app(
        {
            "APP_ENV": "test",
            "DATABASE_URL": "postgresql://nobody:wrong@127.0.0.1:1/none",
            "SECRET_KEY": "x" * 40,
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_school_search_works_as_plain_page_and_htmx_fragment(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_ADMIN)
    page = client.get("/council/schools?q=hill")
    assert page.soup.h1.get_text(strip=True) == "Schools"
    names = [a.get_text(strip=True) for a in page.soup.select("#school-results tbody a")]
    assert names == ["Hilltop Infant School"]
    fragment = client.get("/council/schools?q=100003", headers={"HX-Request": "true"})
    assert fragment.soup.find("h1") is None  # just the results
    assert [a.get_text(strip=True) for a in fragment.soup.select("tbody a")] == ["Meadow Academy"]
    assert "HX-Request" in fragment.headers["Vary"]
