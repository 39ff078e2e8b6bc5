"""Partnership orders: a partnership's schools buying days together.

For schools: the orders their school has a share in, ordering for the partnership (days of each
service, how to split the cost, a check of each member's share before placing it), an order's
page (every member's share, also for the finance staff of a trust whose academies share in it;
the headteacher's approval of their own school's share; the school's
PO number; withdrawing). For the council: every partnership order, confirming (each member is
charged by its own document) or declining, cancelling a confirmed order (each member's share
credited for the days not delivered), crediting a member's share document (finance), and each
partnership's lead school and who orders.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import SCHOOL, TRUST, roles_required
from traded_app.domain.days_input import DaysError, parse_days
from traded_app.domain.numbers import whole_number
from traded_app.domain.partnership_split import SplitRule
from traded_app.domain.pricing import MoneyError, parse_pounds
from traded_app.domain.types import Role
from traded_app.formatting import days as format_days
from traded_app.forms.auth import EmptyForm
from traded_app.forms.plans import PartnershipVisitForm
from traded_app.services.council.partnerships import partnership_by_id
from traded_app.services.days import partnership_visits, visits
from traded_app.services.ordering import partnership_buying as buying
from traded_app.services.ordering import partnership_credits as credits
from traded_app.services.ordering import partnership_orders as orders
from traded_app.services.ordering.partnership_buying import Draft, PartnershipOrderError
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.settings import current_academic_year
from traded_app.views.visit_forms import book_or_record

bp = Blueprint("partnership_orders", __name__)

COUNCIL_READERS = (Role.LA_ADMIN, Role.LA_FINANCE)


def _detail(order_id: int) -> BaseResponse:
    return redirect(url_for("partnership_orders.order_detail", partnership_order_id=order_id))


# --- Schools ------------------------------------------------------------------------------------


@bp.route("/partnership-orders")
@roles_required(SCHOOL)
def order_list() -> str:
    school = current_user.school
    return render_template(
        "partnership_orders/list.html",
        partnership=buying.partnership_of(school),
        orders=orders.orders_of_school(school.id),
        refusal=buying.ordering_refusal(current_user, school),
        school_id=school.id,
    )


@bp.route("/partnership-orders/new", methods=["GET", "POST"])
@roles_required(SCHOOL)
def new_order() -> str | BaseResponse:
    """The order form; 'Check the shares' shows each member's share, 'Place the order' places
    it. Both answer the same page with the GOV.UK error summary when something is wrong."""
    school = current_user.school
    partnership = buying.partnership_of(school)
    refusal = buying.ordering_refusal(current_user, school)
    year = current_academic_year()
    context: dict[str, Any] = {
        "partnership": partnership,
        "refusal": refusal,
        "year": year,
        "form": EmptyForm(),
        "errors": {},
        "values": request.form,
        "proposal": None,
    }
    if refusal is not None or partnership is None or year is None:
        return render_template("partnership_orders/new.html", **context)
    lead = buying.lead_school(partnership)
    assert lead is not None
    context["entries"] = buying.catalogue(year, lead)
    context["members"] = buying.members(partnership)
    context["lead"] = lead
    if request.method == "POST":
        if not context["form"].validate_on_submit():
            context["errors"] = {"services": "The form had expired: check your answers again"}
        else:
            draft, errors = _draft(context["entries"], context["members"])
            context["errors"] = errors
            if draft is not None:
                try:
                    if request.form.get("action") == "place":
                        order = orders.place(current_user, school, year, draft)
                        flash(f"Partnership order {order.reference} placed.", "success")
                        return _detail(order.id)
                    context["proposal"] = buying.propose(partnership, year, draft)
                except PartnershipOrderError as error:
                    context["errors"] = {error.field or "services": str(error)}
    return render_template("partnership_orders/new.html", **context)


def _draft(entries: list[Any], members: list[Any]) -> tuple[Draft | None, dict[str, str]]:
    """The form read into a draft, or the messages for the fields that cannot be read."""
    errors: dict[str, str] = {}
    half_days: dict[int, int] = {}
    for entry in entries:
        name = f"days-{entry.service.id}"
        raw = request.form.get(name, "").strip()
        if not raw or raw == "0":
            continue
        try:
            half_days[entry.service.id] = parse_days(raw)
        except DaysError as error:
            errors[name] = f"{entry.service.name}: {error}"
    rule = next((r for r in SplitRule if r.value == request.form.get("rule")), None)
    if rule is None:
        errors["rule"] = "Select how the partnership splits the cost"
    typed: dict[int, int] = {}
    if rule == SplitRule.TYPED:
        for school in members:
            name = f"share-{school.id}"
            if not request.form.get(name, "").strip() and not _taking_part(school.id):
                continue  # not taking part, so no share to type
            try:
                typed[school.id] = parse_pounds(request.form.get(name))
            except MoneyError as error:
                errors[name] = f"{school.name}: {error}"
    if errors or rule is None:
        return None, errors
    taking_part = None  # a form without the schools' boxes: every member takes part
    if request.form.get("schools_shown"):
        chosen = set(request.form.getlist("taking_part"))
        taking_part = frozenset(school.id for school in members if str(school.id) in chosen)
    return Draft(half_days, rule, typed, request.form.get("note", ""), taking_part), errors


def _taking_part(school_id: int) -> bool:
    if not request.form.get("schools_shown"):
        return True
    return str(school_id) in request.form.getlist("taking_part")


@bp.route("/partnership-orders/<int:partnership_order_id>")
@roles_required(SCHOOL, *TRUST, *COUNCIL_READERS)
def order_detail(partnership_order_id: int) -> str:
    order = orders.order_for(current_user, partnership_order_id)
    own = orders.share_of(order, current_user.school_id) if current_user.is_school_user else None
    return render_template(
        "partnership_orders/detail.html",
        order=order,
        own_share=own,
        documents=orders.documents_for(order, current_user),
        to_approve=orders.awaiting_approval_by(order, current_user),
        may_withdraw=orders.may_withdraw(order, current_user),
        may_confirm=current_user.role == Role.LA_ADMIN,
        may_cancel=current_user.role == Role.LA_ADMIN
        and credits.cancellation_refusal(order) is None,
        confirm_refusal=orders.confirmation_refusal(order),
        form=EmptyForm(),
        **_visits_context(order),
    )


def _visits_context(order: Any) -> dict[str, Any]:
    """The order's lines with their visits' days, and its visits, for the council users who
    book visits (the service manager here; advisers book from the schools' Days pages)."""
    if current_user.role not in partnership_visits.BOOKERS or order.status.value != "confirmed":
        return {"line_figures": None, "order_visits": []}
    return {
        "line_figures": partnership_visits.line_figures(order),
        "order_visits": partnership_visits.visits_of(order),
    }


@bp.route(
    "/council/partnership-orders/<int:partnership_order_id>/visits/new", methods=["GET", "POST"]
)
@roles_required(Role.ADVISER, Role.LA_ADMIN)
def new_visit(partnership_order_id: int) -> str | BaseResponse:
    """Book a visit against a line of a confirmed partnership order, for one or more of the
    schools taking part; or record one that took place on a past date."""
    try:
        order = partnership_visits.order_for(current_user, partnership_order_id)
    except NotFound:
        abort(404)
    if order.status.value != "confirmed":
        flash(f"{order.reference} is {order.status.label.lower()}: it has no days to book.", "info")
        return redirect(url_for("main.home"))
    form = PartnershipVisitForm()
    form.adviser_id.choices = [("", "Choose an adviser")] + [
        (str(a.id), a.name) for a in visits.advisers()
    ]
    figures = partnership_visits.line_figures(order)
    form.line_id.choices = [
        (str(f.line.id), f"{f.line.service.name}: {format_days(f.left)} left to book")
        for f in figures
    ]
    members = partnership_visits.members(order)
    form.school_ids.choices = [(str(s.id), s.name) for s in members]
    if request.method == "GET":
        if current_user.role == Role.ADVISER:
            form.adviser_id.data = str(current_user.id)
        chosen = whole_number(request.args.get("line"))
        if any(f.line.id == chosen for f in figures):
            form.line_id.data = str(chosen)
        elif len(figures) == 1:
            form.line_id.data = str(figures[0].line.id)
    if form.validate_on_submit():
        details = partnership_visits.NewPartnershipVisit(
            adviser_id=whole_number(form.adviser_id.data),
            visit_date=form.visit_date.data,
            half_days=whole_number(form.half_days.data),
            school_ids=[int(s) for s in form.school_ids.data or [] if s.isdigit()],
            line_id=whole_number(form.line_id.data),
            purpose=form.purpose.data or "",
            override_reason=form.override_reason.data or "",
        )
        booked = book_or_record(
            form,
            details.visit_date,
            lambda: partnership_visits.book(order, details, current_user),
            lambda note, why: partnership_visits.record_delivered(
                order, details, current_user, note, why
            ),
        )
        if booked is not None:
            shared, done = booked
            count = len(shared.visits)
            flash(
                f"Visit {shared.reference} {done} for {count} school{'' if count == 1 else 's'} "
                f"on {shared.visit_date.day} {shared.visit_date:%B %Y}.",
                "success",
            )
            return redirect(url_for("plans.shared_visit", shared_id=shared.id))
    return render_template(
        "partnership_orders/new_visit.html",
        order=order,
        form=form,
        line_figures=figures,
        manager=current_user.role == Role.LA_ADMIN,
    )


def _step(order_id: int, step: str, done: str) -> BaseResponse:
    """A button on the order's page: its message as a flash either way, back to the page."""
    if not EmptyForm().validate_on_submit():
        flash("The form had expired: try again.", "info")
        return _detail(order_id)
    order = orders.order_for(current_user, order_id)
    reason = request.form.get("reason", "")
    try:
        if step == "approve":
            orders.approve_share(order, current_user)
        elif step == "reject":
            orders.reject_share(order, current_user, reason)
        elif step == "withdraw":
            orders.withdraw(order, current_user, reason)
        elif step == "po_number":
            orders.set_po_number(order, current_user, request.form.get("po_number", ""))
        elif step == "confirm":
            issued = orders.confirm(order, current_user)
            done = f"{done}: {len(issued)} documents issued, one to each member that pays a share"
        else:
            orders.decline(order, current_user, reason)
    except PartnershipOrderError as error:
        flash(str(error), "info")
    else:
        flash(f"{order.reference} {done}.", "success")
    return _detail(order_id)


@bp.route("/partnership-orders/<int:partnership_order_id>/approve", methods=["POST"])
@roles_required(Role.HEADTEACHER)
def approve(partnership_order_id: int) -> BaseResponse:
    return _step(partnership_order_id, "approve", "approved for your school")


@bp.route("/partnership-orders/<int:partnership_order_id>/reject", methods=["POST"])
@roles_required(Role.HEADTEACHER)
def reject(partnership_order_id: int) -> BaseResponse:
    return _step(partnership_order_id, "reject", "rejected")


@bp.route("/partnership-orders/<int:partnership_order_id>/po-number", methods=["POST"])
@roles_required(SCHOOL)
def po_number(partnership_order_id: int) -> BaseResponse:
    return _step(partnership_order_id, "po_number", "has your purchase order number")


@bp.route("/partnership-orders/<int:partnership_order_id>/withdraw", methods=["POST"])
@roles_required(SCHOOL)
def withdraw(partnership_order_id: int) -> BaseResponse:
    return _step(partnership_order_id, "withdraw", "withdrawn")


# --- The council --------------------------------------------------------------------------------


@bp.route("/council/partnership-orders")
@roles_required(*COUNCIL_READERS)
def council_list() -> str:
    return render_template("partnership_orders/council.html", orders=orders.council_orders())


@bp.route("/partnership-orders/<int:partnership_order_id>/confirm", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def confirm(partnership_order_id: int) -> BaseResponse:
    return _step(partnership_order_id, "confirm", "confirmed")


@bp.route("/partnership-orders/<int:partnership_order_id>/decline", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def decline(partnership_order_id: int) -> BaseResponse:
    return _step(partnership_order_id, "decline", "declined")


@bp.route("/council/manage/partnerships/<int:partnership_id>/buying", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def buying_settings(partnership_id: int) -> str | BaseResponse:
    """The partnership's lead school and who may order for it, as the partnership decided."""
    partnership = partnership_by_id(partnership_id)
    form = EmptyForm()
    setting = buying.buying_of(partnership)
    errors: dict[str, str] = {}
    if request.method == "POST" and form.validate_on_submit():
        raw_lead = request.form.get("lead_school_id", "")
        who = next((w for w in buying.WhoOrders if w.value == request.form.get("who_orders")), None)
        if who is None:
            errors["who_orders"] = "Select who may order for the partnership"
        else:
            try:
                buying.set_buying(partnership, whole_number(raw_lead), who)
            except PartnershipOrderError as error:
                errors[error.field or "lead_school_id"] = str(error)
            else:
                flash(f"{partnership.name}: who orders for the partnership saved.", "success")
                return redirect(url_for("admin.edit_partnership", partnership_id=partnership.id))
    return render_template(
        "partnership_orders/buying.html",
        partnership=partnership,
        members=buying.members(partnership),
        setting=setting,
        form=form,
        errors=errors,
        values=request.form,
        choices=list(buying.WhoOrders),
    )


# --- Crediting a share, cancelling a confirmed order --------------------------------------------


@bp.route("/documents/<int:document_id>/credit", methods=["GET", "POST"])
@roles_required(Role.LA_FINANCE)
def credit_share(document_id: int) -> str | BaseResponse:
    """Finance credits a member's share document: every day left, or some days of each line,
    with a reason. The amounts are worked out here, never read from the form."""
    charge = credits.share_charge(document_id)
    form = EmptyForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            errors["what"] = "The form had expired: check your answers again"
        else:
            half_days, errors = _credit_days(charge)
            if not errors:
                try:
                    note = credits.credit_share(
                        charge, current_user, request.form.get("reason", ""), half_days
                    )
                except PartnershipOrderError as error:
                    errors = {error.field or "what": str(error)}
                else:
                    flash(
                        f"Credit note {note.number} issued against {charge.document.number}.",
                        "success",
                    )
                    return redirect(url_for("documents.document_detail", document_id=note.id))
    return render_template(
        "partnership_orders/credit.html",
        charge=charge,
        order=charge.share.order,
        form=form,
        errors=errors,
        values=request.form,
    )


def _credit_days(charge: Any) -> tuple[dict[int, int] | None, dict[str, str]]:
    """The days to credit by order line (None: every day left), or the form's errors."""
    what = request.form.get("what")
    if what == "all":
        return None, {}
    if what != "some":
        return None, {"what": "Select whether to credit every day left or some days"}
    errors: dict[str, str] = {}
    half_days: dict[int, int] = {}
    for line in charge.lines:
        raw = request.form.get(line.field, "").strip()
        if not raw or raw == "0":
            continue
        try:
            half_days[line.line.id] = parse_days(raw)
        except DaysError as error:
            errors[line.field] = f"{line.line.service.name}: {error}"
    if not errors and not half_days:
        first = charge.lines[0].field if charge.lines else "what"
        errors[first] = "Enter the days to credit"
    return half_days, errors


@bp.route("/partnership-orders/<int:partnership_order_id>/cancel", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def cancel_order(partnership_order_id: int) -> str | BaseResponse:
    """The service manager cancels a confirmed order: each member's share is credited for the
    days not delivered, and the days leave the members' ledgers."""
    order = orders.order_for(current_user, partnership_order_id)
    form = EmptyForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            errors["reason"] = "The form had expired: try again"
        else:
            try:
                issued = credits.cancel(order, current_user, request.form.get("reason", ""))
            except PartnershipOrderError as error:
                errors = {error.field or "reason": str(error)}
            else:
                flash(
                    f"{order.reference} cancelled: {len(issued)} credit notes issued to the "
                    "members for the days not delivered.",
                    "success",
                )
                return _detail(order.id)
    return render_template(
        "partnership_orders/cancel.html",
        order=order,
        refusal=credits.cancellation_refusal(order),
        positions=credits.positions(order),
        form=form,
        errors=errors,
        values=request.form,
    )
