"""Offers of expertise: a school registers what it can offer other schools; the service manager
checks each new or changed offer before it is listed; the school can pause it; it ends on its
end date. Other schools see an offer only while it is listed, not paused and not ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from traded_app.extensions import db
from traded_app.models import (
    OfferStatus,
    School,
    SupportArea,
    SupportOffer,
    SupportPhase,
    User,
)
from traded_app.models.base import utcnow
from traded_app.models.types import Role
from traded_app.services.platform import memberships, outbox
from traded_app.services.platform.errors import DomainError, NotFound
from traded_app.services.platform.links import absolute_url

# The council's starting list of areas (migration 0032 loads the same into a new database).
AREAS = (
    "Leadership",
    "Governance",
    "SEND",
    "Safeguarding",
    "English",
    "Mathematics",
    "Science",
    "Early years",
    "Curriculum design",
    "Pupil premium and disadvantaged pupils",
    "Behaviour and attendance",
)
MAX_TEXT = 2000
MAX_RATE_PENCE = 500_000  # £5,000 a day: anything above is a typing slip
MAX_HALF_DAYS_PER_TERM = 120


class BrokeringError(DomainError, ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- Areas ------------------------------------------------------------------------------------


def areas(*, with_retired: bool = False) -> list[SupportArea]:
    stmt = select(SupportArea).order_by(SupportArea.position, SupportArea.name)
    if not with_retired:
        stmt = stmt.where(SupportArea.active.is_(True))
    return list(db.session.execute(stmt).scalars())


def area_by_id(area_id: int | None) -> SupportArea:
    area = db.session.get(SupportArea, area_id) if area_id else None
    if area is None or not area.active:
        raise BrokeringError("Select an area from the list", "area_id")
    return area


def save_area(area: SupportArea | None, name: str) -> SupportArea:
    """Add an area to the council's list, or rename one."""
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise BrokeringError("Enter the area's name, 80 characters or fewer", "name")
    clash = db.session.execute(
        select(SupportArea.id).where(func.lower(SupportArea.name) == name.lower())
    ).scalar_one_or_none()
    if clash is not None and (area is None or clash != area.id):
        raise BrokeringError(f"There is already an area called {name}", "name")
    if area is None:
        last = db.session.execute(
            select(func.coalesce(func.max(SupportArea.position), 0))
        ).scalar_one()
        area = SupportArea(name=name, active=True, position=last + 1)
        db.session.add(area)
    elif area.name != name:
        area.name = name
    db.session.flush()
    return area


def set_area_active(area_id: int, active: bool) -> SupportArea:
    area = db.session.get(SupportArea, area_id)
    if area is None:
        raise NotFound("There is no such area")
    if area.active != active:
        area.active = active
    db.session.flush()
    return area


def ensure_areas() -> None:
    """The starting list where missing (demo data and tests; a new database has it already)."""
    known = {a.name for a in areas(with_retired=True)}
    for name in AREAS:
        if name not in known:
            save_area(None, name)


# --- Offers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferDetails:
    """What a school says about an offer (already parsed: half-days, pence, a date)."""

    area_id: int | None
    phase: str
    practitioner_name: str
    practitioner_role: str
    half_days_per_term: int
    daily_rate_pence: int
    description: str
    evidence: str
    ends_on: date | None


def _checked(details: OfferDetails, today: date) -> tuple[SupportArea, SupportPhase, date]:
    area = area_by_id(details.area_id)
    try:
        phase = SupportPhase(details.phase)
    except ValueError:
        raise BrokeringError("Select the phase the offer is for", "phase") from None
    if not " ".join(details.practitioner_name.split()):
        raise BrokeringError("Enter the practitioner's name", "practitioner_name")
    if not " ".join(details.practitioner_role.split()):
        raise BrokeringError(
            "Enter the practitioner's role, like specialist leader of education",
            "practitioner_role",
        )
    if not 1 <= details.half_days_per_term <= MAX_HALF_DAYS_PER_TERM:
        raise BrokeringError("Days a term must be between 0.5 and 60", "days_per_term")
    if not 1 <= details.daily_rate_pence <= MAX_RATE_PENCE:
        raise BrokeringError("Daily rate must be between £0.01 and £5,000", "daily_rate")
    if not details.description.strip():
        raise BrokeringError("Describe what the school can offer", "description")
    if len(details.description) > MAX_TEXT or len(details.evidence) > MAX_TEXT:
        field = "description" if len(details.description) > MAX_TEXT else "evidence"
        raise BrokeringError(f"{field.title()} must be {MAX_TEXT} characters or fewer", field)
    if details.ends_on is None or details.ends_on <= today:
        raise BrokeringError("The end date must be in the future", "ends_on")
    return area, phase, details.ends_on


def save_offer(
    offer: SupportOffer | None, school_id: int, user: User, details: OfferDetails, today: date
) -> SupportOffer:
    """Register a school's offer, or change it. A new or changed offer waits for the council's
    check before it is listed (again)."""
    area, phase, ends_on = _checked(details, today)
    if offer is None:
        offer = SupportOffer(school_id=school_id, created_by_id=user.id)
        db.session.add(offer)
    elif offer.school_id != school_id:
        raise NotFound("There is no such offer")
    offer.area_id = area.id
    offer.phase = phase
    offer.practitioner_name = " ".join(details.practitioner_name.split())
    offer.practitioner_role = " ".join(details.practitioner_role.split())
    offer.half_days_per_term = details.half_days_per_term
    offer.daily_rate_pence = details.daily_rate_pence
    offer.description = details.description.strip()
    offer.evidence = details.evidence.strip()
    offer.ends_on = ends_on
    offer.status = OfferStatus.AWAITING_CHECK
    offer.decline_reason = ""
    offer.checked_by_id = None
    offer.checked_at = None
    db.session.flush()
    return offer


