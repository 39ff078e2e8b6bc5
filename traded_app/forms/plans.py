"""Forms for partnership plans, shared visits and schools' requests for bespoke services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation

from traded_app.domain.pricing import DaysError, MoneyError, parse_days, parse_pounds
from traded_app.domain.types import ServiceGroup
from traded_app.forms.dates import GovDateField, required_date


def _days(field: StringField, *, optional: bool = False) -> int | None:
    text = (field.data or "").strip()
    if optional and not text:
        return None
    try:
        return parse_days(text, minimum=1, maximum=400)
    except DaysError as error:
        raise StopValidation(str(error)) from None


def _text(label: str, max_length: int, required: str = "") -> TextAreaField:
    validators: list[object] = [
        Length(max=max_length, message=f"{label} must be {max_length} characters or fewer")
    ]
    if required:
        validators.insert(0, DataRequired(required))
    return TextAreaField(label, widget=GovTextArea(), validators=validators)


class StartPlanForm(FlaskForm):
    adviser_id = SelectField(
        "The partnership's adviser", widget=GovSelect(), validators=[InputRequired()]
    )


class PlanItemForm(FlaskForm):
    activity_id = SelectField(
        "Activity", widget=GovSelect(), validators=[InputRequired("Select the activity")]
    )
    school_ids = SelectMultipleField("Schools involved", widget=GovCheckboxesInput())
    planned_days = StringField("Days planned", widget=GovTextInput())
    planned_when = StringField(
        "When",
        widget=GovTextInput(),
        validators=[Length(max=200, message="When must be 200 characters or fewer")],
    )
    omitted_reason = _text("Why it is left out", 2000)

    half_days: int | None = None

    def validate_planned_days(self, field: StringField) -> None:
        if (self.omitted_reason.data or "").strip():
            self.half_days = None
            return
        self.half_days = _days(field)


class AgreePlanForm(FlaskForm):
    agreed_note = _text(
        "How and when the headteachers agreed it", 2000, "Say how and when they agreed it"
    )


class SharedVisitForm(FlaskForm):
    adviser_id = SelectField(
        "Adviser", widget=GovSelect(), validators=[InputRequired("Select the adviser")]
    )
    plan_item_id = RadioField(
        "Planned activity",
        widget=GovRadioInput(),
        validators=[InputRequired("Select the planned activity the visit is for")],
    )
    school_ids = SelectMultipleField("Schools", widget=GovCheckboxesInput())
    visit_date = GovDateField("Date of the visit", validators=[required_date])
    half_days = RadioField(
        "Length of the visit",
        widget=GovRadioInput(),
        choices=[("1", "Half day"), ("2", "Whole day")],
        validators=[InputRequired("Select half day or whole day")],
    )
    purpose = _text("Purpose", 500)
    override_reason = _text("Reason to book on a day the calendar refuses (optional)", 500)
    # A visit that took place on a past date without being booked: recorded as delivered.
    note = _text("What was done", 2000)
    recorded_after_reason = _text("Why is the visit recorded after the day?", 500)

    def validate_school_ids(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise StopValidation("Select the schools the visit is for")


class PartnershipVisitForm(SharedVisitForm):
    """A visit against a line of a confirmed partnership order, for some of its schools."""

    plan_item_id = None  # type: ignore[assignment]  # (WTForms: a field removed by a subclass)
    line_id = RadioField(
        "Service",
        widget=GovRadioInput(),
        validators=[InputRequired("Select the service the visit is for")],
    )


class RequestForm(FlaskForm):
    what = _text("What do you need?", 2000, "Say what you would like the council to provide")
    when_wanted = StringField(
        "When would you like it?",
        widget=GovTextInput(),
        validators=[Length(max=200, message="When must be 200 characters or fewer")],
    )
    rough_days = StringField("Roughly how many days? (optional)", widget=GovTextInput())

    rough_half_days: int | None = None

    def validate_rough_days(self, field: StringField) -> None:
        self.rough_half_days = _days(field, optional=True)


class AnswerForm(FlaskForm):
    service_name = StringField(
        "Service name",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the name of the service"),
            Length(max=160, message="The name must be 160 characters or fewer"),
        ],
    )
    days = StringField("Days", widget=GovTextInput())
    price = StringField("Price per day", widget=GovTextInput())
    group = SelectField(
        "Kind of service",
        widget=GovSelect(),
        choices=[(g.value, g.label) for g in ServiceGroup],
        validators=[InputRequired("Select the kind of service")],
    )
    income_code = StringField(
        "Ledger income code",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the ledger income code"),
            Length(max=32, message="The income code must be 32 characters or fewer"),
        ],
    )
    note = _text("Note for the school (optional)", 2000)

    half_days: int | None = None
    price_pence: int | None = None

    def validate_days(self, field: StringField) -> None:
        self.half_days = _days(field)

    def validate_price(self, field: StringField) -> None:
        try:
            self.price_pence = parse_pounds(field.data)
        except MoneyError as error:
            raise StopValidation(f"Price per day: {error}") from None


class DeclineForm(FlaskForm):
    reason = _text("Why the council cannot provide it", 2000, "Say why the council cannot")
