"""Forms for courses and events: the council's course and session, a school's booking of
places for delegates, substitution, cancelling a session (GOV.UK widgets and messages)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovTextArea, GovTextInput
from wtforms import FieldList, Form, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation

from traded_app.domain.numbers import whole_number
from traded_app.domain.types import VatTreatment
from traded_app.forms.admin import CUSTOMER_FIELDS, VAT_CHOICES, _text, pounds_value, time_value
from traded_app.forms.dates import GovDateField, required_date
from traded_app.models.courses import Audience, CourseKind
from traded_app.services.council.catalogue import parse_vat_rate
from traded_app.services.courses import CourseError
from traded_app.services.courses.booking import MAX_DELEGATES, Delegate, check_delegate
from traded_app.services.courses.catalogue import PriceInput
from traded_app.services.courses.charging import TIMINGS

AUDIENCE_CHOICES = [(a.value, a.label) for a in Audience]
KIND_CHOICES = [(k.value, k.label) for k in CourseKind]


def _whole(field: StringField, label: str, low: int, high: int) -> int:
    value = whole_number(field.data)
    if value is None or not low <= value <= high:
        raise StopValidation(f"{label} must be a whole number from {low} to {high}")
    return value


class CourseForm(FlaskForm):
    code = _text("Code", 16, "Enter a code for the course, like PMTRAIN")
    title = _text("Title", 160, "Enter the course's title")
    kind = SelectField("Kind", widget=GovSelect(), choices=KIND_CHOICES)
    audience = SelectField("Audience", widget=GovSelect(), choices=AUDIENCE_CHOICES)
    description = TextAreaField(
        "Description",
        widget=GovTextArea(),
        validators=[Length(max=2000, message="Description must be 2000 characters or fewer")],
    )
    income_code = _text("Income code", 32, "Enter the ledger income code")
    free_until_days = StringField(
        "Free to cancel until this many days before", widget=GovTextInput()
    )
    late_percent = StringField("Charge for a later cancellation (%)", widget=GovTextInput())
    no_show_percent = StringField("Charge when a delegate does not come (%)", widget=GovTextInput())
    price_maintained = StringField("Price per place for maintained schools", widget=GovTextInput())
    vat_maintained = SelectField(
        "VAT for maintained schools", widget=GovSelect(), choices=VAT_CHOICES
    )
    rate_maintained = StringField("VAT rate for maintained schools (%)", widget=GovTextInput())
    price_academy = StringField(
        "Price per place for academies and free schools", widget=GovTextInput()
    )
    vat_academy = SelectField(
        "VAT for academies and free schools", widget=GovSelect(), choices=VAT_CHOICES
    )
    rate_academy = StringField("VAT rate for academies and free schools (%)", widget=GovTextInput())
    price_other = StringField("Price per place for other customers", widget=GovTextInput())
    vat_other = SelectField("VAT for other customers", widget=GovSelect(), choices=VAT_CHOICES)
    rate_other = StringField("VAT rate for other customers (%)", widget=GovTextInput())

    numbers: dict[str, int]
    prices: tuple[PriceInput, ...]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        self.numbers = {}
        for name, label, high in (
            ("free_until_days", "Days", 365),
            ("late_percent", "The percentage", 100),
            ("no_show_percent", "The percentage", 100),
        ):
            field = getattr(self, name)
            try:
                self.numbers[name] = _whole(field, label, 0, high)
            except StopValidation as error:
                field.errors = [*field.errors, str(error)]
                ok = False
        prices = []
        for customer_type, suffix in CUSTOMER_FIELDS.items():
            price_field = getattr(self, f"price_{suffix}")
            treatment_field = getattr(self, f"vat_{suffix}")
            rate_field = getattr(self, f"rate_{suffix}")
            try:
                pence = pounds_value(price_field, optional=True)
            except StopValidation as error:
                price_field.errors = [*price_field.errors, str(error)]
                ok = False
                continue
            if pence is None:
                continue  # not offered to this type of customer
            try:
                treatment = VatTreatment(treatment_field.data)
                rate = parse_vat_rate(rate_field.data, treatment)
            except ValueError as error:
                rate_field.errors = [*rate_field.errors, str(error) or "Select the VAT treatment"]
                ok = False
                continue
            prices.append(PriceInput(customer_type, pence, treatment, rate))
        if ok and not prices:
            self.price_maintained.errors = [
                *self.price_maintained.errors,
                "Enter a price per place for at least one type of customer",
            ]
            ok = False
        self.prices = tuple(prices)
        return ok


class SessionForm(FlaskForm):
    session_date = GovDateField("Date", validators=[required_date])
    start_time = StringField("Starts at", widget=GovTextInput())
    end_time = StringField("Ends at", widget=GovTextInput())
    venue = TextAreaField(
        "Venue",
        widget=GovTextArea(),
        validators=[Length(max=1000, message="Venue must be 1000 characters or fewer")],
    )
    online_link = _text("Online link (for an online session)", 500)
    places = StringField("Places", widget=GovTextInput())
    booking_deadline = GovDateField("Booking deadline", validators=[required_date])
    trainer_id = SelectField("Trainer", widget=GovSelect(), coerce=str)

    def validate_start_time(self, field: StringField) -> None:
        field.data = time_value(field).strftime("%H:%M")

    def validate_end_time(self, field: StringField) -> None:
        field.data = time_value(field).strftime("%H:%M")

    def validate_places(self, field: StringField) -> None:
        field.data = str(_whole(field, "Places", 1, 1000))


class DelegateForm(Form):
    name = StringField("Name", widget=GovTextInput())
    role = StringField("Role", widget=GovTextInput())
    email = StringField("E-mail address", widget=GovTextInput())
    needs = TextAreaField("Access or dietary needs (optional)", widget=GovTextArea())

    def delegate(self) -> Delegate:
        return Delegate(
            (self.name.data or "").strip(),
            (self.role.data or "").strip(),
            (self.email.data or "").strip(),
            (self.needs.data or "").strip(),
        )

    def validate_name(self, field: StringField) -> None:
        if not self.blank:
            _check_delegate_field(self.delegate(), "name")

    def validate_role(self, field: StringField) -> None:
        if not self.blank:
            _check_delegate_field(self.delegate(), "role")

    def validate_email(self, field: StringField) -> None:
        if not self.blank:
            _check_delegate_field(self.delegate(), "email")

    def validate_needs(self, field: TextAreaField) -> None:
        if not self.blank:
            _check_delegate_field(self.delegate(), "needs")

    @property
    def blank(self) -> bool:
        return not any(
            (f.data or "").strip() for f in (self.name, self.role, self.email, self.needs)
        )


def _check_delegate_field(delegate: Delegate, name: str) -> None:
    """The service's check of a delegate, as this field's error when it is about this field."""
    try:
        check_delegate(delegate)
    except CourseError as error:
        if error.field == name:
            raise StopValidation(str(error)) from None


BOOKING_ROWS = 5


class BookingForm(FlaskForm):
    delegates = FieldList(
        FormField(DelegateForm), min_entries=BOOKING_ROWS, max_entries=MAX_DELEGATES
    )
    po_number = _text("Purchase order number (optional)", 40)

    def filled(self) -> list[Delegate]:
        return [entry.form.delegate() for entry in self.delegates if not entry.form.blank]


class SubstituteForm(FlaskForm):
    name = _text("Name", 120, "Enter the delegate's name")
    role = _text("Role", 120)
    email = _text("E-mail address", 254, "Enter the delegate's e-mail address")
    needs = TextAreaField(
        "Access or dietary needs (optional)",
        widget=GovTextArea(),
        validators=[Length(max=1000, message="Needs must be 1000 characters or fewer")],
    )

    def delegate(self) -> Delegate:
        return Delegate(
            (self.name.data or "").strip(),
            (self.role.data or "").strip(),
            (self.email.data or "").strip(),
            (self.needs.data or "").strip(),
        )


class CancelSessionForm(FlaskForm):
    reason = TextAreaField(
        "Why is the session cancelled?",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter why the session is cancelled"),
            Length(max=1000, message="The reason must be 1000 characters or fewer"),
        ],
    )


class ChargeTimingForm(FlaskForm):
    timing = RadioField(
        "When are places charged?",
        widget=GovRadioInput(),
        choices=list(TIMINGS.items()),
        validators=[InputRequired("Select when places are charged")],
    )
