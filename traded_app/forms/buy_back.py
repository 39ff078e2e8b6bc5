"""Forms of next year's offer: publishing it with its buy-back window."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput
from wtforms import RadioField
from wtforms.validators import InputRequired

from traded_app.forms.dates import GovDateField, required_date
from traded_app.services.ordering.buy_back import LateRule


class PublishOfferForm(FlaskForm):
    opens_on = GovDateField("Date the window opens", validators=[required_date])
    closes_on = GovDateField("Date the window closes", validators=[required_date])
    late_rule = RadioField(
        "Orders placed after the window closes",
        widget=GovRadioInput(),
        choices=[(rule.value, rule.label) for rule in LateRule],
        validators=[InputRequired("Select what orders placed after the window closes mean")],
    )
