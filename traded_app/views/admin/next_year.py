"""Next year's offer (the service manager): prices beside this year's, a preview as a school
sees it, and publishing it with the buy-back window."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain.types import CustomerType
from traded_app.formatting import long_date
from traded_app.forms.buy_back import PublishOfferForm
from traded_app.services.council import offer_publishing
from traded_app.services.council.catalogue import CatalogueError
from traded_app.services.ordering.buy_back import LateRule, WindowState
from traded_app.services.ordering.offer import grouped
from traded_app.views.admin.common import ADMIN, bp, field_error


@bp.route("/next-year", methods=["GET", "POST"])
@roles_required(ADMIN)
def next_year() -> str | BaseResponse:
    prepared = offer_publishing.preparation()
    if prepared is None:  # next academic year not set up: say where to set it up
        return render_template("admin/next_year_missing.html")
    year = prepared.next_year
    if request.method == "POST":
        form = PublishOfferForm()
    else:
        form = PublishOfferForm(
            data={
                "opens_on": year.buy_back_opens_on,
                "closes_on": year.buy_back_closes_on,
                "late_rule": prepared.late_rule.value,
            }
        )
    if form.validate_on_submit() and form.opens_on.data and form.closes_on.data:
        first = prepared.state == WindowState.NOT_PUBLISHED
        try:
            offer_publishing.publish(
                year, form.opens_on.data, form.closes_on.data, LateRule(form.late_rule.data)
            )
        except CatalogueError as error:
            field_error(form, error.field, str(error))
        else:
            window = f"{long_date(form.opens_on.data)} to {long_date(form.closes_on.data)}"
            flash(
                f"{year.label}'s offer is published: schools can order it from {window}."
                if first
                else f"{year.label}'s buy-back window is now {window}.",
                "success",
            )
            return redirect(url_for("admin.next_year"))
    return render_template("admin/next_year.html", prepared=prepared, form=form)


@bp.route("/next-year/preview")
@roles_required(ADMIN)
def next_year_preview() -> str | BaseResponse:
    prepared = offer_publishing.preparation()
    if prepared is None:
        return redirect(url_for("admin.next_year"))
    wanted = request.args.get("customer", CustomerType.MAINTAINED.value)
    customer = next((c for c in CustomerType if c.value == wanted), None)
    if customer is None:
        abort(404)
    entries = offer_publishing.preview(prepared.next_year, customer)
    return render_template(
        "admin/next_year_preview.html",
        prepared=prepared,
        customer=customer,
        customer_types=list(CustomerType),
        groups=grouped(entries),
    )
