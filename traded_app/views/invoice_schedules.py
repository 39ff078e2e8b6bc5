"""Invoice schedules (finance and the service manager): when each billing route's orders are
charged, and the instalments still to come; and, on an order's page, its instalments."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import roles_required
from traded_app.domain.types import BillingRoute, Role
from traded_app.forms.invoice_schedules import InvoiceScheduleForm
from traded_app.services.documents import charge_plans, instalments
from traded_app.services.documents import reading as documents
from traded_app.services.platform.settings import current_academic_year

bp = Blueprint("invoice_schedules", __name__, url_prefix="/council/invoice-schedules")

FINANCE = frozenset({Role.LA_FINANCE, Role.LA_ADMIN})


@bp.app_template_global()
def order_charge_schedule(order: documents.Order) -> instalments.OrderSchedule | None:
    """The order's instalments, charged and to come (None: charged as a whole)."""
    return instalments.schedule_of(order)


@bp.app_template_global()
def order_charge_plan(order: documents.Order) -> str:
    """When the order will be charged if its route has an invoice schedule ("": at once)."""
    return charge_plans.when_charged(order.school.billing_route, order.academic_year)


@bp.route("")
@roles_required(FINANCE)
def schedules_page() -> str:
    """Each billing route's plan, and the next instalments to be raised."""
    next_charges, to_come = instalments.upcoming()
    return render_template(
        "invoice_schedules/index.html",
        plans=charge_plans.plans(),
        describe=charge_plans.describe,
        next_charges=next_charges,
        to_come=to_come,
        year=current_academic_year(),
    )


def _route(value: str) -> BillingRoute:
    try:
        return BillingRoute(value)
    except ValueError:
        abort(404)


@bp.route("/<route>", methods=["GET", "POST"])
@roles_required(FINANCE)
def edit_schedule(route: str) -> str | Response:
    """The council sets when orders on one billing route are charged."""
    billing_route = _route(route)
    plan = charge_plans.plan_for(billing_route)
    if request.method == "POST":
        form = InvoiceScheduleForm()
    else:
        form = InvoiceScheduleForm(
            data={
                "timing": plan.timing.value if plan else "on_confirmation",
                "name": plan.name if plan else "",
            }
        )
        preset = charge_plans.PRESETS.get(request.args.get("start", ""))
        if preset is not None:
            form.timing.data = "instalments"
            form.name.data = preset[0]
            form.fill(list(preset[1]))
        elif plan is not None:
            form.fill(charge_plans.plan_parts(plan))
    if form.validate_on_submit():
        timing = charge_plans.ChargeTiming(form.timing.data)
        parts = form.plan_parts() if timing == charge_plans.ChargeTiming.INSTALMENTS else []
        if parts is not None:
            try:
                charge_plans.save_plan(
                    billing_route, timing, form.name.data or "", parts, current_user
                )
            except charge_plans.ChargePlanError as error:
                target = getattr(form, error.field or "parts")
                target.errors = [*list(target.errors), str(error)]
            else:
                flash(
                    f"Invoice schedule for orders billed by {billing_route.label.lower()} saved. "
                    "It applies to orders confirmed from now on.",
                    "success",
                )
                return redirect(url_for("invoice_schedules.schedules_page"))
    return render_template(
        "invoice_schedules/edit.html",
        form=form,
        route=billing_route,
        presets=charge_plans.PRESETS,
        year=current_academic_year(),
    )
