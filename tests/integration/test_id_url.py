"""`id_url`: a URL built once for many ids, as url_for would build each."""

from __future__ import annotations

from flask import Flask, url_for

from traded_app.web import id_url


def test_id_url_gives_what_url_for_gives_for_every_id(app: Flask) -> None:
    with app.test_request_context("/"):
        document = id_url("documents.document_detail", "document_id")
        school = id_url("finance.register_page", "school", type="invoice")
        for value in (1, 42, 10_000_000):
            assert document(value) == url_for("documents.document_detail", document_id=value)
            assert school(value) == url_for("finance.register_page", school=value, type="invoice")
