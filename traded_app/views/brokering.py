"""School-to-school support, as a school's business manager or headteacher uses it: offer the
school's expertise, browse other schools' listed offers, ask the council for support, compare
the shortlist and choose, and run an engagement (accept, record days, confirm, rate)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms.validators import StopValidation

from traded_app.access import roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import SCHOOL_ROLES
from traded_app.formatting import days_number
from traded_app.forms.brokering import (
    ChooseForm,
    DecisionForm,
    DeliveryForm,
    OfferForm,
    RateForm,
    ReasonForm,
    RequestForm,
    half_days_of,
)
from traded_app.forms.brokering_money import ProviderInvoiceForm
from traded_app.services.brokering import engagements as engagement_service
from traded_app.services.brokering import money as money_service
from traded_app.services.brokering import offers as offer_service
from traded_app.services.brokering import requests as request_service
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.settings import today
from traded_app.views.form_posts import button_action, refuse

bp = Blueprint("brokering", __name__, url_prefix="/support")

SCHOOL = SCHOOL_ROLES


def _school_id() -> int:
    return int(current_user.school_id)


def _area_choices(form: Any) -> None:
    form.area_id.choices = [("", "Select an area")] + [
        (str(a.id), a.name) for a in offer_service.areas()
    ]


@bp.route("")
@roles_required(SCHOOL)
def hub() -> str:
    school_id = _school_id()
    return render_template(
        "brokering/hub.html",
        offers=offer_service.offers_of_school(school_id),
        requests=request_service.requests_of_school(school_id),
        engagements=[
            (e, engagement_service.days_of(e))
            for e in engagement_service.engagements_of_school(school_id)
        ],
        school_id=school_id,
    )


@bp.route("/offers")
@roles_required(SCHOOL)
def directory() -> str:
    """Other schools' listed offers, by area (filterable)."""
    area_id = whole_number(request.args.get("area"))
    return render_template(
        "brokering/directory.html",
        areas=offer_service.areas(),
        area_id=area_id,
        offers=offer_service.available_offers(
            today(), area_id=area_id, exclude_school_id=_school_id()
        ),
    )


def _offer_details(form: OfferForm) -> offer_service.OfferDetails:
    return offer_service.OfferDetails(
        area_id=whole_number(form.area_id.data),
        phase=form.phase.data or "",
        practitioner_name=form.practitioner_name.data or "",
        practitioner_role=form.practitioner_role.data or "",
        half_days_per_term=form.days_per_term.half_days,  # type: ignore[attr-defined]
        daily_rate_pence=form.daily_rate.pence,  # type: ignore[attr-defined]
        description=form.description.data or "",
        evidence=form.evidence.data or "",
        ends_on=form.ends_on.data,
    )


@bp.route("/offers/new", methods=["GET", "POST"])
@roles_required(SCHOOL)
def new_offer() -> str | BaseResponse:
    form = OfferForm()
    _area_choices(form)
    if form.validate_on_submit():
        try:
            offer = offer_service.save_offer(
                None, _school_id(), current_user, _offer_details(form), today()
            )
        except offer_service.BrokeringError as error:
            refuse(form, error, "description")
        else:
            flash(
                f"Offer {offer.reference} sent to the council: it is listed once checked.",
                "success",
            )
            return redirect(url_for("brokering.offer_page", offer_id=offer.id))
    return render_template("brokering/offer_form.html", form=form, offer=None)


@bp.route("/offers/<int:offer_id>")
@roles_required(SCHOOL)
def offer_page(offer_id: int) -> str:
    offer = offer_service.offer_for_school(offer_id, _school_id(), today())
    return render_template(
        "brokering/offer.html",
        offer=offer,
        own=offer.school_id == _school_id(),
        available=offer_service.is_available(offer, today()),
    )


