"""Feedback on visits: the headteacher rates a delivered visit; the service manager reads the
ratings by service, adviser or quadrant."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import Role
from traded_app.forms.feedback import FeedbackForm
from traded_app.services.days import feedback
from traded_app.services.platform.settings import today

bp = Blueprint("feedback", __name__)

MONTH_CHOICES = (6, 12, 24)


@bp.route("/days/visits/<int:visit_id>/feedback", methods=["GET", "POST"])
@roles_required(Role.HEADTEACHER)
def give_feedback(visit_id: int) -> str | BaseResponse:
    try:
        visit = feedback.visit_to_rate(current_user, visit_id)
    except feedback.NoSuchVisit:
        abort(404)
    given = feedback.feedback_of(visit.id)
    form = FeedbackForm()
    if given is None and form.validate_on_submit():
        try:
            feedback.give(
                visit, current_user, whole_number(form.rating.data), form.comment.data or ""
            )
        except feedback.FeedbackError as error:
            field = getattr(form, error.field, None) if error.field else None
            (field or form.rating).errors = [str(error)]
        else:
            flash("Thank you: your feedback on the visit has been sent to the council.", "success")
            return redirect(url_for("days.my_days"))
    return render_template(
        "days/feedback.html",
        visit=visit,
        given=given,
        form=form,
        ratings=feedback.RATINGS,
        may_give=feedback.may_give(visit, current_user),
    )


@bp.route("/council/feedback")
@roles_required(Role.LA_ADMIN)
def ratings() -> str:
    """Ratings of visits by service, adviser or quadrant over the last months."""
    months = whole_number(request.args.get("months")) or 12
    months = months if months in MONTH_CHOICES else 12
    result = feedback.ratings(request.args.get("by", "service"), months, today())
    return render_template(
        "council/feedback.html",
        result=result,
        months=months,
        month_choices=MONTH_CHOICES,
        groupings=feedback.GROUPINGS,
        ratings_labels=feedback.RATINGS,
    )
