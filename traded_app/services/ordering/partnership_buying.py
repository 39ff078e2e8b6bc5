"""How a partnership buys together: its lead school, who may order for it, and what an order
would cost each member (the proposal the person ordering checks before placing it).

The partnership decides who orders (`PartnershipBuying`, kept by the council's service manager
on its word): the lead school's headteacher only, or also any member school's business manager.
A proposal prices the lines at this year's catalogue, splits the net total by the chosen rule
(domain.partnership_split) and says whose share needs its headteacher's approval (the same rule
as an order: a cost before VAT over the school's approval limit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from traded_app.domain import partnership_split as splitting
from traded_app.domain import pricing
from traded_app.domain.partnership_split import SplitError, SplitRule
from traded_app.extensions import db
from traded_app.models import AcademicYear, Partnership, School, User
from traded_app.models.partnership_orders import PartnershipBuying, WhoOrders
from traded_app.models.types import Role, SchoolStatus, VatTreatment
from traded_app.services.ordering.basket import needs_approval
from traded_app.services.ordering.offer import CatalogueEntry, catalogue_for
from traded_app.services.platform.errors import DomainError

# An order of this much or more is surely a typing mistake (as for one school's order).
MAX_PARTNERSHIP_ORDER_PENCE = 50_000_000
MAX_NOTE_LENGTH = 1000


class PartnershipOrderError(DomainError, ValueError):
    """A partnership order step refused; `field` names the form field it is about, if any."""


# --- The partnership's setting ------------------------------------------------------------------


def buying_of(partnership: Partnership) -> PartnershipBuying | None:
    return db.session.execute(
        select(PartnershipBuying).where(PartnershipBuying.partnership_id == partnership.id)
    ).scalar_one_or_none()


def members(partnership: Partnership) -> list[School]:
    """The partnership's open member schools, by name."""
    return list(
        db.session.execute(
            select(School)
            .where(School.partnership_id == partnership.id, School.status == SchoolStatus.OPEN)
            .order_by(School.name, School.id)
        ).scalars()
    )


def set_buying(
    partnership: Partnership, lead_school_id: int | None, who_orders: WhoOrders
) -> PartnershipBuying:
    """Record the partnership's lead school and who may order for it."""
    if lead_school_id is None:
        raise PartnershipOrderError("Select the partnership's lead school", "lead_school_id")
    if lead_school_id not in {school.id for school in members(partnership)}:
        raise PartnershipOrderError(
            "The lead school must be an open member of the partnership", "lead_school_id"
        )
    buying = buying_of(partnership)
    if buying is None:
        buying = PartnershipBuying(partnership_id=partnership.id)
        db.session.add(buying)
    if buying.lead_school_id != lead_school_id:
        buying.lead_school_id = lead_school_id
    if buying.who_orders != who_orders:
        buying.who_orders = who_orders
    db.session.flush()
    return buying


def partnership_of(school: School) -> Partnership | None:
    """The school's partnership, if it is in an active one."""
    partnership = school.partnership
    return partnership if partnership is not None and partnership.active else None


def lead_school(partnership: Partnership) -> School | None:
    """The lead school, while it is still an open member."""
    buying = buying_of(partnership)
    if buying is None or buying.lead_school is None:
        return None
    lead = buying.lead_school
    return lead if lead.partnership_id == partnership.id and lead.is_open else None


def ordering_refusal(user: User, school: School) -> str | None:
    """Why `user`, working for `school`, may not order for its partnership; None if they may."""
    partnership = partnership_of(school)
    if partnership is None:
        return f"{school.name} is not in an active partnership"
    lead = lead_school(partnership)
    if lead is None:
        return (
            f"{partnership.name} has no lead school yet: the council's service manager records "
            "it, and who may order for the partnership, on the partnership's page"
        )
    buying = buying_of(partnership)
    assert buying is not None
    if user.role == Role.HEADTEACHER and school.id == lead.id:
        return None
    if buying.who_orders == WhoOrders.BUSINESS_MANAGERS:
        if user.role == Role.SCHOOL_BUSINESS_MANAGER:
            return None
        return (
            f"{partnership.name} orders through {lead.name}'s headteacher or any member "
            "school's business manager"
        )
    return f"{partnership.name} orders only through its lead school's headteacher ({lead.name})"


# --- A proposal: what the order would cost each member ------------------------------------------


@dataclass(frozen=True)
class Draft:
    """What the person ordering asked for: half-days by service id, the rule, and typed
    amounts (pence before VAT) by school id when the rule is typed."""

    half_days: dict[int, int]
    rule: SplitRule
    typed: dict[int, int] = field(default_factory=dict)
    note: str = ""
    # The member schools taking part (by id); None: every member. The lead always takes part.
    taking_part: frozenset[int] | None = None


@dataclass(frozen=True)
class ProposedLine:
    entry: CatalogueEntry
    half_days: int
    net_pence: int


@dataclass(frozen=True)
class ProposedShare:
    school: School
    is_lead: bool
    pupils: int | None
    net_pence: int
    parts: list[int]  # its part of each line, in the lines' order
    vat: list[tuple[VatTreatment, int]]  # the school's VAT treatment and rate for each line
    needs_approval: bool

    @property
    def vat_pence(self) -> int:
        return pricing.totals(self.priced()).vat_pence

    def priced(self) -> list[pricing.Line]:
        """Its parts as document lines would price them: one 'place' at the part's amount."""
        return [
            pricing.Line(2, part, treatment, rate)
            for part, (treatment, rate) in zip(self.parts, self.vat, strict=True)
            if part
        ]


