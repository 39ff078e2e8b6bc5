"""Reconciliation with Stripe's own lists: its successful card payments and refunds created
between two dates (London days) against ours, with every difference listed for finance.

A Stripe payment is compared with everything we recorded under its PaymentIntent: one row for
an invoice paid by card, one per academy invoice when a trust paid a consolidated invoice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import stripe
from sqlalchemy import and_, func, or_, select

from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models import (
    CardPaymentReview,
    CardRefund,
    ConsolidatedInvoice,
    ConsolidatedInvoicePart,
    Payment,
    PaymentKind,
    ReviewStatus,
)
from traded_app.services.card_payments.keys import CardPaymentError, client, plain
from traded_app.services.card_payments.refunds import REFUND_GOING, REFUND_STOPPED
from traded_app.services.finance import payments
from traded_app.services.platform.settings import today

log = logging.getLogger(__name__)

MAX_RECONCILE_DAYS = 366


@dataclass(frozen=True)
class Difference:
    what: str  # "payment" or "refund"
    stripe_id: str
    reference: str  # our invoice or credit note number, or Stripe's
    stripe_pence: int | None
    ours_pence: int | None
    problem: str


@dataclass
class Reconciliation:
    date_from: date
    date_to: date
    stripe_payments: int = 0
    stripe_payments_pence: int = 0
    our_payments: int = 0
    our_payments_pence: int = 0
    stripe_refunds: int = 0
    stripe_refunds_pence: int = 0
    our_refunds: int = 0
    our_refunds_pence: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.differences


def check_range(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    if date_from is None or date_to is None:
        raise CardPaymentError("Enter both dates", "date_from")
    if date_to < date_from:
        raise CardPaymentError(
            "The end date must be the same as or after the start date", "date_to"
        )
    if (date_to - date_from).days >= MAX_RECONCILE_DAYS:
        raise CardPaymentError(f"Choose at most {MAX_RECONCILE_DAYS} days", "date_to")
    if date_from > today():
        raise CardPaymentError("The start date must be today or in the past", "date_from")
    return date_from, date_to


def _bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    start = datetime.combine(date_from, time.min, tzinfo=LONDON)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=LONDON)
    return start, end


def _stripe_list(resource: Any, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every object of a Stripe list, page after page (starting_after)."""
    for obj in resource.list(params=params).auto_paging_iter():
        yield plain(obj)


def reconcile(date_from: date, date_to: date) -> Reconciliation:
    """Compare Stripe's successful card payments and refunds created between the dates (London
    days) with ours, and list every difference: missing either side, held for review, amounts,
    currencies or states that disagree."""
    date_from, date_to = check_range(date_from, date_to)
    start, end = _bounds(date_from, date_to)
    stripe_client = client()
    stripe_payments, stripe_refunds = _stripe_side(stripe_client, start, end)
    result = Reconciliation(date_from, date_to)
    result.stripe_payments = len(stripe_payments)
    result.stripe_payments_pence = sum(_received(p) for p in stripe_payments.values())
    result.stripe_refunds = len(stripe_refunds)
    result.stripe_refunds_pence = sum(int(r.get("amount") or 0) for r in stripe_refunds.values())
    reviews = _reviews_by_object([*stripe_payments, *stripe_refunds])
    _compare_payments(result, stripe_client, stripe_payments, reviews, start, end)
    _compare_refunds(result, stripe_refunds, reviews, start, end)
    return result


