"""Close the year: the figures the service manager previewed travel with the button, so the
year is not closed on figures that changed since."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField


class YearCloseForm(FlaskForm):
    carried = HiddenField()
    lapsed = HiddenField()
