"""Forms for term dates, INSET days and term-date files (GOV.UK widgets and messages)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovTextInput
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, StopValidation

from traded_app.domain.school_calendar import MAX_NAME_LENGTH
from traded_app.forms.dates import GovDateField, required_date


def _name(message: str) -> StringField:
    return StringField(
        "Name",
        widget=GovTextInput(),
        validators=[
            DataRequired(message),
            Length(
                max=MAX_NAME_LENGTH, message=f"Name must be {MAX_NAME_LENGTH} characters or fewer"
            ),
        ],
    )


class TermForm(FlaskForm):
    term_name = _name("Enter the name of the term, like Autumn 1")
    first_day = GovDateField("First day of term", validators=[required_date])
    last_day = GovDateField("Last day of term", validators=[required_date])


class InsetDayForm(FlaskForm):
    inset_on = GovDateField("Date", validators=[required_date])
    inset_name = _name("Enter what the day is, like Staff training day")


class TermFileForm(FlaskForm):
    file = FileField("Upload a CSV or iCalendar (.ics) file", widget=GovFileInput())

    def validate_file(self, field: FileField) -> None:
        if not field.data or not getattr(field.data, "filename", ""):
            raise StopValidation("Select a CSV or iCalendar file of term dates")


class ConfirmTermFileForm(FlaskForm):
    rows = HiddenField()