@dataclass(frozen=True)
class Proposal:
    partnership: Partnership
    year: AcademicYear
    rule: SplitRule
    lines: list[ProposedLine]
    shares: list[ProposedShare]

    @property
    def half_days(self) -> int:
        return sum(line.half_days for line in self.lines)

    @property
    def net_pence(self) -> int:
        return sum(line.net_pence for line in self.lines)


def catalogue(year: AcademicYear, school: School) -> list[CatalogueEntry]:
    """The services a partnership may buy: this year's catalogue as the lead (or the person's
    school) sees it. The price per day is the same for every customer; VAT is each member's."""
    return catalogue_for(school.customer_type, year)


def propose(partnership: Partnership, year: AcademicYear, draft: Draft) -> Proposal:
    """Price the draft and split it; PartnershipOrderError (with the field) if it cannot be."""
    lead = lead_school(partnership)
    if lead is None:
        raise PartnershipOrderError(f"{partnership.name} has no lead school yet")
    schools = [
        school
        for school in members(partnership)
        if draft.taking_part is None or school.id in draft.taking_part or school.id == lead.id
    ]
    if len(schools) < 2:
        raise PartnershipOrderError(
            "Choose at least one school besides the lead to take part, or order as a school",
            "taking_part",
        )
    lines = _priced_lines(catalogue(year, lead), draft.half_days)
    total = sum(line.net_pence for line in lines)
    if total > MAX_PARTNERSHIP_ORDER_PENCE:
        raise PartnershipOrderError(
            f"A partnership order can be for £{MAX_PARTNERSHIP_ORDER_PENCE // 100:,} at most"
        )
    if len(draft.note) > MAX_NOTE_LENGTH:
        raise PartnershipOrderError(
            f"The note must be {MAX_NOTE_LENGTH} characters or fewer", "note"
        )
    lead_index = next(i for i, school in enumerate(schools) if school.id == lead.id)
    totals = _member_totals(draft, schools, total, lead_index)
    try:
        parts = splitting.split_lines([line.net_pence for line in lines], totals, lead_index)
    except SplitError as error:
        raise PartnershipOrderError(str(error)) from None
    shares = []
    for school, share_total, share_parts in zip(schools, totals, parts, strict=True):
        shares.append(
            ProposedShare(
                school,
                school.id == lead.id,
                school.pupils,
                share_total,
                share_parts,
                _vat_for(school, year, lines),
                needs_approval(school, share_total),
            )
        )
    return Proposal(partnership, year, draft.rule, lines, shares)


def _priced_lines(entries: list[CatalogueEntry], half_days: dict[int, int]) -> list[ProposedLine]:
    by_id = {entry.service.id: entry for entry in entries}
    lines = []
    for entry in entries:  # catalogue order
        wanted = half_days.get(entry.service.id, 0)
        if wanted <= 0:
            continue
        service = entry.service
        if not service.min_half_days <= wanted <= service.max_half_days:
            low = pricing.days_text(service.min_half_days)
            high = pricing.days_text(service.max_half_days)
            raise PartnershipOrderError(
                f"{service.name} can be ordered for {low} to {high} days", f"days-{service.id}"
            )
        lines.append(
            ProposedLine(entry, wanted, pricing.line_net_pence(wanted, entry.price_per_day_pence))
        )
    unknown = [
        service_id for service_id, days in half_days.items() if days and service_id not in by_id
    ]
    if unknown:
        raise PartnershipOrderError("A service you chose can no longer be ordered: choose again")
    if not lines:
        raise PartnershipOrderError("Enter the days of at least one service", "services")
    return lines


def _member_totals(draft: Draft, schools: list[School], total: int, lead: int) -> list[int]:
    try:
        if draft.rule == SplitRule.EQUAL:
            return splitting.equal_totals(total, len(schools), lead)
        if draft.rule == SplitRule.PUPILS:
            missing = [school.name for school in schools if not school.pupils]
            if missing:
                raise PartnershipOrderError(
                    "GIAS gives no pupil numbers for "
                    + ", ".join(missing)
                    + ": split the order another way",
                    "rule",
                )
            return splitting.member_totals(total, [s.pupils or 0 for s in schools], lead)
        typed = [draft.typed.get(school.id, 0) for school in schools]
        splitting.check_typed(total, typed)
        return typed
    except SplitError as error:
        raise PartnershipOrderError(str(error), "shares") from None


def _vat_for(
    school: School, year: AcademicYear, lines: list[ProposedLine]
) -> list[tuple[VatTreatment, int]]:
    """The school's VAT on each line (its customer type's rule in the catalogue)."""
    own = {entry.service.id: entry for entry in catalogue_for(school.customer_type, year)}
    vat = []
    for line in lines:
        entry = own.get(line.entry.service.id)
        if entry is None:
            raise PartnershipOrderError(
                f"{line.entry.service.name} has no VAT rule for {school.name}'s kind of school, "
                "so it cannot be charged to it: ask the council's service manager"
            )
        vat.append((entry.vat_treatment, entry.vat_rate_bp))
    return vat
