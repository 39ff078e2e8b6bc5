"""Courses and events for the council: courses and their sessions, each session's bookings,
waiting list and attendance, the delegate list as CSV, cancelling a session, income per course,
and when places are charged."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.types import Role
from traded_app.forms.courses import (
    CancelSessionForm,
    ChargeTimingForm,
    CourseForm,
    SessionForm,
)
from traded_app.services.courses import CourseError, attendance, catalogue, charging, reports

bp = Blueprint("council_courses", __name__)


@bp.route("/council/courses", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def courses() -> str | BaseResponse:
    """Every course with its income from documents, and when places are charged."""
    form = ChargeTimingForm(data={"timing": charging.charge_timing()})
    if form.validate_on_submit():
        try:
            charging.set_charge_timing(form.timing.data or "")
        except CourseError as error:
            form.timing.errors = [str(error)]
        else:
            flash("Saved: when course places are charged.", "success")
            return redirect(url_for("council_courses.courses"))
    return render_template(
        "courses/council_courses.html", income=reports.income_by_course(), form=form
    )


@bp.route("/council/courses/new", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def new_course() -> str | BaseResponse:
    form = CourseForm(
        data={
            "free_until_days": "14",
            "late_percent": "50",
            "no_show_percent": "100",
            "vat_maintained": "outside_scope",
            "vat_academy": "standard",
            "rate_academy": "20",
            "vat_other": "standard",
            "rate_other": "20",
        }
    )
    if form.validate_on_submit():
        try:
            course = catalogue.create_course(
                catalogue.CourseInput(
                    code=form.code.data or "",
                    title=form.title.data or "",
                    kind=catalogue.CourseKind(form.kind.data),
                    audience=catalogue.Audience(form.audience.data),
                    description=form.description.data or "",
                    income_code=form.income_code.data or "",
                    free_until_days=form.numbers["free_until_days"],
                    late_percent=form.numbers["late_percent"],
                    no_show_percent=form.numbers["no_show_percent"],
                    prices=form.prices,
                )
            )
        except CourseError as error:
            field = getattr(form, error.field or "", None) or form.code
            field.errors = [str(error)]
        else:
            flash(f"{course.title} added. Now add its sessions.", "success")
            return redirect(url_for("council_courses.course_detail", course_id=course.id))
    return render_template("courses/course_form.html", form=form)


@bp.route("/council/courses/<int:course_id>")
@roles_required(Role.LA_ADMIN)
def course_detail(course_id: int) -> str:
    course = catalogue.course(course_id)
    ids = [s.id for s in course.sessions]
    return render_template(
        "courses/council_course.html",
        course=course,
        taken=catalogue.places_taken(ids),
        waiting=catalogue.waiting_counts(ids),
    )


@bp.route("/council/courses/<int:course_id>/sessions/new", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def new_session(course_id: int) -> str | BaseResponse:
    course = catalogue.course(course_id)
    form = SessionForm()
    form.trainer_id.choices = [("", "No trainer yet")] + [
        (str(user_id), name) for user_id, name in catalogue.trainer_choices()
    ]
    if form.validate_on_submit():
        assert form.session_date.data is not None and form.booking_deadline.data is not None
        try:
            session = catalogue.add_session(
                course,
                catalogue.SessionInput(
                    session_date=form.session_date.data,
                    start_time=form.start_time.data or "",
                    end_time=form.end_time.data or "",
                    venue=form.venue.data or "",
                    online_link=form.online_link.data or "",
                    places=int(form.places.data or 0),
                    booking_deadline=form.booking_deadline.data,
                    trainer_id=int(form.trainer_id.data) if form.trainer_id.data else None,
                ),
            )
        except CourseError as error:
            field = getattr(form, error.field or "", None) or form.session_date
            field.errors = [str(error)]
        else:
            flash(f"Session on {session.session_date:%d %B %Y} added.", "success")
            return redirect(url_for("council_courses.course_detail", course_id=course.id))
    return render_template("courses/session_form.html", course=course, form=form)


def _visible_session(session_id: int) -> catalogue.CourseSession:
    session = catalogue.session_of(session_id)
    if current_user.role != Role.LA_ADMIN and not attendance.may_take_register(
        session, current_user
    ):
        abort(404)
    return session


@bp.route("/council/courses/sessions/<int:session_id>")
@roles_required(Role.LA_ADMIN, Role.ADVISER)
def session_detail(session_id: int) -> str:
    """Bookings, the waiting list in order, and attendance."""
    session = _visible_session(session_id)
    places = reports.session_places(session)
    return render_template(
        "courses/council_session.html",
        session=session,
        places=places,
        figures=reports.figures(session, places),
    )


@bp.route("/council/courses/sessions/<int:session_id>/delegates.csv")
@roles_required(Role.LA_ADMIN, Role.ADVISER)
def delegates_csv(session_id: int) -> Response:
    session = _visible_session(session_id)
    filename = f"delegates-{session.course.code}-{session.session_date.isoformat()}.csv"
    return Response(
        "\ufeff" + reports.delegates_csv(session),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/council/courses/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def cancel_session(session_id: int) -> str | BaseResponse:
    session = catalogue.session_of(session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        try:
            affected = attendance.cancel_session(session_id, current_user, form.reason.data or "")
        except CourseError as error:
            form.reason.errors = [str(error)]
        else:
            flash(
                f"Session cancelled: {len(affected)} places released, credited and e-mailed.",
                "success",
            )
            return redirect(url_for("council_courses.session_detail", session_id=session_id))
    return render_template("courses/cancel_session.html", session=session, form=form)


@bp.route("/council/courses/training")
@roles_required(Role.LA_ADMIN, Role.ADVISER)
def training() -> str:
    """The sessions a trainer runs (every session, for a service manager): register and list."""
    return render_template(
        "courses/training.html", sessions=catalogue.sessions_to_train(current_user)
    )
