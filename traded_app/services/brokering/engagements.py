"""Engagements: the buying school chooses a provider from its comparison. A school's offer makes
an engagement the providing school accepts or declines (with the reason); the council's own
service sends the school to its catalogue to order as usual. The provider records what it
delivered in half-days; the buyer confirms each record (or says what is wrong with it); the
confirmed half-days are the engagement's days used, and both schools see used and left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from traded_app import formatting
from traded_app.extensions import db
from traded_app.models import (
    Engagement,
    EngagementDelivery,
    EngagementStatus,
    RequestStatus,
    ShortlistEntry,
    SupportRequest,
    User,
)
from traded_app.models.base import utcnow
from traded_app.services.brokering import money
from traded_app.services.brokering.offers import (
    MAX_TEXT,
    BrokeringError,
    is_available,
    school_staff_emails,
)
from traded_app.services.platform import outbox
from traded_app.services.platform.errors import NotFound
from traded_app.services.platform.links import absolute_url


@dataclass(frozen=True)
class Agreement:
    """What the buyer proposes when it chooses a school's offer."""

    half_days: int
    starts_on: date | None
    ends_on: date | None


def choose(
    request: SupportRequest, entry_id: int, user: User, agreement: Agreement, today: date
) -> Engagement | None:
    """The buyer chooses one provider from its comparison. A school's offer becomes an
    engagement waiting for the provider; the council's service closes the request as chosen
    (the school orders it from the catalogue) and answers None."""
    if request.status != RequestStatus.SHORTLIST_SENT:
        raise BrokeringError("Providers can be chosen once the council has sent the shortlist")
    entry = db.session.get(ShortlistEntry, entry_id)
    if entry is None or entry.request_id != request.id:
        raise BrokeringError("Select a provider from the comparison", "entry_id")
    if entry.service_id is not None:
        request.status = RequestStatus.CHOSEN
        request.chosen_service_id = entry.service_id
        db.session.flush()
        return None
    offer = entry.offer
    assert offer is not None  # the CHECK: an offer or a service
    if not is_available(offer, today):
        raise BrokeringError("That offer is no longer available: choose another", "entry_id")
    if not 1 <= agreement.half_days <= 200:
        raise BrokeringError("Days must be between 0.5 and 100", "days")
    if agreement.starts_on is None or agreement.ends_on is None:
        raise BrokeringError("Enter when the support starts and ends", "starts_on")
    if agreement.starts_on < today:
        raise BrokeringError("The start date must be today or later", "starts_on")
    if agreement.ends_on < agreement.starts_on:
        raise BrokeringError("The end date must be on or after the start date", "ends_on")
    if agreement.ends_on > offer.ends_on:
        raise BrokeringError(
            f"The offer ends on {formatting.long_date(offer.ends_on)}: end the support by then",
            "ends_on",
        )
    engagement = Engagement(
        request_id=request.id,
        offer_id=offer.id,
        buyer_school_id=request.school_id,
        provider_school_id=offer.school_id,
        half_days=agreement.half_days,
        daily_rate_pence=offer.daily_rate_pence,
        starts_on=agreement.starts_on,
        ends_on=agreement.ends_on,
        outcome=request.outcome,
        status=EngagementStatus.PROPOSED,
        chosen_by_id=user.id,
    )
    db.session.add(engagement)
    request.status = RequestStatus.CHOSEN
    db.session.flush()
    money.freeze_terms(engagement)  # how it is paid: the council's setting now
    link = absolute_url("brokering.engagement_page", engagement_id=engagement.id)
    outbox.queue_email(
        school_staff_emails(offer.school_id),
        f"{request.school.name} would like your {offer.area.name} support",
        f"{request.school.name} has chosen your offer ({offer.practitioner_name}) for "
        f"{formatting.days(agreement.half_days)} between "
        f"{formatting.long_date(agreement.starts_on)} and "
        f"{formatting.long_date(agreement.ends_on)}, at "
        f"{formatting.pounds(offer.daily_rate_pence)} a day.\n\nWhat they want: "
        f"{request.outcome}\n\nAccept or decline:" + (f"\n\n{link}" if link else ""),
        purpose="School-to-school engagement proposed",
        school_id=offer.school_id,
        kind="engagement",
        ref_id=engagement.id,
    )
    return engagement


