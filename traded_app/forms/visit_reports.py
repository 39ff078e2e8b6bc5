"""The visit report form: activities covered, what was done, actions agreed, the next visit."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length

from traded_app.forms.dates import GovDateField
from traded_app.services.days.visit_reports import MAX_ACTION, MAX_OWNER, MAX_REASON, MAX_TEXT

ACTION_ROWS = 5


class ReportForm(FlaskForm):
    activities = SelectMultipleField(
        "Activities the visit covered",
        widget=GovCheckboxesInput(),
        coerce=str,
        choices=[],
        validate_choice=False,  # the service refuses what is not on the list, in its words
    )
    what_was_done = TextAreaField(
        "What was done",
        widget=GovTextArea(),
        validators=[
            Length(max=MAX_TEXT, message=f"What was done must be {MAX_TEXT} characters or fewer")
        ],
    )
    next_visit = RadioField(
        "Next visit",
        widget=GovRadioInput(),
        choices=[("date", "On a date"), ("to_be_arranged", "To be arranged")],
        default="to_be_arranged",
    )
    next_visit_on = GovDateField("Date of the next visit")
    copy_to_chair = BooleanField(
        "Copy the report to the chair of governors", widget=GovCheckboxInput()
    )
    # Which button: save the draft, or send the report.
    intent = StringField("", default="save")


def _action_fields(number: int) -> dict[str, Any]:
    return {
        f"action_{number}": StringField(
            f"Action {number}",
            widget=GovTextInput(),
            validators=[
                Length(
                    max=MAX_ACTION,
                    message=f"Action {number} must be {MAX_ACTION} characters or fewer",
                )
            ],
        ),
        f"owner_{number}": StringField(
            f"Owner of action {number}",
            widget=GovTextInput(),
            validators=[
                Length(
                    max=MAX_OWNER,
                    message=f"The owner of action {number} must be {MAX_OWNER} characters or fewer",
                )
            ],
        ),
        f"due_{number}": GovDateField(f"Action {number} due by"),
    }


for _number in range(1, ACTION_ROWS + 1):
    for _name, _field in _action_fields(_number).items():
        setattr(ReportForm, _name, _field)


class CorrectionForm(ReportForm):
    correction_reason = TextAreaField(
        "Why is the report being corrected?",
        widget=GovTextArea(),
        validators=[
            Length(max=MAX_REASON, message=f"The reason must be {MAX_REASON} characters or fewer")
        ],
    )
