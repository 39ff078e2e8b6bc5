"""The GOV.UK date input (day, month and year as three fields of one name) read as one date,
for every form that asks for a date.

Whatever arrives, the field ends with a date or the field's own error message, and draws its
three inputs again: none of the parts ("Enter the date" when the date is required), one, two or
more than three, digits that are not ASCII ("２７", "²"), a year beyond four digits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import DateField
from wtforms.validators import StopValidation

from traded_app.domain.numbers import whole_number

PARTS = 3  # day, month, year


class GovDateField(DateField):
    """Three GOV.UK inputs (day, month, year) read as one date, with GOV.UK messages."""

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(label, format="%d %m %Y", widget=GovDateInput(), **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = [v.strip() for v in valuelist]
        # The widget draws exactly three inputs from what was sent: give it three, always.
        self.raw_data = (parts + [""] * PARTS)[:PARTS]
        self.data = None
        if not any(parts):
            return
        if len(parts) != PARTS:
            raise ValueError(self.real_date_message)
        day, month, year = (whole_number(p, max_digits=4) for p in parts)
        if day is None or month is None or year is None:
            raise ValueError(self.real_date_message)
        try:
            self.data = date(year, month, day)
        except ValueError:
            raise ValueError(self.real_date_message) from None

    @property
    def real_date_message(self) -> str:
        return f"{self.label.text} must be a real date, like 27 3 2027"


def required_date(form: FlaskForm, field: GovDateField) -> None:
    """A validator: the date must be given (a date given wrongly keeps its own message)."""
    if field.data is None and not field.errors:
        raise StopValidation(f"Enter the {field.label.text.lower()}")
