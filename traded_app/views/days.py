"""Days: the school's Days page, advisers' visits, and the council's overview and allocations.

Three blueprints: `days` (a school's days and visit history), `visits` (advisers' calendar and
recording visits) and `council_days` (the council's overview, allocations and closure days).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import ALL_ROLES, COUNCIL, SCHOOL, roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import AllocationReason, CancelledBy, Phase, Role
from traded_app.forms.auth import EmptyForm
from traded_app.forms.days import (
    AdjustAllocationForm,
    CancelVisitForm,
    ClosureDayForm,
    DeliverForm,
    RecordVisitForm,
    RecordVisitFormWithOverride,
    VisitForm,
    VisitFormWithOverride,
)
from traded_app.services.brokering import engagements as school_to_school
from traded_app.services.council import overview as council_service
from traded_app.services.council import schools as school_service
from traded_app.services.days import (
    allocations,
    county_days,
    feedback,
    over_time,
    school_calendar,
    visits,
)
from traded_app.services.days import ledger as days_ledger
from traded_app.services.ordering import lists as order_lists
from traded_app.services.platform.settings import (
    academic_start_year,
    academic_year_bounds,
    council_settings,
    today,
)
from traded_app.views.years import chosen_monday, chosen_year
from traded_app.web import is_htmx

bp = Blueprint("days", __name__)
visits_bp = Blueprint("visits", __name__, url_prefix="/visits")
council_bp = Blueprint("council_days", __name__, url_prefix="/council")
blueprints = (bp, visits_bp, council_bp)

ADVISERS = frozenset({Role.ADVISER, Role.LA_ADMIN})


def _int_arg(name: str) -> int | None:
    return whole_number(request.args.get(name))


# --- The school's Days page -------------------------------------------------------------------


@bp.route("/days")
@roles_required(SCHOOL)
def my_days() -> str:
    return _days_page(current_user.school)


@bp.route("/schools/<int:urn>/days")
@roles_required(ALL_ROLES)
def school_days(urn: int) -> str:
    return _days_page(_visible_school(urn))


def _visible_school(urn: int) -> visits.School:
    try:
        return school_service.school_visible_to(current_user, urn)
    except school_service.NotFound:
        abort(404)


def _days_page(school: visits.School) -> str:
    year, years = chosen_year()
    ledger = days_ledger.school_ledger(school.id, year.id)
    history = visits.school_visits(school.id, year.id)
    now = today()
    upcoming = sorted(
        (v for v in history if v.status.value == "scheduled" and v.visit_date >= now),
        key=lambda v: (v.visit_date, v.id),
    )
    past = [v for v in history if v not in upcoming]
    return render_template(
        "days/school.html",
        school=school,
        year=year,
        years=years,
        ledger=ledger,
        upcoming=upcoming,
        past=past,
        against_label=visits.against_label,
        notice_days=visits.notice_days(),
        feedback_waiting=feedback.waiting_for(school.id)
        if current_user.role == Role.HEADTEACHER
        else [],
        against_time=_against_time(school, year, now),
        rules=over_time.days_rules(),
        engagements=school_to_school.bought_engagements(school.id),
        # A headteacher's first question on signing in: is an order waiting for me?
        awaiting_approval=order_lists.orders_awaiting_approval(school.id)
        if current_user.role == Role.HEADTEACHER
        else [],
    )


def _against_time(
    school: visits.School, year: visits.AcademicYear, now: date
) -> over_time.SchoolAgainstTime | None:
    """This year's or a coming year's days against the time left; none for a past year."""
    if academic_year_bounds(year.start_year)[1] < now:
        return None
    return over_time.school_against_time(school.id, year, now)


@bp.route("/schools/<int:urn>/days/visits.csv")
@roles_required(ALL_ROLES)
def visits_csv(urn: int) -> Response:
    school = _visible_school(urn)
    year, _ = chosen_year()
    body = visits.visits_csv(visits.school_visits(school.id, year.id))
    filename = f"visits-{school.urn}-{year.start_year}-{str(year.start_year + 1)[-2:]}.csv"
    return Response(
        "\ufeff" + body,  # a byte-order mark so Excel reads the file as UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- Advisers' visits -------------------------------------------------------------------------


@visits_bp.route("")
@roles_required(ADVISERS)
def calendar() -> str:
    """An adviser's visits by week; the service manager chooses whose."""
    monday = chosen_monday()
    advisers = visits.advisers()
    adviser_id = current_user.id
    if current_user.role == Role.LA_ADMIN:
        chosen = _int_arg("adviser")
        ids = [a.id for a in advisers]
        adviser_id = chosen if chosen in ids else (ids[0] if ids else 0)
    adviser = next((a for a in advisers if a.id == adviser_id), None)
    week = visits.adviser_week(adviser_id, monday) if adviser_id else []
    return render_template(
        "visits/calendar.html",
        week=week,
        monday=monday,
        previous_week=(monday - timedelta(days=7)).isoformat(),
        next_week=(monday + timedelta(days=7)).isoformat(),
        this_week=visits.week_start(today()).isoformat(),
        advisers=advisers,
        adviser=adviser,
        against_label=visits.against_label,
        today=today(),
    )