@bp.route("/offers/<int:offer_id>/change", methods=["GET", "POST"])
@roles_required(SCHOOL)
def change_offer(offer_id: int) -> str | BaseResponse:
    offer = offer_service.offer_by_id(offer_id)
    if offer.school_id != _school_id():
        abort(404)
    if request.method == "GET":
        form = OfferForm(
            data={
                "area_id": str(offer.area_id),
                "phase": offer.phase.value,
                "practitioner_name": offer.practitioner_name,
                "practitioner_role": offer.practitioner_role,
                "days_per_term": days_number(offer.half_days_per_term),
                "daily_rate": f"{offer.daily_rate_pence // 100}.{offer.daily_rate_pence % 100:02d}",
                "description": offer.description,
                "evidence": offer.evidence,
                "ends_on": offer.ends_on,
            }
        )
    else:
        form = OfferForm()
    _area_choices(form)
    if form.validate_on_submit():
        try:
            offer_service.save_offer(
                offer, _school_id(), current_user, _offer_details(form), today()
            )
        except offer_service.BrokeringError as error:
            refuse(form, error, "description")
        else:
            flash("Offer changed: the council checks it again before it is listed.", "success")
            return redirect(url_for("brokering.offer_page", offer_id=offer.id))
    return render_template("brokering/offer_form.html", form=form, offer=offer)


@bp.route("/offers/<int:offer_id>/pause", methods=["POST"])
@roles_required(SCHOOL)
def pause_offer(offer_id: int) -> BaseResponse:
    offer = offer_service.offer_by_id(offer_id)
    if offer.school_id != _school_id():
        abort(404)
    pause = request.form.get("pause") == "yes"
    button_action(
        lambda: offer_service.set_paused(offer, pause),
        "Offer paused." if pause else "Offer listed again.",
        offer_service.BrokeringError,
        refused_as="error",
    )
    return redirect(url_for("brokering.offer_page", offer_id=offer.id))


@bp.route("/requests/new", methods=["GET", "POST"])
@roles_required(SCHOOL)
def new_request() -> str | BaseResponse:
    form = RequestForm()
    _area_choices(form)
    if form.validate_on_submit():
        try:
            made = request_service.make_request(
                _school_id(),
                current_user,
                request_service.RequestDetails(
                    area_id=whole_number(form.area_id.data),
                    phase=form.phase.data or "",
                    outcome=form.outcome.data or "",
                    wanted_when=form.when.data or "",
                    half_days=form.days.half_days,  # type: ignore[attr-defined]
                    budget_pence=form.budget.pence,  # type: ignore[attr-defined]
                ),
            )
        except offer_service.BrokeringError as error:
            refuse(form, error, "outcome")
        else:
            flash(
                f"Request {made.reference} sent to the council. Only the council sees it; "
                "it will shortlist providers for you to compare.",
                "success",
            )
            return redirect(url_for("brokering.request_page", request_id=made.id))
    return render_template("brokering/request_form.html", form=form)


def _request_page(support_request: Any, choose_form: ChooseForm | None = None, **extra: Any) -> str:
    rows = (
        request_service.comparison(support_request, today())
        if support_request.status.value != "open"
        else []
    )
    form = choose_form or ChooseForm(data={"days": days_number(support_request.half_days)})
    form.entry_id.choices = [(str(r.entry.id), r.provider) for r in rows if r.available]
    engagements = [
        e
        for e in engagement_service.engagements_of_school(support_request.school_id)
        if e.request_id == support_request.id
    ]
    return render_template(
        "brokering/request.html",
        support_request=support_request,
        rows=rows,
        choose_form=form,
        withdraw_form=extra.pop("withdraw_form", None) or ReasonForm(),
        engagements=engagements,
        **extra,
    )


@bp.route("/requests/<int:request_id>")
@roles_required(SCHOOL)
def request_page(request_id: int) -> str:
    return _request_page(request_service.request_for_school(request_id, _school_id()))


NO_AGREEMENT = engagement_service.Agreement(0, None, None)  # the council's service: none needed


