"""The rate limiter: created here, bound to the app in `create_app`.

Apart from the database's extensions so that views may decorate routes with it without
importing `traded_app.extensions` (and through it the models' base).

Its counts live where RATELIMIT_STORAGE_URI says: Redis (REDIS_URL by default) when one is set,
so every gunicorn worker on every host counts the same attempts; else each process's memory.
"""

from __future__ import annotations

import math
import time

from flask import request
from flask_limiter import Limiter


def client_address() -> str:
    """The address rate limits are keyed on (ProxyFix has already applied trusted proxies)."""
    return request.remote_addr or "unknown"


limiter = Limiter(key_func=client_address, default_limits=[])


def _seconds_left() -> float:
    """Until the refusing limit's window ends (its `reset_at` is rounded up a second)."""
    current = limiter.current_limit
    return 60.0 if current is None else current.window.reset_time - time.time()


def seconds_until_reset() -> int:
    """When the limit that refused this request lets the next one through (hourly limits too):
    the Retry-After header's whole seconds."""
    return max(1, int(_seconds_left()) + 1)


def wait_text() -> str:
    """The same wait for a person: "1 minute", "42 minutes" (whole minutes, rounded up)."""
    minutes = max(1, math.ceil(_seconds_left() / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
