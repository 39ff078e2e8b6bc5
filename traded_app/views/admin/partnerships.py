"""Partnerships of schools and the quadrant teams: members, districts and traded capacity."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms.validators import StopValidation

from traded_app.access import roles_required
from traded_app.domain.pricing import days_text
from traded_app.forms.admin import (
    MemberForm,
    PartnershipForm,
    QuadrantForm,
    days_value,
    quadrant_form,
)
from traded_app.forms.auth import EmptyForm
from traded_app.services.council import catalogue as catalogue_admin
from traded_app.services.council import partnerships
from traded_app.services.council import quadrants as quadrant_admin
from traded_app.services.council import schools as school_admin
from traded_app.views.admin.common import ADMIN, bp, field_error

# --- Partnerships -----------------------------------------------------------------------------


def _quadrant_choices(form: Any) -> None:
    form.quadrant_id.choices = [("", "Select a quadrant")] + [
        (str(q.id), q.name) for q in quadrant_admin.quadrants()
    ]


def _partnership_form(partnership: partnerships.Partnership, **kwargs: Any) -> PartnershipForm:
    form = PartnershipForm(
        data={
            "name": partnership.name,
            "quadrant_id": str(partnership.quadrant_id),
            "active": partnership.active,
        },
        **kwargs,
    )
    _quadrant_choices(form)
    return form


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
            field_error(form, getattr(error, "field", "quadrant_id"), str(error))
        else:
            flash(f"{partnership.name} added. Add its schools below.", "success")
            return redirect(url_for("admin.edit_partnership", partnership_id=partnership.id))
    return render_template(
        "admin/partnerships.html", form=form, rows=partnerships.all_partnerships()
    )


@bp.route("/partnerships/<int:partnership_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_partnership(partnership_id: int) -> str | BaseResponse:
    partnership = partnerships.partnership_by_id(partnership_id)
    if request.method == "POST":
        form = PartnershipForm()
        _quadrant_choices(form)
    else:
        form = _partnership_form(partnership)
    if form.validate_on_submit():
        try:
            partnerships.save_partnership(
                partnership,
                form.name.data or "",
                int(form.quadrant_id.data or 0),
                bool(form.active.data),
            )
        except partnerships.AdminError as error:
            field_error(form, error.field, str(error))
        else:
            flash(f"{partnership.name} saved.", "success")
            return redirect(url_for("admin.edit_partnership", partnership_id=partnership.id))
    return _partnership_page(partnership, form, MemberForm(formdata=None))


def _partnership_page(
    partnership: partnerships.Partnership, form: PartnershipForm, member_form: MemberForm
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
    partnership = partnerships.partnership_by_id(partnership_id)
    member_form = MemberForm()
    if member_form.validate_on_submit():
        try:
            school = partnerships.add_member(partnership, int(member_form.urn.data))
        except partnerships.AdminError as error:
            member_form.urn.errors = [str(error)]
        else:
            flash(f"{school.name} added to {partnership.name}.", "success")
            return redirect(url_for("admin.edit_partnership", partnership_id=partnership.id))
    form = _partnership_form(partnership, formdata=None)
    return _partnership_page(partnership, form, member_form)


@bp.route("/partnerships/<int:partnership_id>/members/<int:urn>/remove", methods=["POST"])
@roles_required(ADMIN)
def remove_member(partnership_id: int, urn: int) -> BaseResponse:
    partnership = partnerships.partnership_by_id(partnership_id)
    school = school_admin.school_visible_to(current_user, urn)
    if EmptyForm().validate_on_submit():
        try:
            partnerships.remove_member(partnership, school)
        except partnerships.AdminError as error:
            flash(str(error), "info")
        else:
            flash(f"{school.name} removed from {partnership.name}.", "success")
    return redirect(url_for("admin.edit_partnership", partnership_id=partnership.id))


# --- Quadrant teams ---------------------------------------------------------------------------


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
    quadrant = quadrant_admin.quadrant_by_id(quadrant_id)
    years = catalogue_admin.price_years()
    cells = quadrant_admin.capacity_cells(quadrant, years)
    start_years = [y.start_year for y in years]
    if request.method == "POST":
        form = quadrant_form(start_years)
    else:
        data: dict[str, Any] = {"districts": "\n".join(d.name for d in quadrant.districts)}
        for cell in cells:
            if cell.capacity_half_days is not None:
                data[f"capacity_{cell.year.start_year}"] = days_text(cell.capacity_half_days)
        form = quadrant_form(start_years, data=data)
    if form.validate_on_submit() and _save_quadrant(quadrant, years, form):
        flash(f"{quadrant.name} saved.", "success")
        return redirect(url_for("admin.quadrants"))
    return render_template(
        "admin/quadrant.html", form=form, quadrant=quadrant, cells=cells, years=years
    )


def _save_quadrant(
    quadrant: quadrant_admin.Quadrant,
    years: list[quadrant_admin.AcademicYear],
    form: QuadrantForm,
) -> bool:
    """Save the districts and each year's capacity; False, with the errors on the form, if any
    was refused (the request then keeps none of them)."""
    ok = True
    capacities: list[tuple[quadrant_admin.AcademicYear, int]] = []
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
        field_error(form, error.field, str(error))
        return False
    return True
