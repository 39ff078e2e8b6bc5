"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.stripe_fake import FakeStripe


@pytest.fixture()
def stripe_fake(app: Flask) -> Iterator[FakeStripe]:
    """Card payment routes answer for Stripe from the fake (no network)."""
    fake = FakeStripe()
    app.extensions["stripe_http_client"] = fake.http_client()
    yield fake
    app.extensions.pop("stripe_http_client", None)
