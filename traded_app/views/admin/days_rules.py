"""The council's rules for days over time (the service manager): the pace that makes days at
risk, the warnings headteachers get, and what happens to unused days at the year's end."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.pricing import DaysError, parse_days
from traded_app.forms.days_rules import DaysRulesForm
from traded_app.services.days import over_time
from traded_app.views.admin.common import ADMIN, bp, field_error


def _days_text(half_days: int) -> str:
    whole, half = divmod(half_days, 2)
    return f"{whole}.5" if half else str(whole)


def _half_days(form: DaysRulesForm, field: str, label: str, minimum: int) -> int | None:
    raw = getattr(form, field).data
    try:
        return parse_days(raw, minimum=minimum, maximum=400)
    except DaysError as error:
        field_error(form, field, f"{label}: {str(error)[0].lower()}{str(error)[1:]}")
        return None


@bp.route("/days-rules", methods=["GET", "POST"])
@roles_required(ADMIN)
def days_rules() -> str | BaseResponse:
    current = over_time.days_rules()
    if request.method == "GET":
        form = DaysRulesForm(
            data={
                "pace": _days_text(current.usable_half_days_per_week),
                "warn_at_risk": current.warn_at_risk,
                "lapse_warning": str(current.lapse_warning_days),
                "rule": current.rule.value,
                "carry_over": _days_text(current.carry_over_max_half_days),
                "core_carries_over": current.core_carries_over,
            }
        )
    else:
        form = DaysRulesForm()
    if form.validate_on_submit():
        pace = _half_days(form, "pace", "Days a week", 1)
        carry = (
            _half_days(form, "carry_over", "Days carried over", 0)
            if form.rule.data == "carry_over"
            else 0
        )
        warning = whole_number(form.lapse_warning.data or "")
        if warning is None:
            field_error(
                form, "lapse_warning", "Enter the warning as a whole number of days, like 31"
            )
        if pace is not None and carry is not None and warning is not None:
            try:
                over_time.save_rules(
                    usable_half_days_per_week=pace,
                    warn_at_risk=bool(form.warn_at_risk.data),
                    lapse_warning_days=warning,
                    rule=form.rule.data or "",
                    carry_over_max_half_days=carry,
                    core_carries_over=bool(form.core_carries_over.data),
                )
            except over_time.RulesError as error:
                field_error(form, error.field or "rule", str(error))
            else:
                flash("Rules for days over time saved.", "success")
                return redirect(url_for("admin.days_rules"))
    return render_template("admin/days_rules.html", form=form)
