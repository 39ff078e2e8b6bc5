"""What the school's and the trust's statement and remittance pages share: the statement's
period read from the query string, a statement file sent as a download, and the remittance
form's handling (a school's and a trust's differ only in the payer and the thanks)."""

from __future__ import annotations

from datetime import date

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.formatting import pounds
from traded_app.forms.statements import RemittanceForm, parse_period
from traded_app.services.council.trusts import School, Trust
from traded_app.services.finance import remittances, statements
from traded_app.services.finance.remittances import Payable


def statement_period() -> tuple[date, date, list[tuple[str, str]]]:
    """The period asked for in the query string, or the default with the problems found."""
    start, end, errors = parse_period(request.args)
    if not errors:
        try:
            return (*statements.check_period(start, end), [])
        except statements.StatementError as error:
            errors = [(error.field or "from", str(error))]
    return (*statements.default_period(), errors)


def download(body: bytes | str, mimetype: str, filename: str) -> Response:
    """A file the browser saves (never shows), and never caches."""
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def remittance_form(
    payer: School | Trust, payable: list[Payable], covers: str, page_endpoint: str
) -> tuple[RemittanceForm, set[int]] | BaseResponse:
    """The remittance form of `payer` (a school, or a trust for its academies' invoices) over the
    invoices it may cover: on GET a new form with its one-time key; on a good POST the
    remittance recorded, thanks flashed (the council will match it to `covers`) and a redirect
    to `page_endpoint`; otherwise the form with its errors and the invoices ticked."""
    form = RemittanceForm()
    form.documents.choices = [(p.document.id, p.document.number) for p in payable]
    if request.method == "GET":
        form.form_key.data = remittances.new_form_key()
    elif form.validate_on_submit():
        assert form.paid_on.data is not None and form.amount.pence is not None
        try:
            upload = request.files.get("file")
            file = None
            if upload is not None and upload.filename:
                file = remittances.check_file(
                    upload.filename, upload.read(remittances.MAX_FILE_BYTES + 1)
                )
            remittance = remittances.submit(
                payer,
                current_user,
                form.form_key.data or "",
                form.amount.pence,
                form.paid_on.data,
                form.reference.data or "",
                form.documents.data or [],
                form.note.data or "",
                file,
            )
        except remittances.RemittanceError as error:
            field = getattr(form, error.field, None) if error.field else None
            (field.errors if field is not None else form.form_errors).append(str(error))  # type: ignore[union-attr]
        else:
            flash(
                f"Thank you: the council has your remittance for {pounds(remittance.amount_pence)} "
                f"(reference {remittance.reference}) and will match it to {covers}.",
                "success",
            )
            return redirect(url_for(page_endpoint))
    chosen = set(form.documents.data or []) if request.method == "POST" else set()
    return form, chosen
