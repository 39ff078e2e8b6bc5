"""Running the service (the service manager): catalogue and prices, schools and the GIAS import,
partnerships and quadrant teams, users, council settings and the audit trail.

Also the per-request hook that tells the audit trail who is acting.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import BillingRoute, CustomerType, Role, ServiceGroup
from traded_app.extensions import db
from traded_app.forms.admin import (
    CUSTOMER_FIELDS,
    AcademicYearForm,
    GiasUploadForm,
    MemberForm,
    PartnershipForm,
    PriceForm,
    QuadrantForm,
    SchoolForm,
    ServiceForm,
    SettingsForm,
    UserForm,
    days_value,
    quadrant_form,
)
from traded_app.forms.auth import EmptyForm
from traded_app.models import (
    AcademicYear,
    GiasImport,
    Partnership,
    Quadrant,
    School,
    Service,
    User,
)
from traded_app.services.council import catalogue as catalogue_admin
from traded_app.services.council import gias_import, partnerships
from traded_app.services.council import quadrants as quadrant_admin
from traded_app.services.council import schools as school_admin
from traded_app.services.council import settings as settings_admin
from traded_app.services.council import users as users_admin
from traded_app.services.platform import audit
from traded_app.services.platform.settings import council_settings
from traded_app.web import is_htmx

bp = Blueprint("admin", __name__, url_prefix="/council/manage")

ADMIN = Role.LA_ADMIN


# --- Who is acting, for the audit trail -------------------------------------------------------


def _signed_in_actor() -> audit.Actor | None:
    if current_user and current_user.is_authenticated:
        return audit.actor_for(current_user._get_current_object())  # type: ignore[attr-defined]
    return None


@bp.before_app_request
def _set_audit_actor() -> None:
    g.audit_actor_token = audit.set_actor_resolver(_signed_in_actor)


@bp.teardown_app_request
def _reset_audit_actor(_exc: BaseException | None) -> None:
    token = g.pop("audit_actor_token", None)
    if token is not None:
        try:
            audit.reset_actor_resolver(token)
        except ValueError:  # torn down in another context: nothing of ours to reset
            pass


# --- Helpers --------------------------------------------------------------------------------------


def _int_arg(name: str) -> int | None:
    return whole_number(request.args.get(name))


def _page() -> int:
    return _int_arg("page") or 1


def _or_404(model: Any, ident: int) -> Any:
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


def _field_error(form: Any, field: str | None, message: str) -> None:
    target = getattr(form, field, None) if field else None
    if target is None:
        # Not a field of this form: show it against the first field, so the summary links.
        target = next(iter(f for f in form if f.name != "csrf_token"))
    target.errors = [*list(target.errors), message]


def _fragment_or_page(fragment: str, page: str, **context: Any) -> str:
    return render_template(fragment if is_htmx() else page, **context)


# --- Index ------------------------------------------------------------------------------------


@bp.route("")
@roles_required(ADMIN)
def index() -> str:
    return render_template(
        "admin/index.html",
        settings=council_settings(),
        recent_imports=gias_import.recent_imports(3),
    )


# --- Catalogue --------------------------------------------------------------------------------


@bp.route("/services")
@roles_required(ADMIN)
def services() -> str:
    return render_template(
        "admin/services.html",
        rows=catalogue_admin.all_services(),
        years=catalogue_admin.price_years(),
    )


def _service_form(service: Service | None) -> ServiceForm:
    if request.method == "POST" or service is None:
        form = ServiceForm()
        if service is None and request.method == "GET":
            form.vat_maintained.data = "outside_scope"
            form.vat_academy.data = "standard"
            form.rate_academy.data = "20"
            form.vat_other.data = "standard"
            form.rate_other.data = "20"
        return form
    from traded_app.domain.pricing import days_text

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
            _field_error(form, error.field, str(error))
        else:
            flash(f"{service.name} added. Set its price per day to offer it to schools.", "success")
            return redirect(url_for("admin.edit_service", service_id=service.id))
    return render_template("admin/service_form.html", form=form, service=None)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_service(service_id: int) -> str | BaseResponse:
    service = _or_404(Service, service_id)
    form = _service_form(service)
    if form.validate_on_submit():
        try:
            catalogue_admin.update_service(service, _details(form))
        except catalogue_admin.CatalogueError as error:
            _field_error(form, error.field, str(error))
        else:
            flash(f"{service.name} saved. Orders already submitted keep their terms.", "success")
            return redirect(url_for("admin.edit_service", service_id=service.id))
    return _service_page(service, form, _price_form(service))


def _price_form(service: Service, formdata: Any = None) -> PriceForm:
    years = catalogue_admin.price_years()
    form = PriceForm(formdata=formdata) if formdata is not None else PriceForm(formdata=None)
    form.year.choices = [(str(y.start_year), y.label) for y in years]
    return form


def _service_page(service: Service, form: ServiceForm, price_form: PriceForm) -> str:
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
    )


@bp.route("/services/<int:service_id>/prices", methods=["POST"])
@roles_required(ADMIN)
def set_price(service_id: int) -> str | BaseResponse:
    service = _or_404(Service, service_id)
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
            return redirect(url_for("admin.edit_service", service_id=service.id))
    return _service_page(service, _service_form(service), price_form)


@bp.route("/services/<int:service_id>/retire", methods=["POST"])
@roles_required(ADMIN)
def retire_service(service_id: int) -> BaseResponse:
    service = _or_404(Service, service_id)
    if EmptyForm().validate_on_submit():
        catalogue_admin.set_active(service, False)
        flash(f"{service.name} is retired: schools can no longer order it.", "success")
    return redirect(url_for("admin.edit_service", service_id=service.id))


@bp.route("/services/<int:service_id>/reinstate", methods=["POST"])
@roles_required(ADMIN)
def reinstate_service(service_id: int) -> BaseResponse:
    service = _or_404(Service, service_id)
    if EmptyForm().validate_on_submit():
        catalogue_admin.set_active(service, True)
        flash(f"{service.name} is offered again.", "success")
    return redirect(url_for("admin.edit_service", service_id=service.id))


# --- Schools ----------------------------------------------------------------------------------


@bp.route("/schools")
@roles_required(ADMIN)
def schools() -> str:
    query = request.args.get("q", "")[:100]
    status = request.args.get("status", "open")
    if status not in ("open", "closed", "all"):
        status = "open"
    result = school_admin.search_all_schools(query, status, _page())
    return _fragment_or_page(
        "admin/_school_results.html",
        "admin/schools.html",
        query=query,
        status=status,
        result=result,
        recent_imports=gias_import.recent_imports(5),
    )


def _school_by_urn(urn: int) -> School:
    from sqlalchemy import select

    school = db.session.execute(select(School).where(School.urn == urn)).scalar_one_or_none()
    if school is None:
        abort(404)
    return school


@bp.route("/schools/<int:urn>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_school(urn: int) -> str | BaseResponse:
    school = _school_by_urn(urn)
    if request.method == "POST":
        form = SchoolForm()
    else:
        from traded_app.formatting import pounds

        form = SchoolForm(
            data={
                "billing_route": school.billing_route.value,
                "cost_centre": school.cost_centre or "",
                "billing_contact_name": school.billing_contact_name,
                "billing_contact_email": school.billing_contact_email,
                "causing_concern": school.causing_concern,
                "enhanced_provision": school.enhanced_provision,
                "recruiting_headteacher": school.recruiting_headteacher,
                "quadrant_id": str(school.quadrant_id or ""),
                "partnership_id": str(school.partnership_id or ""),
                "approval_limit": pounds(school.approval_limit_pence).lstrip("£")
                if school.approval_limit_pence is not None
                else "",
                "po_required": school.po_required,
            }
        )
    form.quadrant_id.choices = [("", "None")] + [
        (str(q.id), q.name) for q in quadrant_admin.quadrants()
    ]
    form.partnership_id.choices = [("", "None")] + [
        (str(p.id), f"{p.name} ({p.quadrant.name})") for p in partnerships.active_partnerships()
    ]
    if school.partnership and not school.partnership.active:
        form.partnership_id.choices.append((str(school.partnership_id), school.partnership.name))
    if form.validate_on_submit():
        edit = school_admin.SchoolEdit(
            billing_route=BillingRoute(form.billing_route.data),
            cost_centre=form.cost_centre.data or "",
            billing_contact_name=form.billing_contact_name.data or "",
            billing_contact_email=form.billing_contact_email.data or "",
            causing_concern=bool(form.causing_concern.data),
            enhanced_provision=bool(form.enhanced_provision.data),
            recruiting_headteacher=bool(form.recruiting_headteacher.data),
            quadrant_id=int(form.quadrant_id.data) if form.quadrant_id.data else None,
            partnership_id=int(form.partnership_id.data) if form.partnership_id.data else None,
            approval_limit_pence=form.approval_limit_pence,
            po_required=bool(form.po_required.data),
        )
        try:
            school_admin.update_school(school, edit)
        except school_admin.AdminError as error:
            _field_error(form, error.field, str(error))
        else:
            flash(f"{school.name} saved.", "success")
            return redirect(url_for("admin.edit_school", urn=school.urn))
    return render_template(
        "admin/school_form.html",
        form=form,
        school=school,
        successor=school_admin.successor_of(school),
        history=audit.history_of("school", school.id),
    )


@bp.route("/schools/import", methods=["GET", "POST"])
@roles_required(ADMIN)
def gias_upload() -> str | BaseResponse:
    form = GiasUploadForm()
    settings = council_settings()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            record = gias_import.preview(
                upload.stream,
                upload.filename or "",
                settings.la_code if settings else "",
                current_user,
                max_bytes=current_app.config.get("GIAS_MAX_BYTES", gias_import.MAX_BYTES),
            )
        except gias_import.GiasFileError as error:
            problems = error.problems
            form.file.errors = [problems[0]]
        else:
            return redirect(url_for("admin.gias_preview", import_id=record.id))
        finally:
            upload.close()  # the spooled temporary file, as soon as it is read
    return render_template(
        "admin/gias_upload.html",
        form=form,
        problems=problems,
        la_code=settings.la_code if settings else "",
        recent_imports=gias_import.recent_imports(10),
    )


@bp.route("/schools/import/<int:import_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def gias_preview(import_id: int) -> str | BaseResponse:
    record = _or_404(GiasImport, import_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            outcome = gias_import.apply(record, current_user)
        except gias_import.ImportStateError as error:
            flash(str(error), "info")
        else:
            flash(
                f"Import applied: {outcome['new']} new, {outcome['changed']} changed, "
                f"{outcome['closed']} closed and {outcome['converted']} converted schools.",
                "success",
            )
        return redirect(url_for("admin.gias_preview", import_id=record.id))
    summary = gias_import.summary_of(record)
    plan = gias_import.plan_of(record) if record.status.value == "previewed" else None
    return render_template(
        "admin/gias_preview.html",
        form=form,
        record=record,
        summary=summary,
        plan=plan,
        limit=gias_import.PREVIEW_LIMIT,
        field_labels=gias_import.FIELD_LABELS,
        quadrant_names={q.id: q.name for q in quadrant_admin.quadrants()},
    )


@bp.route("/schools/import/<int:import_id>/discard", methods=["POST"])
@roles_required(ADMIN)
def gias_discard(import_id: int) -> BaseResponse:
    record = _or_404(GiasImport, import_id)
    if EmptyForm().validate_on_submit():
        try:
            gias_import.discard(record)
        except gias_import.ImportStateError as error:
            flash(str(error), "info")
        else:
            flash("Import discarded: nothing was changed.", "success")
    return redirect(url_for("admin.gias_upload"))


# --- Partnerships and quadrants -------------------------------------------------------------------


def _quadrant_choices(form: Any) -> None:
    form.quadrant_id.choices = [("", "Select a quadrant")] + [
        (str(q.id), q.name) for q in quadrant_admin.quadrants()
    ]


@bp.route("/partnerships", methods=["GET", "POST"])
@roles_required(ADMIN)
def partnerships_page() -> str | BaseResponse:
    form = PartnershipForm()
    _quadrant_choices(form)
    if form.validate_on_submit():
        try:
            partnership = partnerships.save_partnership(
                None, form.name.data or "", int(form.quadrant_id.data or 0)
            )
        except (partnerships.AdminError, ValueError) as error:
            _field_error(form, getattr(error, "field", "quadrant_id"), str(error))
        else:
            flash(f"{partnership.name} added. Add its schools below.", "success")
            return redirect(url_for("admin.edit_partnership", partnership_id=partnership.id))
    return render_template(
        "admin/partnerships.html", form=form, rows=partnerships.all_partnerships()
    )


@bp.route("/partnerships/<int:partnership_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_partnership(partnership_id: int) -> str | BaseResponse:
    partnership = _or_404(Partnership, partnership_id)
    if request.method == "POST":
        form = PartnershipForm()
    else:
        form = PartnershipForm(
            data={
                "name": partnership.name,
                "quadrant_id": str(partnership.quadrant_id),
                "active": partnership.active,
            }
        )
    _quadrant_choices(form)
    if form.validate_on_submit():
        try:
            partnerships.save_partnership(
                partnership,
                form.name.data or "",
                int(form.quadrant_id.data or 0),
                bool(form.active.data),
            )
        except partnerships.AdminError as error:
            _field_error(form, error.field, str(error))
        else:
            flash(f"{partnership.name} saved.", "success")
            return redirect(url_for("admin.edit_partnership", partnership_id=partnership.id))
    return _partnership_page(partnership, form, MemberForm(formdata=None))


def _partnership_page(
    partnership: Partnership, form: PartnershipForm, member_form: MemberForm
) -> str:
    return render_template(
        "admin/partnership.html",
        form=form,
        member_form=member_form,
        partnership=partnership,
        members=partnerships.members(partnership),
    )


@bp.route("/partnerships/<int:partnership_id>/members", methods=["POST"])
@roles_required(ADMIN)
def add_member(partnership_id: int) -> Any:
    partnership = _or_404(Partnership, partnership_id)
    member_form = MemberForm()
    if member_form.validate_on_submit():
        try:
            school = partnerships.add_member(partnership, int(member_form.urn.data))
        except partnerships.AdminError as error:
            member_form.urn.errors = [str(error)]
        else:
            flash(f"{school.name} added to {partnership.name}.", "success")
            return redirect(url_for("admin.edit_partnership", partnership_id=partnership.id))
    form = PartnershipForm(
        formdata=None,
        data={
            "name": partnership.name,
            "quadrant_id": str(partnership.quadrant_id),
            "active": partnership.active,
        },
    )
    _quadrant_choices(form)
    return _partnership_page(partnership, form, member_form)


@bp.route("/partnerships/<int:partnership_id>/members/<int:urn>/remove", methods=["POST"])
@roles_required(ADMIN)
def remove_member(partnership_id: int, urn: int) -> BaseResponse:
    partnership = _or_404(Partnership, partnership_id)
    school = _school_by_urn(urn)
    if EmptyForm().validate_on_submit():
        try:
            partnerships.remove_member(partnership, school)
        except partnerships.AdminError as error:
            flash(str(error), "info")
        else:
            flash(f"{school.name} removed from {partnership.name}.", "success")
    return redirect(url_for("admin.edit_partnership", partnership_id=partnership.id))


@bp.route("/quadrants")
@roles_required(ADMIN)
def quadrants() -> str:
    years = catalogue_admin.price_years()
    return render_template(
        "admin/quadrants.html", years=years, rows=quadrant_admin.quadrant_rows(years)
    )


@bp.route("/quadrants/<int:quadrant_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_quadrant(quadrant_id: int) -> str | BaseResponse:
    quadrant = _or_404(Quadrant, quadrant_id)
    years = catalogue_admin.price_years()
    cells = quadrant_admin.capacity_cells(quadrant, years)
    start_years = [y.start_year for y in years]
    if request.method == "POST":
        form = quadrant_form(start_years)
    else:
        from traded_app.domain.pricing import days_text

        data: dict[str, Any] = {"districts": "\n".join(d.name for d in quadrant.districts)}
        for cell in cells:
            if cell.capacity_half_days is not None:
                data[f"capacity_{cell.year.start_year}"] = days_text(cell.capacity_half_days)
        form = quadrant_form(start_years, data=data)
    if form.validate_on_submit():
        if _save_quadrant(quadrant, years, form):
            flash(f"{quadrant.name} saved.", "success")
            return redirect(url_for("admin.quadrants"))
        db.session.rollback()
    return render_template(
        "admin/quadrant.html", form=form, quadrant=quadrant, cells=cells, years=years
    )


def _save_quadrant(quadrant: Quadrant, years: list[AcademicYear], form: QuadrantForm) -> bool:
    from wtforms.validators import StopValidation

    ok = True
    capacities: list[tuple[AcademicYear, int]] = []
    for year in years:
        field = getattr(form, f"capacity_{year.start_year}")
        if not (field.data or "").strip():
            continue
        try:
            capacities.append((year, days_value(field, minimum=0, maximum=20_000)))
        except StopValidation as error:
            field.errors = [str(error)]
            ok = False
    if not ok:
        return False
    try:
        quadrant_admin.set_districts(quadrant, (form.districts.data or "").splitlines())
        for year, half_days in capacities:
            quadrant_admin.set_capacity(quadrant, year, half_days)
    except quadrant_admin.AdminError as error:
        _field_error(form, error.field, str(error))
        return False
    return True


# --- Users ------------------------------------------------------------------------------------


@bp.route("/users")
@roles_required(ADMIN)
def users() -> str:
    query = request.args.get("q", "")[:100]
    role_arg = request.args.get("role", "")
    role = Role(role_arg) if role_arg in {r.value for r in Role} else None
    show = request.args.get("show", "active")
    if show not in ("active", "deactivated", "all"):
        show = "active"
    result = users_admin.search_users(query, role, show, _page())
    return _fragment_or_page(
        "admin/_user_results.html",
        "admin/users.html",
        query=query,
        role=role,
        show=show,
        roles=list(Role),
        result=result,
        status_label=users_admin.status_label,
    )


def _user_details(form: UserForm) -> users_admin.UserDetails:
    role = Role(form.role.data)
    return users_admin.UserDetails(
        name=form.name.data or "",
        email=form.email.data or "",
        role=role,
        school_urn=int(form.school_urn.data)
        if role.is_school_role and form.school_urn.data
        else None,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def invite_user() -> str | BaseResponse:
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = users_admin.invite(_user_details(form), current_user)
        except users_admin.UserAdminError as error:
            _field_error(form, error.field, str(error))
        else:
            flash(f"Invitation sent to {user.email}. The link works for 7 days.", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_user(user_id: int) -> str | BaseResponse:
    user = _or_404(User, user_id)
    if request.method == "POST":
        form = UserForm()
    else:
        form = UserForm(
            data={
                "name": user.name,
                "email": user.email,
                "role": user.role.value,
                "school_urn": str(user.school.urn) if user.school else "",
            }
        )
    if form.validate_on_submit():
        try:
            users_admin.update_user(user, _user_details(form), current_user)
        except users_admin.UserAdminError as error:
            _field_error(form, error.field, str(error))
        else:
            flash(f"{user.name} saved.", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        status=users_admin.status_label(user),
        has_password=users_admin.has_password(user),
        history=audit.history_of("user_account", user.id),
    )


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@roles_required(ADMIN)
def deactivate_user(user_id: int) -> BaseResponse:
    user = _or_404(User, user_id)
    if EmptyForm().validate_on_submit():
        try:
            users_admin.deactivate(user, current_user)
        except users_admin.UserAdminError as error:
            flash(str(error), "info")
        else:
            flash(f"{user.name} is deactivated and has been signed out.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@roles_required(ADMIN)
def reactivate_user(user_id: int) -> BaseResponse:
    user = _or_404(User, user_id)
    if EmptyForm().validate_on_submit():
        users_admin.reactivate(user)
        flash(f"{user.name} can sign in again.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/invite", methods=["POST"])
@roles_required(ADMIN)
def resend_invite(user_id: int) -> BaseResponse:
    user = _or_404(User, user_id)
    if EmptyForm().validate_on_submit():
        try:
            users_admin.send_invitation(user, current_user)
        except users_admin.UserAdminError as error:
            flash(str(error), "info")
        else:
            flash(f"A new invitation was sent to {user.email}.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


# --- Council settings and academic years ------------------------------------------------------


def _settings_data() -> dict[str, Any]:
    from traded_app.domain.pricing import days_text
    from traded_app.formatting import pounds
    from traded_app.forms.admin import CORE_FIELDS

    settings = council_settings()
    if settings is None:
        return {
            "invoice_prefix": "INV",
            "recharge_prefix": "RCH",
            "credit_note_prefix": "CRN",
            "payment_terms_days": "30",
            "reminder_interval_days": "14",
            "invoice_timing": "on_confirmation",
            "financial_year_start_month": "4",
            "default_price": "450",
            "cancellation_notice_days": "10",
            **{name: "0" for name in CORE_FIELDS},
        }
    data: dict[str, Any] = {
        name: getattr(settings, name)
        for name in settings_admin.EDITABLE
        if not name.endswith(("_pence", "_half_days"))
    }
    data["payment_terms_days"] = str(settings.payment_terms_days)
    data["reminder_interval_days"] = str(settings.reminder_interval_days)
    data["cancellation_notice_days"] = str(settings.cancellation_notice_days)
    data["financial_year_start_month"] = str(settings.financial_year_start_month)
    data["default_price"] = pounds(settings.default_price_per_day_pence).lstrip("£")
    data["default_approval_limit"] = (
        pounds(settings.default_approval_limit_pence).lstrip("£")
        if settings.default_approval_limit_pence is not None
        else ""
    )
    for name in CORE_FIELDS:
        data[name] = days_text(getattr(settings, f"{name}_half_days"))
    return data


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(ADMIN)
def settings() -> str | BaseResponse:
    form = SettingsForm() if request.method == "POST" else SettingsForm(data=_settings_data())
    if form.validate_on_submit():
        try:
            settings_admin.update_settings(council_settings(), form.values)
        except settings_admin.SettingsError as error:
            _field_error(form, error.field, str(error))
        else:
            flash("Council settings saved.", "success")
            return redirect(url_for("admin.settings"))
    return render_template(
        "admin/settings.html",
        form=form,
        years=settings_admin.academic_years(),
        history=audit.history_of("council_settings", 1)[-10:],
    )


@bp.route("/academic-years", methods=["POST"])
@roles_required(ADMIN)
def add_academic_year() -> BaseResponse:
    if EmptyForm().validate_on_submit():
        year = settings_admin.add_next_year()
        flash(f"Academic year {year.label} added.", "success")
    return redirect(url_for("admin.settings") + "#academic-years")


@bp.route("/academic-years/<int:start_year>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_academic_year(start_year: int) -> str | BaseResponse:
    from sqlalchemy import select

    year = db.session.execute(
        select(AcademicYear).where(AcademicYear.start_year == start_year)
    ).scalar_one_or_none()
    if year is None:
        abort(404)
    if request.method == "POST":
        form = AcademicYearForm()
    else:
        form = AcademicYearForm(data={"starts_on": year.starts_on, "ends_on": year.ends_on})
    if form.validate_on_submit() and form.starts_on.data and form.ends_on.data:
        try:
            settings_admin.update_academic_year(year, form.starts_on.data, form.ends_on.data)
        except settings_admin.SettingsError as error:
            _field_error(form, error.field, str(error))
        else:
            flash(f"Academic year {year.label} saved.", "success")
            return redirect(url_for("admin.settings") + "#academic-years")
    return render_template("admin/academic_year.html", form=form, year=year)


# --- Audit trail --------------------------------------------------------------------------------


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _audit_filters() -> audit.AuditFilters:
    entity = request.args.get("entity", "")
    action = request.args.get("action", "")
    return audit.AuditFilters(
        entity=entity if entity in dict(audit.entity_choices()) else "",
        actor_id=_int_arg("actor"),
        action=action if action in ("created", "updated", "deleted") else "",
        text=request.args.get("q", "").strip()[:100],
        date_from=_date_arg("from"),
        date_to=_date_arg("to"),
        page=_page(),
    )


@bp.route("/audit")
@roles_required(ADMIN)
def audit_trail() -> str:
    filters = _audit_filters()
    return _fragment_or_page(
        "admin/_audit_results.html",
        "admin/audit.html",
        filters=filters,
        result=audit.search(filters),
        entities=audit.entity_choices(),
        actors=audit.actors(),
        entity_title=audit.entity_title,
        bad_dates=[
            name for name in ("from", "to") if request.args.get(name) and _date_arg(name) is None
        ],
    )


@bp.route("/audit.csv")
@roles_required(ADMIN)
def audit_csv() -> Response:
    filters = _audit_filters()
    body = "".join(audit.export_csv(filters))
    stamp = date.today().isoformat()  # noqa: DTZ011 - a file name
    return Response(
        "\ufeff" + body,  # a byte-order mark so Excel reads the file as UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="audit-trail-{stamp}.csv"'},
    )
