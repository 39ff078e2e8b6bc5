"""The trust columns of a GIAS import: which multi-academy trust runs each academy.

GIAS's establishment export names each academy's trust ("Trusts (code)", its group UID, and
"Trusts (name)"). When the file has those columns, GIAS is the register: an academy in the file
joins the trust it names (a trust new to the service is added, named as in GIAS, with no
Companies House number until the service manager enters it), moves when GIAS moves it, and leaves
its trust when GIAS names none. A trust renamed in GIAS is renamed here. Schools not in the file,
and every school when the file has no trust columns, keep their trust. The preview shows this
plan with the school changes; applying works it out again against the trusts as they are then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update

from traded_app.extensions import db
from traded_app.models import School, Trust
from traded_app.models.base import utcnow
from traded_app.services.platform import audit

SCHOOL = cast(Table, School.__table__)


@dataclass(frozen=True)
class Move:
    urn: int
    school: str
    before: str  # the trust's name, or "" for none
    after: str


@dataclass
class TrustPlan:
    in_file: bool = False  # whether the file has GIAS's trust columns at all
    new_trusts: dict[str, str] = field(default_factory=dict)  # GIAS code: name
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old name, new name)
    moves: list[Move] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "new_trusts": len(self.new_trusts),
            "renamed_trusts": len(self.renamed),
            "joining": sum(1 for m in self.moves if m.after),
            "leaving": sum(1 for m in self.moves if not m.after),
        }

    @property
    def changes_anything(self) -> bool:
        return bool(self.new_trusts or self.renamed or self.moves)


def plan_for(records: list[dict[str, Any]]) -> TrustPlan:
    """What the file's trust columns would change (the schools it adds count as members too)."""
    plan = TrustPlan(in_file=any(r.get("trust_code") is not None for r in records))
    if not plan.in_file:
        return plan
    trusts = {t.gias_code: t for t in db.session.scalars(select(Trust)) if t.gias_code}
    names = dict(db.session.execute(select(Trust.id, Trust.name)).tuples().all())
    current = {
        urn: trust_id
        for urn, trust_id in db.session.execute(select(School.urn, School.trust_id)).tuples()
    }
    for record in records:
        code = record.get("trust_code")
        if code is None or record["status"] != "open":
            continue
        name = record.get("trust_name") or code
        trust = trusts.get(code) if code else None
        if code and trust is None and code not in plan.new_trusts:
            plan.new_trusts[code] = name
        elif trust is not None and trust.name != name and (trust.name, name) not in plan.renamed:
            plan.renamed.append((trust.name, name))
        before_id = current.get(record["urn"])
        before = names.get(before_id, "") if before_id is not None else ""
        wanted_id = trust.id if trust is not None else None
        if code and (trust is None or before_id != wanted_id):
            plan.moves.append(Move(record["urn"], record["name"], before, name))
        elif not code and before_id is not None:
            plan.moves.append(Move(record["urn"], record["name"], before, ""))
    return plan


def apply(records: list[dict[str, Any]], entries: list[audit.Entry]) -> dict[str, int]:
    """Add and rename trusts and link the file's academies to theirs, in bulk (after the
    import has added its new schools); an audit entry for each school that moves."""
    plan = plan_for(records)
    if not plan.changes_anything:
        return plan.summary()
    by_code = {t.gias_code: t for t in db.session.scalars(select(Trust)) if t.gias_code}
    for code, name in plan.new_trusts.items():
        by_code[code] = Trust(name=name, gias_code=code)
        db.session.add(by_code[code])
    wanted_names = {
        r["trust_code"]: r.get("trust_name") or r["trust_code"]
        for r in records
        if r.get("trust_code") and r["status"] == "open"
    }
    for code, trust in by_code.items():
        if code in wanted_names and trust.name != wanted_names[code]:
            trust.name = wanted_names[code]
    db.session.flush()
    codes = {r["urn"]: r["trust_code"] for r in records if r.get("trust_code") is not None}
    ids = dict(db.session.execute(select(School.urn, School.id)).tuples().all())
    params = []
    for move in plan.moves:
        new_code = codes.get(move.urn)
        if move.urn not in ids or new_code is None:
            continue
        trust_id = by_code[new_code].id if new_code else None
        params.append({"b_id": ids[move.urn], "b_trust": trust_id})
        entries.append(
            audit.Entry(
                "school",
                str(ids[move.urn]),
                f"{move.school} ({move.urn})",
                "updated",
                {"trust": (move.before or None, move.after or None)},
            )
        )
    if params:
        db.session.execute(
            update(SCHOOL)
            .where(SCHOOL.c.id == bindparam("b_id"))
            .values(trust_id=bindparam("b_trust"), updated_at=utcnow()),
            params,
        )
    return plan.summary()
