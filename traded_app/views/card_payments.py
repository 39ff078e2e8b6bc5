"""Card payments: a school pays an invoice by card (Stripe Checkout) and sees the result at once;
Stripe's webhook; finance reviews held payments, refunds credit notes by card and reconciles
with Stripe; the service manager sets the Stripe keys."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from traded_app.access import SCHOOL, TRUST, public, roles_required
from traded_app.domain.types import Role
from traded_app.formatting import pounds
from traded_app.forms.auth import EmptyForm
from traded_app.forms.card_payments import ReconcileForm, ReviewForm, StripeKeysForm
from traded_app.services.card_payments import checkout, keys, recording, refunds
from traded_app.services.card_payments import reconcile as reconciliation
from traded_app.services.card_payments import reviews as card_reviews
from traded_app.services.card_payments import webhook as stripe_webhook
from traded_app.services.card_payments.keys import CardPaymentError, UnexpectedShape
from traded_app.services.documents import reading as documents
from traded_app.services.finance import balances
from traded_app.services.platform import card_links
from traded_app.services.platform.settings import council_settings, today
from traded_app.services.platform.transactions import commit_now

log = logging.getLogger(__name__)

bp = Blueprint("card_payments", __name__)

# School staff pay their school's invoices; a trust's finance staff any of its academies'.
PAYERS = SCHOOL | TRUST
READERS = frozenset({Role.LA_FINANCE, Role.LA_ADMIN})
FINANCE_ONLY = frozenset({Role.LA_FINANCE})


STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
# The pages whose form leads on to Checkout: an invoice's pay page, a consolidated invoice's page.
CHECKOUT_PAGES = frozenset(
    {"card_payments.pay", "trust_invoices.trust_detail", "trust_invoices.pay_done"}
)


def init_app(app: Flask) -> None:
    """Register the blueprint, and let the pay page's form lead on to Stripe's Checkout.

    Registered before web.init_app, so this runs after the security headers are set (Flask
    runs after-request functions in reverse order of registration) and can widen them."""
    app.register_blueprint(bp)
    app.after_request(_allow_checkout_redirect)


def _allow_checkout_redirect(response: Response) -> Response:
    """The CSP's form-action 'self' also covers where a form's POST redirects to, so "Continue
    to pay" would be blocked on its way to Checkout: on the pay page only, Stripe's Checkout
    origin (and a test's fake Stripe) is allowed too."""
    if request.endpoint not in CHECKOUT_PAGES:
        return response
    policy = response.headers.get("Content-Security-Policy", "")
    origins = [STRIPE_CHECKOUT_ORIGIN]
    base = current_app.config.get("STRIPE_API_BASE", "")
    if base:
        parts = urlsplit(base)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    response.headers["Content-Security-Policy"] = policy.replace(
        "form-action 'self'", "form-action 'self' " + " ".join(origins)
    )
    return response


def _document(document_id: int) -> documents.Document:
    try:
        return documents.document_visible_to(current_user, document_id)
    except documents.DocumentNotFound:
        abort(404)


@bp.app_template_global()
def card_payment_offered(document: documents.Document, balance_pence: int | None) -> bool:
    """Whether a school user sees "Pay by card" for the document (never without Stripe keys,
    never for a recharge or credit note, never with nothing left to pay)."""
    if document.document_type.value != "invoice" or (balance_pence or 0) <= 0:
        return False
    return card_links.card_payments_enabled()


@bp.app_template_global()
def card_refund_offered(document: documents.Document) -> bool:
    """Whether finance sees "Refund by card" on a credit note."""
    if not document.is_credit_note or not card_links.card_payments_enabled():
        return False
    try:
        refunds.refund_plan(document)
    except CardPaymentError:
        return False
    return True


@bp.app_template_global()
def card_refunds_of(document: documents.Document) -> list[refunds.CardRefund]:
    return refunds.refunds_of(document)


@bp.app_template_global()
def card_reviews_waiting() -> int:
    return card_reviews.count_open_reviews()


# --- The school pays ----------------------------------------------------------------------------


@bp.route("/invoices/<number>/pay")
@roles_required(PAYERS)
def pay_link(number: str) -> Response:
    """The "Pay by card" link printed on an invoice's PDF: it leads to the invoice's pay page."""
    document = checkout.invoice_by_number(number[:32])
    if document is None:
        abort(404)
    document = _document(document.id)
    return redirect(url_for("card_payments.pay", document_id=document.id))


@bp.route("/documents/<int:document_id>/pay", methods=["GET", "POST"])
@roles_required(PAYERS)
def pay(document_id: int) -> str | Response:
    document = _document(document_id)
    figures = balances.figures_of(document)
    problem = checkout.card_payment_problem(document, figures.balance_pence)
    if problem and not card_links.card_payments_enabled():
        abort(404)  # without Stripe keys the option does not exist at all
    form = EmptyForm()
    if request.method == "POST" and not problem:
        if not form.validate_on_submit():
            abort(400)
        success = url_for("card_payments.checkout_return", document_id=document.id, _external=True)
        cancel = url_for(
            "card_payments.checkout_cancelled", document_id=document.id, _external=True
        )
        try:
            url = checkout.start_checkout(
                document, success + "?session_id={CHECKOUT_SESSION_ID}", cancel
            )
        except CardPaymentError as error:
            problem = str(error)
        else:
            return redirect(url, code=303)
    return render_template(
        "card_payments/pay.html", document=document, figures=figures, problem=problem, form=form
    )


@bp.route("/documents/<int:document_id>/pay/done")
@roles_required(PAYERS)
def checkout_return(document_id: int) -> str:
    """Where Checkout sends the school back: ask Stripe how the session stands and record it
    with the same idempotent function as the webhook, so the school sees the result at once
    and a later webhook changes nothing."""
    document = _document(document_id)
    session_id = request.args.get("session_id", "")
    outcome: recording.Outcome | None = None
    problem = ""
    try:
        session = checkout.retrieve_session(session_id)
    except CardPaymentError as error:
        problem = str(error)
    else:
        if str((session.get("metadata") or {}).get("document_id")) != str(document.id):
            abort(404)
        outcome = _record_now(session)
    return render_template(
        "card_payments/return.html",
        document=document,
        figures=balances.figures_of(document),
        outcome=outcome,
        problem=problem,
    )


def _record_now(session: dict[str, object]) -> recording.Outcome:
    """The return page is a GET (Stripe redirects to it), yet it records the payment: in a
    transaction of its own that takes the write lock, committed here. Recording is idempotent,
    so a reload or the webhook arriving alongside is harmless."""
    return commit_now(lambda: recording.settle_checkout_session(dict(session)))


@bp.route("/documents/<int:document_id>/pay/cancelled")
@roles_required(PAYERS)
def checkout_cancelled(document_id: int) -> str:
    document = _document(document_id)
    return render_template(
        "card_payments/cancelled.html", document=document, figures=balances.figures_of(document)
    )


# --- Stripe's webhook ---------------------------------------------------------------------------


@bp.route("/payments/stripe/webhook", methods=["POST"])
@public
def webhook() -> Response:
    """Stripe's events, trusted only with a valid signature over the raw body (the only POST
    without a CSRF token: Stripe signs it instead). 400 to anything unsigned, stale, dated in
    the future, altered, or signed but not in a shape Stripe sends; 503 when acting on it
    needed Stripe's API and Stripe could not be asked (Stripe delivers it again later); 200 to
    everything else verified, used or not (Stripe retries anything but a 2xx). Nothing is kept
    of an event not answered 200."""
    try:
        event = stripe_webhook.verify_webhook(
            request.get_data(cache=False), request.headers.get("Stripe-Signature")
        )
    except stripe_webhook.BadSignature as error:
        log.warning("Stripe webhook refused: %s", error)
        return Response("Bad signature\n", status=400, mimetype="text/plain")
    except UnexpectedShape as error:
        log.warning("Stripe webhook refused, signed but not a Stripe event: %s", error)
        return Response("Not a Stripe event\n", status=400, mimetype="text/plain")
    name = f"{str(event.get('id'))[:80]} ({str(event.get('type'))[:80]})"
    try:
        outcome = stripe_webhook.handle_event(event)
    except UnexpectedShape as error:
        log.warning("Stripe webhook refused, event %s not in Stripe's shape: %s", name, error)
        return Response("Unexpected event\n", status=400, mimetype="text/plain")
    except stripe_webhook.StripeUnavailable as error:
        log.warning("Stripe event %s not handled, to be delivered again: %s", name, error)
        return Response("Stripe unavailable\n", status=503, mimetype="text/plain")
    log.info("Stripe event %s: %s", name, outcome.status)
    return Response(f"{outcome.status}\n", status=200, mimetype="text/plain")


# --- Finance ------------------------------------------------------------------------------------


@bp.route("/finance/card-payments")
@roles_required(READERS)
def reviews() -> str:
    return render_template(
        "card_payments/reviews.html",
        open_reviews=card_reviews.open_reviews(),
        closed=card_reviews.closed_reviews(),
        refunds=refunds.recent_refunds(),
        enabled=card_links.card_payments_enabled(),
    )


@bp.route("/finance/card-payments/<int:review_id>", methods=["GET", "POST"])
@roles_required(FINANCE_ONLY)
def review(review_id: int) -> str | Response:
    item = card_reviews.get_review(review_id)
    if item is None:
        abort(404)
    form = ReviewForm()
    if item.status.value == "open" and form.validate_on_submit():
        try:
            if form.action.data == "apply":
                payment = card_reviews.apply_review(
                    item, form.invoice.data or "", form.note.data or "", current_user
                )
                message = (
                    f"The card payment of {pounds(payment.amount_pence)} is recorded against "
                    f"{payment.document.number}."
                )
            else:
                card_reviews.resolve_review(item, form.note.data or "", current_user)
                message = "Marked as dealt with."
        except CardPaymentError as error:
            field = getattr(form, error.field, None) if error.field else None
            (field.errors if field is not None else form.form_errors).append(str(error))  # type: ignore[union-attr]
        else:
            flash(message, "success")
            return redirect(url_for("card_payments.reviews"))
    return render_template("card_payments/review.html", item=item, form=form)


@bp.route("/finance/credit-notes/<int:document_id>/card-refund", methods=["GET", "POST"])
@roles_required(FINANCE_ONLY)
def refund(document_id: int) -> str | Response:
    credit_note = _document(document_id)
    if not credit_note.is_credit_note:
        abort(404)
    form = EmptyForm()
    problem = ""
    plan = None
    try:
        plan = refunds.refund_plan(credit_note)
    except CardPaymentError as error:
        problem = str(error)
    if plan is not None and form.validate_on_submit():
        try:
            row = refunds.refund_credit_note(credit_note, current_user)
        except CardPaymentError as error:
            problem = str(error)
        else:
            flash(
                f"{pounds(row.amount_pence)} is being refunded to the card that paid "
                f"{row.invoice.number} (Stripe refund {row.stripe_refund_id}, {row.status}).",
                "success",
            )
            return redirect(url_for("documents.document_detail", document_id=credit_note.id))
    # Pressing Refund and being refused is an error (the GOV.UK error summary); opening the page
    # when no refund can be made only explains why.
    errors = {"refund-problem": problem} if problem and request.method == "POST" else {}
    return render_template(
        "card_payments/refund.html",
        credit_note=credit_note,
        plan=plan,
        problem=problem,
        errors=errors,
        form=form,
    )


@bp.route("/finance/card-payments/reconcile")
@roles_required(READERS)
def reconcile() -> str:
    # The GOV.UK date widget needs day, month and year for each date: without all three (a
    # first visit, a hand-made URL) the form starts afresh.
    complete = all(len(request.args.getlist(n)) == 3 for n in ("date_from", "date_to"))
    form = ReconcileForm(request.args) if complete else ReconcileForm(formdata=None)
    result = None
    errors: list[tuple[str, str]] = []
    if complete:
        form.validate()
        for name in ("date_from", "date_to"):
            errors += [(name, e) for e in getattr(form, name).errors]
        if not errors:
            try:
                result = reconciliation.reconcile(form.date_from.data, form.date_to.data)  # type: ignore[arg-type]
            except CardPaymentError as error:
                errors.append((error.field or "date_from", str(error)))
    else:
        form.date_from.data = today().replace(day=1)
        form.date_to.data = today()
    return render_template(
        "card_payments/reconcile.html",
        form=form,
        result=result,
        errors=errors,
        enabled=card_links.card_payments_enabled(),
    )


# --- The service manager's Stripe keys ----------------------------------------------------------


@bp.route("/council/manage/settings/card-payments", methods=["GET", "POST"])
@roles_required(Role.LA_ADMIN)
def stripe_settings() -> str | Response:
    form = StripeKeysForm()
    if form.validate_on_submit():
        try:
            keys.save_keys(
                form.secret_key.data, form.webhook_secret.data, remove=bool(form.remove.data)
            )
        except CardPaymentError as error:
            field = getattr(form, error.field, None) if error.field else None
            (field.errors if field is not None else form.form_errors).append(str(error))  # type: ignore[union-attr]
        else:
            flash("Card payment settings saved.", "success")
            return redirect(url_for("card_payments.stripe_settings"))
    return render_template(
        "card_payments/settings.html",
        form=form,
        keys=card_links.stripe_keys(),
        has_settings=council_settings() is not None,
        webhook_url=url_for("card_payments.webhook", _external=True),
        last_four=keys.last_four,
    )