def _chosen_school() -> tuple[visits.School | None, str, str]:
    """The school asked for by URN (?school=), the text typed and the error for it."""
    raw_school = request.args.get("school", "").strip()
    school = None
    school_error = ""
    if raw_school:
        urn = whole_number(raw_school)
        school = visits.school_by_urn(urn) if urn is not None else None
        if school is None:
            school_error = "Enter the URN of a school, like 114999"
    return school, raw_school, school_error


def _new_visit_details(school: visits.School, form: VisitForm) -> visits.NewVisit:
    return visits.NewVisit(
        school=school,
        adviser_id=int(form.adviser_id.data) if (form.adviser_id.data or "").isdigit() else None,
        visit_date=form.visit_date.data,
        half_days=int(form.half_days.data or 0),
        against=form.against.data or "",
        purpose=form.purpose.data or "",
        override_reason=getattr(getattr(form, "override_reason", None), "data", "") or "",
    )


def _prepare_visit_form(form: VisitForm, school: visits.School, year: visits.AcademicYear) -> None:
    advisers = visits.advisers()
    form.adviser_id.choices = [("", "Choose an adviser")] + [(str(a.id), a.name) for a in advisers]
    if request.method == "GET" and current_user.role == Role.ADVISER:
        form.adviser_id.data = str(current_user.id)
    form.against.choices = [(visits.CORE, "Core allocation")] + [
        (str(line.order_line_id), f"{line.service_name} ({line.order_reference})")
        for line in visits.bookable_lines(school, year)
    ]


