"""Money between schools for tests: the council's setting, and engagements both ways round
(the maintained school buying from the academy, and the academy buying from it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.brokering_helpers import agreed_engagement, listed_offer, request_details
from traded_app.extensions import db
from traded_app.models.types import Role
from traded_app.services.brokering import engagements, money, requests
from traded_app.services.platform.settings import today


def council_invoices(world: Any, fee_bp: int = 500, vat_rate_bp: int = 2000) -> None:
    """The council acts as the provider's agent for `fee_bp`."""
    money.save_settings(
        money.MoneyChoice("council_agent", fee_bp, "standard", vat_rate_bp, "S2S-INC"),
        world.users[Role.LA_ADMIN],
    )
    db.session.commit()


def providers_invoice(world: Any) -> None:
    money.save_settings(
        money.MoneyChoice("direct", 0, "standard", 2000, ""), world.users[Role.LA_ADMIN]
    )
    db.session.commit()


def academy_buys(world: Any, rate_pence: int = 40000, half_days: int = 4) -> Any:
    """The academy chose the maintained school's offer, and the school accepted it."""
    offer = listed_offer(
        world,
        school=world.school,
        user=world.users[Role.HEADTEACHER],
        area="Leadership",
        daily_rate_pence=rate_pence,
    )
    broker = world.users[Role.LA_ADMIN]
    request = requests.make_request(
        world.academy.id, world.academy_sbm, request_details(area="Leadership")
    )
    requests.add_offer(request, offer.id, broker, "", today())
    requests.send_shortlist(request, broker)
    engagement = engagements.choose(
        request,
        request.entries[0].id,
        world.academy_sbm,
        engagements.Agreement(half_days, today(), today() + timedelta(days=60)),
        today(),
    )
    assert engagement is not None
    engagements.answer(engagement, world.school.id, world.users[Role.HEADTEACHER], True, "")
    db.session.commit()
    return engagement


def school_buys(world: Any, rate_pence: int = 40000, half_days: int = 4) -> Any:
    """The maintained school chose the academy's offer, and the academy accepted it."""
    offer = listed_offer(world, daily_rate_pence=rate_pence)
    return agreed_engagement(world, offer, half_days)


def deliver_and_confirm(world: Any, engagement: Any, half_days: int = 2) -> Any:
    """The provider records a delivery today and the buyer confirms it (committed)."""
    provider_user = (
        world.academy_sbm
        if engagement.provider_school_id == world.academy.id
        else world.users[Role.HEADTEACHER]
    )
    buyer_user = (
        world.academy_sbm
        if engagement.buyer_school_id == world.academy.id
        else world.users[Role.HEADTEACHER]
    )
    delivery = engagements.record_delivery(
        engagement,
        engagement.provider_school_id,
        provider_user,
        today(),
        half_days,
        "Session",
        today(),
    )
    engagements.confirm_delivery(
        engagement, engagement.buyer_school_id, buyer_user, delivery.id, True, ""
    )
    db.session.commit()
    return delivery


def payout_for_access(world: Any) -> Any:
    """A payout owed to the academy: the council invoiced a confirmed day of its support."""
    council_invoices(world)
    engagement = school_buys(world)
    deliver_and_confirm(world, engagement)
    payout = money.money_of(engagement).payouts[0]
    providers_invoice(world)  # as it was: the world's other engagements stay direct
    return payout
