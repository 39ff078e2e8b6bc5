"""The demo's buy-back: next year's offer (the demo catalogue, priced for it like every demo
year) published with its buy-back window open today, so a newcomer signing in as a business
manager chooses between this year and next and can order "the same as this year"."""

from __future__ import annotations

from datetime import timedelta

from traded_app.models import AcademicYear
from traded_app.services.council import offer_publishing
from traded_app.services.ordering.buy_back import late_rule
from traded_app.services.platform.settings import today

OPENED_DAYS_AGO = 7
WINDOW_DAYS = 8 * 7


def publish_next_year(next_year: AcademicYear) -> None:
    """Publish `next_year`'s offer with a window that opened a week ago and closes eight weeks
    from its opening (or on the day the year starts, if sooner). Idempotent: a second run moves
    the window to about today again, which is what a newcomer needs."""
    opens = today() - timedelta(days=OPENED_DAYS_AGO)
    closes = min(opens + timedelta(days=WINDOW_DAYS), next_year.starts_on)
    offer_publishing.publish(next_year, opens, closes, late_rule())