def engagement_for_school(engagement_id: int, school_id: int) -> Engagement:
    """An engagement as one of its two schools sees it; nobody else's."""
    engagement = db.session.get(Engagement, engagement_id)
    if engagement is None or school_id not in (
        engagement.buyer_school_id,
        engagement.provider_school_id,
    ):
        raise NotFound("There is no such engagement")
    return engagement


def engagement_by_id(engagement_id: int) -> Engagement:
    engagement = db.session.get(Engagement, engagement_id)
    if engagement is None:
        raise NotFound("There is no such engagement")
    return engagement


def answer(engagement: Engagement, school_id: int, user: User, accept: bool, reason: str) -> None:
    """The providing school accepts the engagement or declines it with the reason; declined,
    the buyer's request goes back to its comparison to choose again."""
    if school_id != engagement.provider_school_id:
        raise BrokeringError("Only the providing school can accept or decline")
    if engagement.status != EngagementStatus.PROPOSED:
        raise BrokeringError(f"This engagement is {engagement.status.label.lower()} already")
    reason = reason.strip()
    if not accept and not reason:
        raise BrokeringError("Say why the school cannot take this on", "reason")
    engagement.status = EngagementStatus.ACCEPTED if accept else EngagementStatus.DECLINED
    engagement.decline_reason = "" if accept else reason[:MAX_TEXT]
    engagement.answered_by_id = user.id
    engagement.answered_at = utcnow()
    if not accept:
        engagement.request.status = RequestStatus.SHORTLIST_SENT
    db.session.flush()
    link = absolute_url("brokering.engagement_page", engagement_id=engagement.id)
    outbox.queue_email(
        school_staff_emails(engagement.buyer_school_id),
        f"{engagement.provider.name} has "
        f"{'accepted' if accept else 'declined'} your request for support",
        (
            "The support is agreed. The providing school will record each session it delivers "
            "for you to confirm."
            if accept
            else f"Their reason: {engagement.decline_reason}\n\nYou can choose another provider "
            "from your comparison."
        )
        + (f"\n\n{link}" if link else ""),
        purpose="School-to-school engagement answered",
        school_id=engagement.buyer_school_id,
        kind="engagement",
        ref_id=engagement.id,
    )


@dataclass(frozen=True)
class EngagementDays:
    agreed: int
    confirmed: int  # used
    awaiting: int  # recorded by the provider, not yet confirmed by the buyer

    @property
    def left(self) -> int:
        return self.agreed - self.confirmed

    @property
    def not_yet_recorded(self) -> int:
        return self.agreed - self.confirmed - self.awaiting


def days_of(engagement: Engagement) -> EngagementDays:
    confirmed = sum(d.half_days for d in engagement.deliveries if d.confirmed_at is not None)
    awaiting = sum(
        d.half_days
        for d in engagement.deliveries
        if d.confirmed_at is None and not d.queried_reason
    )
    return EngagementDays(engagement.half_days, confirmed, awaiting)


def record_delivery(
    engagement: Engagement,
    school_id: int,
    user: User,
    on: date | None,
    half_days: int,
    note: str,
    today: date,
) -> EngagementDelivery:
    """The provider records half-days delivered on a date within the engagement's dates,
    never more than the days agreed (counting records not yet confirmed)."""
    if school_id != engagement.provider_school_id:
        raise BrokeringError("Only the providing school records what it delivered")
    if engagement.status != EngagementStatus.ACCEPTED:
        raise BrokeringError("Days can be recorded once the engagement is agreed")
    if half_days not in (1, 2):
        raise BrokeringError("Select a half day or a whole day", "half_days")
    if on is None:
        raise BrokeringError("Enter the date the support was given", "delivered_on")
    if on > today:
        raise BrokeringError("The date cannot be in the future", "delivered_on")
    if not engagement.starts_on <= on <= engagement.ends_on:
        raise BrokeringError(
            f"The date must be between {formatting.long_date(engagement.starts_on)} and "
            f"{formatting.long_date(engagement.ends_on)}",
            "delivered_on",
        )
    days = days_of(engagement)
    if half_days > days.not_yet_recorded:
        raise BrokeringError(
            f"Only {formatting.days(days.not_yet_recorded)} of the agreed "
            f"{formatting.days(days.agreed)} are left to record",
            "half_days",
        )
    delivery = EngagementDelivery(
        engagement=engagement,
        delivered_on=on,
        half_days=half_days,
        note=note.strip()[:MAX_TEXT],
        recorded_by_id=user.id,
    )
    db.session.add(delivery)
    db.session.flush()
    link = absolute_url("brokering.engagement_page", engagement_id=engagement.id)
    outbox.queue_email(
        school_staff_emails(engagement.buyer_school_id),
        f"Please confirm {formatting.days(half_days)} of support from {engagement.provider.name}",
        f"{engagement.provider.name} recorded {formatting.days(half_days)} delivered on "
        f"{formatting.long_date(on)}. Confirm it, or tell them what is wrong."
        + (f"\n\n{link}" if link else ""),
        purpose="School-to-school delivery to confirm",
        school_id=engagement.buyer_school_id,
        kind="engagement_delivery",
        ref_id=delivery.id,
    )
    return delivery


