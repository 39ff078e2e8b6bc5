"""Forms of "Set up the service": council details and logo, local authority code and financial
year, quadrant teams, document numbering, the catalogue's CSV import and copying prices, and
"Have you completed this section?"."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, StopValidation

from traded_app.domain.numbers import is_digits, whole_number
from traded_app.forms.admin import MONTHS, PREFIX, SORT_CODE, _text


def _email(label: str, required: str | None = None) -> StringField:
    validators: list[Any] = [
        Length(max=254, message=f"{label} must be 254 characters or fewer"),
        Email("Enter an email address in the correct format, like name@example.org"),
    ]
    validators.insert(0, DataRequired(required) if required else Optional())
    return StringField(label, widget=GovTextInput(), validators=validators)


class CouncilDetailsForm(FlaskForm):
    name = _text("Legal name of the council", 200, "Enter the council's legal name")
    address = TextAreaField(
        "Address",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter the council's address"),
            Length(max=500, message="Address must be 500 characters or fewer"),
        ],
    )
    postcode = _text("Postcode", 16, "Enter the council's postcode")
    vat_number = _text("VAT registration number", 32, "Enter the council's VAT registration number")
    bank_name = _text("Bank name", 120, "Enter the bank's name")
    bank_account_name = _text("Account name", 120, "Enter the account name")
    bank_sort_code = _text("Sort code", 8, "Enter the sort code")
    bank_account_number = _text("Account number", 8, "Enter the account number")
    remittance_email = _email("Remittance advice email (optional)")
    contact_email = _email("Contact email", "Enter the team's contact email address")
    contact_phone = _text("Contact phone (optional)", 40)
    logo = FileField("Logo (optional)", widget=GovFileInput())
    remove_logo = BooleanField("Remove the current logo", widget=GovCheckboxInput())

    values: dict[str, Any]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        values = {
            name: (getattr(self, name).data or "").strip()
            for name in (
                "name", "address", "postcode", "vat_number", "bank_name", "bank_account_name",
                "remittance_email", "contact_email", "contact_phone",
            )
        }  # fmt: skip
        values["postcode"] = values["postcode"].upper()
        values["vat_number"] = values["vat_number"].upper()
        values["remittance_email"] = values["remittance_email"].lower()
        values["contact_email"] = values["contact_email"].lower()
        sort_code = (self.bank_sort_code.data or "").strip().replace(" ", "-")
        if sort_code and not SORT_CODE.match(sort_code):
            self.bank_sort_code.errors = ["Sort code must be 6 digits, like 20-00-00"]
            ok = False
        account = (self.bank_account_number.data or "").strip().replace(" ", "")
        if account and not is_digits(account, 8):
            self.bank_account_number.errors = ["Account number must be 8 digits"]
            ok = False
        values["bank_sort_code"] = sort_code
        values["bank_account_number"] = account
        self.values = values
        return ok


class LaFinanceForm(FlaskForm):
    la_code = _text("Local authority code", 3, "Enter the council's local authority code")
    financial_year_start_month = SelectField(
        "Financial year starts in",
        widget=GovSelect(),
        choices=[(str(i + 1), m) for i, m in enumerate(MONTHS)],
        validators=[InputRequired("Select the month the financial year starts")],
    )

    def validate_la_code(self, field: StringField) -> None:
        if not is_digits((field.data or "").strip(), 3):
            raise StopValidation("Local authority code must be 3 digits, like 881")


class CompleteForm(FlaskForm):
    completed = RadioField(
        "Have you completed this section?",
        widget=GovRadioInput(),
        choices=[("yes", "Yes, I've completed this section"), ("no", "No, I'll come back later")],
        validators=[InputRequired("Select whether you have completed this section")],
    )


class QuadrantNameForm(FlaskForm):
    name = _text("Team name", 80, "Enter the team's name")
    code = _text("Short code", 16, "Enter a short code, like NE")


class NumberingForm(FlaskForm):
    invoice_prefix = _text("VAT invoices: prefix", 12, "Enter the invoice number prefix")
    invoice_first = StringField("VAT invoices: next number", widget=GovTextInput())
    recharge_prefix = _text("Internal recharges: prefix", 12, "Enter the recharge number prefix")
    recharge_first = StringField("Internal recharges: next number", widget=GovTextInput())
    credit_note_prefix = _text("Credit notes: prefix", 12, "Enter the credit note number prefix")
    credit_note_first = StringField("Credit notes: next number", widget=GovTextInput())

    prefixes: dict[str, str]
    first_numbers: dict[str, int]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        self.prefixes, self.first_numbers = {}, {}
        for series in ("invoice", "recharge", "credit_note"):
            field = getattr(self, f"{series}_prefix")
            prefix = (field.data or "").strip().upper()
            if prefix and not PREFIX.match(prefix):
                field.errors = [
                    f"{field.label.text} must be 1 to 12 capital letters or numbers, starting "
                    "with a letter, like INV"
                ]
                ok = False
            self.prefixes[series] = prefix
            first = getattr(self, f"{series}_first")
            number = whole_number(first.data, max_digits=6)
            if number is None or number < 1:
                first.errors = [f"{first.label.text} must be a whole number from 1 to 999999"]
                ok = False
            else:
                self.first_numbers[series] = number
        return ok


class CatalogueUploadForm(FlaskForm):
    year = SelectField("Prices are for", widget=GovSelect())
    file = FileField("Upload a CSV file", widget=GovFileInput())

    def validate_file(self, field: FileField) -> None:
        if not field.data or not getattr(field.data, "filename", ""):
            raise StopValidation("Select the catalogue's CSV file")


class CopyPricesForm(FlaskForm):
    source = SelectField("Copy the prices of", widget=GovSelect())
    target = SelectField("To", widget=GovSelect())
    uplift = StringField("Increase them by (per cent, optional)", widget=GovTextInput())

    uplift_bp: int

    def validate_uplift(self, field: StringField) -> None:
        text = (field.data or "").strip().removesuffix("%").strip() or "0"
        whole, _, fraction = text.partition(".")
        if (
            not is_digits(whole)
            or (fraction and not is_digits(fraction, None))
            or len(fraction) > 2
        ):
            raise StopValidation("Increase must be a number of per cent, like 3 or 2.5")
        self.uplift_bp = int(whole) * 100 + int((fraction + "00")[:2])
        if self.uplift_bp > 5000:
            raise StopValidation("Increase must be 50% or less")
