"""Partnerships: named groups of schools in a quadrant, and their members."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from traded_app.extensions import db
from traded_app.models import Partnership, Quadrant, School
from traded_app.models.types import SchoolStatus
from traded_app.services.council.schools import AdminError
from traded_app.services.platform.errors import NotFound


@dataclass(frozen=True)
class PartnershipRow:
    partnership: Partnership
    members: int


def all_partnerships() -> list[PartnershipRow]:
    counts = dict(
        db.session.execute(
            select(School.partnership_id, func.count())
            .where(School.status == SchoolStatus.OPEN, School.partnership_id.is_not(None))
            .group_by(School.partnership_id)
        )
        .tuples()
        .all()
    )
    rows = db.session.execute(
        select(Partnership)
        .options(joinedload(Partnership.quadrant))
        .order_by(Partnership.active.desc(), Partnership.name)
    ).scalars()
    return [PartnershipRow(p, counts.get(p.id, 0)) for p in rows]


def _name_taken(name: str, partnership: Partnership | None) -> bool:
    clash = db.session.execute(
        select(Partnership.id).where(func.lower(Partnership.name) == name.strip().lower())
    ).scalar_one_or_none()
    return clash is not None and (partnership is None or clash != partnership.id)


def save_partnership(
    partnership: Partnership | None, name: str, quadrant_id: int, active: bool = True
) -> Partnership:
    name = " ".join(name.split())
    if _name_taken(name, partnership):
        raise AdminError(f"There is already a partnership called {name}", "name")
    quadrant = db.session.get(Quadrant, quadrant_id)
    if quadrant is None:
        raise AdminError("Select the partnership's quadrant", "quadrant_id")
    if not quadrant.active and (partnership is None or partnership.quadrant_id != quadrant_id):
        raise AdminError(f"The {quadrant.name} team is retired: choose another", "quadrant_id")
    if partnership is None:
        partnership = Partnership(name=name, quadrant_id=quadrant_id, active=active)
        db.session.add(partnership)
    else:
        if partnership.name != name:
            partnership.name = name
        if partnership.quadrant_id != quadrant_id:
            partnership.quadrant_id = quadrant_id
        if partnership.active != active:
            partnership.active = active
    db.session.flush()
    return partnership


def partnership_by_id(partnership_id: int) -> Partnership:
    """The partnership with this id, active or not; NotFound if there is none."""
    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None:
        raise NotFound(f"No partnership {partnership_id}")
    return partnership


def members(partnership: Partnership) -> list[School]:
    return list(
        db.session.execute(
            select(School)
            .where(School.partnership_id == partnership.id, School.status == SchoolStatus.OPEN)
            .order_by(School.name)
        ).scalars()
    )


def add_member(partnership: Partnership, urn: int) -> School:
    school = db.session.execute(select(School).where(School.urn == urn)).scalar_one_or_none()
    if school is None:
        raise AdminError(f"There is no school with URN {urn}", "urn")
    if not school.is_open:
        raise AdminError(f"{school.name} is closed", "urn")
    if not partnership.active:
        raise AdminError("This partnership is no longer active: reactivate it first", "urn")
    if school.partnership_id == partnership.id:
        raise AdminError(f"{school.name} is already in this partnership", "urn")
    if school.quadrant_id is not None and school.quadrant_id != partnership.quadrant_id:
        raise AdminError(
            f"{school.name} is in the {school.quadrant.name if school.quadrant else ''} quadrant; "
            f"this partnership is in {partnership.quadrant.name}",
            "urn",
        )
    school.partnership_id = partnership.id
    db.session.flush()
    return school


def remove_member(partnership: Partnership, school: School) -> None:
    if school.partnership_id != partnership.id:
        raise AdminError(f"{school.name} is not in this partnership")
    school.partnership_id = None
    db.session.flush()


def active_partnerships() -> list[Partnership]:
    return list(
        db.session.execute(
            select(Partnership)
            .options(joinedload(Partnership.quadrant))
            .where(Partnership.active.is_(True))
            .order_by(Partnership.name)
        ).scalars()
    )
