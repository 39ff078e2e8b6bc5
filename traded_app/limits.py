"""The rate limiter: created here, bound to the app in `create_app`.

Apart from the database's extensions so that views may decorate routes with it without
importing `traded_app.extensions` (and through it the models' base).
"""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter


def client_address() -> str:
    """The address rate limits are keyed on (ProxyFix has already applied trusted proxies)."""
    return request.remote_addr or "unknown"


limiter = Limiter(key_func=client_address, default_limits=[])
