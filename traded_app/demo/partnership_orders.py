"""Demo partnership order (issue 16, part 3): one partnership buying days together, loaded
through the services and confirmed, split by pupil numbers across a maintained school and two
academies, each charged by its own document (a recharge, two VAT invoices).

Hamilton Primary's partnership, which de Vere Primary and William Read Primary Academy join, so
each member's view can be tried by signing in (head@, sbm2@, sbm8@example.org). The demo's GIAS
extract has no pupil numbers: those three schools get illustrative ones. One whole-day visit
against the order, for the lead school and the first academy, is delivered (a past school day both
schools' calendars and the adviser's diary allow), so each member's Partnership days table shows
a day delivered and the third member sees the days left but not the visit.

Made once: when any partnership order exists, nothing is loaded again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from traded_app.domain.partnership_split import SplitRule
from traded_app.extensions import db
from traded_app.models import AcademicYear, Partnership, PartnershipOrder, School, Service, User
from traded_app.models.partnership_orders import PartnershipOrderStatus, ShareApproval, WhoOrders
from traded_app.models.types import CustomerType, Role
from traded_app.services.days import partnership_visits, shared_visits
from traded_app.services.days.allocations import generate_core_allocations
from traded_app.services.days.visits import VisitError
from traded_app.services.ordering import partnership_buying, partnership_orders, workflow
from traded_app.services.platform.settings import (
    academic_start_year,
    council_settings,
    current_academic_year,
    today,
)

LEAD_ACCOUNT = "head@example.org"
ACADEMY_ACCOUNTS = ("sbm2@example.org", "sbm8@example.org")
SERVICE_CODE = "PEER"  # support and training for peer review: what partnerships buy together
HALF_DAYS = 6
PUPILS = (315, 210, 420)  # the maintained lead school, then the two academies


def load_partnership_order() -> int:
    """Place and confirm the demo's partnership order; returns how many were loaded (0 or 1)."""
    if db.session.execute(select(PartnershipOrder.id).limit(1)).first() is not None:
        return 0
    year = current_academic_year()
    admin = _user_with_role(Role.LA_ADMIN)
    lead = _school_of(LEAD_ACCOUNT)
    if year is None or admin is None or lead is None or lead.quadrant_id is None:
        return 0
    position = workflow.capacity_position(lead.quadrant_id, year.id)
    if position is None or position.available_half_days < HALF_DAYS:
        return 0  # the council's team has no days left to sell: no order it could not confirm
    chosen = _members()
    if chosen is None:
        return 0
    partnership, lead, academies = chosen
    for school, pupils in zip((lead, *academies), PUPILS, strict=True):
        school.pupils = school.pupils or pupils
    partnership_buying.set_buying(partnership, lead.id, WhoOrders.BUSINESS_MANAGERS)
    head = _user_with_role(Role.HEADTEACHER, lead) or _user_with_role(
        Role.SCHOOL_BUSINESS_MANAGER, lead
    )
    service = _service()
    if head is None or service is None:
        return 0
    draft = partnership_buying.Draft(
        {service.id: HALF_DAYS},
        SplitRule.PUPILS,
        note="Peer review training for the three schools' leaders, spring term.",
        taking_part=frozenset(school.id for school in academies),
    )
    order = partnership_orders.place(head, lead, year, draft)
    for share in order.shares:
        if share.approval == ShareApproval.WAITING:
            approver = _user_with_role(Role.HEADTEACHER, share.school)
            if approver is not None:
                partnership_orders.approve_share(order, approver)
            else:  # a demo school with no headteacher account: approved as on paper
                share.approval = ShareApproval.APPROVED
        member = _user_with_role(Role.SCHOOL_BUSINESS_MANAGER, share.school)
        if share.school.po_required and not share.po_number and member is not None:
            partnership_orders.set_po_number(order, member, f"PO-{share.school.urn}-P1")
    if order.status.value == "awaiting_approval":
        order.status = PartnershipOrderStatus.SUBMITTED
    partnership_orders.confirm(order, admin)
    db.session.flush()
    _delivered_visit(order, admin, [lead, academies[0]])
    return 1


def _delivered_visit(order: PartnershipOrder, admin: User, schools: list[School]) -> None:
    """A whole-day visit against the order for `schools`, on the latest past school day (tried
    60 days back at most) that every check allows, delivered."""
    adviser = _user_with_role(Role.ADVISER)
    if adviser is None:
        return
    day = today() - timedelta(days=7)
    for _try in range(60):
        day -= timedelta(days=1)
        if day < order.academic_year.starts_on:
            return
        try:
            with db.session.begin_nested():
                shared = partnership_visits.book(
                    order,
                    partnership_visits.NewPartnershipVisit(
                        adviser_id=adviser.id,
                        visit_date=day,
                        half_days=2,
                        school_ids=[s.id for s in schools],
                        line_id=order.lines[0].id,
                        purpose="Peer review training for both schools' senior leaders",
                    ),
                    admin,
                    booked_on=day,
                )
                shared_visits.deliver(
                    shared,
                    adviser,
                    "Trained both leadership teams in peer review; the next review is planned.",
                    on=today(),
                )
            return
        except VisitError:
            continue


def _members() -> tuple[Partnership, School, list[School]] | None:
    """Hamilton Primary's partnership (maintained, the lead), joined by two academies of its
    quadrant with demo accounts: de Vere Primary and William Read Primary Academy (academies,
    so in no partnership of the demo's GIAS extract). Their core allocations follow the rules
    again, now that they are in a partnership."""
    lead = _school_of(LEAD_ACCOUNT)
    if lead is None or lead.partnership is None:
        return None
    partnership = lead.partnership
    academies = [
        school
        for school in (_school_of(email) for email in ACADEMY_ACCOUNTS)
        if school is not None
        and school.customer_type == CustomerType.ACADEMY
        and school.quadrant_id == partnership.quadrant_id
    ]
    if len(academies) < 2:
        return None
    for academy in academies:
        academy.partnership_id = partnership.id
    db.session.flush()
    settings = council_settings()
    assert settings is not None
    for year in db.session.execute(
        select(AcademicYear).where(AcademicYear.start_year >= academic_start_year(today()))
    ).scalars():
        generate_core_allocations(year, settings)
    return partnership, lead, academies


def _school_of(email: str) -> School | None:
    user = db.session.execute(select(User).where(User.email == email)).scalar()
    return user.school if user is not None else None


def _service() -> Service | None:
    found = db.session.execute(select(Service).where(Service.code == SERVICE_CODE)).scalar()
    return found or db.session.execute(select(Service).order_by(Service.id).limit(1)).scalar()


def _user_with_role(role: Role, school: School | None = None) -> User | None:
    stmt = select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
    if school is not None:
        stmt = stmt.where(User.school_id == school.id)
    return db.session.execute(stmt.limit(1)).scalar()