def set_paused(offer: SupportOffer, paused: bool) -> None:
    """The school pauses a listed offer, or lists it again (no new check: nothing changed)."""
    if paused and offer.status == OfferStatus.LISTED:
        offer.status = OfferStatus.PAUSED
    elif not paused and offer.status == OfferStatus.PAUSED:
        offer.status = OfferStatus.LISTED
    else:
        raise BrokeringError("Only a listed offer can be paused, and only a paused one resumed")
    db.session.flush()


def check_offer(offer: SupportOffer, checker: User, approve: bool, reason: str = "") -> None:
    """The service manager lists an offer awaiting its check, or declines it with the reason;
    the school's staff are told either way."""
    if offer.status != OfferStatus.AWAITING_CHECK:
        raise BrokeringError("This offer has already been checked")
    reason = reason.strip()
    if not approve and not reason:
        raise BrokeringError("Say why the offer cannot be listed", "reason")
    offer.status = OfferStatus.LISTED if approve else OfferStatus.DECLINED
    offer.decline_reason = "" if approve else reason[:MAX_TEXT]
    offer.checked_by_id = checker.id
    offer.checked_at = utcnow()
    db.session.flush()
    link = absolute_url("brokering.offer_page", offer_id=offer.id)
    if approve:
        subject = f"Your offer of {offer.area.name} support is listed"
        body = (
            f"The council has checked {offer.school.name}'s offer of {offer.area.name} support "
            f"({offer.practitioner_name}, {offer.practitioner_role}). It is now listed for other "
            "schools until " + offer.ends_on.strftime("%-d %B %Y") + "."
        )
    else:
        subject = f"Your offer of {offer.area.name} support was not listed"
        body = f"The council could not list the offer as it stands: {offer.decline_reason}"
    outbox.queue_email(
        school_staff_emails(offer.school_id),
        subject,
        body + (f"\n\n{link}" if link else ""),
        purpose="School-to-school offer checked",
        school_id=offer.school_id,
        kind="support_offer",
        ref_id=offer.id,
    )


def is_available(offer: SupportOffer, today: date) -> bool:
    return offer.status == OfferStatus.LISTED and offer.ends_on >= today


def offer_by_id(offer_id: int) -> SupportOffer:
    offer = db.session.get(SupportOffer, offer_id)
    if offer is None:
        raise NotFound("There is no such offer")
    return offer


def offer_for_school(offer_id: int, school_id: int, today: date) -> SupportOffer:
    """An offer as a school's staff may see it: their own in any state, another school's only
    while it is available."""
    offer = offer_by_id(offer_id)
    if offer.school_id != school_id and not is_available(offer, today):
        raise NotFound("There is no such offer")
    return offer


def offers_of_school(school_id: int) -> list[SupportOffer]:
    return list(
        db.session.execute(
            select(SupportOffer)
            .options(joinedload(SupportOffer.area))
            .where(SupportOffer.school_id == school_id)
            .order_by(SupportOffer.created_at.desc(), SupportOffer.id.desc())
        ).scalars()
    )


def available_offers(
    today: date, *, area_id: int | None = None, exclude_school_id: int | None = None
) -> list[SupportOffer]:
    """Listed offers that have not ended, by area then school."""
    stmt = (
        select(SupportOffer)
        .join(SupportArea)
        .join(School, School.id == SupportOffer.school_id)
        .options(joinedload(SupportOffer.area), joinedload(SupportOffer.school))
        .where(SupportOffer.status == OfferStatus.LISTED, SupportOffer.ends_on >= today)
        .order_by(SupportArea.position, SupportArea.name, School.name, SupportOffer.id)
    )
    if area_id is not None:
        stmt = stmt.where(SupportOffer.area_id == area_id)
    if exclude_school_id is not None:
        stmt = stmt.where(SupportOffer.school_id != exclude_school_id)
    return list(db.session.execute(stmt).scalars())


def offers_to_check() -> list[SupportOffer]:
    return list(
        db.session.execute(
            select(SupportOffer)
            .options(joinedload(SupportOffer.area), joinedload(SupportOffer.school))
            .where(SupportOffer.status == OfferStatus.AWAITING_CHECK)
            .order_by(SupportOffer.created_at, SupportOffer.id)
        ).scalars()
    )


def all_offers() -> list[SupportOffer]:
    return list(
        db.session.execute(
            select(SupportOffer)
            .options(joinedload(SupportOffer.area), joinedload(SupportOffer.school))
            .order_by(SupportOffer.created_at.desc(), SupportOffer.id.desc())
        ).scalars()
    )


def school_staff_emails(school_id: int, *, heads_only: bool = False) -> list[str]:
    roles = [Role.HEADTEACHER] if heads_only else [Role.HEADTEACHER, Role.SCHOOL_BUSINESS_MANAGER]
    return list(
        db.session.execute(
            select(User.email)
            .where(
                or_(*(User.id.in_(memberships.user_ids_at(school_id, role)) for role in roles)),
                User.active.is_(True),
            )
            .order_by(User.email)
        ).scalars()
    )


def council_broker_emails() -> list[str]:
    return list(
        db.session.execute(
            select(User.email)
            .where(User.role == Role.LA_ADMIN, User.active.is_(True))
            .order_by(User.email)
        ).scalars()
    )
