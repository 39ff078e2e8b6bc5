"""Partnership plans and shared visits: the council's plan pages (the service manager and the
partnership's adviser write them), booking, delivering and cancelling a visit for several of a
partnership's schools, and the plan as the partnership's own schools see it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import COUNCIL, SCHOOL, roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import CancelledBy, Role
from traded_app.forms.auth import EmptyForm
from traded_app.forms.days import CancelVisitForm, DeliverForm
from traded_app.forms.plans import AgreePlanForm, PlanItemForm, SharedVisitForm, StartPlanForm
from traded_app.services.days import activities as activity_list
from traded_app.services.days import plans, shared_visits, visits
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.settings import today
from traded_app.views.visit_forms import book_or_record
from traded_app.views.years import chosen_year

bp = Blueprint("plans", __name__)

ADVISERS = frozenset({Role.ADVISER, Role.LA_ADMIN})


def _partnership(partnership_id: int) -> plans.Partnership:
    try:
        return plans.partnership(partnership_id)
    except NotFound:
        abort(404)


def _plan_url(partnership_id: int, year: plans.AcademicYear) -> str:
    return url_for("plans.plan_page", partnership_id=partnership_id, year=year.start_year)


def _field_error(form: object, error: plans.PlanError | visits.VisitError, fallback: str) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        field = getattr(form, fallback)
    field.errors = [*field.errors, str(error)]


@bp.route("/council/plans")
@roles_required(COUNCIL)
def plan_list() -> str:
    year, years = chosen_year()
    return render_template("plans/list.html", year=year, years=years, rows=plans.plan_list(year.id))


@bp.route("/council/plans/<int:partnership_id>")
@roles_required(COUNCIL)
def plan_page(partnership_id: int) -> str:
    partnership = _partnership(partnership_id)
    year, years = chosen_year()
    plan = plans.plan_for(partnership.id, year.id)
    return render_template(
        "plans/plan.html",
        partnership=partnership,
        year=year,
        years=years,
        plan=plan,
        figures=plans.figures(plan, partnership.id, year.id),
        members=plans.members(partnership.id),
        missing=plans.missing_non_negotiables(plan) if plan else [],
        may_write=plans.may_write(plan, current_user) if plan else False,
        status_of=plans.status_of,
        school_view=False,
    )


@bp.route("/days/plan")
@roles_required(SCHOOL)
def school_plan() -> str:
    """The plan of the user's own school's partnership, and what has been delivered."""
    year, years = chosen_year()
    partnership = plans.school_partnership(current_user)
    plan = plans.plan_for(partnership.id, year.id) if partnership else None
    return render_template(
        "plans/plan.html",
        partnership=partnership,
        year=year,
        years=years,
        plan=plan,
        figures=plans.figures(plan, partnership.id, year.id) if partnership else None,
        members=plans.members(partnership.id) if partnership else [],
        missing=[],
        may_write=False,
        status_of=plans.status_of,
        school_view=True,
    )


@bp.route("/council/plans/<int:partnership_id>/start", methods=["GET", "POST"])
@roles_required({Role.LA_ADMIN})
def start_plan(partnership_id: int) -> str | BaseResponse:
    partnership = _partnership(partnership_id)
    year, _ = chosen_year()
    if plans.plan_for(partnership.id, year.id) is not None:
        return redirect(_plan_url(partnership.id, year))
    form = StartPlanForm()
    form.adviser_id.choices = [("", "Choose later")] + [
        (str(a.id), a.name) for a in visits.advisers()
    ]
    if form.validate_on_submit():
        try:
            plans.start_plan(partnership, year, whole_number(form.adviser_id.data), current_user)
        except plans.PlanError as error:
            _field_error(form, error, "adviser_id")
        else:
            flash(f"{partnership.name}'s plan for {year.label} started.", "success")
            return redirect(_plan_url(partnership.id, year))
    return render_template("plans/start.html", partnership=partnership, year=year, form=form)


def _writable_plan(
    partnership_id: int,
) -> tuple[plans.Partnership, plans.AcademicYear, plans.PartnershipPlan | None]:
    partnership = _partnership(partnership_id)
    year, _ = chosen_year()
    return partnership, year, plans.plan_for(partnership.id, year.id)


@bp.route("/council/plans/<int:partnership_id>/activities", methods=["GET", "POST"])
@roles_required(ADVISERS)
def edit_item(partnership_id: int) -> str | BaseResponse:
    """Add an activity to the plan or change one (?activity=id), or say why a non-negotiable
    activity is left out."""
    partnership, year, plan = _writable_plan(partnership_id)
    if plan is None:
        flash(f"{partnership.name} has no plan for {year.label} yet.", "info")
        return redirect(_plan_url(partnership.id, year))
    members = plans.members(partnership.id)
    form = PlanItemForm()
    form.activity_id.choices = [("", "Choose an activity")] + [
        (str(a.id), f"{a.name} ({a.kind_label.lower()})") for a in activity_list.activities()
    ]
    form.school_ids.choices = [(str(s.id), s.name) for s in members]
    chosen = whole_number(request.args.get("activity"))
    existing = next((i for i in plan.items if i.activity_id == chosen), None)
    if existing is not None and not form.is_submitted():
        form.activity_id.data = str(existing.activity_id)
        form.school_ids.data = [str(s.id) for s in existing.schools]
        form.planned_days.data = _days_text(existing.planned_half_days)
        form.planned_when.data = existing.planned_when
        form.omitted_reason.data = existing.omitted_reason
    elif chosen is not None and not form.is_submitted():
        form.activity_id.data = str(chosen)
    if form.validate_on_submit():
        details = plans.ItemDetails(
            activity_id=whole_number(form.activity_id.data),
            school_ids=[int(s) for s in form.school_ids.data or [] if s.isdigit()],
            planned_half_days=form.half_days,
            planned_when=form.planned_when.data or "",
            omitted_reason=form.omitted_reason.data or "",
        )
        try:
            item = plans.save_item(plan, details, current_user)
        except plans.PlanError as error:
            _field_error(form, error, "activity_id")
        else:
            flash(f"Plan saved: {item.activity.name}.", "success")
            return redirect(_plan_url(partnership.id, year))
    return render_template(
        "plans/item.html",
        partnership=partnership,
        year=year,
        plan=plan,
        form=form,
        may_write=plans.may_write(plan, current_user),
    )


def _days_text(half_days: int) -> str:
    whole, half = divmod(half_days, 2)
    return f"{whole}.5" if half else str(whole) if half_days else ""


@bp.route("/council/plans/<int:partnership_id>/activities/<int:item_id>/remove", methods=["POST"])
@roles_required(ADVISERS)
def remove_item(partnership_id: int, item_id: int) -> BaseResponse:
    partnership, year, plan = _writable_plan(partnership_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if plan is None:
        flash(f"{partnership.name} has no plan for {year.label} yet.", "info")
    else:
        try:
            activity = plans.remove_item(plan, item_id, current_user)
        except plans.PlanError as error:
            flash(str(error), "info")
        else:
            flash(f"{activity.name} taken out of the plan.", "success")
    return redirect(_plan_url(partnership.id, year))


@bp.route("/council/plans/<int:partnership_id>/agree", methods=["GET", "POST"])
@roles_required(ADVISERS)
def agree(partnership_id: int) -> str | BaseResponse:
    """Record the plan as agreed with the headteachers: every non-negotiable activity in it."""
    partnership, year, plan = _writable_plan(partnership_id)
    if plan is None:
        flash(f"{partnership.name} has no plan for {year.label} yet.", "info")
        return redirect(_plan_url(partnership.id, year))
    form = AgreePlanForm()
    if request.method == "GET" and plan.agreed_note:
        form.agreed_note.data = plan.agreed_note
    if form.validate_on_submit():
        try:
            plans.agree(plan, form.agreed_note.data or "", current_user)
        except plans.PlanError as error:
            _field_error(form, error, "agreed_note")
        else:
            flash(f"{partnership.name}'s plan recorded as agreed.", "success")
            return redirect(_plan_url(partnership.id, year))
    return render_template(
        "plans/agree.html",
        partnership=partnership,
        year=year,
        plan=plan,
        form=form,
        missing=plans.missing_non_negotiables(plan),
    )


# --- Shared visits ------------------------------------------------------------------------------


@bp.route("/council/plans/<int:partnership_id>/visits/new", methods=["GET", "POST"])
@roles_required(ADVISERS)
def new_shared_visit(partnership_id: int) -> str | BaseResponse:
    """Book a visit against the plan for one or more of the partnership's schools."""
    partnership, year, plan = _writable_plan(partnership_id)
    if plan is None or not plan.items:
        flash(f"Plan {partnership.name}'s activities for {year.label} first.", "info")
        return redirect(_plan_url(partnership.id, year))
    form = SharedVisitForm()
    form.adviser_id.choices = [("", "Choose an adviser")] + [
        (str(a.id), a.name) for a in visits.advisers()
    ]
    planned = [i for i in plan.items if i.planned_half_days]
    form.plan_item_id.choices = [(str(i.id), i.activity.name) for i in planned]
    members = plans.members(partnership.id)
    form.school_ids.choices = [(str(s.id), s.name) for s in members]
    if request.method == "GET":
        if current_user.role == Role.ADVISER:
            form.adviser_id.data = str(current_user.id)
        chosen = whole_number(request.args.get("item"))
        item = next((i for i in planned if i.id == chosen), None)
        if item is not None:
            form.plan_item_id.data = str(item.id)
            form.school_ids.data = [str(s.id) for s in item.schools]
    if form.validate_on_submit():
        details = shared_visits.NewSharedVisit(
            adviser_id=whole_number(form.adviser_id.data),
            visit_date=form.visit_date.data,
            half_days=whole_number(form.half_days.data),
            school_ids=[int(s) for s in form.school_ids.data or [] if s.isdigit()],
            plan_item_id=whole_number(form.plan_item_id.data),
            purpose=form.purpose.data or "",
            override_reason=form.override_reason.data or "",
        )
        booked = book_or_record(
            form,
            details.visit_date,
            lambda: shared_visits.book(plan, details, current_user),
            lambda note, why: shared_visits.record_delivered(
                plan, details, current_user, note, why
            ),
        )
        if booked is not None:
            shared, done = booked
            flash(
                f"Visit {shared.reference} {done} for {len(shared.visits)} schools on "
                f"{shared.visit_date.day} {shared.visit_date:%B %Y}.",
                "success",
            )
            return redirect(url_for("plans.shared_visit", shared_id=shared.id))
    return render_template(
        "plans/new_visit.html",
        partnership=partnership,
        year=year,
        plan=plan,
        form=form,
        manager=current_user.role == Role.LA_ADMIN,
    )


