"""Courses and events for schools: the sessions with places, booking places for delegates,
a school's bookings (substitute, cancel, accept an offered place, the headteacher's approval),
certificates of attendance; and the trainer's register on the day (a list that works on a
phone)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import SCHOOL, roles_required
from traded_app.domain.types import Role
from traded_app.forms.auth import EmptyForm
from traded_app.forms.courses import AUDIENCE_CHOICES, BookingForm, SubstituteForm
from traded_app.services.courses import CourseError, attendance, booking, catalogue, charging

bp = Blueprint("courses", __name__)

BOOKERS = (Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER)


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/courses")
@roles_required(SCHOOL)
def listing() -> str:
    """Sessions open for booking, soonest first, filtered by audience and dates."""
    audience_value = request.args.get("audience", "")
    audience = next((a for a in catalogue.Audience if a.value == audience_value), None)
    from_date, to_date = _date_arg("from"), _date_arg("to")
    sessions = catalogue.open_sessions(
        audience, from_date, to_date, with_places_only=request.args.get("places") == "1"
    )
    return render_template(
        "courses/listing.html",
        sessions=sessions,
        audience_choices=AUDIENCE_CHOICES,
        audience=audience_value if audience else "",
        from_date=from_date,
        to_date=to_date,
        places_only=request.args.get("places") == "1",
        customer_type=current_user.school.customer_type,
    )


@bp.route("/courses/sessions/<int:session_id>/book", methods=["GET", "POST"])
@roles_required(*BOOKERS)
def book(session_id: int) -> str | BaseResponse:
    session = catalogue.session_of(session_id)
    listed = next((s for s in catalogue.open_sessions() if s.session.id == session_id), None)
    form = BookingForm()
    refusal = ""
    if form.validate_on_submit():
        try:
            made = booking.book(
                session_id,
                current_user.school,
                current_user,
                form.filled(),
                form.po_number.data or "",
            )
        except CourseError as error:
            refusal = str(error)
        else:
            flash(f"Booking {made.reference} made.", "success")
            return redirect(url_for("courses.booking_detail", booking_id=made.id))
    price = session.course.price_for(current_user.school.customer_type)
    return render_template(
        "courses/book.html",
        session=session,
        listed=listed,
        form=form,
        price=price,
        refusal=refusal,
    )


@bp.route("/courses/bookings")
@roles_required(SCHOOL)
def my_bookings() -> str:
    return render_template(
        "courses/bookings.html", bookings=booking.school_bookings(current_user.school_id)
    )


@bp.route("/courses/bookings/<int:booking_id>")
@roles_required(SCHOOL, Role.LA_ADMIN, Role.LA_FINANCE)
def booking_detail(booking_id: int) -> str:
    found = booking.booking_for(current_user, booking_id)
    return render_template(
        "courses/booking.html",
        booking=found,
        documents=charging.documents_of(found),
        form=EmptyForm(),
        may_act=current_user.role in BOOKERS,
        may_approve=current_user.role == Role.HEADTEACHER,
        terms=found.session.course.terms.describe(),
    )


def _act(booking_id: int, action: str) -> BaseResponse:
    target = url_for("courses.booking_detail", booking_id=booking_id)
    if not EmptyForm().validate_on_submit():
        flash("The form had expired: try again.", "info")
        return redirect(target)
    found = booking.booking_for(current_user, booking_id)
    try:
        if action == "approve":
            booking.approve(found, current_user)
            flash("Places approved and booked.", "success")
        else:
            booking.reject(found, current_user)
            flash("Places not approved.", "success")
    except CourseError as error:
        flash(str(error), "info")
    return redirect(target)


@bp.route("/courses/bookings/<int:booking_id>/approve", methods=["POST"])
@roles_required(Role.HEADTEACHER)
def approve(booking_id: int) -> BaseResponse:
    return _act(booking_id, "approve")


@bp.route("/courses/bookings/<int:booking_id>/reject", methods=["POST"])
@roles_required(Role.HEADTEACHER)
def reject(booking_id: int) -> BaseResponse:
    return _act(booking_id, "reject")


@bp.route("/courses/places/<int:place_id>/substitute", methods=["GET", "POST"])
@roles_required(*BOOKERS)
def substitute(place_id: int) -> str | BaseResponse:
    place = booking.place_for(current_user, place_id)
    form = SubstituteForm(obj=place) if request.method == "GET" else SubstituteForm()
    if form.validate_on_submit():
        before = place.name
        try:
            booking.substitute(place, current_user, form.delegate())
        except CourseError as error:
            field = getattr(form, error.field or "", None) or form.name
            field.errors = [str(error)]
        else:
            flash(f"{place.name} now has {before}'s place.", "success")
            return redirect(url_for("courses.booking_detail", booking_id=place.booking_id))
    return render_template("courses/substitute.html", place=place, form=form)


@bp.route("/courses/places/<int:place_id>/cancel", methods=["GET", "POST"])
@roles_required(*BOOKERS)
def cancel_place(place_id: int) -> str | BaseResponse:
    place = booking.place_for(current_user, place_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            quote = booking.cancel_place(place, current_user)
        except CourseError as error:
            flash(str(error), "info")
        else:
            charged = (
                f" The course's terms charge {quote.percent}% of the place." if quote.pence else ""
            )
            flash(f"{place.name}'s place is cancelled.{charged}", "success")
        return redirect(url_for("courses.booking_detail", booking_id=place.booking_id))
    return render_template(
        "courses/cancel_place.html",
        place=place,
        quote=booking.cancellation_quote(place),
        form=form,
        terms=place.session.course.terms.describe(),
    )


def _offer(place_id: int, accept: bool) -> BaseResponse:
    place = booking.place_for(current_user, place_id)
    target = url_for("courses.booking_detail", booking_id=place.booking_id)
    if not EmptyForm().validate_on_submit():
        flash("The form had expired: try again.", "info")
        return redirect(target)
    try:
        if accept:
            booking.accept_offer(place, current_user)
            flash(f"Place accepted: {place.name} is booked.", "success")
        else:
            booking.decline_offer(place, current_user)
            flash(f"Place turned down for {place.name}.", "success")
    except CourseError as error:
        flash(str(error), "info")
    return redirect(target)


@bp.route("/courses/places/<int:place_id>/accept", methods=["POST"])
@roles_required(*BOOKERS)
def accept_offer(place_id: int) -> BaseResponse:
    return _offer(place_id, True)


@bp.route("/courses/places/<int:place_id>/decline", methods=["POST"])
@roles_required(*BOOKERS)
def decline_offer(place_id: int) -> BaseResponse:
    return _offer(place_id, False)


@bp.route("/courses/places/<int:place_id>/certificate.pdf")
@roles_required(SCHOOL, Role.LA_ADMIN)
def certificate(place_id: int) -> BaseResponse:
    place = booking.place_for(current_user, place_id)
    try:
        content = attendance.certificate_pdf(place)
    except CourseError:
        abort(404)
    response = Response(content, mimetype="application/pdf")
    response.headers.set(
        "Content-Disposition",
        "attachment",
        filename=f"certificate-{place.booking.reference}-{place.id}.pdf",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/courses/sessions/<int:session_id>/register", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN, Role.ADVISER)
def register(session_id: int) -> str | BaseResponse:
    """The trainer ticks who came: one list of names and tick boxes, fit for a phone."""
    session = catalogue.session_of(session_id)
    if not attendance.may_take_register(session, current_user):
        abort(404)
    form = EmptyForm()
    error = ""
    if form.validate_on_submit():
        ticked = {int(v) for v in request.form.getlist("attended") if v.isdigit()}
        try:
            attendance.take_register(session_id, current_user, ticked)
        except CourseError as refused:
            error = str(refused)
        else:
            flash("Register saved.", "success")
            return redirect(url_for("courses.register", session_id=session_id))
    return render_template(
        "courses/register.html",
        session=session,
        places=attendance.register_places(session),
        form=form,
        error=error,
    )
