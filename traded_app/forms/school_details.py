"""The school's billing details, as the school and the service manager change them."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextArea, GovTextInput
from wtforms import StringField, TextAreaField
from wtforms.validators import Email, Length, Optional


class BillingDetailsForm(FlaskForm):
    billing_address = TextAreaField(
        "Billing address",
        widget=GovTextArea(),
        validators=[Length(max=500, message="Billing address must be 500 characters or fewer")],
    )
    billing_contact_name = StringField(
        "Billing contact",
        widget=GovTextInput(),
        validators=[Length(max=120, message="Billing contact must be 120 characters or fewer")],
    )
    billing_contact_email = StringField(
        "Billing e-mail",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=254, message="Billing e-mail must be 254 characters or fewer"),
            Email("Enter an email address in the correct format, like name@example.org"),
        ],
    )
    cost_centre = StringField(
        "Cost centre",
        widget=GovTextInput(),
        validators=[Length(max=32, message="Cost centre must be 32 characters or fewer")],
    )
    chair_of_governors_name = StringField(
        "Chair of governors",
        widget=GovTextInput(),
        validators=[Length(max=120, message="Chair of governors must be 120 characters or fewer")],
    )
    chair_of_governors_email = StringField(
        "Chair of governors’ e-mail",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=254, message="The chair’s e-mail must be 254 characters or fewer"),
            Email("Enter an email address in the correct format, like name@example.org"),
        ],
    )