def _shared(shared_id: int) -> plans.SharedVisit:
    try:
        return shared_visits.shared_visit_for(current_user, shared_id)
    except NotFound:
        abort(404)


def _may_change(shared: plans.SharedVisit) -> bool:
    return plans.status_of(shared).value == "scheduled" and (
        current_user.role == Role.LA_ADMIN
        or (current_user.role == Role.ADVISER and shared.adviser_id == current_user.id)
    )


@bp.route("/council/shared-visits/<int:shared_id>")
@roles_required(COUNCIL)
def shared_visit(shared_id: int) -> str:
    shared = _shared(shared_id)
    may_change = _may_change(shared)
    return render_template(
        "plans/visit.html",
        shared=shared,
        status=plans.status_of(shared),
        may_change=may_change,
        may_deliver=may_change and shared_visits.may_deliver(shared),
        today=today(),
    )


@bp.route("/council/shared-visits/<int:shared_id>/deliver", methods=["GET", "POST"])
@roles_required(ADVISERS)
def deliver_shared(shared_id: int) -> str | BaseResponse:
    """Record the visit delivered at every school it was for. (The visit report, when it comes,
    is recorded here, as for a single school's visit.)"""
    shared = _shared(shared_id)
    form = DeliverForm()
    problem = ""
    if form.validate_on_submit():
        try:
            shared_visits.deliver(shared, current_user, form.note.data or "")
        except visits.VisitError as error:
            if error.field == "note":
                form.note.errors = [str(error)]
            else:
                problem = str(error)
        else:
            flash(f"Visit {shared.reference} recorded as delivered.", "success")
            return redirect(url_for("plans.shared_visit", shared_id=shared.id))
    page = render_template("plans/deliver.html", shared=shared, form=form, problem=problem)
    return page if not problem else BaseResponse(page, status=409, mimetype="text/html")


@bp.route("/council/shared-visits/<int:shared_id>/cancel", methods=["GET", "POST"])
@roles_required(ADVISERS)
def cancel_shared(shared_id: int) -> str | BaseResponse:
    """Cancel the visit at every school; each school's share goes back to its core days."""
    shared = _shared(shared_id)
    form = CancelVisitForm()
    problem = ""
    if form.validate_on_submit():
        try:
            shared_visits.cancel(
                shared, current_user, CancelledBy(form.party.data), form.reason.data or ""
            )
        except visits.VisitError as error:
            problem = str(error)
        else:
            flash(f"Visit {shared.reference} cancelled.", "success")
            return redirect(url_for("plans.shared_visit", shared_id=shared.id))
    page = render_template(
        "plans/cancel.html",
        shared=shared,
        form=form,
        problem=problem,
        notice_days=visits.notice_days(),
    )
    return page if not problem else BaseResponse(page, status=409, mimetype="text/html")
