"""Forms for the service manager's screens: catalogue, schools, GIAS import, partnerships,
quadrants, users, council settings and academic years (GOV.UK widgets and messages)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, StopValidation

from traded_app.domain.numbers import is_digits, whole_number
from traded_app.domain.pricing import DaysError, MoneyError, parse_days, parse_pounds
from traded_app.domain.types import BillingRoute, CustomerType, Role, ServiceGroup, VatTreatment
from traded_app.forms.dates import GovDateField, required_date
from traded_app.services.council.catalogue import parse_vat_rate
from traded_app.services.platform.auth import MIN_PASSWORD_LENGTH

VAT_CHOICES = [(t.value, t.label) for t in VatTreatment]
CUSTOMER_FIELDS = {
    CustomerType.MAINTAINED: "maintained",
    CustomerType.ACADEMY: "academy",
    CustomerType.OTHER: "other",
}


def _text(label: str, max_length: int, required: str | None = None) -> StringField:
    validators: list[Any] = [
        Length(max=max_length, message=f"{label} must be {max_length} characters or fewer")
    ]
    if required:
        validators.insert(0, DataRequired(required))
    return StringField(label, widget=GovTextInput(), validators=validators)


def days_value(field: StringField, minimum: int = 1, maximum: int = 400) -> int:
    """Parse a days field into half-days, as a field error when it cannot be."""
    try:
        return parse_days(field.data, minimum=minimum, maximum=maximum)
    except DaysError as error:
        raise StopValidation(
            f"{field.label.text}: {str(error)[0].lower()}{str(error)[1:]}"
        ) from None


def pounds_value(field: StringField, *, optional: bool = False) -> int | None:
    if optional and not (field.data or "").strip():
        return None
    try:
        return parse_pounds(field.data)
    except MoneyError as error:
        raise StopValidation(
            f"{field.label.text}: {str(error)[0].lower()}{str(error)[1:]}"
        ) from None


TIME_OF_DAY = re.compile(r"(\d{1,2})[:.](\d{2})", re.ASCII)


def time_value(field: StringField) -> time:
    """A time of day on the 24-hour clock ("09:00", "9:00", "21.30"), as a field error when it
    is not one."""
    match = TIME_OF_DAY.fullmatch((field.data or "").strip())
    if match and int(match[1]) < 24 and int(match[2]) < 60:
        return time(int(match[1]), int(match[2]))
    raise StopValidation(f"{field.label.text} must be a time on the 24-hour clock, like 09:00")


# --- Catalogue --------------------------------------------------------------------------------


class ServiceForm(FlaskForm):
    code = _text("Code", 16, "Enter a code for the service, like GOVREV")
    name = _text("Name", 160, "Enter the service's name")
    description = TextAreaField(
        "Description",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter a description schools will read"),
            Length(max=2000, message="Description must be 2000 characters or fewer"),
        ],
    )
    group = SelectField(
        "Group",
        widget=GovSelect(),
        choices=[(g.value, g.label) for g in ServiceGroup],
        validators=[InputRequired("Select the group")],
    )
    typical_days = StringField("Typical days", widget=GovTextInput())
    min_days = StringField("Minimum days", widget=GovTextInput())
    max_days = StringField("Maximum days", widget=GovTextInput())
    income_code = _text("Income code", 32, "Enter the ledger income code")
    vat_maintained = SelectField(
        "VAT for maintained schools", widget=GovSelect(), choices=VAT_CHOICES
    )
    rate_maintained = StringField("VAT rate for maintained schools (%)", widget=GovTextInput())
    vat_academy = SelectField(
        "VAT for academies and free schools", widget=GovSelect(), choices=VAT_CHOICES
    )
    rate_academy = StringField("VAT rate for academies and free schools (%)", widget=GovTextInput())
    vat_other = SelectField("VAT for other customers", widget=GovSelect(), choices=VAT_CHOICES)
    rate_other = StringField("VAT rate for other customers (%)", widget=GovTextInput())

    half_days: dict[str, int]
    vat_rates: dict[CustomerType, tuple[VatTreatment, int]]

    def validate_code(self, field: StringField) -> None:
        field.data = (field.data or "").strip().upper()

    def validate_typical_days(self, field: StringField) -> None:
        self.half_days = getattr(self, "half_days", {})
        self.half_days["typical"] = days_value(field)

    def validate_min_days(self, field: StringField) -> None:
        self.half_days = getattr(self, "half_days", {})
        self.half_days["min"] = days_value(field)

    def validate_max_days(self, field: StringField) -> None:
        self.half_days = getattr(self, "half_days", {})
        self.half_days["max"] = days_value(field)
        low = self.half_days.get("min")
        if low is not None and self.half_days["max"] < low:
            raise StopValidation("Maximum days must be the same as or more than the minimum days")

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        self.vat_rates = {}
        for customer_type, suffix in CUSTOMER_FIELDS.items():
            treatment_field = getattr(self, f"vat_{suffix}")
            rate_field = getattr(self, f"rate_{suffix}")
            try:
                treatment = VatTreatment(treatment_field.data)
            except ValueError:
                treatment_field.errors = [*treatment_field.errors, "Select the VAT treatment"]
                ok = False
                continue
            try:
                self.vat_rates[customer_type] = (
                    treatment,
                    parse_vat_rate(rate_field.data, treatment),
                )
            except ValueError as error:
                rate_field.errors = [*rate_field.errors, str(error)]
                ok = False
        half = getattr(self, "half_days", {})
        if ok and not half.get("min", 0) <= half.get("typical", 0) <= half.get("max", 0):
            self.typical_days.errors = [
                *self.typical_days.errors,
                "Typical days must be between the minimum and maximum days",
            ]
            ok = False
        return ok


class PriceForm(FlaskForm):
    year = SelectField("Academic year", widget=GovSelect(), validators=[InputRequired()])
    price = StringField("Price per day", widget=GovTextInput())

    price_pence: int

    def validate_price(self, field: StringField) -> None:
        self.price_pence = pounds_value(field) or 0
        if self.price_pence <= 0:
            raise StopValidation("Price per day must be more than £0")


# --- Schools ----------------------------------------------------------------------------------


class SchoolForm(FlaskForm):
    billing_route = RadioField(
        "How is the school charged?",
        widget=GovRadioInput(),
        choices=[(r.value, r.label) for r in BillingRoute],
        validators=[InputRequired("Select how the school is charged")],
    )
    cost_centre = _text("Cost centre", 32)
    billing_contact_name = _text("Billing contact name", 120)
    billing_contact_email = StringField(
        "Billing contact email",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=254, message="Billing contact email must be 254 characters or fewer"),
            Email("Enter an email address in the correct format, like name@example.org"),
        ],
    )
    causing_concern = BooleanField("Causing concern", widget=GovCheckboxInput())
    enhanced_provision = BooleanField("Enhanced provision", widget=GovCheckboxInput())
    recruiting_headteacher = BooleanField("Recruiting a headteacher", widget=GovCheckboxInput())
    quadrant_id = SelectField("Quadrant", widget=GovSelect(), coerce=str)
    partnership_id = SelectField("Partnership", widget=GovSelect(), coerce=str)
    approval_limit = StringField("Approval limit", widget=GovTextInput())
    po_required = BooleanField("A purchase order number is required", widget=GovCheckboxInput())

    approval_limit_pence: int | None

    def validate_approval_limit(self, field: StringField) -> None:
        self.approval_limit_pence = pounds_value(field, optional=True)


class GiasUploadForm(FlaskForm):
    file = FileField("Upload a GIAS CSV file", widget=GovFileInput())

    def validate_file(self, field: FileField) -> None:
        if not field.data or not getattr(field.data, "filename", ""):
            raise StopValidation(
                "Select the CSV file downloaded from Get Information About Schools"
            )


# --- Partnerships and quadrants ---------------------------------------------------------------


class PartnershipForm(FlaskForm):
    name = _text("Name", 120, "Enter the partnership's name")
    quadrant_id = SelectField(
        "Quadrant",
        widget=GovSelect(),
        coerce=str,
        validators=[InputRequired("Select the quadrant")],
    )
    active = BooleanField("The partnership is active", widget=GovCheckboxInput(), default=True)


class MemberForm(FlaskForm):
    urn = StringField(
        "Add a school by URN",
        widget=GovTextInput(),
        validators=[DataRequired("Enter the school's URN, like 114706")],
    )

    def validate_urn(self, field: StringField) -> None:
        field.data = (field.data or "").strip()
        if whole_number(field.data) is None:
            raise StopValidation("URN must be a number, like 114706")


class QuadrantForm(FlaskForm):
    districts = TextAreaField(
        "Districts",
        widget=GovTextArea(),
        validators=[Length(max=4000, message="Districts must be 4000 characters or fewer")],
    )


def quadrant_form(start_years: list[int], **kwargs: Any) -> QuadrantForm:
    """The quadrant form with a capacity field for each academic year offered."""

    class _Form(QuadrantForm):
        pass

    for start_year in start_years:
        label = f"Traded capacity in {start_year}/{str(start_year + 1)[-2:]} (days)"
        setattr(_Form, f"capacity_{start_year}", StringField(label, widget=GovTextInput()))
    return _Form(**kwargs)


# --- Users ------------------------------------------------------------------------------------


class UserForm(FlaskForm):
    name = _text("Full name", 120, "Enter the user's full name")
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the user's email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Email("Enter an email address in the correct format, like name@example.org"),
        ],
    )
    role = RadioField(
        "Role",
        widget=GovRadioInput(),
        choices=[(r.value, r.label) for r in Role],
        validators=[InputRequired("Select the user's role")],
    )
    school_urn = StringField("School URN", widget=GovTextInput())
    quadrant_id = SelectField("Quadrant", widget=GovSelect(), coerce=str, validate_choice=False)

    def validate_school_urn(self, field: StringField) -> None:
        field.data = (field.data or "").strip()
        if field.data and whole_number(field.data) is None:
            raise StopValidation("School URN must be a number, like 114706")
        if self.role.data in {r.value for r in Role if r.is_school_role} and not field.data:
            raise StopValidation("Enter the URN of the user's school")


class MembershipForm(FlaskForm):
    """The service manager gives an existing school user a role at another school."""

    membership_urn = StringField("School URN", widget=GovTextInput())
    membership_role = RadioField(
        "Role at that school",
        widget=GovRadioInput(),
        choices=[(r.value, r.label) for r in Role if r.is_school_role],
        validators=[InputRequired("Select their role at that school")],
    )

    def validate_membership_urn(self, field: StringField) -> None:
        field.data = (field.data or "").strip()
        if not field.data:
            raise StopValidation("Enter the URN of the school")
        if whole_number(field.data) is None:
            raise StopValidation("School URN must be a number, like 114706")


# --- Council settings ---------------------------------------------------------------------------

PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,11}$")
SORT_CODE = re.compile(r"^\d{2}-\d{2}-\d{2}$", re.ASCII)
MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip

CORE_FIELDS = {
    "core_partnership_base": "Days for each partnership",
    "core_partnership_per_school": "Extra partnership days for each school in it",
    "core_unpartnered": "Visit for a school in no partnership",
    "core_causing_concern": "Extra days for a school causing concern",
    "core_special_or_pru": "Days for each special school and PRU",
    "core_enhanced_provision": "Extra days for enhanced provision",
    "core_headteacher_recruitment": "Free days for governors recruiting a headteacher",
}


class SettingsForm(FlaskForm):
    name = _text("Council name", 200, "Enter the council's name")
    service_name = _text("Service name", 200, "Enter the service's name")
    address = TextAreaField(
        "Address",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter the council's address"),
            Length(max=500, message="Address must be 500 characters or fewer"),
        ],
    )
    postcode = _text("Postcode", 16, "Enter the council's postcode")
    contact_email = StringField(
        "Contact email",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the team's contact email address"),
            Length(max=254, message="Contact email must be 254 characters or fewer"),
            Email("Enter an email address in the correct format, like name@example.org"),
        ],
    )
    contact_phone = _text("Contact phone", 40)
    vat_number = _text("VAT registration number", 32)
    la_code = _text("Local authority code", 3)
    bank_name = _text("Bank name", 120)
    bank_account_name = _text("Account name", 120)
    bank_sort_code = _text("Sort code", 8)
    bank_account_number = _text("Account number", 8)
    invoice_prefix = _text("Invoice number prefix", 12, "Enter the invoice number prefix")
    recharge_prefix = _text("Recharge number prefix", 12, "Enter the recharge number prefix")
    credit_note_prefix = _text("Credit note number prefix", 12, "Enter the credit note prefix")
    payment_terms_days = StringField("Payment terms (days)", widget=GovTextInput())
    reminder_interval_days = StringField(
        "Days between reminders of an overdue invoice", widget=GovTextInput()
    )
    invoice_timing = RadioField(
        "When are invoices issued?",
        widget=GovRadioInput(),
        choices=[
            ("on_confirmation", "As soon as the council confirms an order"),
            ("invoice_run", "In invoice runs that finance starts"),
        ],
        validators=[InputRequired("Select when invoices are issued")],
    )
    financial_year_start_month = SelectField(
        "Financial year starts in",
        widget=GovSelect(),
        choices=[(str(i + 1), m) for i, m in enumerate(MONTHS)],
        validators=[InputRequired("Select the month the financial year starts")],
    )
    default_price = StringField("Default price per day", widget=GovTextInput())
    default_approval_limit = StringField("Default approval limit", widget=GovTextInput())
    cancellation_notice_days = StringField(
        "Notice needed to cancel a visit (days)", widget=GovTextInput()
    )
    visit_report_deadline_days = StringField(
        "Visit reports due within (working days)", widget=GovTextInput()
    )
    core_partnership_base = StringField(CORE_FIELDS["core_partnership_base"], widget=GovTextInput())
    core_partnership_per_school = StringField(
        CORE_FIELDS["core_partnership_per_school"], widget=GovTextInput()
    )
    core_unpartnered = StringField(CORE_FIELDS["core_unpartnered"], widget=GovTextInput())
    core_causing_concern = StringField(CORE_FIELDS["core_causing_concern"], widget=GovTextInput())
    core_special_or_pru = StringField(CORE_FIELDS["core_special_or_pru"], widget=GovTextInput())
    core_enhanced_provision = StringField(
        CORE_FIELDS["core_enhanced_provision"], widget=GovTextInput()
    )
    core_headteacher_recruitment = StringField(
        CORE_FIELDS["core_headteacher_recruitment"], widget=GovTextInput()
    )
    reminders_on = RadioField(
        "Send payment reminders automatically?",
        widget=GovRadioInput(),
        choices=[
            ("yes", "Yes, every day, on the policy below"),
            ("no", "No, finance sends reminders by hand"),
        ],
        validators=[InputRequired("Select whether payment reminders are sent automatically")],
    )
    friendly_note_days = StringField(
        "Friendly note before the due date (days)", widget=GovTextInput()
    )
    reminders_before_final = StringField("Reminders before the final notice", widget=GovTextInput())
    reminder_send_time = StringField("Time to send reminders", widget=GovTextInput())
    final_notice_text = TextAreaField(
        "What the final notice says happens next",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter what the final notice says happens next"),
            Length(max=1000, message="What happens next must be 1000 characters or fewer"),
        ],
    )
    backup_time = StringField("Time of the nightly backup", widget=GovTextInput())
    backups_kept = StringField("Backups to keep", widget=GovTextInput())
    pdf_check_time = StringField(
        "Time of the daily check of the stored PDFs", widget=GovTextInput()
    )

    values: dict[str, Any]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        values: dict[str, Any] = {}
        for name in (
            "name", "service_name", "address", "postcode", "contact_email", "contact_phone",
            "vat_number", "bank_name", "bank_account_name",
        ):  # fmt: skip
            values[name] = (getattr(self, name).data or "").strip()
        values["postcode"] = values["postcode"].upper()

        def problem(field: Any, message: str) -> None:
            nonlocal ok
            field.errors = [*field.errors, message]
            ok = False

        la = (self.la_code.data or "").strip()
        if la and not is_digits(la, 3):
            problem(self.la_code, "Local authority code must be 3 digits, like 881")
        values["la_code"] = la
        sort_code = (self.bank_sort_code.data or "").strip().replace(" ", "-")
        if sort_code and not SORT_CODE.match(sort_code):
            problem(self.bank_sort_code, "Sort code must be 6 digits, like 20-00-00")
        values["bank_sort_code"] = sort_code
        account = (self.bank_account_number.data or "").strip().replace(" ", "")
        if account and not is_digits(account, 8):
            problem(self.bank_account_number, "Account number must be 8 digits")
        values["bank_account_number"] = account
        for name in ("invoice_prefix", "recharge_prefix", "credit_note_prefix"):
            field = getattr(self, name)
            prefix = (field.data or "").strip().upper()
            if prefix and not PREFIX.match(prefix):
                problem(
                    field,
                    f"{field.label.text} must be 1 to 12 capital letters or numbers, "
                    "starting with a letter, like INV",
                )
            values[name] = prefix
        for name, low, high in (
            ("payment_terms_days", 0, 365),
            ("reminder_interval_days", 1, 365),
            ("cancellation_notice_days", 0, 90),
            ("visit_report_deadline_days", 1, 60),
        ):
            field = getattr(self, name)
            number = whole_number(field.data)
            if number is None or not low <= number <= high:
                problem(field, f"{field.label.text} must be a whole number from {low} to {high}")
            else:
                values[name] = number
        self._schedule_values(values, problem)
        values["invoice_timing"] = self.invoice_timing.data
        values["financial_year_start_month"] = (
            whole_number(self.financial_year_start_month.data) or 4
        )
        for field, key, optional in (
            (self.default_price, "default_price_per_day_pence", False),
            (self.default_approval_limit, "default_approval_limit_pence", True),
        ):
            try:
                values[key] = pounds_value(field, optional=optional)
            except StopValidation as error:
                problem(field, str(error))
        if values.get("default_price_per_day_pence") == 0:
            problem(self.default_price, "Default price per day must be more than £0")
        for name in CORE_FIELDS:
            field = getattr(self, name)
            try:
                values[f"{name}_half_days"] = days_value(field, minimum=0, maximum=200)
            except StopValidation as error:
                problem(field, str(error))
        self.values = values
        return ok

    def _schedule_values(self, values: dict[str, Any], problem: Callable[[Any, str], None]) -> None:
        """The payment reminders' policy and the times of the schedules."""
        values["reminders_on"] = self.reminders_on.data == "yes"
        values["final_notice_text"] = (self.final_notice_text.data or "").strip()
        for name, low, high in (
            ("friendly_note_days", 0, 60),
            ("reminders_before_final", 0, 10),
            ("backups_kept", 1, 365),
        ):
            field = getattr(self, name)
            number = whole_number(field.data)
            if number is None or not low <= number <= high:
                problem(field, f"{field.label.text} must be a whole number from {low} to {high}")
            else:
                values[name] = number
        for name in ("reminder_send_time", "backup_time", "pdf_check_time"):
            field = getattr(self, name)
            try:
                values[name] = time_value(field)
            except StopValidation as error:
                problem(field, str(error))


class AcademicYearForm(FlaskForm):
    starts_on = GovDateField("Start date", validators=[required_date])
    ends_on = GovDateField("End date", validators=[required_date])


# --- Password reset and invitations ----------------------------------------------------------


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", widget=GovPasswordInput())
    confirm = PasswordField("Confirm the new password", widget=GovPasswordInput())

    def validate_password(self, field: StringField) -> None:
        value = field.data or ""
        if not value:
            raise StopValidation("Enter a new password")
        if len(value) < MIN_PASSWORD_LENGTH:
            raise StopValidation(f"Password must be at least {MIN_PASSWORD_LENGTH} characters")
        if len(value) > 1000:
            raise StopValidation("Password must be 1000 characters or fewer")

    def validate_confirm(self, field: StringField) -> None:
        if (field.data or "") != (self.password.data or ""):
            raise StopValidation("The passwords do not match: enter the same password twice")
