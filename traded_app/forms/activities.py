"""The council's list of delivery activities (non-negotiable or agreed with schools)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea, GovTextInput
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

KINDS = [
    ("yes", "Non-negotiable: the council's monitoring, in every partnership plan"),
    ("no", "Agreed with schools"),
]


class ActivityForm(FlaskForm):
    name = StringField(
        "Activity",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the activity's name"),
            Length(max=120, message="Activity must be 120 characters or fewer"),
        ],
    )
    description = TextAreaField(
        "Description (optional)",
        widget=GovTextArea(),
        validators=[Length(max=1000, message="Description must be 1000 characters or fewer")],
    )
    non_negotiable = RadioField(
        "Kind of activity",
        widget=GovRadioInput(),
        choices=KINDS,
        validators=[InputRequired("Select whether the activity is non-negotiable")],
    )