def _stripe_side(
    stripe_client: stripe.StripeClient, start: datetime, end: datetime
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Stripe's successful payments and its refunds on their way, created in the range, by id."""
    created = {"gte": int(start.timestamp()), "lt": int(end.timestamp())}
    try:
        stripe_payments = {
            p["id"]: p
            for p in _stripe_list(
                stripe_client.v1.payment_intents, {"created": created, "limit": 100}
            )
            if p.get("status") == "succeeded"
        }
        stripe_refunds = {
            r["id"]: r
            for r in _stripe_list(stripe_client.v1.refunds, {"created": created, "limit": 100})
            if r.get("status") in REFUND_GOING
        }
    except stripe.StripeError as error:
        log.error("Reconciliation could not list Stripe's payments: %s", error)
        raise CardPaymentError("Stripe could not be asked for its payments just now") from None
    return stripe_payments, stripe_refunds


@dataclass(frozen=True)
class OurPayment:
    """One Stripe payment as we recorded it: one row per invoice it paid (a trust paying a
    consolidated invoice pays each academy's invoice under one PaymentIntent; the first row
    carries the PaymentIntent, the others its id as their reference). Reversals and what a
    refund kept (recorded again) are not parts: Stripe's amount received counts neither."""

    intent: str
    first: Payment
    parts: tuple[Payment, ...]

    @property
    def amount_pence(self) -> int:
        return sum(p.amount_pence for p in self.parts)

    @property
    def currency(self) -> str:
        return self.first.document.currency

    @property
    def reference(self) -> str:
        if len(self.parts) == 1:
            return self.first.document.number
        on_invoice = db.session.execute(
            select(ConsolidatedInvoice.number)
            .join(ConsolidatedInvoicePart)
            .where(ConsolidatedInvoicePart.document_id == self.first.document_id)
        ).scalar_one_or_none()
        return on_invoice or ", ".join(sorted(p.document.number for p in self.parts))

    def reversed_here(self) -> bool:
        """Finance reversed a part here (not by a card refund) though Stripe keeps the money."""
        return not _refunded_here(self.first) and any(
            payments.reversal_of(p) is not None for p in self.parts
        )


def our_payments(intents: Iterable[str]) -> dict[str, OurPayment]:
    """Our card payments by PaymentIntent (see OurPayment)."""
    wanted = sorted(set(intents))
    if not wanted:
        return {}
    kept = select(CardRefund.kept_payment_id).where(CardRefund.kept_payment_id.is_not(None))
    rows = db.session.execute(
        select(Payment)
        .where(
            Payment.kind == PaymentKind.CARD,
            Payment.reverses_payment_id.is_(None),
            Payment.id.not_in(kept),
            or_(
                Payment.stripe_payment_intent.in_(wanted),
                and_(Payment.stripe_payment_intent.is_(None), Payment.reference.in_(wanted)),
            ),
        )
        .order_by(Payment.id)
    ).scalars()
    grouped: dict[str, list[Payment]] = defaultdict(list)
    for row in rows:
        grouped[row.stripe_payment_intent or row.reference].append(row)
    found = {}
    for intent, parts in grouped.items():
        first = next((p for p in parts if p.stripe_payment_intent), None)
        if first is not None:  # rows naming a PaymentIntent that was never recorded: not ours
            found[intent] = OurPayment(intent, first, tuple(parts))
    return found


def _compare_payments(
    result: Reconciliation,
    stripe_client: stripe.StripeClient,
    stripe_payments: dict[str, dict[str, Any]],
    reviews: dict[str, CardPaymentReview],
    start: datetime,
    end: datetime,
) -> None:
    """Our card payments recorded in the range against Stripe's: counts and differences."""
    in_range: set[str] = {
        intent
        for intent in db.session.execute(
            select(Payment.stripe_payment_intent).where(
                Payment.stripe_payment_intent.is_not(None),
                Payment.recorded_at >= start,
                Payment.recorded_at < end,
            )
        ).scalars()
        if intent
    }
    ours = our_payments([*in_range, *stripe_payments])
    ours_in_range = [ours[intent] for intent in sorted(in_range) if intent in ours]
    result.our_payments = len(ours_in_range)
    result.our_payments_pence = sum(p.amount_pence for p in ours_in_range)
    _payments_at_stripe(result.differences, stripe_payments, ours, reviews)
    _payments_only_here(result.differences, stripe_client, stripe_payments, ours_in_range)


def _payments_at_stripe(
    differences: list[Difference],
    stripe_payments: dict[str, dict[str, Any]],
    ours_by_intent: dict[str, OurPayment],
    reviews: dict[str, CardPaymentReview],
) -> None:
    """Each of Stripe's payments: not recorded here, held, or recorded differently."""
    for intent, stripe_payment in sorted(stripe_payments.items()):
        ours = ours_by_intent.get(intent)
        received = _received(stripe_payment)
        reference = str((stripe_payment.get("metadata") or {}).get("invoice_number") or "")
        if ours is None:
            review = reviews.get(intent)
            problem = (
                f"Held for review: {review.problem}"
                if review is not None and review.status == ReviewStatus.OPEN
                else (
                    f"Held for review and {review.status.label.lower()}: {review.resolution_note}"
                    if review is not None
                    else "Paid in Stripe but not recorded here"
                )
            )
            differences.append(Difference("payment", intent, reference, received, None, problem))
            continue
        reference = ours.reference
        if str(stripe_payment.get("currency") or "").upper() != ours.currency:
            differences.append(
                Difference(
                    "payment",
                    intent,
                    reference,
                    received,
                    ours.amount_pence,
                    f"Stripe's currency is {str(stripe_payment.get('currency')).upper()}",
                )
            )
        elif received != ours.amount_pence:
            differences.append(
                Difference(
                    "payment", intent, reference, received, ours.amount_pence, "Amounts differ"
                )
            )
        if ours.reversed_here():
            differences.append(
                Difference(
                    "payment",
                    intent,
                    reference,
                    received,
                    ours.amount_pence,
                    "Reversed here by finance, but Stripe still has the payment",
                )
            )


def _payments_only_here(
    differences: list[Difference],
    stripe_client: stripe.StripeClient,
    stripe_payments: dict[str, dict[str, Any]],
    ours_in_range: list[OurPayment],
) -> None:
    """Our payments recorded in the range that Stripe did not list as created in it."""
    for ours in ours_in_range:
        if ours.intent in stripe_payments:
            continue
        # Recorded in these dates but not created in them at Stripe: ask Stripe about it.
        found = _retrieve_intent(stripe_client, ours.intent)
        status = (found or {}).get("status")
        if found is None or status != "succeeded":
            differences.append(
                Difference(
                    "payment",
                    ours.intent,
                    ours.reference,
                    None,
                    ours.amount_pence,
                    "Recorded here, but Stripe "
                    + ("has no such payment" if found is None else f"says it is {status}"),
                )
            )
        elif _received(found) != ours.amount_pence:
            differences.append(
                Difference(
                    "payment",
                    ours.intent,
                    ours.reference,
                    _received(found),
                    ours.amount_pence,
                    "Amounts differ",
                )
            )


def _compare_refunds(
    result: Reconciliation,
    stripe_refunds: dict[str, dict[str, Any]],
    reviews: dict[str, CardPaymentReview],
    start: datetime,
    end: datetime,
) -> None:
    """Our card refunds asked for in the range against Stripe's: counts and differences."""
    our_refunds_in_range = list(
        db.session.execute(
            select(CardRefund).where(
                CardRefund.requested_at >= start, CardRefund.requested_at < end
            )
        ).scalars()
    )
    live_refunds = [r for r in our_refunds_in_range if r.status not in REFUND_STOPPED]
    result.our_refunds = len(live_refunds)
    result.our_refunds_pence = sum(r.amount_pence for r in live_refunds)
    refunds_by_id = {r.stripe_refund_id: r for r in our_refunds_in_range}
    if stripe_refunds:
        refunds_by_id.update(
            {
                r.stripe_refund_id: r
                for r in db.session.execute(
                    select(CardRefund).where(CardRefund.stripe_refund_id.in_(list(stripe_refunds)))
                ).scalars()
            }
        )
    differences = result.differences
    for refund_id, stripe_refund in sorted(stripe_refunds.items()):
        amount = int(stripe_refund.get("amount") or 0)
        ours_refund = refunds_by_id.get(refund_id)
        if ours_refund is None:
            review = reviews.get(refund_id)
            differences.append(
                Difference(
                    "refund",
                    refund_id,
                    str((stripe_refund.get("metadata") or {}).get("credit_note_number") or ""),
                    amount,
                    None,
                    f"Held for review: {review.problem}"
                    if review is not None
                    else "Refunded in Stripe but not recorded here",
                )
            )
        elif ours_refund.amount_pence != amount or ours_refund.status in REFUND_STOPPED:
            differences.append(
                Difference(
                    "refund",
                    refund_id,
                    ours_refund.credit_note.number,
                    amount,
                    ours_refund.amount_pence,
                    "Amounts differ"
                    if ours_refund.amount_pence != amount
                    else f"Recorded here as {ours_refund.status}",
                )
            )
    for refund_id, ours_refund in sorted(refunds_by_id.items()):
        if refund_id in stripe_refunds or ours_refund.status in REFUND_STOPPED:
            continue
        differences.append(
            Difference(
                "refund",
                refund_id,
                ours_refund.credit_note.number,
                None,
                ours_refund.amount_pence,
                "Recorded here, but not among Stripe's refunds in these dates",
            )
        )


def _received(payment_intent: dict[str, Any]) -> int:
    return int(payment_intent.get("amount_received") or payment_intent.get("amount") or 0)


def _reviews_by_object(ids: Iterable[str]) -> dict[str, CardPaymentReview]:
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(CardPaymentReview).where(CardPaymentReview.stripe_object_id.in_(ids))
    ).scalars()
    return {r.stripe_object_id: r for r in rows}


def _refunded_here(payment: Payment) -> bool:
    return (
        db.session.execute(
            select(func.count())
            .select_from(CardRefund)
            .where(CardRefund.stripe_payment_intent == payment.stripe_payment_intent)
        ).scalar_one()
        > 0
    )


def _retrieve_intent(stripe_client: stripe.StripeClient, intent: str) -> dict[str, Any] | None:
    try:
        return plain(stripe_client.v1.payment_intents.retrieve(intent))
    except stripe.InvalidRequestError:
        return None
