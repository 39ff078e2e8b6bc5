"""What the two pages that book a visit for several of a partnership's schools share (the core
days' plan's and a partnership order's): booking from the form, or, for a past date with the
note or reason filled in, recording it as delivered; a refusal shown on the field it names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from traded_app.services.days import visits
from traded_app.services.platform.settings import today


def book_or_record(
    form: Any,
    visit_date: date | None,
    book: Callable[[], Any],
    record_delivered: Callable[[str, str], Any],
) -> tuple[Any, str] | None:
    """(the shared visit, "booked" or "recorded as delivered"), or None after putting the
    refusal on its field (the purpose's when it names none)."""
    past = visit_date is not None and visit_date < today()
    try:
        if past and (form.note.data or form.recorded_after_reason.data):
            done = record_delivered(form.note.data or "", form.recorded_after_reason.data or "")
            return done, "recorded as delivered"
        return book(), "booked"
    except visits.VisitError as error:
        field = getattr(form, error.field, None) if error.field else None
        field = field if field is not None else form.purpose
        field.errors = [*field.errors, str(error)]
        return None
