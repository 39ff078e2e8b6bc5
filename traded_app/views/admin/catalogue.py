"""The catalogue: services, their VAT treatment by customer type, and prices per academic year."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.pricing import days_text
from traded_app.domain.types import CustomerType, ServiceGroup
from traded_app.forms.admin import CUSTOMER_FIELDS, PriceForm, ServiceForm
from traded_app.forms.auth import EmptyForm
from traded_app.services.council import catalogue as catalogue_admin
from traded_app.services.ordering import buy_back
from traded_app.services.platform import audit
from traded_app.views.admin.common import ADMIN, bp, field_error


@bp.route("/services")
@roles_required(ADMIN)
def services() -> str:
    return render_template(
        "admin/services.html",
        rows=catalogue_admin.all_services(),
        years=catalogue_admin.price_years(),
    )


def _service_form(service: catalogue_admin.Service | None) -> ServiceForm:
    if request.method == "POST" or service is None:
        form = ServiceForm()
        if service is None and request.method == "GET":
            form.vat_maintained.data = "outside_scope"
            form.vat_academy.data = "standard"
            form.rate_academy.data = "20"
            form.vat_other.data = "standard"
            form.rate_other.data = "20"
        return form
    form = ServiceForm(
        data={
            "code": service.code,
            "name": service.name,
            "description": service.description,
            "group": service.group.value,
            "typical_days": days_text(service.typical_half_days),
            "min_days": days_text(service.min_half_days),
            "max_days": days_text(service.max_half_days),
            "income_code": service.income_code,
        }
    )
    for rule in service.vat_rules:
        suffix = CUSTOMER_FIELDS[rule.customer_type]
        getattr(form, f"vat_{suffix}").data = rule.treatment.value
        getattr(form, f"rate_{suffix}").data = (
            catalogue_admin.rate_text(rule.vat_rate_bp) if rule.vat_rate_bp else ""
        )
    return form


def _details(form: ServiceForm) -> catalogue_admin.ServiceDetails:
    return catalogue_admin.ServiceDetails(
        code=form.code.data or "",
        name=(form.name.data or "").strip(),
        description=(form.description.data or "").strip(),
        group=ServiceGroup(form.group.data),
        typical_half_days=form.half_days["typical"],
        min_half_days=form.half_days["min"],
        max_half_days=form.half_days["max"],
        income_code=(form.income_code.data or "").strip(),
        vat={
            customer: catalogue_admin.VatRule(treatment, rate)
            for customer, (treatment, rate) in form.vat_rates.items()
        },
    )


@bp.route("/services/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def new_service() -> str | BaseResponse:
    form = _service_form(None)
    if form.validate_on_submit():
        try:
            service = catalogue_admin.create_service(_details(form))
        except catalogue_admin.CatalogueError as error:
            field_error(form, error.field, str(error))
        else:
            flash(f"{service.name} added. Set its price per day to offer it to schools.", "success")
            return redirect(url_for("admin.edit_service", service_id=service.id))
    return render_template("admin/service_form.html", form=form, service=None)


def _back() -> str:
    """Where the service's page was reached from: "next-year" from next year's offer (its
    pages then lead back there and set next year's price), else "" (the catalogue)."""
    return "next-year" if request.args.get("back") == "next-year" else ""


def _service_url(service: catalogue_admin.Service) -> str:
    return url_for("admin.edit_service", service_id=service.id, back=_back() or None)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_service(service_id: int) -> str | BaseResponse:
    service = catalogue_admin.service_by_id(service_id)
    form = _service_form(service)
    if form.validate_on_submit():
        try:
            catalogue_admin.update_service(service, _details(form))
        except catalogue_admin.CatalogueError as error:
            field_error(form, error.field, str(error))
        else:
            flash(f"{service.name} saved. Orders already submitted keep their terms.", "success")
            return redirect(_service_url(service))
    return _service_page(service, form, _price_form(service))


def _price_form(service: catalogue_admin.Service, formdata: Any = None) -> PriceForm:
    years = catalogue_admin.price_years()
    form = PriceForm(formdata=formdata) if formdata is not None else PriceForm(formdata=None)
    form.year.choices = [(str(y.start_year), y.label) for y in years]
    upcoming = buy_back.next_year()
    if formdata is None and _back() and upcoming is not None and upcoming in years:
        form.year.data = str(upcoming.start_year)  # from next year's offer: next year's price
    return form


def _service_page(
    service: catalogue_admin.Service, form: ServiceForm, price_form: PriceForm
) -> str:
    years = catalogue_admin.price_years()
    return render_template(
        "admin/service_form.html",
        form=form,
        price_form=price_form,
        service=service,
        years=years,
        prices=catalogue_admin.prices_of(service),
        history=audit.history_of("service", service.id),
        customer_types=list(CustomerType),
        back=_back(),
    )


@bp.route("/services/<int:service_id>/prices", methods=["POST"])
@roles_required(ADMIN)
def set_price(service_id: int) -> str | BaseResponse:
    service = catalogue_admin.service_by_id(service_id)
    price_form = _price_form(service, request.form)
    if price_form.validate_on_submit():
        year = next(
            y for y in catalogue_admin.price_years() if str(y.start_year) == price_form.year.data
        )
        try:
            catalogue_admin.set_price(service, year, price_form.price_pence)
        except catalogue_admin.CatalogueError as error:
            price_form.price.errors = [str(error)]
        else:
            flash(
                f"Price per day for {service.name} in {year.label} saved. Orders already "
                "submitted keep the price they were made at.",
                "success",
            )
            if _back():
                return redirect(url_for("admin.next_year"))
            return redirect(url_for("admin.edit_service", service_id=service.id))
    return _service_page(service, _service_form(service), price_form)


@bp.route("/services/<int:service_id>/retire", methods=["POST"])
@roles_required(ADMIN)
def retire_service(service_id: int) -> BaseResponse:
    service = catalogue_admin.service_by_id(service_id)
    if EmptyForm().validate_on_submit():
        catalogue_admin.set_active(service, False)
        flash(f"{service.name} is retired: schools can no longer order it.", "success")
    return redirect(url_for("admin.edit_service", service_id=service.id))


@bp.route("/services/<int:service_id>/reinstate", methods=["POST"])
@roles_required(ADMIN)
def reinstate_service(service_id: int) -> BaseResponse:
    service = catalogue_admin.service_by_id(service_id)
    if EmptyForm().validate_on_submit():
        try:
            catalogue_admin.set_active(service, True)
        except catalogue_admin.CatalogueError as error:
            flash(str(error), "info")
        else:
            flash(f"{service.name} is offered again.", "success")
    return redirect(url_for("admin.edit_service", service_id=service.id))
