"""Forms for checking out an order and for actions that need a reason."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea, GovTextInput
from wtforms import IntegerField, RadioField, StringField, TextAreaField
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
    # The draft the person checked, and its version: a second press of "Submit" or a basket
    # changed in another tab is caught rather than sent twice or unseen.
    order_id = HiddenNumberField(validators=[InputRequired(CHECK_AGAIN)])
    version = HiddenNumberField(validators=[InputRequired(CHECK_AGAIN)])
    po_number = StringField(
        "Purchase order number",
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

    def __init__(self, *args: Any, po_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.po_required = po_required
        if po_required:
            self.po_number.label.text = "Purchase order number"
        else:
            self.po_number.label.text = "Purchase order number (optional)"

    def validate_po_number(self, field: StringField) -> None:
        if self.po_required and not (field.data or "").strip():
            raise StopValidation("Enter your purchase order number")

    def validate_preferred_term(self, field: RadioField) -> None:
        if (field.data or "") not in TERMS:
            raise StopValidation("Select when you would like the support")


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
