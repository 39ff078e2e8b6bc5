"""Set up the service, the catalogue: import services and prices from a CSV file (upload, see
the preview, confirm) and copy one year's prices into another."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.forms.auth import EmptyForm
from traded_app.forms.setup import CatalogueUploadForm, CopyPricesForm
from traded_app.services.council import catalogue as catalogue_admin
from traded_app.services.council import catalogue_csv
from traded_app.views.admin.common import ADMIN, bp


def _year_choices(form: CatalogueUploadForm | CopyPricesForm) -> None:
    choices = [(str(y.start_year), y.label) for y in catalogue_admin.price_years()]
    for field in ("year", "source", "target"):
        if hasattr(form, field):
            getattr(form, field).choices = choices


def _year(start: str | None) -> catalogue_admin.AcademicYear | None:
    return next((y for y in catalogue_admin.price_years() if str(y.start_year) == start), None)


@bp.route("/set-up/catalogue/import", methods=["GET", "POST"])
@roles_required(ADMIN)
def setup_catalogue_import() -> str | BaseResponse:
    form = CatalogueUploadForm()
    _year_choices(form)
    problems: list[str] = []
    if form.validate_on_submit():
        year = _year(form.year.data)
        upload = form.file.data
        try:
            if year is None:
                form.year.errors = ["Select the year the prices are for"]
            else:
                preview = catalogue_csv.read_catalogue(
                    upload.stream,
                    year,
                    max_bytes=current_app.config.get(
                        "CATALOGUE_MAX_BYTES", catalogue_csv.MAX_BYTES
                    ),
                )
                return render_template(
                    "admin/setup/catalogue_preview.html",
                    preview=preview,
                    year=year,
                    token=catalogue_csv.sign(preview),
                    confirm_form=EmptyForm(),
                )
        except catalogue_csv.CatalogueFileError as error:
            problems = error.problems
            form.file.errors = [problems[0]]
        finally:
            upload.close()
    return render_template(
        "admin/setup/catalogue_import.html",
        form=form,
        problems=problems,
        columns=catalogue_csv.COLUMNS,
        example=catalogue_csv.EXAMPLE,
    )


@bp.route("/set-up/catalogue/import/confirm", methods=["POST"])
@roles_required(ADMIN)
def setup_catalogue_confirm() -> BaseResponse:
    if EmptyForm().validate_on_submit():
        try:
            counts = catalogue_csv.apply(catalogue_csv.unsign(request.form.get("preview", "")))
        except catalogue_csv.CatalogueFileError as error:
            flash(f"Nothing was imported: {error}", "info")
            return redirect(url_for("admin.setup_catalogue_import"))
        flash(
            f"Catalogue imported: {counts['new']} new, {counts['changed']} changed and "
            f"{counts['unchanged']} unchanged services, each with its price.",
            "success",
        )
    return redirect(url_for("admin.setup_task", key="catalogue"))


@bp.route("/set-up/catalogue/copy", methods=["GET", "POST"])
@roles_required(ADMIN)
def setup_copy_prices() -> str | BaseResponse:
    form = CopyPricesForm()
    _year_choices(form)
    # Reached from next year's offer (?source=2026&target=2027&back=next-year): back there after.
    back = "next-year" if request.args.get("back") == "next-year" else ""
    if request.method == "GET":
        form.source.data = request.args.get("source", form.source.data)
        form.target.data = request.args.get("target", form.target.data)
    if form.validate_on_submit():
        source, target = _year(form.source.data), _year(form.target.data)
        if source is None or target is None:
            form.source.errors = ["Select two years"]
        else:
            try:
                copied = catalogue_csv.copy_prices(source, target, form.uplift_bp)
            except catalogue_admin.CatalogueError as error:
                form.target.errors = [str(error)]
            else:
                flash(f"{copied} prices copied from {source.label} to {target.label}.", "success")
                if back:
                    return redirect(url_for("admin.next_year"))
                return redirect(url_for("admin.setup_task", key="catalogue"))
    return render_template("admin/setup/copy_prices.html", form=form, back=back)
