"""Ordering traded days: the catalogue with its live basket, checking out, and orders' lives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import ALL_ROLES, SCHOOL, TRUST, roles_required
from traded_app.domain import pricing
from traded_app.domain.quotes import charge_waits_for_po
from traded_app.domain.types import Role
from traded_app.formatting import sentence
from traded_app.forms.auth import EmptyForm
from traded_app.forms.orders import (
    CheckoutForm,
    OptionalReasonForm,
    OrderDetailsForm,
    PoNumberForm,
    ReasonForm,
)
from traded_app.services.days import position as days_position
from traded_app.services.documents import issuing
from traded_app.services.ordering import basket, buy_back, lists, quote_prices, terms, workflow
from traded_app.services.ordering.offer import CatalogueEntry, grouped
from traded_app.services.platform.transactions import commit_write
from traded_app.views.ordering_years import buying_back, choose_year_page, chosen_year
from traded_app.views.trust_ordering import check_acting_for, ordering_school
from traded_app.web import is_htmx, late_write_lock

bp = Blueprint("orders", __name__)
bp.before_request(check_acting_for)  # a trust person orders only for an academy they may


# --- The catalogue and the basket -------------------------------------------------------------


# The pages of one basket, whose links keep the year being ordered (?year=2027).
YEAR_ENDPOINTS = frozenset(
    {"orders.catalogue", "orders.set_line_days", "orders.details", "orders.check_answers"}
)


@bp.url_defaults
def _keep_year(endpoint: str, values: dict[str, object]) -> None:
    if endpoint in YEAR_ENDPOINTS and "year" not in values and "ordering_year" in g:
        values["year"] = g.ordering_year


def _draft(year: basket.AcademicYear) -> basket.Order:
    """The school's draft for `year`: created for a request that changes it, shown empty
    otherwise."""
    if request.method in ("GET", "HEAD"):
        return basket.draft_or_empty(ordering_school(), year)
    return basket.draft_for(ordering_school(), current_user, year)


def _field(service_id: int) -> str:
    return f"days-{service_id}"


@dataclass
class Basket:
    """Everything the catalogue page and its fragments show about the draft."""

    order: basket.Order
    summary: basket.DraftSummary
    position: days_position.YearPosition
    typed: dict[int, str]  # what the person typed, shown back when it could not be used
    errors: dict[int, str]
    approval_limit_pence: int | None  # the school's, or the council's default

    @property
    def half_days_by_service(self) -> dict[int, int]:
        return {line.entry.service.id: line.half_days for line in self.summary.lines}

    @property
    def cost_by_service(self) -> dict[int, int]:
        return {line.entry.service.id: line.net_pence for line in self.summary.lines}

    @property
    def remaining_after_half_days(self) -> int:
        return self.position.remaining_after(self.summary.totals.half_days)

    def shown_value(self, service_id: int) -> str:
        if service_id in self.typed:
            return self.typed[service_id]
        half_days = self.half_days_by_service.get(service_id)
        return pricing.days_text(half_days) if half_days else ""

    @property
    def needs_approval(self) -> bool:
        return basket.over_limit(self.approval_limit_pence, self.summary.totals.net_pence)

    @property
    def quote(self) -> quote_prices.QuoteState | None:
        """The quote the draft is priced by (or was, until it expired)."""
        return quote_prices.state_of(self.order)


def _basket(
    order: basket.Order,
    offer: dict[int, CatalogueEntry],
    typed: dict[int, str] | None = None,
    errors: dict[int, str] | None = None,
    read: tuple[days_position.YearPosition, int | None] | None = None,
) -> Basket:
    if read is None:  # what the basket shows besides the draft: the school's days, its limit
        school = order.school
        days = days_position.year_position(school.id, order.academic_year_id)
        read = days, basket.approval_limit_pence(school)
    position, limit = read
    return Basket(order, basket.summarise(order, offer), position, typed or {}, errors or {}, limit)


def _naming(message: str, service_name: str) -> str:
    """'Days must be …' -> 'Days of <service> must be …', so a list of errors says which is which."""
    if service_name in message:
        return message
    if message.startswith("Days "):
        return f"Days of {service_name} {message[len('Days ') :]}"
    if message.startswith("Enter days "):
        return f"Enter days of {service_name} {message[len('Enter days ') :]}"
    return f"{service_name}: {message}"


@bp.route("/catalogue", methods=["GET", "POST"])
@roles_required(SCHOOL, TRUST)
def catalogue() -> str | Response:
    """The catalogue with a days control per service. Without JavaScript the whole form is
    posted: valid lines are saved, the rest are shown back with their errors. While next
    year's offer is open, first the choice of year."""
    year = chosen_year()
    if year is None:
        if request.method == "POST":  # a form without its year: never guess which basket
            flash("Choose the year you are ordering for.", "info")
            return redirect(url_for("orders.catalogue"))
        return choose_year_page(ordering_school())
    order = _draft(year)
    offer = basket.offer_for(order)
    typed: dict[int, str] = {}
    errors: dict[int, str] = {}
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        for service_id in offer:
            name = _field(service_id)
            if name not in request.form:
                continue
            raw = request.form.get(name, "")
            problem = basket.set_typed_days(order, offer, service_id, raw)
            if problem:
                typed[service_id] = raw[:20]
                errors[service_id] = _naming(problem, offer[service_id].service.name)
        if not errors:
            if request.form.get("action") == "continue":
                return redirect(url_for("orders.details"))
            return redirect(url_for("orders.catalogue") + "#order-summary")
    return render_template(
        "orders/catalogue.html",
        basket=_basket(order, offer, typed, errors),
        groups=grouped(list(quote_prices.applied(order, offer).values())),
        buying_back=buying_back(year, order.school),
    )


