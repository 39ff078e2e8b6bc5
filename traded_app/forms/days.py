"""Forms for visits, allocation adjustments and closure days (GOV.UK widgets and messages)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation

from traded_app.domain.days_input import DAYS_FORMAT_MESSAGE, DaysError, parse_days
from traded_app.domain.types import AllocationReason
from traded_app.forms.dates import GovDateField, required_date
from traded_app.services.days.visits import MAX_NOTE_LENGTH, MAX_PURPOSE_LENGTH


class VisitForm(FlaskForm):
    adviser_id = SelectField(
        "Adviser", widget=GovSelect(), coerce=str, validators=[InputRequired("Select the adviser")]
    )
    visit_date = GovDateField("Date of the visit", validators=[required_date])
    half_days = RadioField(
        "Length of the visit",
        widget=GovRadioInput(),
        choices=[("1", "Half day"), ("2", "Whole day")],
        validators=[InputRequired("Select half day or whole day")],
    )
    against = RadioField(
        "Which days does the visit use?",
        widget=GovRadioInput(),
        validators=[InputRequired("Select which days the visit uses")],
    )
    purpose = TextAreaField(
        "Purpose of the visit",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter the purpose of the visit"),
            Length(
                max=MAX_PURPOSE_LENGTH,
                message=f"Purpose must be {MAX_PURPOSE_LENGTH} characters or fewer",
            ),
        ],
    )


def _reason(label: str) -> TextAreaField:
    return TextAreaField(
        label,
        widget=GovTextArea(),
        validators=[
            Length(
                max=MAX_PURPOSE_LENGTH,
                message=f"The reason must be {MAX_PURPOSE_LENGTH} characters or fewer",
            )
        ],
    )


class VisitFormWithOverride(VisitForm):
    """The service manager's booking form: may book a day the calendar refuses, with a reason."""

    override_reason = _reason("Reason to book on a day the calendar refuses (optional)")


class DeliverForm(FlaskForm):
    note = TextAreaField(
        "What was done",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter a short note of what was done"),
            Length(
                max=MAX_NOTE_LENGTH, message=f"Note must be {MAX_NOTE_LENGTH} characters or fewer"
            ),
        ],
    )


class RecordVisitForm(VisitForm):
    """A visit that took place on a past date without being booked."""

    note = DeliverForm.note
    recorded_after_reason = _reason("Why is the visit recorded after the day?")


class RecordVisitFormWithOverride(RecordVisitForm):
    override_reason = _reason("Reason it was on a day the calendar refuses (optional)")


class CancelVisitForm(FlaskForm):
    party = RadioField(
        "Who cancelled the visit?",
        widget=GovRadioInput(),
        choices=[("school", "The school"), ("council", "The council or the adviser")],
        validators=[InputRequired("Select who cancelled the visit")],
    )
    reason = TextAreaField(
        "Reason",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter why the visit was cancelled"),
            Length(
                max=MAX_NOTE_LENGTH,
                message=f"Reason must be {MAX_NOTE_LENGTH} characters or fewer",
            ),
        ],
    )


class AdjustAllocationForm(FlaskForm):
    reason = SelectField(
        "Allocation",
        widget=GovSelect(),
        choices=[(r.value, r.label) for r in AllocationReason],
        validators=[InputRequired("Select the allocation to change")],
    )
    days = StringField(
        "Days",
        widget=GovTextInput(),
        validators=[Length(max=20, message=DAYS_FORMAT_MESSAGE)],
    )
    note = TextAreaField(
        "Reason for the change",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter the reason for the change"),
            Length(max=500, message="Reason must be 500 characters or fewer"),
        ],
    )

    def validate_days(self, field: StringField) -> None:
        try:
            self.half_days = parse_days(field.data, minimum=0, maximum=400)
        except DaysError as error:
            raise StopValidation(str(error)) from None


class ClosureDayForm(FlaskForm):
    closed_on = GovDateField("Date", validators=[required_date])
    name = StringField(
        "Name",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter what the closure is, like Christmas Day"),
            Length(max=120, message="Name must be 120 characters or fewer"),
        ],
    )
