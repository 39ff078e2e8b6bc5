"""School-to-school support, as the council brokers it: requests to shortlist and send, offers to
check, the list of areas, and the demand seen over time. The service manager does everything;
an adviser brokers the requests the service manager gives them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import Role
from traded_app.forms.auth import EmptyForm
from traded_app.forms.brokering import AreaForm, BrokerForm, DecisionForm, ReasonForm, ShortlistForm
from traded_app.services.brokering import demand as demand_service
from traded_app.services.brokering import offers as offer_service
from traded_app.services.brokering import requests as request_service
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.settings import today
from traded_app.views.form_posts import button_action, refuse

bp = Blueprint("brokering_council", __name__, url_prefix="/council/support")

BROKERS = {Role.LA_ADMIN, Role.ADVISER}
STATUS_FILTERS = {s.value: s for s in request_service.RequestStatus}
MONTH_CHOICES = (6, 12, 24)


@bp.route("")
@roles_required(BROKERS)
def requests_list() -> str:
    status = STATUS_FILTERS.get(request.args.get("status", ""))
    return render_template(
        "brokering/council_requests.html",
        requests=request_service.requests_for_broker(current_user, status),
        status=status,
        statuses=list(request_service.RequestStatus),
        to_check=len(offer_service.offers_to_check()) if current_user.role == Role.LA_ADMIN else 0,
    )


def _support_request(request_id: int) -> Any:
    try:
        return request_service.request_for_broker(request_id, current_user)
    except NotFound:
        abort(404)


def _shortlist_choices(support_request: Any) -> list[tuple[str, str]]:
    on_list = {e.offer_id for e in support_request.entries} | {
        f"s{e.service_id}" for e in support_request.entries
    }
    offers = [
        o
        for o in offer_service.available_offers(
            today(), exclude_school_id=support_request.school_id
        )
        if o.id not in on_list
    ]
    offers.sort(key=lambda o: (o.area_id != support_request.area_id, o.area.name, o.school.name))
    choices = [("", "Select a provider")]
    choices += [
        (
            f"o{o.id}",
            f"{o.school.name}: {o.area.name}, {o.practitioner_name} "
            f"({o.daily_rate_pence // 100:,}.{o.daily_rate_pence % 100:02d} a day)",
        )
        for o in offers
    ]
    choices += [
        (f"s{e.service.id}", f"The council: {e.service.name}")
        for e in request_service.council_services(support_request.school)
        if f"s{e.service.id}" not in on_list
    ]
    return choices


def _request_page(support_request: Any, **forms: Any) -> str:
    shortlist_form = forms.get("shortlist_form") or ShortlistForm()
    shortlist_form.choice.choices = _shortlist_choices(support_request)
    broker_form = forms.get("broker_form") or BrokerForm(
        data={"broker_id": str(support_request.broker_id or "")}
    )
    broker_form.broker_id.choices = [("", "Nobody yet")] + [
        (str(u.id), f"{u.name} ({u.role.label})") for u in request_service.brokers()
    ]
    return render_template(
        "brokering/council_request.html",
        support_request=support_request,
        rows=request_service.comparison(support_request, today()),
        shortlist_form=shortlist_form,
        broker_form=broker_form,
        close_form=forms.get("close_form") or ReasonForm(),
        may_assign=current_user.role == Role.LA_ADMIN,
    )


@bp.route("/requests/<int:request_id>")
@roles_required(BROKERS)
def request_page(request_id: int) -> str:
    return _request_page(_support_request(request_id))


@bp.route("/requests/<int:request_id>/shortlist", methods=["POST"])
@roles_required(BROKERS)
def add_to_shortlist(request_id: int) -> str | BaseResponse:
    support_request = _support_request(request_id)
    form = ShortlistForm()
    form.choice.choices = _shortlist_choices(support_request)
    if form.validate_on_submit():
        choice = form.choice.data or ""
        number = whole_number(choice[1:]) or 0
        try:
            if choice.startswith("o"):
                request_service.add_offer(
                    support_request, number, current_user, form.note.data or "", today()
                )
            elif choice.startswith("s"):
                request_service.add_service(
                    support_request, number, current_user, form.note.data or ""
                )
            else:
                raise offer_service.BrokeringError("Select a provider to add", "choice")
        except offer_service.BrokeringError as error:
            refuse(form, error, "choice")
        else:
            flash("Added to the shortlist.", "success")
            return redirect(url_for("brokering_council.request_page", request_id=request_id))
    return _request_page(support_request, shortlist_form=form)


@bp.route("/requests/<int:request_id>/shortlist/<int:entry_id>/remove", methods=["POST"])
@roles_required(BROKERS)
def remove_from_shortlist(request_id: int, entry_id: int) -> BaseResponse:
    support_request = _support_request(request_id)
    button_action(  # an entry not on this request: NotFound, answered with 404
        lambda: request_service.remove_entry(support_request, entry_id),
        "Removed from the shortlist.",
        offer_service.BrokeringError,
        refused_as="error",
    )
    return redirect(url_for("brokering_council.request_page", request_id=request_id))


@bp.route("/requests/<int:request_id>/send", methods=["POST"])
@roles_required(BROKERS)
def send_shortlist(request_id: int) -> BaseResponse:
    support_request = _support_request(request_id)
    button_action(
        lambda: request_service.send_shortlist(support_request, current_user),
        f"Comparison sent to {support_request.school.name}.",
        offer_service.BrokeringError,
        refused_as="error",
    )
    return redirect(url_for("brokering_council.request_page", request_id=request_id))


@bp.route("/requests/<int:request_id>/broker", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def assign_broker(request_id: int) -> str | BaseResponse:
    support_request = _support_request(request_id)
    form = BrokerForm()
    form.broker_id.choices = [("", "Nobody yet")] + [
        (str(u.id), u.name) for u in request_service.brokers()
    ]
    if form.validate_on_submit():
        try:
            request_service.assign_broker(support_request, whole_number(form.broker_id.data))
        except offer_service.BrokeringError as error:
            refuse(form, error, "broker_id")
        else:
            flash("Broker saved.", "success")
            return redirect(url_for("brokering_council.request_page", request_id=request_id))
    return _request_page(support_request, broker_form=form)


@bp.route("/requests/<int:request_id>/close", methods=["POST"])
@roles_required(BROKERS)
def close_request(request_id: int) -> str | BaseResponse:
    support_request = _support_request(request_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            request_service.close_request(support_request, form.reason.data or "")
        except offer_service.BrokeringError as error:
            refuse(form, error, "reason")
        else:
            flash(f"Request {support_request.reference} closed.", "success")
            return redirect(url_for("brokering_council.requests_list"))
    return _request_page(support_request, close_form=form)


# --- Offers, areas, demand ----------------------------------------------------------------------


@bp.route("/offers")
@roles_required(BROKERS)
def offers() -> str:
    return render_template(
        "brokering/council_offers.html",
        to_check=offer_service.offers_to_check(),
        offers=offer_service.all_offers(),
        today=today(),
    )


def _offer_page(offer: Any, form: DecisionForm) -> str:
    return render_template(
        "brokering/council_offer.html",
        offer=offer,
        form=form,
        may_check=current_user.role == Role.LA_ADMIN,
        available=offer_service.is_available(offer, today()),
    )


@bp.route("/offers/<int:offer_id>")
@roles_required(BROKERS)
def offer_detail(offer_id: int) -> str:
    return _offer_page(offer_service.offer_by_id(offer_id), DecisionForm())


@bp.route("/offers/<int:offer_id>/check", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def check_offer(offer_id: int) -> str | BaseResponse:
    offer = offer_service.offer_by_id(offer_id)
    form = DecisionForm()
    if form.validate_on_submit():
        approve = form.decision.data == "yes"
        try:
            offer_service.check_offer(offer, current_user, approve, form.reason.data or "")
        except offer_service.BrokeringError as error:
            refuse(form, error, "decision")
        else:
            flash(
                f"{offer.reference} {'listed' if approve else 'not listed'}: "
                f"{offer.school.name} has been told.",
                "success",
            )
            return redirect(url_for("brokering_council.offers"))
    return _offer_page(offer, form)


@bp.route("/areas", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def areas() -> str | BaseResponse:
    form = AreaForm()
    if form.validate_on_submit():
        try:
            area = offer_service.save_area(None, form.name.data or "")
        except offer_service.BrokeringError as error:
            refuse(form, error, "name")
        else:
            flash(f"{area.name} added.", "success")
            return redirect(url_for("brokering_council.areas"))
    return render_template(
        "brokering/council_areas.html", form=form, areas=offer_service.areas(with_retired=True)
    )


@bp.route("/areas/<int:area_id>/active", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def set_area_active(area_id: int) -> BaseResponse:
    if EmptyForm().validate_on_submit():
        active = request.form.get("active") == "yes"
        area = offer_service.set_area_active(area_id, active)
        flash(f"{area.name} {'offered again' if active else 'retired'}.", "success")
    return redirect(url_for("brokering_council.areas"))


@bp.route("/demand")
@roles_required(Role.LA_ADMIN)
def demand() -> str:
    months = whole_number(request.args.get("months")) or 12
    months = months if months in MONTH_CHOICES else 12
    return render_template(
        "brokering/council_demand.html",
        demand=demand_service.demand(today(), months),
        months=months,
        month_choices=MONTH_CHOICES,
    )