@bp.route("/catalogue/same-as-this-year", methods=["POST"])
@roles_required(SCHOOL, TRUST)
def same_as_this_year() -> Response:
    """Start next year's basket from this year's confirmed days, at next year's prices."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        repeated = buy_back.same_as_this_year(ordering_school(), current_user)
    except basket.OrderError as error:
        flash(sentence(str(error)), "info")
        return redirect(url_for("orders.catalogue"))
    year = repeated.order.academic_year
    message = (
        f"Your {year.label} order now has this year's days of {repeated.lines} "
        f"service{'s' if repeated.lines != 1 else ''}, at {year.label} prices. Check them below."
    )
    if repeated.not_offered:
        message += (
            f" No longer offered in {year.label}, so left out: {', '.join(repeated.not_offered)}."
        )
    if repeated.adjusted:
        message += f" Days changed to fit {year.label}'s limits: {'; '.join(repeated.adjusted)}."
    flash(message, "success")
    return redirect(url_for("orders.catalogue", year=year.start_year) + "#order-summary")


@bp.route("/catalogue/services/<int:service_id>/days", methods=["POST"])
@roles_required(SCHOOL, TRUST)
@late_write_lock
def set_line_days(service_id: int) -> str | Response:
    """One line's days changed: answer with that line's cost and, out of band, the summary.

    Many business managers do this at once when the buy-back window opens, so the change is
    committed on its own, holding the write lock (or the draft's row lock) only while it writes,
    and everything else the answer needs is read before it."""
    raw = request.form.get(_field(service_id), "")
    chosen = chosen_year()
    if chosen is None:
        flash("Choose the year you are ordering for.", "info")
        return redirect(url_for("orders.catalogue"))
    school, user, year = ordering_school(), current_user._get_current_object(), chosen
    offer = basket.offer_to(school, year)
    htmx = is_htmx()
    # The rest of what the answer shows does not depend on the draft: read with the rest, not
    # after the write (on SQLite that would be a transaction more), or by the write itself.
    read_first = htmx and not basket.days_read_with_change()
    position = days_position.year_position(school.id, year.id) if read_first else None
    limit = basket.approval_limit_pence(school) if htmx else None
    done = commit_write(lambda: basket.set_draft_line(school, user, year, service_id, raw, offer))
    problem = done.problem
    if not htmx:
        if problem:
            flash(problem, "info")
        return redirect(url_for("orders.catalogue"))
    typed = {service_id: raw[:20]} if problem else {}
    errors = {service_id: problem} if problem else {}
    # A basket's first change (a new draft) reads the school's days after it.
    position = position or done.position or days_position.year_position(school.id, year.id)
    shown = _basket(done.order, done.offer, typed, errors, (position, limit))
    return render_template("orders/_line_update.html", basket=shown, service_id=service_id)


# --- Checking answers and submitting ----------------------------------------------------------


def _draft_with_lines() -> tuple[basket.Order, Basket] | None:
    """The draft of the year being ordered, with its lines; None (after saying why) when there
    is no year chosen or nothing in it."""
    year = chosen_year()
    if year is None:
        return None
    order = _draft(year)
    shown = _basket(order, basket.offer_for(order))
    if not shown.summary.lines:
        flash("Choose the days you need before you check your order.", "info")
        return None
    return order, shown


@bp.route("/order/details", methods=["GET", "POST"])
@roles_required(SCHOOL, TRUST)
def details() -> str | Response:
    """The order's details, on their own page before check answers: PO number, when, a note."""
    found = _draft_with_lines()
    if found is None:
        return redirect(url_for("orders.catalogue"))
    order, shown = found
    if request.method == "POST":
        form = OrderDetailsForm()
    else:
        form = OrderDetailsForm(data=vars(workflow.details_of(order)))
    if form.validate_on_submit():
        typed = workflow.Checkout(
            po_number=form.po_number.data or "",
            preferred_term=form.preferred_term.data or "",
            preferred_dates=form.preferred_dates.data or "",
            adviser_note=form.adviser_note.data or "",
        )
        try:
            workflow.save_details(order, typed)
        except basket.OrderError as error:
            form.po_number.errors = [sentence(str(error))]
        else:
            return redirect(url_for("orders.check_answers"))
    # "The invoice waits for it" only where it does: a VAT invoice, not an internal recharge.
    school = order.school
    po_required = charge_waits_for_po(school.po_required, school.billing_route, "")
    return render_template("orders/details.html", basket=shown, form=form, po_required=po_required)


@bp.route("/order/check", methods=["GET", "POST"])
@roles_required(SCHOOL, TRUST)
def check_answers() -> str | Response:
    """The GOV.UK "check answers" page: a summary list of the lines and details, each with its
    Change link, the year's terms to accept, then submit."""
    form = CheckoutForm()
    if request.method == "POST" and form.order_id.data:
        try:
            posted = lists.order_visible_to(current_user, form.order_id.data)
        except lists.OrderNotFound:
            posted = None
        if posted is not None:  # not a draft any more: this form was sent twice
            flash(f"Order {posted.reference} has already been submitted.", "info")
            return redirect(url_for("orders.order_detail", order_id=posted.id))
    found = _draft_with_lines()
    if found is None:
        return redirect(url_for("orders.catalogue"))
    order, shown = found
    current_terms = terms.current_for(order.academic_year_id)
    form.terms_required = current_terms is not None
    if request.method == "GET":
        form.order_id.data, form.version.data = order.id, order.version
    elif form.version.data != order.version:
        # The basket changed in another tab: show it as it is now.
        flash(
            "Your order changed since you checked it (perhaps in another tab). "
            "Check the days and totals below, then submit again.",
            "info",
        )
        form.version.data = order.version
        form.order_id.data = order.id
    elif form.validate_on_submit():
        accepted = form.terms_version_id.data if form.accept_terms.data else None
        try:
            workflow.submit(
                order,
                current_user,
                workflow.details_of(order, accepted),
                expected_version=form.version.data or 0,
            )
        except basket.OrderError as error:
            flash(sentence(str(error)), "info")
            return redirect(url_for("orders.check_answers"))
        return redirect(url_for("orders.submitted", order_id=order.id))
    # The page names the terms in force now, so it carries their id (not one posted earlier).
    form.terms_version_id.raw_data = None
    form.terms_version_id.data = current_terms.id if current_terms else None
    return render_template(
        "orders/check_answers.html",
        basket=shown,
        form=form,
        current_terms=current_terms,
        terms=workflow.TERMS,
        quote_form=EmptyForm(),
    )


@bp.route("/orders/<int:order_id>/submitted")
@roles_required(SCHOOL, TRUST)
def submitted(order_id: int) -> str:
    """The confirmation: the order's number and what happens next."""
    order = _visible_order(order_id)
    return render_template(
        "orders/submitted.html",
        order=order,
        on_confirmation=issuing.issues_on_confirmation(),
        waits_for_po=issuing.waits_for_po(order),
    )


@bp.route("/orders/<int:order_id>/po-number", methods=["GET", "POST"])
@roles_required(SCHOOL)
def po_number(order_id: int) -> str | Response:
    """The school gives its PO number after submitting, until the order is charged."""
    order = _visible_order(order_id)
    refused = workflow.po_number_refusal(order, current_user)
    if refused is not None:
        flash(sentence(refused), "info")
        return redirect(url_for("orders.order_detail", order_id=order.id))
    form = (
        PoNumberForm(data={"po_number": order.po_number})
        if request.method == "GET"
        else (PoNumberForm())
    )
    if form.validate_on_submit():
        return _do(
            order,
            lambda: workflow.add_po_number(order, current_user, form.po_number.data or ""),
            f"Purchase order number saved on order {order.reference}.",
        )
    return render_template("orders/po_number.html", order=order, form=form)


# --- Orders -----------------------------------------------------------------------------------


@bp.route("/orders")
@roles_required(SCHOOL)
def order_list() -> str:
    return render_template("orders/list.html", orders=lists.orders_of_school(current_user.school))


def _visible_order(order_id: int) -> basket.Order:
    try:
        return lists.order_visible_to(current_user, order_id)
    except lists.OrderNotFound:
        abort(404)


@bp.route("/orders/<int:order_id>")
@roles_required(ALL_ROLES)
def order_detail(order_id: int) -> str:
    order = _visible_order(order_id)
    capacity = None
    if current_user.is_council_user and order.school.quadrant_id is not None:
        capacity = workflow.capacity_position(order.school.quadrant_id, order.academic_year_id)
    return render_template(
        "orders/detail.html",
        order=order,
        capacity=capacity,
        actions=available_actions(order, current_user),
        form=EmptyForm(),
        terms=workflow.TERMS,
        event_labels=EVENT_LABELS,
        may_add_po=workflow.po_number_refusal(order, current_user) is None,
        waits_for_po=issuing.waits_for_po(order),
    )


EVENT_LABELS = {
    "created": "Order started",
    "submitted": "Submitted",
    "approved": "Approved by the headteacher",
    "rejected": "Rejected by the headteacher",
    "withdrawn": "Withdrawn by the school",
    "cancellation_requested": "Cancellation requested by the school",
    "confirmed": "Confirmed by the council",
    "declined": "Declined by the council",
    "cancelled": "Cancelled by the council",
    "cancellation_refused": "Cancellation refused by the council",
    "in_progress": "First visit delivered: in progress",
    "completed": "All days used: completed",
    "po_number_added": "Purchase order number given",
}


@dataclass(frozen=True)
class Action:
    endpoint: str
    label: str
    needs_form: bool  # a page with a reason first, or a single button
    style: str = ""  # "", "secondary" or "warning"


# A button for each step of the order workflow a person can take from the order's page.
ACTIONS: dict[str, Action] = {
    "approve": Action("orders.approve", "Approve order", False),
    "reject": Action("orders.reject", "Reject order", True, "warning"),
    "withdraw": Action("orders.withdraw", "Withdraw order", True, "secondary"),
    "request_cancellation": Action(
        "orders.request_cancellation", "Ask to cancel this order", True, "secondary"
    ),
    "confirm": Action("orders.confirm", "Confirm order", False),
    "decline": Action("orders.decline", "Decline order", True, "warning"),
    "cancel": Action("orders.cancel", "Cancel order", True, "warning"),
    "keep": Action("orders.keep", "Keep order", True, "secondary"),
}


def available_actions(order: basket.Order, user: basket.User) -> list[Action]:
    """The workflow's steps `user` may take with `order` now (the services check them again)."""
    return [ACTIONS[step.name] for step in workflow.steps_for(order, user)]


def _do(order: basket.Order, change: Callable[[], object], done: str) -> Response:
    """Run a change to an order; a refusal (rolled back by the request) is shown on the order's
    page."""
    try:
        change()
    except (basket.OrderError, issuing.InvoicingError) as error:
        flash(sentence(str(error)), "info")
    else:
        flash(done, "success")
    return redirect(url_for("orders.order_detail", order_id=order.id))


def _button_action(order_id: int, run: Callable[[basket.Order], object], done: str) -> Response:
    order = _visible_order(order_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _do(order, lambda: run(order), done.format(ref=order.reference))


def _reason_action(
    order_id: int,
    run: Callable[[basket.Order, str], object],
    *,
    title: str,
    label: str,
    hint: str,
    button: str,
    done: str,
    required: bool = True,
) -> str | Response:
    order = _visible_order(order_id)
    form = ReasonForm() if required else OptionalReasonForm()
    form.reason.label.text = label
    if form.validate_on_submit():
        return _do(
            order, lambda: run(order, form.reason.data or ""), done.format(ref=order.reference)
        )
    return render_template(
        "orders/reason.html", order=order, form=form, title=title, hint=hint, button=button
    )


@bp.route("/orders/<int:order_id>/approve", methods=["POST"])
@roles_required(Role.HEADTEACHER)
def approve(order_id: int) -> Response:
    return _button_action(
        order_id,
        lambda o: workflow.approve(o, current_user),
        "You approved order {ref}: it has been sent to the council.",
    )


@bp.route("/orders/<int:order_id>/reject", methods=["GET", "POST"])
@roles_required(Role.HEADTEACHER)
def reject(order_id: int) -> str | Response:
    return _reason_action(
        order_id,
        lambda o, reason: workflow.reject(o, current_user, reason),
        title="Reject this order",
        label="Why are you rejecting this order?",
        hint="The person who submitted it will see this.",
        button="Reject order",
        done="You rejected order {ref}.",
    )


@bp.route("/orders/<int:order_id>/withdraw", methods=["GET", "POST"])
@roles_required(SCHOOL)
def withdraw(order_id: int) -> str | Response:
    return _reason_action(
        order_id,
        lambda o, reason: workflow.withdraw(o, current_user, reason),
        title="Withdraw this order",
        label="Why are you withdrawing it? (optional)",
        hint="The order will not go ahead. You can place a new order at any time.",
        button="Withdraw order",
        done="Order {ref} has been withdrawn.",
        required=False,
    )


@bp.route("/orders/<int:order_id>/request-cancellation", methods=["GET", "POST"])
@roles_required(SCHOOL)
def request_cancellation(order_id: int) -> str | Response:
    return _reason_action(
        order_id,
        lambda o, reason: workflow.request_cancellation(o, current_user, reason),
        title="Ask to cancel this order",
        label="Why do you want to cancel it?",
        hint="The council decides. Its notice policy may make late cancellations chargeable.",
        button="Send cancellation request",
        done="Your request to cancel order {ref} has been sent to the council.",
    )


@bp.route("/orders/<int:order_id>/confirm", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def confirm(order_id: int) -> Response:
    return _button_action(
        order_id,
        lambda o: workflow.confirm(o, current_user),
        "Order {ref} is confirmed.",
    )


@bp.route("/orders/<int:order_id>/decline", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def decline(order_id: int) -> str | Response:
    return _reason_action(
        order_id,
        lambda o, reason: workflow.decline(o, current_user, reason),
        title="Decline this order",
        label="Why is the council declining this order?",
        hint="The school will see this.",
        button="Decline order",
        done="Order {ref} has been declined.",
    )


@bp.route("/orders/<int:order_id>/cancel", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def cancel(order_id: int) -> str | Response:
    return _reason_action(
        order_id,
        lambda o, reason: workflow.cancel(o, current_user, reason),
        title="Cancel this order",
        label="Why is the order being cancelled?",
        hint="Its days go back to the team's capacity. The school will see this.",
        button="Cancel order",
        done="Order {ref} has been cancelled.",
    )


@bp.route("/orders/<int:order_id>/keep", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def keep(order_id: int) -> str | Response:
    return _reason_action(
        order_id,
        lambda o, reason: workflow.keep(o, current_user, reason),
        title="Refuse the cancellation request",
        label="Why does the order stand?",
        hint="The order stays confirmed. The school will see this.",
        button="Keep order",
        done="Order {ref} stands: the cancellation request was refused.",
    )