def _agreement(form: ChooseForm) -> engagement_service.Agreement | None:
    """The days and dates of a school's offer chosen, or None with the fields' errors."""
    half_days = 0
    try:
        half_days = half_days_of(form.days)
    except StopValidation as error:
        form.days.errors = [str(error)]
    for field in (form.starts_on, form.ends_on):
        if field.data is None and not field.errors:
            field.errors = [f"Enter the {field.label.text.lower()}"]
    if form.days.errors or form.starts_on.errors or form.ends_on.errors:
        return None
    return engagement_service.Agreement(half_days, form.starts_on.data, form.ends_on.data)


@bp.route("/requests/<int:request_id>/choose", methods=["POST"])
@roles_required(SCHOOL)
def choose(request_id: int) -> str | BaseResponse:
    support_request = request_service.request_for_school(request_id, _school_id())
    form = ChooseForm()
    rows = request_service.comparison(support_request, today())
    form.entry_id.choices = [(str(r.entry.id), r.provider) for r in rows if r.available]
    if form.validate_on_submit():
        entry_id = whole_number(form.entry_id.data) or 0
        chosen = next((r for r in rows if r.entry.id == entry_id), None)
        agreement = _agreement(form) if chosen and chosen.entry.offer_id else NO_AGREEMENT
        if agreement is not None:
            try:
                engagement = engagement_service.choose(
                    support_request, entry_id, current_user, agreement, today()
                )
            except offer_service.BrokeringError as error:
                refuse(form, error, "entry_id")
            else:
                if engagement is None:
                    flash(
                        "You chose the council's service: add it to your basket to order it.",
                        "success",
                    )
                    return redirect(url_for("orders.catalogue"))
                flash(
                    f"{engagement.provider.name} has been asked to accept the engagement.",
                    "success",
                )
                return redirect(url_for("brokering.engagement_page", engagement_id=engagement.id))
    return _request_page(support_request, form)


@bp.route("/requests/<int:request_id>/withdraw", methods=["POST"])
@roles_required(SCHOOL)
def withdraw_request(request_id: int) -> str | BaseResponse:
    support_request = request_service.request_for_school(request_id, _school_id())
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            request_service.close_request(support_request, form.reason.data or "")
        except offer_service.BrokeringError as error:
            refuse(form, error, "reason")
        else:
            flash(f"Request {support_request.reference} withdrawn.", "success")
            return redirect(url_for("brokering.hub"))
    return _request_page(support_request, withdraw_form=form)


# --- Engagements ------------------------------------------------------------------------------


def _engagement_page(engagement: Any, **forms: Any) -> str:
    school_id = _school_id()
    return render_template(
        "brokering/engagement.html",
        engagement=engagement,
        days=engagement_service.days_of(engagement),
        is_provider=engagement.provider_school_id == school_id,
        is_buyer=engagement.buyer_school_id == school_id,
        answer_form=forms.get("answer_form") or DecisionForm(),
        delivery_form=forms.get("delivery_form") or DeliveryForm(),
        confirm_form=forms.get("confirm_form") or DecisionForm(),
        rate_form=forms.get("rate_form") or RateForm(),
        money=money_service.money_of(engagement),
        invoice_form=forms.get("invoice_form") or ProviderInvoiceForm(),
        today=today(),
    )


def _engagement(engagement_id: int) -> Any:
    try:
        return engagement_service.engagement_for_school(engagement_id, _school_id())
    except NotFound:
        abort(404)


@bp.route("/engagements/<int:engagement_id>")
@roles_required(SCHOOL)
def engagement_page(engagement_id: int) -> str:
    return _engagement_page(_engagement(engagement_id))


@bp.route("/engagements/<int:engagement_id>/answer", methods=["POST"])
@roles_required(SCHOOL)
def answer(engagement_id: int) -> str | BaseResponse:
    engagement = _engagement(engagement_id)
    form = DecisionForm()
    if form.validate_on_submit():
        accept = form.decision.data == "yes"
        try:
            engagement_service.answer(
                engagement, _school_id(), current_user, accept, form.reason.data or ""
            )
        except offer_service.BrokeringError as error:
            refuse(form, error, "decision")
        else:
            flash("Engagement agreed." if accept else "Engagement declined.", "success")
            return redirect(url_for("brokering.engagement_page", engagement_id=engagement.id))
    return _engagement_page(engagement, answer_form=form)


