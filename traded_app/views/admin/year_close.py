"""Closing an academic year (the service manager): the preview per school of what carries over
and what lapses (paged, with the county's totals and a CSV), and Close the year (once)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app import formatting
from traded_app.access import roles_required
from traded_app.domain.numbers import whole_number
from traded_app.forms.year_close import YearCloseForm
from traded_app.services.days import year_close
from traded_app.services.platform.settings import today
from traded_app.views.admin.common import ADMIN, bp, page_arg


@bp.route("/year-close")
@roles_required(ADMIN)
def year_close_page() -> str:
    on = today()
    chosen = whole_number(request.args.get("year"))
    year = year_close.year_by_start(chosen) if chosen is not None else None
    year = year or year_close.default_year(on)
    if year is None:
        return render_template("admin/year_close.html", preview=None, years=[], on=on)
    preview = year_close.preview_page(year, on, page_arg())
    form = YearCloseForm(carried=str(preview.carried), lapsed=str(preview.lapsed))
    return render_template(
        "admin/year_close.html",
        preview=preview,
        result=preview.page,
        years=year_close.years(),
        closer=year_close.closer_name(preview.closed) if preview.closed else "",
        form=None,
        close_form=form,
        on=on,
    )


@bp.route("/year-close/<int:start_year>/preview.csv")
@roles_required(ADMIN)
def year_close_csv(start_year: int) -> BaseResponse:
    year = year_close.year_by_start(start_year)
    if year is None:
        abort(404)
    preview = year_close.preview(year, today())
    response = BaseResponse(year_close.preview_csv(preview), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="year-close-{preview.year.start_year}.csv"'
    )
    return response


@bp.route("/year-close/<int:start_year>", methods=["POST"])
@roles_required(ADMIN)
def close_year(start_year: int) -> BaseResponse:
    year = year_close.year_by_start(start_year)
    if year is None:
        abort(404)
    back = redirect(url_for("admin.year_close_page", year=start_year))
    form = YearCloseForm()
    if not form.validate_on_submit():
        flash("Check the preview again before closing the year.", "info")
        return back
    carried, lapsed = whole_number(form.carried.data), whole_number(form.lapsed.data)
    expected = (carried, lapsed) if carried is not None and lapsed is not None else None
    if expected is None:
        flash("Check the preview again before closing the year.", "info")
        return back
    try:
        closing = year_close.close_year(year, current_user, today(), expected=expected)
    except year_close.YearCloseError as error:
        flash(str(error), "info")
        return back
    flash(
        f"{year.label} is closed: {formatting.days(closing.carried_half_days)} carried over "
        f"into the next year and {formatting.days(closing.lapsed_half_days)} lapsed, "
        f"for {closing.schools} school{'' if closing.schools == 1 else 's'}.",
        "success",
    )
    return back
