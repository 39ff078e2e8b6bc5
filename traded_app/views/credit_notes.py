"""Finance raises a credit note against an issued VAT invoice or internal recharge: the days of
each line to credit (or, for a brought-forward invoice, an amount) and a reason, then a check of
the totals the server works out, with a warning, then the credit note is issued. Only finance
officers: the service manager reads the register but does not move money."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import roles_required
from traded_app.domain.days_input import DaysError, parse_days
from traded_app.domain.pricing import MoneyError, Totals, parse_pounds
from traded_app.domain.types import Role
from traded_app.forms.auth import EmptyForm
from traded_app.services.documents import crediting

bp = Blueprint("credit_notes", __name__)

EXPIRED = "The form had expired: check your answers again"


@bp.route("/finance/documents/<int:document_id>/credit-note", methods=["GET", "POST"])
@roles_required(Role.LA_FINANCE)
def raise_credit_note(document_id: int) -> str | Response:
    """GET the form; POST `step=check` shows the server's totals with a warning, `step=issue`
    issues the credit note, `step=change` goes back to the form with the answers kept."""
    pos = crediting.position(document_id)
    form = EmptyForm()
    errors: dict[str, str] = {}
    checking = None
    if pos.refusal is not None:
        errors["what"] = pos.refusal.message
    elif request.method == "POST":
        step = request.form.get("step", "check")
        if not form.validate_on_submit():
            errors["what"] = EXPIRED
        elif step != "change":
            asked, errors = _asked(pos)
            if not errors and step == "issue":
                try:
                    note = crediting.raise_credit_note(document_id, current_user, asked)
                except crediting.CreditNoteError as error:
                    errors = {error.field or "what": str(error)}
                else:
                    flash(
                        f"Credit note {note.number} issued against {pos.document.number} "
                        "and being e-mailed to the school's billing contact.",
                        "success",
                    )
                    return redirect(url_for("documents.document_detail", document_id=note.id))
            elif not errors:
                checking, errors = _checked(pos, asked)
    return render_template(
        "credit_notes/raise.html",
        pos=pos,
        form=form,
        errors=errors,
        values=request.form,
        checking=checking,
        elsewhere=_elsewhere_url(pos),
    )


def _asked(pos: crediting.Position) -> tuple[crediting.Request, dict[str, str]]:
    """What the form asks to credit, or the form's errors (the figures are never read)."""
    reason = request.form.get("reason", "")
    errors: dict[str, str] = {}
    if pos.by_amount:
        try:
            amount = parse_pounds(request.form.get("amount"))
        except MoneyError as error:
            return crediting.Request(reason, {}), {"amount": str(error)}
        return crediting.Request(reason, {}, amount), errors
    half_days: dict[str, int] = {}
    for line in pos.lines:
        raw = request.form.get(line.field, "").strip()
        if not raw or raw == "0" or not line.left_half_days:
            continue
        try:
            half_days[line.code] = parse_days(raw)
        except DaysError as error:
            errors[line.field] = f"{line.name}: {error}"
    return crediting.Request(reason, half_days), errors


def _checked(
    pos: crediting.Position, asked: crediting.Request
) -> tuple[Totals | None, dict[str, str]]:
    """The totals the server works out for the check, or every error found (days and reason)."""
    errors: dict[str, str] = {}
    totals = None
    try:
        totals = crediting.totals_for(pos, asked)
    except crediting.CreditNoteError as error:
        errors[error.field or "what"] = str(error)
    try:
        crediting.reason_text(asked.reason)
    except crediting.CreditNoteError as error:
        errors[error.field or "reason"] = str(error)
    return (None if errors else totals), errors


def _elsewhere_url(pos: crediting.Position) -> str | None:
    """Where a document refused here is credited instead."""
    if pos.refusal is None:
        return None
    document, kind = pos.document, pos.refusal.elsewhere
    if kind == crediting.Elsewhere.PARTNERSHIP_SHARE:
        return url_for("partnership_orders.credit_share", document_id=document.id)
    if kind == crediting.Elsewhere.COURSE_BOOKING and document.course_booking_id:
        return url_for("courses.booking_detail", booking_id=document.course_booking_id)
    if kind == crediting.Elsewhere.ENGAGEMENT and document.engagement_id:
        return url_for("brokering_money.engagement_money", engagement_id=document.engagement_id)
    if kind == crediting.Elsewhere.ORDER and document.order_id:
        return url_for("orders.order_detail", order_id=document.order_id)
    return None