@bp.route("/engagements/<int:engagement_id>/deliveries", methods=["POST"])
@roles_required(SCHOOL)
def record_delivery(engagement_id: int) -> str | BaseResponse:
    engagement = _engagement(engagement_id)
    form = DeliveryForm()
    if form.validate_on_submit():
        try:
            engagement_service.record_delivery(
                engagement,
                _school_id(),
                current_user,
                form.delivered_on.data,
                whole_number(form.half_days.data) or 0,
                form.note.data or "",
                today(),
            )
        except offer_service.BrokeringError as error:
            refuse(form, error, "delivered_on")
        else:
            flash("Recorded: the buying school is asked to confirm it.", "success")
            return redirect(url_for("brokering.engagement_page", engagement_id=engagement.id))
    return _engagement_page(engagement, delivery_form=form)


@bp.route("/engagements/<int:engagement_id>/deliveries/<int:delivery_id>/confirm", methods=["POST"])
@roles_required(SCHOOL)
def confirm_delivery(engagement_id: int, delivery_id: int) -> str | BaseResponse:
    engagement = _engagement(engagement_id)
    form = DecisionForm()
    if form.validate_on_submit():
        confirm = form.decision.data == "yes"
        try:
            engagement_service.confirm_delivery(
                engagement, _school_id(), current_user, delivery_id, confirm, form.reason.data or ""
            )
        except offer_service.BrokeringError as error:
            refuse(form, error, "decision")
        except NotFound:
            abort(404)
        else:
            flash("Confirmed." if confirm else "Your query has been sent.", "success")
            return redirect(url_for("brokering.engagement_page", engagement_id=engagement.id))
    return _engagement_page(engagement, confirm_form=form)


@bp.route(
    "/engagements/<int:engagement_id>/deliveries/<int:delivery_id>/withdraw", methods=["POST"]
)
@roles_required(SCHOOL)
def withdraw_delivery(engagement_id: int, delivery_id: int) -> BaseResponse:
    engagement = _engagement(engagement_id)
    button_action(  # a delivery not of this engagement: NotFound, answered with 404
        lambda: engagement_service.withdraw_delivery(engagement, _school_id(), delivery_id),
        "Record withdrawn.",
        offer_service.BrokeringError,
        refused_as="error",
    )
    return redirect(url_for("brokering.engagement_page", engagement_id=engagement.id))


@bp.route("/engagements/<int:engagement_id>/rate", methods=["POST"])
@roles_required(SCHOOL)
def rate(engagement_id: int) -> str | BaseResponse:
    engagement = _engagement(engagement_id)
    form = RateForm()
    if form.validate_on_submit():
        try:
            engagement_service.rate(
                engagement, _school_id(), whole_number(form.rating.data), form.comment.data or ""
            )
        except offer_service.BrokeringError as error:
            refuse(form, error, "rating")
        else:
            flash("Thank you: your rating is part of the provider's record.", "success")
            return redirect(url_for("brokering.engagement_page", engagement_id=engagement.id))
    return _engagement_page(engagement, rate_form=form)


@bp.route("/engagements/<int:engagement_id>/provider-invoices", methods=["POST"])
@roles_required(SCHOOL)
def record_provider_invoice(engagement_id: int) -> str | BaseResponse:
    """The providing school records the invoice it sent the buyer itself."""
    engagement = _engagement(engagement_id)
    form = ProviderInvoiceForm()
    if form.validate_on_submit():
        try:
            money_service.record_provider_invoice(
                engagement,
                _school_id(),
                current_user,
                form.reference.data or "",
                form.issued_on.data,
                form.amount.pence,
            )
        except offer_service.BrokeringError as error:
            refuse(form, error, "reference")
        else:
            flash("Your invoice is recorded.", "success")
            return redirect(url_for("brokering.engagement_page", engagement_id=engagement.id))
    return _engagement_page(engagement, invoice_form=form)
