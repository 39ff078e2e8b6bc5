"""Forms for the year's terms and conditions and the council's quote settings."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextArea, GovTextInput
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation

from traded_app.domain.numbers import whole_number
from traded_app.domain.quotes import MAX_VALIDITY_DAYS
from traded_app.services.ordering.terms import MAX_TERMS_LENGTH

PREFIX = re.compile(r"[A-Z][A-Z0-9]{0,11}")


class TermsForm(FlaskForm):
    text = TextAreaField(
        "Terms and conditions",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter the terms and conditions"),
            Length(
                max=MAX_TERMS_LENGTH,
                message=f"Terms and conditions must be {MAX_TERMS_LENGTH:,} characters or fewer",
            ),
        ],
    )


class QuoteSettingsForm(FlaskForm):
    prefix = StringField("Quote number prefix", widget=GovTextInput())
    validity_days = StringField("Days a quote's prices hold", widget=GovTextInput())

    prefix_value: str
    days_value: int

    def validate_prefix(self, field: StringField) -> None:
        prefix = (field.data or "").strip().upper()
        if not PREFIX.fullmatch(prefix):
            raise StopValidation(
                "Quote number prefix must be 1 to 12 capital letters or numbers, starting with "
                "a letter, like QUO"
            )
        self.prefix_value = prefix

    def validate_validity_days(self, field: StringField) -> None:
        days = whole_number(field.data, max_digits=3)
        if days is None or not 1 <= days <= MAX_VALIDITY_DAYS:
            raise StopValidation(
                f"Enter how many days a quote's prices hold, a whole number from 1 to "
                f"{MAX_VALIDITY_DAYS}"
            )
        self.days_value = days