def _delivery(engagement: Engagement, delivery_id: int) -> EngagementDelivery:
    delivery = next((d for d in engagement.deliveries if d.id == delivery_id), None)
    if delivery is None:
        raise NotFound("There is no such record")
    return delivery


def confirm_delivery(
    engagement: Engagement,
    school_id: int,
    user: User,
    delivery_id: int,
    confirm: bool,
    reason: str,
) -> None:
    """The buyer confirms a record (its days are used, and charged when the council invoices as
    the agent: services.brokering.money) or queries it with the reason. When every agreed day is
    confirmed the engagement is completed."""
    if school_id != engagement.buyer_school_id:
        raise BrokeringError("Only the buying school confirms what was delivered")
    delivery = _delivery(engagement, delivery_id)
    if delivery.confirmed_at is not None or delivery.queried_reason:
        raise BrokeringError("That record has been answered already")
    if confirm:
        delivery.confirmed_at = utcnow()
        delivery.confirmed_by_id = user.id
        db.session.flush()
        money.charge_confirmed(engagement, user)  # the council's invoice, when it is the agent
    else:
        reason = reason.strip()
        if not reason:
            raise BrokeringError("Say what is wrong with the record", "reason")
        delivery.queried_reason = reason[:MAX_TEXT]
    db.session.flush()
    if days_of(engagement).left == 0:
        engagement.status = EngagementStatus.COMPLETED
        engagement.completed_at = utcnow()
        db.session.flush()


def withdraw_delivery(engagement: Engagement, school_id: int, delivery_id: int) -> None:
    """The provider withdraws a record the buyer has not confirmed (a queried one, or a slip)."""
    if school_id != engagement.provider_school_id:
        raise BrokeringError("Only the providing school withdraws its records")
    delivery = _delivery(engagement, delivery_id)
    if delivery.confirmed_at is not None:
        raise BrokeringError("A confirmed record stays: the buying school has agreed it")
    engagement.deliveries.remove(delivery)
    db.session.delete(delivery)
    db.session.flush()


def rate(engagement: Engagement, school_id: int, rating: int | None, comment: str) -> None:
    """The buyer rates a completed engagement once (1 to 5): the provider's track record."""
    if school_id != engagement.buyer_school_id:
        raise BrokeringError("Only the buying school rates the support")
    if engagement.status != EngagementStatus.COMPLETED:
        raise BrokeringError("Rate the support once it is completed")
    if engagement.rating is not None:
        raise BrokeringError("You have rated this support already")
    if rating not in (1, 2, 3, 4, 5):
        raise BrokeringError("Select a rating from 1 to 5", "rating")
    engagement.rating = rating
    engagement.rating_comment = comment.strip()[:MAX_TEXT]
    db.session.flush()


def engagements_of_school(school_id: int) -> list[Engagement]:
    """The school's engagements as buyer or provider, newest first."""
    return list(
        db.session.execute(
            select(Engagement)
            .options(
                joinedload(Engagement.buyer),
                joinedload(Engagement.provider),
                selectinload(Engagement.deliveries),
                joinedload(Engagement.offer),
            )
            .where(
                or_(
                    Engagement.buyer_school_id == school_id,
                    Engagement.provider_school_id == school_id,
                )
            )
            .order_by(Engagement.chosen_at.desc(), Engagement.id.desc())
        ).scalars()
    )


def bought_engagements(school_id: int) -> list[tuple[Engagement, EngagementDays]]:
    """For the buyer's Days page: agreed and completed engagements with their days."""
    return [
        (e, days_of(e))
        for e in engagements_of_school(school_id)
        if e.buyer_school_id == school_id
        and e.status in (EngagementStatus.ACCEPTED, EngagementStatus.COMPLETED)
    ]
