"""Absolute links for e-mails, in a request or not (invoice runs, the command line).

One of the platform modules allowed to import flask (named in pyproject.toml's "Services never
touch the request" contract): services build links through it, never with url_for themselves.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def absolute_url(endpoint: str, **values: Any) -> str | None:
    """The page's full address: from the request when there is one, else from APP_BASE_URL.

    None when neither is known, so an e-mail leaves the link out rather than print a broken one.
    """
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = current_app.config.get("APP_BASE_URL", "")
    if not base:
        return None
    with current_app.test_request_context("/", base_url=base):
        return url_for(endpoint, _external=True, **values)
