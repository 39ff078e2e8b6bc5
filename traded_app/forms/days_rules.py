"""The council's rules for days over time: the realistic pace, warnings, and the year's end."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovRadioInput, GovTextInput
from wtforms import BooleanField, RadioField, StringField
from wtforms.validators import InputRequired

from traded_app.models.year_end import YearEndRule


class DaysRulesForm(FlaskForm):
    pace = StringField("Days a school can use in a teaching week", widget=GovTextInput())
    warn_at_risk = BooleanField(
        "E-mail headteachers about days at risk (at most every four weeks)",
        widget=GovCheckboxInput(),
    )
    lapse_warning = StringField(
        "Warn of days that would lapse this many days before the year ends",
        widget=GovTextInput(),
    )
    rule = RadioField(
        "Unused bought days at the end of the academic year",
        widget=GovRadioInput(),
        choices=[(r.value, r.label) for r in YearEndRule],
        validators=[InputRequired("Select what happens to unused bought days")],
    )
    carry_over = StringField("Most days a school may carry over", widget=GovTextInput())
    core_carries_over = BooleanField(
        "Core days carry over too (under the same limit's rule)", widget=GovCheckboxInput()
    )
