"""Money between schools, as the council sees it: the service manager's setting (the council
invoices as the provider's agent for a brokerage fee, or providers invoice directly), finance's
list of what is owed to provider schools (mark paid, the CSV for the ledger), and the council's
view of each engagement's money, where it can record a provider's own invoice."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import roles_required
from traded_app.domain import brokerage
from traded_app.domain.types import Role
from traded_app.forms.brokering_money import MarkPaidForm, MoneySettingsForm, ProviderInvoiceForm
from traded_app.services.brokering import engagements as engagement_service
from traded_app.services.brokering import money as money_service
from traded_app.services.brokering import payouts as payout_service
from traded_app.services.brokering.offers import BrokeringError
from traded_app.services.finance.exports import ExportError, default_range
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.settings import today
from traded_app.views.form_posts import refuse

bp = Blueprint("brokering_money", __name__)

COUNCIL = {Role.LA_ADMIN, Role.LA_FINANCE}


# --- The service manager's setting ------------------------------------------------------------


@bp.route("/council/support/money", methods=["GET", "POST"])
@roles_required({Role.LA_ADMIN})
def settings() -> str | BaseResponse:
    current = money_service.money_settings()
    form = MoneySettingsForm()
    if request.method == "GET":
        form.billing.data = current.billing.value
        form.fee.data = brokerage.percent_text(current.fee_bp).removesuffix("%")
        form.vat_treatment.data = current.vat_treatment.value
        form.vat_rate.data = brokerage.percent_text(current.vat_rate_bp).removesuffix("%")
        form.income_code.data = current.income_code
    elif form.validate_on_submit():
        choice = money_service.MoneyChoice(
            form.billing.data or "",
            form.fee.basis_points,
            form.vat_treatment.data or "",
            form.vat_rate.basis_points,
            form.income_code.data or "",
        )
        try:
            money_service.save_settings(choice, current_user)
        except BrokeringError as error:
            refuse(form, error, "billing")
        else:
            flash("Saved: engagements chosen from now on are paid this way.", "success")
            return redirect(url_for("brokering_money.settings"))
    return render_template("brokering_money/settings.html", form=form, current=current)


# --- What is owed to provider schools ---------------------------------------------------------


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 6 else 1


def _payouts_page(form: MarkPaidForm | None = None, form_for: int | None = None) -> str:
    show = request.args.get("show", payout_service.OWED)
    if show not in payout_service.SHOWS:
        show = payout_service.OWED
    date_from, date_to = default_range()
    return render_template(
        "brokering_money/payouts.html",
        show=show,
        shows=payout_service.SHOWS,
        result=payout_service.payouts(show, _page_number()),
        totals=payout_service.totals(),
        form=form or MarkPaidForm(),
        form_for=form_for,
        date_from=date_from,
        date_to=date_to,
        today=today(),
    )


@bp.route("/finance/payments-to-schools")
@roles_required(COUNCIL)
def payouts() -> str:
    return _payouts_page()


@bp.route("/finance/payments-to-schools/<int:payout_id>/paid", methods=["POST"])
@roles_required({Role.LA_FINANCE})
def mark_paid(payout_id: int) -> str | BaseResponse:
    try:
        payout = payout_service.payout_by_id(payout_id)
    except NotFound:
        abort(404)
    form = MarkPaidForm()
    if form.validate_on_submit():
        try:
            payout_service.mark_paid(
                payout, current_user, form.paid_on.data, form.payment_reference.data or ""
            )
        except BrokeringError as error:
            refuse(form, error, "payment_reference")
        else:
            flash(f"{payout.reference} to {payout.provider_name} marked paid.", "success")
            return redirect(url_for("brokering_money.payouts"))
    return _payouts_page(form, payout.id)


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/finance/payments-to-schools.csv")
@roles_required({Role.LA_FINANCE})
def payouts_csv() -> Response:
    if "date_from" in request.args or "date_to" in request.args:
        date_from, date_to = _date_arg("date_from"), _date_arg("date_to")
    else:
        date_from, date_to = default_range()  # last month, as finance's other exports
    try:
        body = "".join(payout_service.csv_rows(date_from, date_to))
    except ExportError as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    assert date_from is not None and date_to is not None  # check_range refused them
    response = Response(body, mimetype="text/csv")
    response.headers.set(
        "Content-Disposition",
        "attachment",
        filename=payout_service.csv_filename(date_from, date_to),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- The council's view of an engagement's money ----------------------------------------------


@bp.route("/council/support/engagements")
@roles_required(COUNCIL)
def engagements() -> str:
    return render_template(
        "brokering_money/engagements.html",
        result=money_service.engagements_page(_page_number()),
        percent=brokerage.percent_text,
    )


@bp.route("/council/support/engagements/<int:engagement_id>")
@roles_required(COUNCIL)
def engagement_money(engagement_id: int) -> str:
    return _engagement_money(engagement_id)


def _engagement_money(engagement_id: int, form: ProviderInvoiceForm | None = None) -> str:
    try:
        engagement = engagement_service.engagement_by_id(engagement_id)
    except NotFound:
        abort(404)
    return render_template(
        "brokering_money/engagement.html",
        engagement=engagement,
        days=engagement_service.days_of(engagement),
        money=money_service.money_of(engagement),
        invoice_form=form or ProviderInvoiceForm(),
        today=today(),
    )


@bp.route("/council/support/engagements/<int:engagement_id>/provider-invoices", methods=["POST"])
@roles_required(COUNCIL)
def council_record_invoice(engagement_id: int) -> str | BaseResponse:
    try:
        engagement = engagement_service.engagement_by_id(engagement_id)
    except NotFound:
        abort(404)
    form = ProviderInvoiceForm()
    if form.validate_on_submit():
        try:
            money_service.record_provider_invoice(
                engagement,
                None,
                current_user,
                form.reference.data or "",
                form.issued_on.data,
                form.amount.pence,
            )
        except BrokeringError as error:
            refuse(form, error, "reference")
        else:
            flash("The provider's invoice is recorded.", "success")
            return redirect(
                url_for("brokering_money.engagement_money", engagement_id=engagement.id)
            )
    return _engagement_money(engagement_id, form)
