"""Money between schools: the council's setting, a provider's own invoice, a payout marked
paid. The forms read the fields (pounds as pence, a percentage as basis points, GOV.UK dates);
the services say what is missing or wrong, so each message comes from one place."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextInput
from wtforms import Field, RadioField, StringField
from wtforms.validators import InputRequired, StopValidation

from traded_app.domain import brokerage
from traded_app.domain.pricing import MoneyError, parse_pounds
from traded_app.domain.types import VatTreatment
from traded_app.forms.dates import GovDateField
from traded_app.models.brokering_money import Billing


def _optional_pounds(_form: FlaskForm, field: Field) -> None:
    field.pence = None
    if not (field.data or "").strip():
        return
    try:
        field.pence = parse_pounds(field.data)
    except MoneyError as error:
        raise StopValidation(
            f"{field.label.text}: {str(error)[0].lower()}{str(error)[1:]}"
        ) from None


def _percent(form: FlaskForm, field: Field) -> None:
    field.basis_points = 0
    if form.billing.data == Billing.DIRECT.value and not (field.data or "").strip():
        return  # no fee when the provider invoices directly
    try:
        field.basis_points = brokerage.parse_fee_percent(field.data)
    except brokerage.FeeError as error:
        raise StopValidation(str(error)) from None


def _vat_percent(_form: FlaskForm, field: Field) -> None:
    field.basis_points = 0
    if not (field.data or "").strip():
        return
    try:
        field.basis_points = brokerage.parse_fee_percent(field.data, maximum=10_000)
    except brokerage.FeeError as error:
        raise StopValidation(str(error).replace("brokerage fee", "VAT rate")) from None


class MoneySettingsForm(FlaskForm):
    billing = RadioField(
        "Who invoices the buying school",
        widget=GovRadioInput(),
        choices=[(b.value, b.label) for b in Billing],
        validators=[InputRequired("Select who invoices the buying school")],
    )
    fee = StringField("Brokerage fee (%)", widget=GovTextInput(), validators=[_percent])
    vat_treatment = RadioField(
        "VAT on invoices to academies",
        widget=GovRadioInput(),
        choices=[(t.value, t.label) for t in VatTreatment],
        validators=[InputRequired("Select the VAT on invoices to academies")],
    )
    vat_rate = StringField("VAT rate (%)", widget=GovTextInput(), validators=[_vat_percent])
    income_code = StringField("Income code (optional)", widget=GovTextInput())


class ProviderInvoiceForm(FlaskForm):
    reference = StringField("Invoice reference", widget=GovTextInput())
    issued_on = GovDateField("Date of the invoice")
    amount = StringField(
        "Amount, including any VAT", widget=GovTextInput(), validators=[_optional_pounds]
    )


class MarkPaidForm(FlaskForm):
    paid_on = GovDateField("Date paid")
    payment_reference = StringField("Payment or journal reference", widget=GovTextInput())