def _field_error(form: VisitForm, error: visits.VisitError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        field = form.purpose
    field.errors = [*field.errors, str(error)]


def _visit_page(school: visits.School, form: VisitForm, *, recording: bool) -> str:
    year, _ = chosen_year()
    return render_template(
        "visits/new.html",
        school=school,
        year=year,
        form=form,
        ledger=days_ledger.school_ledger(school.id, year.id),
        lines=visits.bookable_lines(school, year),
        recording=recording,
        calendar=school_calendar.year_calendar(year, school.id),
    )


@visits_bp.route("/new", methods=["GET", "POST"])
@roles_required(ADVISERS)
def new_visit() -> str | BaseResponse:
    """Book a visit: first the school (by URN), then the details."""
    school, raw_school, school_error = _chosen_school()
    if school is None:
        return render_template(
            "visits/choose_school.html", raw_school=raw_school, school_error=school_error
        )
    year, _ = chosen_year()
    form = VisitFormWithOverride() if current_user.role == Role.LA_ADMIN else VisitForm()
    _prepare_visit_form(form, school, year)
    if form.validate_on_submit():
        try:
            visit = visits.schedule(_new_visit_details(school, form), current_user)
        except visits.VisitError as error:
            _field_error(form, error)
        else:
            flash(
                f"Visit {visit.reference} booked: {school.name} on "
                f"{visit.visit_date.day} {visit.visit_date:%B %Y}.",
                "success",
            )
            return redirect(url_for("visits.visit_detail", visit_id=visit.id))
    return _visit_page(school, form, recording=False)


@visits_bp.route("/record", methods=["GET", "POST"])
@roles_required(ADVISERS)
def record_visit() -> str | BaseResponse:
    """Record a visit that took place on a past date but was never booked."""
    school, raw_school, school_error = _chosen_school()
    if school is None:
        return render_template(
            "visits/choose_school.html",
            raw_school=raw_school,
            school_error=school_error,
            recording=True,
        )
    year, _ = chosen_year()
    form: RecordVisitForm = (
        RecordVisitFormWithOverride() if current_user.role == Role.LA_ADMIN else RecordVisitForm()
    )
    _prepare_visit_form(form, school, year)
    if form.validate_on_submit():
        try:
            visit = visits.record_delivered(
                _new_visit_details(school, form),
                current_user,
                form.note.data or "",
                form.recorded_after_reason.data or "",
            )
        except visits.VisitError as error:
            _field_error(form, error)
        else:
            flash(
                f"Visit {visit.reference} recorded as delivered: {school.name} on "
                f"{visit.visit_date.day} {visit.visit_date:%B %Y}.",
                "success",
            )
            return redirect(url_for("visits.visit_detail", visit_id=visit.id))
    return _visit_page(school, form, recording=True)


def _visit(visit_id: int) -> visits.Visit:
    try:
        return visits.visit_for(current_user, visit_id)
    except visits.VisitNotFound:
        abort(404)


@visits_bp.route("/<int:visit_id>")
@roles_required(COUNCIL)
def visit_detail(visit_id: int) -> str:
    visit = _visit(visit_id)
    may_change = visit.status.value == "scheduled" and (
        current_user.role == Role.LA_ADMIN
        or (current_user.role == Role.ADVISER and visit.adviser_id == current_user.id)
    )
    return render_template(
        "visits/detail.html",
        visit=visit,
        against=visits.against_label(visit),
        may_change=may_change,
        may_deliver=may_change and visit.visit_date <= today(),
        rating=feedback.feedback_of(visit.id),
    )


@visits_bp.route("/<int:visit_id>/deliver", methods=["GET", "POST"])
@roles_required(ADVISERS)
def deliver(visit_id: int) -> str | BaseResponse:
    visit = _visit(visit_id)
    form = DeliverForm()
    problem = ""
    if form.validate_on_submit():
        try:
            visits.deliver(visit, current_user, form.note.data or "")
        except visits.VisitError as error:
            if error.field == "note":
                form.note.errors = [str(error)]
            else:
                problem = str(error)
        else:
            flash(
                f"Visit {visit.reference} recorded as delivered. Now write its report.", "success"
            )
            return redirect(url_for("visits.visit_detail", visit_id=visit.id))
    status = 409 if problem else 200
    return render_template("visits/deliver.html", visit=visit, form=form, problem=problem), status  # type: ignore[return-value]


@visits_bp.route("/<int:visit_id>/cancel", methods=["GET", "POST"])
@roles_required(ADVISERS)
def cancel(visit_id: int) -> str | BaseResponse:
    visit = _visit(visit_id)
    form = CancelVisitForm()
    problem = ""
    if form.validate_on_submit():
        try:
            visits.cancel(visit, current_user, CancelledBy(form.party.data), form.reason.data or "")
        except visits.VisitError as error:
            field = getattr(form, error.field, None) if error.field else None
            if field is not None:
                field.errors = [str(error)]
            else:
                problem = str(error)
        else:
            charged = (
                " The school gave less notice than the policy asks, so the days are charged."
                if visit.chargeable
                else ""
            )
            flash(f"Visit {visit.reference} cancelled.{charged}", "success")
            return redirect(url_for("visits.visit_detail", visit_id=visit.id))
    late = visits.is_late(visit.visit_date)
    status = 409 if problem else 200
    return render_template(
        "visits/cancel.html",
        visit=visit,
        form=form,
        problem=problem,
        late=late,
        notice_days=visits.notice_days(),
    ), status  # type: ignore[return-value]


# --- The council's overview -------------------------------------------------------------------


@council_bp.route("/days")
@roles_required(COUNCIL)
def overview() -> str:
    """Every school's remaining days: filters, active search, pages, quadrant totals."""
    year, years = chosen_year()
    filters = county_days.OverviewFilters(
        year_id=year.id,
        q=request.args.get("q", "")[:100],
        quadrant_id=_int_arg("quadrant"),
        partnership_id=_int_arg("partnership"),
        phase=request.args.get("phase", "")[:20],
        unused_only=request.args.get("unused") == "yes",
        page=_int_arg("page") or 1,
    )
    result = county_days.council_overview(filters)
    if is_htmx():
        return render_template(
            "council/_overview_days_results.html",
            year=year,
            filters=filters,
            result=result,
            query_args=_overview_args(filters, year),
        )
    now = today()
    against_time = (
        over_time.county_against_time(year, now)
        if academic_year_bounds(year.start_year)[1] >= now
        else None
    )
    return render_template(
        "council/overview_days.html",
        against_time=against_time,
        rules_pace=over_time.days_rules().usable_half_days_per_week,
        year=year,
        years=years,
        filters=filters,
        result=result,
        quadrants=council_service.quadrants(),
        partnerships=allocations.partnerships(),
        phases=list(Phase),
        query_args=_overview_args(filters, year),
    )


def _overview_args(
    filters: county_days.OverviewFilters, year: visits.AcademicYear
) -> dict[str, object]:
    args: dict[str, object] = {
        "year": year.start_year,
        "q": filters.q or None,
        "quadrant": filters.quadrant_id,
        "partnership": filters.partnership_id,
        "phase": filters.phase or None,
        "unused": "yes" if filters.unused_only else None,
    }
    return {k: v for k, v in args.items() if v is not None}


# --- Allocations and closure days (service manager) ------------------------------------------


@council_bp.route("/allocations")
@roles_required(Role.LA_ADMIN)
def allocations_page() -> str:
    year, years = chosen_year()
    return render_template(
        "council/allocations.html",
        year=year,
        years=years,
        settings=council_settings(),
        changes=allocations.recent_changes(year),
        form=EmptyForm(),
    )


@council_bp.route("/allocations/generate", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def generate_allocations() -> BaseResponse:
    if not EmptyForm().validate_on_submit():
        abort(400)
    year, _ = chosen_year()
    settings = council_settings()
    if settings is None:
        abort(409)
    before = len(allocations.recent_changes(year, limit=100_000))
    total = allocations.generate_core_allocations(year, settings, current_user)
    changed = len(allocations.recent_changes(year, limit=100_000)) - before
    flash(
        f"Core allocations for {year.label} generated from the rules: {total / 2:g} days in all, "
        f"{changed} {'change' if changed == 1 else 'changes'}.",
        "success",
    )
    return redirect(url_for("council_days.allocations_page", year=year.start_year))


@council_bp.route("/allocations/<int:urn>", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def school_allocation(urn: int) -> str | BaseResponse:
    school = _visible_school(urn)
    year, years = chosen_year()
    form = AdjustAllocationForm()
    if form.validate_on_submit():
        try:
            allocations.adjust(
                school,
                year,
                AllocationReason(form.reason.data),
                form.half_days,
                form.note.data or "",
                current_user,
            )
        except allocations.AllocationError as error:
            field = getattr(form, error.field, None) if error.field else None
            (field or form.note).errors = [str(error)]
        else:
            flash(f"{school.name}'s core allocation for {year.label} changed.", "success")
            return redirect(
                url_for("council_days.school_allocation", urn=school.urn, year=year.start_year)
            )
    current = allocations.allocations_of(school, year)
    return render_template(
        "council/allocations_school.html",
        school=school,
        year=year,
        years=years,
        current=current,
        reasons=list(AllocationReason),
        history=allocations.history(school, year),
        ledger=days_ledger.school_ledger(school.id, year.id),
        form=form,
    )


@council_bp.route("/closure-days", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def closure_days() -> str | BaseResponse:
    year, years = chosen_year()
    form = ClosureDayForm()
    if form.validate_on_submit() and form.closed_on.data is not None:
        try:
            closure = school_calendar.add_closure_day(
                form.closed_on.data, form.name.data or "", current_user
            )
        except school_calendar.CalendarError as error:
            field = getattr(form, error.field, None) if error.field else None
            (field or form.name).errors = [str(error)]
        else:
            flash(f"{closure.name} added as a closure day.", "success")
            return redirect(
                url_for(
                    "council_days.closure_days",
                    year=academic_start_year(closure.closed_on),
                )
            )
    return render_template(
        "council/closure_days.html",
        year=year,
        years=years,
        closures=school_calendar.closure_days(year),
        form=form,
        delete_form=EmptyForm(),
    )


@council_bp.route("/closure-days/<int:closure_id>/delete", methods=["POST"])
@roles_required(Role.LA_ADMIN)
def delete_closure_day(closure_id: int) -> BaseResponse:
    if not EmptyForm().validate_on_submit():
        abort(400)
    closure = school_calendar.remove_closure_day(closure_id, current_user)
    if closure is None:
        abort(404)
    flash(f"{closure.name} is no longer a closure day.", "success")
    return redirect(
        url_for("council_days.closure_days", year=academic_start_year(closure.closed_on))
    )
