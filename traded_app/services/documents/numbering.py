"""Document numbers: one unbroken series per document type and financial year.

A number is `PREFIX-YEAR-SEQUENCE` (INV-2026-000042), the year being the one in which the
council's financial year began. `take_number` locks the series' counter row until the issuing
transaction ends, so two documents never share a number and a rolled-back one gives its number
back (no gap).

`InvoicingError` lives here, at the bottom of the documents package, so that every module of it
can raise it; issuing is where callers meet it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from traded_app.extensions import db
from traded_app.models import (
    CouncilSettings,
    Document,
    DocumentCounter,
    DocumentType,
    NumberSeries,
)
from traded_app.services.platform.errors import DomainError


class InvoicingError(DomainError, ValueError):
    """A document that cannot be issued; the message is for the person asking."""


def financial_year_of(on: date, start_month: int) -> int:
    """The calendar year in which the financial year holding `on` began (April: 2026/27 -> 2026)."""
    return on.year if on.month >= start_month else on.year - 1


def prefix_for(document_type: DocumentType, settings: CouncilSettings) -> str:
    return {
        DocumentType.INVOICE: settings.invoice_prefix,
        DocumentType.RECHARGE: settings.recharge_prefix,
        DocumentType.CREDIT_NOTE: settings.credit_note_prefix,
    }[document_type]


def format_number(prefix: str, financial_year: int, sequence: int) -> str:
    return f"{prefix}-{financial_year}-{sequence:06d}"


def take_number(document_type: DocumentType, financial_year: int) -> int:
    """The next number in the series, with the counter row locked until the transaction ends."""
    for _attempt in range(3):
        counter = db.session.execute(
            select(DocumentCounter)
            .where(
                DocumentCounter.document_type == document_type,
                DocumentCounter.financial_year == financial_year,
            )
            .with_for_update()
        ).scalar_one_or_none()
        if counter is None:
            # The first document of the year: create the counter. Two transactions doing so at
            # once meet the unique constraint; the loser reads the winner's row and locks it.
            try:
                with db.session.begin_nested():
                    db.session.add(
                        DocumentCounter(
                            document_type=document_type,
                            financial_year=financial_year,
                            last_number=0,
                        )
                    )
            except IntegrityError:
                pass
            continue
        counter.last_number += 1
        db.session.flush()
        return counter.last_number
    raise InvoicingError("Could not take a document number; try again")


def take_in_series(series: str, financial_year: int) -> int:
    """The next number of a series that is not an issued document's (quotes: "quote"), with
    its counter row locked until the transaction ends, like `take_number`."""
    for _attempt in range(3):
        counter = db.session.execute(
            select(NumberSeries)
            .where(NumberSeries.series == series, NumberSeries.financial_year == financial_year)
            .with_for_update()
        ).scalar_one_or_none()
        if counter is None:
            try:
                with db.session.begin_nested():
                    db.session.add(
                        NumberSeries(series=series, financial_year=financial_year, last_number=0)
                    )
            except IntegrityError:
                pass
            continue
        counter.last_number += 1
        db.session.flush()
        return counter.last_number
    raise InvoicingError("Could not take a number; try again")


def highest_issued(document_type: DocumentType, financial_year: int) -> int:
    """The highest number issued in the series (0: none yet; brought-forward documents have
    no number of the series)."""
    highest = db.session.execute(
        select(func.coalesce(func.max(Document.sequence), 0)).where(
            Document.document_type == document_type, Document.financial_year == financial_year
        )
    ).scalar_one()
    return highest or 0


def _counter(document_type: DocumentType, financial_year: int) -> DocumentCounter | None:
    return db.session.execute(
        select(DocumentCounter)
        .where(
            DocumentCounter.document_type == document_type,
            DocumentCounter.financial_year == financial_year,
        )
        .with_for_update()
    ).scalar_one_or_none()


def next_number(document_type: DocumentType, financial_year: int) -> int:
    """The number the series' next document will take (read only)."""
    counter = db.session.execute(
        select(DocumentCounter.last_number).where(
            DocumentCounter.document_type == document_type,
            DocumentCounter.financial_year == financial_year,
        )
    ).scalar_one_or_none()
    return max(counter or 0, highest_issued(document_type, financial_year)) + 1


def set_next_number(document_type: DocumentType, financial_year: int, first: int) -> None:
    """Make the series' next document take `first` (a council continuing its old sequence).
    Refused at or below a number already issued: numbers never repeat."""
    if not 1 <= first <= 999_999:
        raise InvoicingError("The first number must be a whole number from 1 to 999999")
    counter = _counter(document_type, financial_year)
    issued = highest_issued(document_type, financial_year)
    if first <= issued:
        raise InvoicingError(
            f"{document_type.label} number {issued} of {financial_year} has already been issued: "
            f"the next number must be more than {issued}"
        )
    if counter is None:
        db.session.add(
            DocumentCounter(
                document_type=document_type, financial_year=financial_year, last_number=first - 1
            )
        )
    elif counter.last_number != first - 1:
        counter.last_number = first - 1
    db.session.flush()
