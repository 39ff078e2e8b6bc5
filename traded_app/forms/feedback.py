"""The headteacher's rating of a visit (GOV.UK radios and textarea)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length

from traded_app.services.days.feedback import MAX_COMMENT_LENGTH, RATINGS


class FeedbackForm(FlaskForm):
    rating = RadioField(
        "How did the visit go?",
        widget=GovRadioInput(),
        choices=[(str(score), f"{score}: {label}") for score, label in RATINGS.items()],
        validators=[InputRequired("Select how the visit went, from 1 to 5")],
    )
    comment = TextAreaField(
        "What worked, and what could be better? (optional)",
        widget=GovTextArea(),
        validators=[
            Length(
                max=MAX_COMMENT_LENGTH,
                message=f"Comments must be {MAX_COMMENT_LENGTH} characters or fewer",
            )
        ],
    )
