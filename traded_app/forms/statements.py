"""The statement's period (read from the query string) and a school's remittance form."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovTextArea, GovTextInput
from wtforms import Field, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, StopValidation

from traded_app.forms.dates import GovDateField, required_date
from traded_app.forms.finance import ChooseDocumentsField, PoundsField


def parse_period(args: Mapping[str, str]) -> tuple[date | None, date | None, list[tuple[str, str]]]:
    """The period's first and last days from ?from=2026-04-01&to=2027-03-31 (either may be left
    out), and (field id, message) for each that is not a date."""
    errors: list[tuple[str, str]] = []
    values: list[date | None] = []
    for field, label in (("from", "Start of the period"), ("to", "End of the period")):
        raw = (args.get(field) or "").strip()[:20]
        value = None
        if raw:
            try:
                value = date.fromisoformat(raw)
            except ValueError:
                errors.append((field, f"{label} must be a real date, like 2026-04-01"))
        values.append(value)
    return values[0], values[1], errors


class RemittanceForm(FlaskForm):
    form_key = HiddenField()
    documents = ChooseDocumentsField(
        "Invoices this payment covers", coerce=int, validate_choice=False
    )
    amount = PoundsField("Amount paid", widget=GovTextInput())
    paid_on = GovDateField("Date paid", validators=[required_date])
    reference = StringField(
        "Your payment reference",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter your payment reference"),
            Length(max=80, message="Your payment reference must be 80 characters or fewer"),
        ],
    )
    note = TextAreaField(
        "Note for the council (optional)",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=500, message="Note must be 500 characters or fewer")],
    )
    file = FileField("Your remittance advice (optional)", widget=GovFileInput())

    def validate_documents(self, field: Field) -> None:
        if not field.data:
            raise StopValidation("Select the invoices this payment covers")
