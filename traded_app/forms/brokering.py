"""School-to-school support: offers, requests, the broker's shortlist, choosing a provider,
answering, recording and confirming days, rating. GOV.UK widgets; days and pounds parsed as
everywhere else (half-day units, pence, never a float)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovTextArea, GovTextInput
from wtforms import Field, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation

from traded_app.domain.pricing import DaysError, MoneyError, parse_days, parse_pounds
from traded_app.forms.dates import GovDateField, required_date
from traded_app.models.brokering import SupportPhase

PHASES = [(p.value, p.label) for p in SupportPhase]
MAX_TEXT = 2000


def _text(label: str, max_length: int, required: str) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        validators=[
            DataRequired(required),
            Length(max=max_length, message=f"{label} must be {max_length} characters or fewer"),
        ],
    )


def _area(label: str = "Area") -> SelectField:
    return SelectField(
        label,
        widget=GovSelect(),
        coerce=str,
        validate_choice=False,
        validators=[DataRequired("Select an area from the list")],
    )


def _long(label: str, required: str | None = None) -> TextAreaField:
    validators: list[Any] = [
        Length(max=MAX_TEXT, message=f"{label} must be {MAX_TEXT} characters or fewer")
    ]
    if required:
        validators.insert(0, DataRequired(required))
    return TextAreaField(label, widget=GovTextArea(), validators=validators)


def half_days_of(field: Field, maximum: int = 200) -> int:
    """The field's days as half-days, or the field's own error."""
    try:
        return parse_days(field.data, minimum=1, maximum=maximum)
    except DaysError as error:
        raise StopValidation(
            f"{field.label.text}: {str(error)[0].lower()}{str(error)[1:]}"
        ) from None


def _days_check(_form: FlaskForm, field: Field) -> None:
    field.half_days = half_days_of(field)


def _pounds_check(_form: FlaskForm, field: Field) -> None:
    if not (field.data or "").strip():
        field.pence = None
        return
    try:
        field.pence = parse_pounds(field.data)
    except MoneyError as error:
        raise StopValidation(
            f"{field.label.text}: {str(error)[0].lower()}{str(error)[1:]}"
        ) from None
    if field.pence <= 0:
        raise StopValidation(f"{field.label.text} must be more than £0")


def _required_pounds(_form: FlaskForm, field: Field) -> None:
    if not (field.data or "").strip():
        raise StopValidation(f"Enter the {field.label.text.lower()}")
    _pounds_check(_form, field)


class OfferForm(FlaskForm):
    area_id = _area("Area of expertise")
    phase = RadioField(
        "Phase",
        widget=GovRadioInput(),
        choices=PHASES,
        validators=[InputRequired("Select the phase the offer is for")],
    )
    practitioner_name = _text("Practitioner's name", 120, "Enter the practitioner's name")
    practitioner_role = _text(
        "Practitioner's role",
        120,
        "Enter the practitioner's role, like specialist leader of education",
    )
    days_per_term = StringField(
        "Days available a term", widget=GovTextInput(), validators=[_days_check]
    )
    daily_rate = StringField("Daily rate", widget=GovTextInput(), validators=[_required_pounds])
    description = _long("What the school can offer", "Describe what the school can offer")
    evidence = _long("Evidence of impact (optional)")
    ends_on = GovDateField("End date", validators=[required_date])


class RequestForm(FlaskForm):
    area_id = _area("Area of support")
    phase = RadioField(
        "Phase",
        widget=GovRadioInput(),
        choices=PHASES,
        validators=[InputRequired("Select the phase the support is for")],
    )
    outcome = _long("Outcome wanted", "Describe the outcome the school wants")
    when = _text("When", 200, "Say when the school needs the support, like spring term")
    days = StringField("Roughly how many days", widget=GovTextInput(), validators=[_days_check])
    budget = StringField("Budget (optional)", widget=GovTextInput(), validators=[_pounds_check])


class ChooseForm(FlaskForm):
    entry_id = RadioField(
        "Which provider do you choose?",
        widget=GovRadioInput(),
        coerce=str,
        validate_choice=False,
        validators=[InputRequired("Select a provider")],
    )
    days = StringField("Days", widget=GovTextInput())
    starts_on = GovDateField("Start date")
    ends_on = GovDateField("End date")


class ReasonForm(FlaskForm):
    reason = _long("Reason", "Say why")


class DecisionForm(FlaskForm):
    """Yes or no, with the reason when no (accepting an engagement, checking an offer,
    confirming a record of days)."""

    decision = RadioField(
        "Decision",
        widget=GovRadioInput(),
        choices=[("yes", "Yes"), ("no", "No")],
        validators=[InputRequired("Select yes or no")],
    )
    reason = _long("Reason (needed if no)")


class DeliveryForm(FlaskForm):
    delivered_on = GovDateField("Date of the support", validators=[required_date])
    half_days = RadioField(
        "How long",
        widget=GovRadioInput(),
        choices=[("1", "Half a day"), ("2", "A whole day")],
        validators=[InputRequired("Select a half day or a whole day")],
    )
    note = _long("What was done (optional)")


class RateForm(FlaskForm):
    rating = RadioField(
        "How good was the support?",
        widget=GovRadioInput(),
        choices=[
            ("5", "5: Excellent"),
            ("4", "4: Good"),
            ("3", "3: Satisfactory"),
            ("2", "2: Poor"),
            ("1", "1: Very poor"),
        ],
        validators=[InputRequired("Select a rating from 1 to 5")],
    )
    comment = _long("Comment (optional)")


class ShortlistForm(FlaskForm):
    """Add a school's offer or a council service to a request's shortlist."""

    choice = SelectField(
        "Provider",
        widget=GovSelect(),
        coerce=str,
        validate_choice=False,
        validators=[DataRequired("Select a provider to add")],
    )
    note = _long("Note for the school (optional)")


class BrokerForm(FlaskForm):
    broker_id = SelectField("Broker", widget=GovSelect(), coerce=str, validate_choice=False)


class AreaForm(FlaskForm):
    name = _text("Area", 80, "Enter the area's name")
