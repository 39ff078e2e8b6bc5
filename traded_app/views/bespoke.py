"""Asking for what is not in the catalogue: a school's requests and the council's answers (a
bespoke line the school puts into its basket through the catalogue's own days form, or a
refusal with its reason), and the council's list of requests with demand by month."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import SCHOOL, roles_required
from traded_app.domain.types import Role
from traded_app.forms.plans import AnswerForm, DeclineForm, RequestForm
from traded_app.services.ordering import bespoke
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.settings import academic_start_year, today
from traded_app.views.years import chosen_year

bp = Blueprint("requests", __name__)

MANAGER = frozenset({Role.LA_ADMIN})


def _request(request_id: int) -> bespoke.ServiceRequest:
    try:
        return bespoke.request_for(current_user, request_id)
    except NotFound:
        abort(404)


def _field_error(form: object, error: bespoke.RequestError, fallback: str) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        field = getattr(form, fallback)
    field.errors = [*field.errors, str(error)]


@bp.route("/requests")
@roles_required(SCHOOL)
def school_requests() -> str:
    return render_template(
        "requests/school_list.html", rows=bespoke.school_requests(current_user.school_id)
    )


@bp.route("/requests/new", methods=["GET", "POST"])
@roles_required(SCHOOL)
def new_request() -> str | BaseResponse:
    """Ask for a service the catalogue does not list (for the academic year chosen)."""
    year, years = chosen_year()
    if request.method == "GET" and not request.args.get("year"):
        # Asking in the buy-back weeks is often for next year: this year unless chosen.
        year = next((y for y in years if y.start_year == academic_start_year(today())), year)
    form = RequestForm()
    if form.validate_on_submit():
        try:
            asked = bespoke.ask(
                current_user.school,
                year,
                current_user,
                form.what.data or "",
                form.when_wanted.data or "",
                form.rough_half_days,
            )
        except bespoke.RequestError as error:
            _field_error(form, error, "what")
        else:
            flash(f"Request {asked.reference} sent to the council.", "success")
            return redirect(url_for("requests.school_request", request_id=asked.id))
    return render_template("requests/new.html", form=form, year=year)


@bp.route("/requests/<int:request_id>")
@roles_required(SCHOOL)
def school_request(request_id: int) -> str:
    found = _request(request_id)
    offered = bespoke.entries_for(found.school, found.academic_year)
    return render_template(
        "requests/school_detail.html",
        found=found,
        in_offer=found.service_id in offered,
        on_order=bespoke.on_order(found),
        may_order=current_user.role in (Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER),
    )


@bp.route("/council/requests")
@roles_required(MANAGER)
def council_requests() -> str:
    wanted = request.args.get("status", "")
    status = next((s for s in bespoke.ServiceRequestStatus if s.value == wanted), None)
    return render_template(
        "requests/council_list.html",
        rows=bespoke.all_requests(status),
        demand=bespoke.demand(),
        statuses=list(bespoke.ServiceRequestStatus),
        status=status,
    )


@bp.route("/council/requests/<int:request_id>", methods=["GET", "POST"])
@roles_required(MANAGER)
def council_request(request_id: int) -> str | BaseResponse:
    """See a request and answer it with a bespoke line."""
    found = _request(request_id)
    form = AnswerForm()
    if request.method == "GET" and found.rough_half_days:
        whole, half = divmod(found.rough_half_days, 2)
        form.days.data = f"{whole}.5" if half else str(whole)
    vat = bespoke.usual_vat(found.school.customer_type)
    if form.validate_on_submit():
        try:
            bespoke.answer(
                found,
                bespoke.Answer(
                    service_name=form.service_name.data or "",
                    half_days=form.half_days,
                    price_per_day_pence=form.price_pence,
                    income_code=form.income_code.data or "",
                    group=form.group.data or "",
                    note=form.note.data or "",
                ),
                current_user,
            )
        except bespoke.RequestError as error:
            _field_error(form, error, "service_name")
        else:
            flash(f"{found.reference} answered: {found.school.name} can order it.", "success")
            return redirect(url_for("requests.council_request", request_id=found.id))
    return render_template("requests/council_detail.html", found=found, form=form, vat=vat)


@bp.route("/council/requests/<int:request_id>/decline", methods=["GET", "POST"])
@roles_required(MANAGER)
def decline_request(request_id: int) -> str | BaseResponse:
    found = _request(request_id)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            bespoke.decline(found, form.reason.data or "", current_user)
        except bespoke.RequestError as error:
            _field_error(form, error, "reason")
        else:
            flash(f"{found.reference} declined.", "success")
            return redirect(url_for("requests.council_request", request_id=found.id))
    return render_template("requests/decline.html", found=found, form=form)
