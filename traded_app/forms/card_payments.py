"""Forms of card payments: the Stripe keys, finance's review of a held payment, reconciliation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovPasswordInput,
    GovRadioInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from traded_app.forms.dates import GovDateField


class StripeKeysForm(FlaskForm):
    secret_key = PasswordField(
        "Secret key",
        widget=GovPasswordInput(),
        validators=[
            Optional(),
            Length(max=255, message="Secret key must be 255 characters or fewer"),
        ],
    )
    webhook_secret = PasswordField(
        "Webhook signing secret",
        widget=GovPasswordInput(),
        validators=[
            Optional(),
            Length(max=255, message="Webhook signing secret must be 255 characters or fewer"),
        ],
    )
    remove = BooleanField("Remove both keys (turns card payments off)", widget=GovCheckboxInput())


class ReviewForm(FlaskForm):
    action = RadioField(
        "What has been done about it?",
        widget=GovRadioInput(),
        choices=[
            ("apply", "Apply the payment to a VAT invoice"),
            ("resolve", "Dealt with outside this service (for example, refunded in Stripe)"),
        ],
        validators=[InputRequired("Select what has been done about it")],
    )
    invoice = StringField(
        "Invoice number",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=32, message="Invoice number must be 32 characters or fewer"),
        ],
    )
    note = TextAreaField(
        "Note for the record",
        widget=GovTextArea(),
        validators=[
            InputRequired("Enter what was done about it"),
            Length(max=500, message="Note must be 500 characters or fewer"),
        ],
    )


class ReconcileForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it only reads

    date_from = GovDateField("From")
    date_to = GovDateField("To")
