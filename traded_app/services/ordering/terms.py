"""Each academic year's terms and conditions: written by the service manager, versioned (a new
version never changes an old one), accepted by the person submitting an order, and printed on
quotes. The council's quote settings (prefix and validity) are kept here too, beside the terms
a quote prints."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from traded_app.domain.quotes import DEFAULT_VALIDITY_DAYS, MAX_VALIDITY_DAYS
from traded_app.extensions import db
from traded_app.models import AcademicYear, Order, OrderStatus, School, TermsVersion, User
from traded_app.services.platform.errors import DomainError, NotFound
from traded_app.services.platform.settings import council_settings

MAX_TERMS_LENGTH = 50_000


class TermsError(DomainError, ValueError):
    """Terms that cannot be published; the message is for the service manager."""


class TermsNotFound(NotFound, LookupError):
    """No such version of the terms."""


def current_for(year_id: int) -> TermsVersion | None:
    """The year's terms in force: its latest version (None: none published yet)."""
    return db.session.execute(
        select(TermsVersion)
        .where(TermsVersion.academic_year_id == year_id)
        .order_by(TermsVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def versions_for(year_id: int) -> list[TermsVersion]:
    """Every version of the year's terms, newest first."""
    return list(
        db.session.execute(
            select(TermsVersion)
            .where(TermsVersion.academic_year_id == year_id)
            .order_by(TermsVersion.version.desc())
        ).scalars()
    )


def version_by_id(terms_id: int) -> TermsVersion:
    terms = db.session.get(TermsVersion, terms_id)
    if terms is None:
        raise TermsNotFound
    return terms


def publish(year: AcademicYear, text: str, user: User) -> TermsVersion:
    """A new version of the year's terms, numbered after the last; earlier ones stay as they
    were, and the orders that accepted them keep pointing at them."""
    body = text.replace("\r\n", "\n").strip()
    if not body:
        raise TermsError("Enter the terms and conditions")
    if len(body) > MAX_TERMS_LENGTH:
        raise TermsError(f"Terms and conditions must be {MAX_TERMS_LENGTH:,} characters or fewer")
    current = current_for(year.id)
    if current is not None and current.text == body:
        raise TermsError(
            f"These are the terms of version {current.version} already: change them to publish "
            "a new version"
        )
    last = db.session.execute(
        select(func.coalesce(func.max(TermsVersion.version), 0)).where(
            TermsVersion.academic_year_id == year.id
        )
    ).scalar_one()
    terms = TermsVersion(
        academic_year_id=year.id, version=int(last) + 1, text=body, published_by_id=user.id
    )
    db.session.add(terms)
    db.session.flush()
    return terms


@dataclass(frozen=True)
class AcceptedTerms:
    """A version of the terms a school accepted, and the orders it accepted them with."""

    terms: TermsVersion
    orders: list[Order]


def accepted_by(school: School) -> list[AcceptedTerms]:
    """The versions of the terms `school`'s orders accepted, newest first: kept with its
    documents."""
    orders = db.session.execute(
        select(Order)
        .where(
            Order.school_id == school.id,
            Order.status != OrderStatus.DRAFT,
            Order.terms_version_id.is_not(None),
        )
        .order_by(Order.terms_version_id.desc(), Order.id)
    ).scalars()
    grouped: dict[int, AcceptedTerms] = {}
    for order in orders:
        assert order.terms_version is not None
        entry = grouped.setdefault(
            order.terms_version_id or 0, AcceptedTerms(order.terms_version, [])
        )
        entry.orders.append(order)
    return list(grouped.values())


# --- The council's quote settings ----------------------------------------------------------


@dataclass(frozen=True)
class QuoteSettings:
    prefix: str = "QUO"
    validity_days: int = DEFAULT_VALIDITY_DAYS


def quote_settings() -> QuoteSettings:
    settings = council_settings()
    if settings is None:
        return QuoteSettings()
    return QuoteSettings(settings.quote_prefix, settings.quote_validity_days)


def save_quote_settings(prefix: str, validity_days: int) -> None:
    settings = council_settings()
    if settings is None:
        raise TermsError("Enter the council's details before setting up quotes")
    if not 1 <= validity_days <= MAX_VALIDITY_DAYS:
        raise TermsError(f"A quote must be valid for 1 to {MAX_VALIDITY_DAYS} days")
    others = {settings.invoice_prefix, settings.recharge_prefix, settings.credit_note_prefix}
    if prefix in others:
        raise TermsError("Quote number prefix must differ from the documents' prefixes")
    settings.quote_prefix = prefix
    settings.quote_validity_days = validity_days
    db.session.flush()
