"""Forms for multi-academy trusts: the service manager's trust details and member academies."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea, GovTextInput
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from traded_app.domain.trusts import InvoiceTo


class TrustForm(FlaskForm):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the trust's name"),
            Length(max=200, message="The trust's name must be 200 characters or fewer"),
        ],
    )
    companies_house_number = StringField(
        "Companies House number",
        widget=GovTextInput(),
        validators=[Length(max=20, message="Enter the Companies House number, like 07318714")],
    )
    billing_address = TextAreaField(
        "Billing address",
        widget=GovTextArea(),
        validators=[Length(max=500, message="The billing address must be 500 characters or fewer")],
    )
    finance_email = StringField(
        "Finance contact's email address",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=254, message="The email address must be 254 characters or fewer"),
            Email("Enter an email address in the correct format, like finance@trust.example.org"),
        ],
    )
    invoice_to = RadioField(
        "Invoices for the trust's academies are addressed to",
        widget=GovRadioInput(),
        choices=[(t.value, t.label) for t in InvoiceTo],
        default=InvoiceTo.ACADEMY.value,
        validators=[DataRequired("Choose whom the invoices are addressed to")],
    )
    # The trust's decision; a form sent without it (an older page) leaves the trust's staff
    # unable to order, the safe side.
    staff_may_order = RadioField(
        "May the trust's finance staff order days for its academies?",
        widget=GovRadioInput(),
        choices=[("yes", "Yes, the trust says its staff may order"), ("no", "No")],
        default="no",
        validators=[Optional()],
    )


class AcademyForm(FlaskForm):
    urn = StringField(
        "Add an academy by URN",
        widget=GovTextInput(),
        validators=[DataRequired("Enter the academy's URN, like 137123")],
    )


class TrustStaffForm(FlaskForm):
    """The service manager invites a trust's finance person (an account e-mailed a link)."""

    staff_name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the person's full name"),
            Length(max=120, message="The name must be 120 characters or fewer"),
        ],
    )
    staff_email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the person's email address"),
            Length(max=254, message="The email address must be 254 characters or fewer"),
            Email("Enter an email address in the correct format, like name@trust.example.org"),
        ],
    )
