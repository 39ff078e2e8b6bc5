"""Forms for checking out an order and for actions that need a reason."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, StopValidation
from wtforms.widgets import HiddenInput

from traded_app.domain.numbers import whole_number
from traded_app.domain.pricing import MoneyError, parse_pounds
from traded_app.services.ordering.workflow import (
    MAX_NOTE_LENGTH,
    MAX_PO_LENGTH,
    MAX_PREFERRED_DATES_LENGTH,
    MAX_REASON_LENGTH,
    TERMS,
)

# What a person sees when the page's hidden figures come back missing or unreadable.
CHECK_AGAIN = "Check your order again, then submit it"


class HiddenNumberField(IntegerField):
    """A number the page carries in a hidden input. Only ASCII digits that fit the database's
    integer count (domain.numbers.whole_number): `int` alone took "１２" and ids past 32 bits,
    and looking up an order by "2147483648" was a 500 on PostgreSQL."""

    widget = HiddenInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            self.data = whole_number(valuelist[0])
            if self.data is None:
                raise ValueError(CHECK_AGAIN)


class CheckoutForm(FlaskForm):
    """Check answers: the draft the person checked, its version and the terms they accept.

    A second press of "Submit" or a basket changed in another tab is caught rather than sent
    twice or unseen; terms changed since the page was shown must be read again."""

    order_id = HiddenNumberField(validators=[InputRequired(CHECK_AGAIN)])
    version = HiddenNumberField(validators=[InputRequired(CHECK_AGAIN)])
    terms_version_id = HiddenNumberField(validators=[Optional()])
    accept_terms = BooleanField("I accept the terms and conditions", widget=GovCheckboxInput())

    def __init__(self, *args: Any, terms_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.terms_required = terms_required

    def validate_accept_terms(self, field: BooleanField) -> None:
        if self.terms_required and not field.data:
            raise StopValidation("Confirm that you accept the terms and conditions")


class OrderDetailsForm(FlaskForm):
    """The order's details, asked on their own page before check answers."""

    po_number = StringField(
        "Purchase order number (optional)",
        widget=GovTextInput(),
        validators=[
            Length(
                max=MAX_PO_LENGTH,
                message=f"Purchase order number must be {MAX_PO_LENGTH} characters or fewer",
            )
        ],
    )
    preferred_term = RadioField(
        "When would you like the support?",
        widget=GovRadioInput(),
        choices=list(TERMS.items()),
        default="",
        validators=[Optional()],
    )
    preferred_dates = StringField(
        "Preferred dates (optional)",
        widget=GovTextInput(),
        validators=[
            Length(
                max=MAX_PREFERRED_DATES_LENGTH,
                message=(
                    f"Preferred dates must be {MAX_PREFERRED_DATES_LENGTH} characters or fewer"
                ),
            )
        ],
    )
    adviser_note = TextAreaField(
        "Note for the adviser (optional)",
        widget=GovTextArea(),
        validators=[
            Length(
                max=MAX_NOTE_LENGTH,
                message=f"Note for the adviser must be {MAX_NOTE_LENGTH} characters or fewer",
            )
        ],
    )

    def validate_preferred_term(self, field: RadioField) -> None:
        if (field.data or "") not in TERMS:
            raise StopValidation("Select when you would like the support")


class PoNumberForm(FlaskForm):
    """A PO number given after the order was submitted."""

    po_number = StringField(
        "Purchase order number",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter your purchase order number"),
            Length(
                max=MAX_PO_LENGTH,
                message=f"Purchase order number must be {MAX_PO_LENGTH} characters or fewer",
            ),
        ],
    )


class ReasonForm(FlaskForm):
    """One reason, required, for the actions that must be explained (reject, decline, …)."""

    reason = TextAreaField(
        "Reason",
        widget=GovTextArea(),
        validators=[
            DataRequired(message="Enter a reason"),
            Length(
                max=MAX_REASON_LENGTH,
                message=f"Reason must be {MAX_REASON_LENGTH} characters or fewer",
            ),
        ],
    )


class OptionalReasonForm(FlaskForm):
    reason = TextAreaField(
        "Reason (optional)",
        widget=GovTextArea(),
        validators=[
            Length(
                max=MAX_REASON_LENGTH,
                message=f"Reason must be {MAX_REASON_LENGTH} characters or fewer",
            ),
        ],
    )


class OrderingRulesForm(FlaskForm):
    """The headteacher's rules for the school's orders."""

    approval_limit = StringField(
        "Approval limit (optional)",
        widget=GovTextInput(),
        validators=[Length(max=20, message="Enter an amount in pounds, like 1500 or 1500.50")],
    )
    po_required = RadioField(
        "Must orders have a purchase order number?",
        widget=GovRadioInput(),
        choices=[("yes", "Yes"), ("no", "No")],
        validators=[InputRequired(message="Select whether orders need a purchase order number")],
    )

    def validate_approval_limit(self, field: StringField) -> None:
        text = (field.data or "").strip()
        self.approval_limit_pence: int | None = None
        if text:
            try:
                self.approval_limit_pence = parse_pounds(text)
            except MoneyError as error:
                raise StopValidation(str(error)) from None
