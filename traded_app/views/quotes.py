"""Quotes and terms: a school's quote from its basket (the PDF, ordering at its prices), the
year's terms and conditions (the service manager publishes versions; anyone signed in reads
them) and the council's quote settings."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import ALL_ROLES, SCHOOL, roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import Role
from traded_app.formatting import sentence
from traded_app.forms.auth import EmptyForm
from traded_app.forms.quotes import QuoteSettingsForm, TermsForm
from traded_app.services.council import settings as council_settings
from traded_app.services.documents.numbering import InvoicingError
from traded_app.services.ordering import basket, buy_back, quotes, terms
from traded_app.services.platform.errors import NotFound

bp = Blueprint("quotes", __name__)


# --- A school's quotes ---------------------------------------------------------------------


@bp.route("/order/quote", methods=["POST"])
@roles_required(SCHOOL)
def new_quote() -> Response:
    """A quote for the basket as it is, at today's prices; its page offers the PDF."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    year = _ordering_year(whole_number(request.form.get("year")))
    if year is None:
        flash("Choose the year you are ordering for.", "info")
        return redirect(url_for("orders.catalogue"))
    try:
        quote = quotes.create(current_user.school, current_user, year)
    except (basket.OrderError, InvoicingError) as error:
        flash(sentence(str(error)), "info")
        return redirect(url_for("orders.catalogue"))
    flash(
        f"Quote {quote.number} is ready. Its prices hold until you order, up to its "
        "valid-until date.",
        "success",
    )
    return redirect(url_for("quotes.quote_detail", quote_id=quote.id))


def _visible_quote(quote_id: int) -> quotes.Quote:
    try:
        return quotes.visible_to(current_user, quote_id)
    except quotes.QuoteNotFound:
        abort(404)


@bp.route("/quotes/<int:quote_id>")
@roles_required(ALL_ROLES)
def quote_detail(quote_id: int) -> str:
    quote = _visible_quote(quote_id)
    return render_template(
        "orders/quote.html",
        quote=quote,
        valid=quotes.is_valid(quote),
        may_order=current_user.is_school_user
        and _ordering_year(quote.academic_year.start_year) is not None,
        form=EmptyForm(),
    )


@bp.route("/quotes/<int:quote_id>/pdf")
@roles_required(ALL_ROLES)
def quote_pdf(quote_id: int) -> Response:
    """The quote's PDF exactly as it was issued."""
    quote = _visible_quote(quote_id)
    response = Response(quote.pdf, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment", filename=f"{quote.number}.pdf")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/quotes/<int:quote_id>/order", methods=["POST"])
@roles_required(SCHOOL)
def order_from_quote(quote_id: int) -> Response:
    """Make the basket the quote's lines, at its prices while it is valid."""
    quote = _visible_quote(quote_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    year = _ordering_year(quote.academic_year.start_year)
    if year is None:
        abort(404)
    try:
        quotes.order_from(quote, current_user, year)
    except basket.OrderError as error:
        flash(sentence(str(error)), "info")
        return redirect(url_for("quotes.quote_detail", quote_id=quote.id))
    return redirect(url_for("orders.details", year=year.start_year))


def _ordering_year(start_year: int | None) -> basket.AcademicYear | None:
    """The year a quote is for: the one asked for while it can be ordered, or the only year
    that can be (None while two can be and none was named)."""
    return buy_back.years().orderable_year(start_year)


# --- The year's terms and conditions ---------------------------------------------------------


@bp.route("/terms/<int:terms_id>")
@roles_required(ALL_ROLES)
def terms_version(terms_id: int) -> str:
    try:
        version = terms.version_by_id(terms_id)
    except terms.TermsNotFound:
        abort(404)
    current = terms.current_for(version.academic_year_id)
    return render_template("council/terms_version.html", terms=version, current=current)


@bp.route("/council/terms", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def terms_list() -> str | Response:
    """Each year's terms in force, and the council's quote settings."""
    chosen = terms.quote_settings()
    if request.method == "POST":
        form = QuoteSettingsForm()
    else:
        form = QuoteSettingsForm(
            data={"prefix": chosen.prefix, "validity_days": str(chosen.validity_days)}
        )
    if form.validate_on_submit():
        try:
            terms.save_quote_settings(form.prefix_value, form.days_value)
        except terms.TermsError as error:
            form.prefix.errors = [str(error)]
        else:
            flash("Quote settings saved.", "success")
            return redirect(url_for("quotes.terms_list"))
    years = [(year, terms.current_for(year.id)) for year in council_settings.academic_years()]
    return render_template("council/terms.html", years=years, form=form)


@bp.route("/council/terms/<int:start_year>", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def publish_terms(start_year: int) -> str | Response:
    """Publish a new version of a year's terms (earlier versions stay as they were)."""
    try:
        year = council_settings.academic_year_by_start(start_year)
    except NotFound:
        abort(404)
    current = terms.current_for(year.id)
    if request.method == "POST":
        form = TermsForm()
    else:
        form = TermsForm(data={"text": current.text if current else ""})
    if form.validate_on_submit():
        try:
            published = terms.publish(year, form.text.data or "", current_user)
        except terms.TermsError as error:
            form.text.errors = [str(error)]
        else:
            flash(f"Version {published.version} of the {year.label} terms is published.", "success")
            return redirect(url_for("quotes.terms_list"))
    return render_template(
        "council/terms_publish.html",
        year=year,
        form=form,
        versions=terms.versions_for(year.id),
    )
