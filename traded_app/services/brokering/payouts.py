"""What the council owes providing schools for school-to-school support it invoiced as their
agent (services.brokering.money makes each payout): finance's list, marking a payout paid (a
bank transfer to an academy, a ledger journal crediting a maintained school's cost centre) and
the CSV of payouts for the ledger.

The CSV is the ledger's record of what is owed: a payable's row credits the creditor (the
academy), a recharge credit's row credits the maintained school's cost centre; the fee the
council kept and the charge it came from are on each row so the ledger can check that the
charge, the fee and the provider's share add up.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from traded_app import formatting
from traded_app.domain import brokerage
from traded_app.extensions import db
from traded_app.models import User
from traded_app.models.base import utcnow
from traded_app.models.brokering_money import PayoutKind, ProviderPayout
from traded_app.services.brokering.offers import BrokeringError, school_staff_emails
from traded_app.services.finance.export_files import neutralise, pounds_number
from traded_app.services.finance.exports import check_range
from traded_app.services.platform import outbox
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.paging import Page, paginate
from traded_app.services.platform.settings import today

OWED = "owed"
PAID = "paid"
SHOWS = {OWED: "Owed", PAID: "Paid"}
PER_PAGE = 50
MAX_REFERENCE = 40


@dataclass(frozen=True)
class Totals:
    owed_pence: int
    owed_count: int
    paid_pence: int


def totals() -> Totals:
    owed_pence, owed_count, paid_pence = db.session.execute(
        select(
            func.coalesce(
                func.sum(ProviderPayout.amount_pence).filter(ProviderPayout.paid_on.is_(None)), 0
            ),
            func.count().filter(ProviderPayout.paid_on.is_(None)),
            func.coalesce(
                func.sum(ProviderPayout.amount_pence).filter(ProviderPayout.paid_on.is_not(None)),
                0,
            ),
        )
    ).one()
    return Totals(int(owed_pence), int(owed_count), int(paid_pence))


def payouts(show: str, page: int = 1) -> Page[ProviderPayout]:
    """Owed payouts oldest first (the next to pay at the top), or paid ones latest first."""
    stmt = select(ProviderPayout).options(
        joinedload(ProviderPayout.document), joinedload(ProviderPayout.engagement)
    )
    if show == PAID:
        stmt = stmt.where(ProviderPayout.paid_on.is_not(None)).order_by(
            ProviderPayout.paid_on.desc(), ProviderPayout.id.desc()
        )
    else:
        stmt = stmt.where(ProviderPayout.paid_on.is_(None)).order_by(
            ProviderPayout.created_on, ProviderPayout.id
        )
    return paginate(stmt, page, PER_PAGE)


def payout_by_id(payout_id: int) -> ProviderPayout:
    payout = db.session.get(ProviderPayout, payout_id)
    if payout is None:
        raise NotFound("There is no such payment to a school")
    return payout


def mark_paid(
    payout: ProviderPayout, user: User, paid_on: date | None, payment_reference: str
) -> None:
    """Finance records that the provider was paid: the date and the bank transfer's (or the
    journal's) reference; the providing school's staff are e-mailed. Once paid, a payout stays
    paid."""
    if payout.paid_on is not None:
        raise BrokeringError(
            f"{payout.reference} was marked paid on {payout.paid_on:%d %B %Y} already"
        )
    if paid_on is None:
        raise BrokeringError("Enter the date it was paid", "paid_on")
    if paid_on > today():
        raise BrokeringError("The date it was paid cannot be in the future", "paid_on")
    if paid_on < payout.created_on:
        raise BrokeringError(
            "The date it was paid must be on or after the date the buyer was charged", "paid_on"
        )
    reference = " ".join(payment_reference.split())
    if not reference:
        what = "journal" if payout.kind == PayoutKind.RECHARGE_CREDIT else "payment"
        raise BrokeringError(f"Enter the {what}'s reference", "payment_reference")
    if len(reference) > MAX_REFERENCE:
        raise BrokeringError(
            f"The reference must be {MAX_REFERENCE} characters or fewer", "payment_reference"
        )
    payout.paid_on = paid_on
    payout.paid_at = utcnow()
    payout.paid_by_id = user.id
    payout.payment_reference = reference
    db.session.flush()
    how = (
        "credited to your cost centre by ledger journal"
        if payout.kind == PayoutKind.RECHARGE_CREDIT
        else "paid to your school's bank account"
    )
    link = absolute_url("brokering.engagement_page", engagement_id=payout.engagement_id)
    outbox.queue_email(
        school_staff_emails(payout.provider_school_id),
        f"{formatting.pounds(payout.amount_pence)} paid for your school-to-school support",
        f"The council has {how} {formatting.pounds(payout.amount_pence)} on "
        f"{formatting.long_date(paid_on)} (reference {reference}): "
        f"{formatting.pounds(payout.charged_pence)} charged for your support "
        f"({payout.document.number}), less the council's brokerage fee of "
        f"{formatting.pounds(payout.fee_pence)}." + (f"\n\n{link}" if link else ""),
        purpose="School-to-school support paid",
        school_id=payout.provider_school_id,
        kind="provider_payout",
        ref_id=payout.id,
    )


# --- The ledger's CSV -------------------------------------------------------------------------

CSV_HEADER = (
    "payout_reference",
    "kind",
    "created_on",
    "provider_urn",
    "provider_name",
    "provider_cost_centre",
    "engagement",
    "buyer_document",
    "buyer_name",
    "charged_net",
    "fee_percent",
    "fee",
    "owed_to_provider",
    "paid_on",
    "payment_reference",
)


def csv_rows(date_from: date | None, date_to: date | None) -> Iterator[str]:
    """Payouts made (the buyer charged) in the range, one row each, amounts in pounds."""
    date_from, date_to = check_range(date_from, date_to)
    rows = db.session.execute(
        select(ProviderPayout)
        .options(joinedload(ProviderPayout.document))
        .where(ProviderPayout.created_on >= date_from, ProviderPayout.created_on <= date_to)
        .order_by(ProviderPayout.created_on, ProviderPayout.id)
    ).scalars()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    yield out.getvalue()
    for payout in rows:
        out.seek(0)
        out.truncate()
        writer.writerow(
            (
                payout.reference,
                payout.kind.value,
                payout.created_on.isoformat(),
                payout.provider_urn,
                neutralise(payout.provider_name),
                neutralise(payout.provider_cost_centre),
                f"ENG-{payout.engagement_id:05d}",
                payout.document.number,
                neutralise(payout.document.buyer_name),
                pounds_number(payout.charged_pence),
                brokerage.percent_text(payout.fee_bp).removesuffix("%"),
                pounds_number(payout.fee_pence),
                pounds_number(payout.amount_pence),
                payout.paid_on.isoformat() if payout.paid_on else "",
                neutralise(payout.payment_reference),
            )
        )
        yield out.getvalue()


def csv_filename(date_from: date, date_to: date) -> str:
    return f"payments-to-schools-{date_from.isoformat()}-to-{date_to.isoformat()}.csv"
