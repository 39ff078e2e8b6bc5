"""Opening balances (finance): unpaid invoices of the council's previous system, uploaded as a
CSV file, previewed row by row, then recorded as brought-forward documents, all or none."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import roles_required
from traded_app.domain.types import Role
from traded_app.formatting import pounds
from traded_app.forms.auth import EmptyForm
from traded_app.forms.imports import CsvUploadForm
from traded_app.services.documents import brought_forward
from traded_app.services.platform import csv_upload
from traded_app.services.platform.errors import NotFound

bp = Blueprint("opening_balances", __name__, url_prefix="/finance/opening-balances")

FINANCE_ONLY = frozenset({Role.LA_FINANCE})


@bp.route("", methods=["GET", "POST"])
@roles_required(FINANCE_ONLY)
def upload() -> str | Response:
    form = CsvUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            record = brought_forward.preview(
                upload.stream,
                upload.filename or "",
                current_user,
                int(current_app.config.get("CSV_MAX_BYTES", csv_upload.MAX_BYTES)),
            )
        except csv_upload.CsvFileError as error:
            form.file.errors = [f"{error} Nothing was changed."]
        else:
            return redirect(url_for("opening_balances.preview", import_id=record.id))
        finally:
            upload.close()
    return render_template(
        "finance/opening_balances_upload.html",
        form=form,
        columns=brought_forward.COLUMNS,
        recent=csv_upload.recent(brought_forward.KIND),
    )


def _record(import_id: int) -> brought_forward.CsvImport:
    try:
        return csv_upload.get(import_id, brought_forward.KIND)
    except NotFound:
        abort(404)


@bp.route("/<int:import_id>", methods=["GET", "POST"])
@roles_required(FINANCE_ONLY)
def preview(import_id: int) -> str | Response:
    record = _record(import_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            documents = brought_forward.apply(record, current_user)
        except (csv_upload.CsvImportStateError, brought_forward.OpeningBalanceError) as error:
            flash(str(error), "info")
        else:
            total = sum(d.gross_pence for d in documents)
            flash(
                f"{len(documents)} unpaid invoices brought forward, {pounds(total)} in all. "
                "They are in the register and aged debt.",
                "success",
            )
        return redirect(url_for("opening_balances.preview", import_id=record.id))
    return render_template(
        "finance/opening_balances_preview.html",
        form=form,
        record=record,
        checked=brought_forward.check(csv_upload.rows_of(record)),
    )


@bp.route("/<int:import_id>/discard", methods=["POST"])
@roles_required(FINANCE_ONLY)
def discard(import_id: int) -> Response:
    record = _record(import_id)
    if EmptyForm().validate_on_submit():
        try:
            csv_upload.discard(record)
        except csv_upload.CsvImportStateError as error:
            flash(str(error), "info")
        else:
            flash("The file was discarded: nothing was recorded.", "success")
    return redirect(url_for("opening_balances.upload"))
