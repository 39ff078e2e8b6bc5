"""The audit trail: every change to the audited tables, recorded generically at flush.

`init_app` attaches a listener to every SQLAlchemy session: `after_flush` reads the session's
new, dirty and deleted objects of the audited tables and the attribute history SQLAlchemy keeps
for each, and inserts one `audit_event` row per object with the changed columns (from → to), who
made the change and when. It runs inside the same transaction, so a change that is rolled back
leaves no audit row, and a change that commits always has one. Services need not do anything.

The trail itself is append-only: platform/append_only refuses any update or delete of an audit
row (the database triggers refuse too).

Who made the change comes from `current_actor()`: a context variable set per request by the
admin blueprint's hook (the signed-in user) or by `acting_as(...)` in commands and jobs.

Bulk writes that bypass the ORM (the GIAS import's executemany) record their own rows through
`record_many`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, cast

from sqlalchemy import Select, Table, event, func, insert, inspect, select
from sqlalchemy.orm import Session

from traded_app.extensions import db
from traded_app.formatting import LONDON
from traded_app.models import (
    AcademicYear,
    AuditEvent,
    Base,
    Document,
    Order,
    OrderStatus,
    Quadrant,
    School,
    Service,
    User,
)
from traded_app.models.base import utcnow
from traded_app.services.platform.paging import Page, paginate

AUDIT_TABLE = cast(Table, AuditEvent.__table__)


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str


SYSTEM = Actor(None, "System")

_actor: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)
_resolver: ContextVar[Callable[[], Actor | None] | None] = ContextVar(
    "audit_actor_resolver", default=None
)
_source: ContextVar[str] = ContextVar("audit_source", default="")

PAUSE_KEY = "traded_audit_paused"


def actor_for(user: User) -> Actor:
    return Actor(user.id, f"{user.name} <{user.email}>")


def set_actor_resolver(resolver: Callable[[], Actor | None] | None) -> Any:
    """Per request: how to find who is acting (looked up only when something is recorded, so a
    read-only request never loads the user for the audit trail's sake). Returns a reset token."""
    return _resolver.set(resolver)


def reset_actor_resolver(token: Any) -> None:
    _resolver.reset(token)


@contextmanager
def acting_as(actor: Actor | User | None, source: str = "") -> Iterator[None]:
    """Attribute the changes made inside to `actor` (a user, or None for the system)."""
    if isinstance(actor, User):
        actor = actor_for(actor)
    actor_token = _actor.set(actor or SYSTEM)
    source_token = _source.set(source)
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _source.reset(source_token)


def current_actor() -> Actor:
    actor = _actor.get()
    if actor is not None:
        return actor
    resolver = _resolver.get()
    if resolver is not None:
        resolved = resolver()
        if resolved is not None:
            return resolved
    return SYSTEM


@contextmanager
def paused(session: Session | None = None) -> Iterator[None]:
    """Record nothing inside (the demo loader writes its own, backdated history instead)."""
    target = session or db.session()
    target.info[PAUSE_KEY] = True
    try:
        yield
    finally:
        target.info.pop(PAUSE_KEY, None)


# --- What is audited ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Audited:
    """An audited table: its name for people, and how to name one of its rows."""

    title: str
    label: Callable[[Any, Session], str]


# Columns never worth a line in the trail: bookkeeping the ORM maintains.
IGNORED_COLUMNS = frozenset({"updated_at", "version", "last_sign_in_at"})
# Recorded as changed, never with their values.
# Recorded as "changed", never with their values.
SECRET_COLUMNS = frozenset(
    {"password_hash", "session_token", "stripe_secret_key", "stripe_webhook_secret"}
)


def _ref(prefix: str) -> Callable[[Any, Session], str]:
    return lambda obj, _s: f"{prefix}-{obj.id:06d}" if obj.id else prefix


def _school_label(obj: Any, _s: Session) -> str:
    return f"{obj.name} ({obj.urn})"


def _of_school(obj: Any, session: Session) -> str:
    school = session.get(School, obj.school_id) if obj.school_id else None
    return f"{school.name} ({school.urn})" if school else f"School #{obj.school_id}"


def _year_label(session: Session, year_id: int) -> str:
    year = session.get(AcademicYear, year_id)
    return year.label if year else f"year #{year_id}"


def _service_code(session: Session, service_id: int) -> str:
    service = session.get(Service, service_id)
    return service.code if service else f"service #{service_id}"


def _order_line_label(obj: Any, session: Session) -> str:
    return f"ORD-{obj.order_id:06d} {_service_code(session, obj.service_id)}"


def _allocation_label(obj: Any, session: Session) -> str:
    return f"{_of_school(obj, session)} {_year_label(session, obj.academic_year_id)}: {obj.reason}"


def _price_label(obj: Any, session: Session) -> str:
    return f"{_service_code(session, obj.service_id)} {_year_label(session, obj.academic_year_id)}"


def _vat_label(obj: Any, session: Session) -> str:
    return f"{_service_code(session, obj.service_id)} {obj.customer_type}"


def _capacity_label(obj: Any, session: Session) -> str:
    quadrant = session.get(Quadrant, obj.quadrant_id)
    name = quadrant.name if quadrant else f"quadrant #{obj.quadrant_id}"
    return f"{name} {_year_label(session, obj.academic_year_id)}"


def _user_label(obj: Any, _s: Session) -> str:
    return f"{obj.name} <{obj.email}>"


def _membership_label(obj: Any, session: Session) -> str:
    user = session.get(User, obj.user_id)
    who = f"{user.name} <{user.email}>" if user else f"user #{obj.user_id}"
    return f"{who} at {_of_school(obj, session)}"


def _document_send_label(obj: Any, session: Session) -> str:
    document = session.get(Document, obj.document_id)
    return f"{document.number if document else obj.document_id} to {obj.recipient}"


AUDITED: dict[str, Audited] = {
    "school_order": Audited("Order", _ref("ORD")),
    "order_line": Audited("Order line", _order_line_label),
    "visit": Audited("Visit", _ref("VIS")),
    "core_allocation": Audited("Core allocation", _allocation_label),
    "closure_day": Audited("Closure day", lambda o, _s: f"{o.closed_on} {o.name}"),
    "document": Audited("Document", lambda o, _s: o.number),
    "document_send": Audited("Document e-mail", _document_send_label),
    # Money recorded against documents, and how each payment is shared among them: finance's
    # trail, as much as the documents themselves.
    "payment": Audited("Payment", lambda o, _s: f"Payment #{o.id}"),
    "payment_allocation": Audited("Payment allocation", lambda o, _s: f"Payment line #{o.id}"),
    "remittance": Audited("Remittance", lambda o, _s: f"Remittance #{o.id} {o.reference}"),
    "statement_send": Audited("Statement e-mail", lambda o, _s: f"Statement to {o.recipient}"),
    "service": Audited("Catalogue service", lambda o, _s: f"{o.code} {o.name}"),
    "service_price": Audited("Price", _price_label),
    "service_vat": Audited("VAT rule", _vat_label),
    "council_settings": Audited("Council settings", lambda o, _s: o.name),
    "charge_plan": Audited("Invoice schedule", lambda o, _s: f"{o.billing_route} {o.timing}"),
    "scheduled_charge": Audited(
        "Scheduled charge", lambda o, _s: f"#{o.order_id} {o.number}/{o.count}"
    ),
    "academic_year": Audited("Academic year", lambda o, _s: o.label),
    "user_account": Audited("User", _user_label),
    "school_membership": Audited("School membership", _membership_label),
    "school": Audited("School", _school_label),
    "partnership": Audited("Partnership", lambda o, _s: o.name),
    "trust": Audited("Trust", lambda o, _s: o.name),
    "quadrant": Audited("Quadrant", lambda o, _s: o.name),
    "quadrant_district": Audited("District", lambda o, _s: o.name),
    "quadrant_capacity": Audited("Traded capacity", _capacity_label),
    "year_close": Audited("Year closed", lambda o, s: _year_label(s, o.academic_year_id)),
    "partnership_buying": Audited("Partnership buying", lambda o, _s: o.partnership.name),
    "partnership_order": Audited("Partnership order", _ref("PTN")),
    "partnership_share": Audited("Partnership share", lambda o, _s: f"Share #{o.id}"),
}
# Bulk writers (GIAS import) and the UI name these too.
EXTRA_ENTITIES = {"gias_import": "GIAS import"}


def entity_title(entity: str) -> str:
    if entity in AUDITED:
        return AUDITED[entity].title
    return EXTRA_ENTITIES.get(entity, entity.replace("_", " ").capitalize())


def entity_choices() -> list[tuple[str, str]]:
    names = {**{k: v.title for k, v in AUDITED.items()}, **EXTRA_ENTITIES}
    return sorted(names.items(), key=lambda item: item[1])


# --- Recording ------------------------------------------------------------------------------------


def init_app() -> None:
    """Attach the listeners to every session (once per process)."""
    if getattr(init_app, "_done", False):
        return
    init_app._done = True  # type: ignore[attr-defined]
    event.listen(Session, "after_flush", _record_flush)
    _keep_old_values()


def _keep_old_values() -> None:
    """Make SQLAlchemy load a column's old value before an audited attribute is replaced, so
    "from" is known even when the object was expired (after a commit) before the change."""
    for mapper in Base.registry.mappers:
        if getattr(mapper.local_table, "name", None) not in AUDITED:
            continue
        for column in mapper.column_attrs:
            if column.key not in IGNORED_COLUMNS:
                event.listen(getattr(mapper.class_, column.key), "set", _keep, active_history=True)


def _keep(_target: Any, value: Any, _old: Any, _initiator: Any) -> Any:
    return value


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def _changes(obj: Any, action: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for column in state.mapper.column_attrs:
        key = column.key
        if key in IGNORED_COLUMNS or key == "id":
            continue
        history = state.attrs[key].history
        if action == "created":
            value = state.attrs[key].value
            if value is None or value == "":
                continue
            before, after = None, value
        elif action == "deleted":
            value = (
                history.unchanged[0]
                if history.unchanged
                else (history.deleted[0] if history.deleted else None)
            )
            if value is None or value == "":
                continue
            before, after = value, None
        else:
            if not history.has_changes():
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before == after:
                continue
        if key in SECRET_COLUMNS:
            changes[key] = ["(secret)" if before else None, "(changed)" if after else None]
        else:
            changes[key] = [_json_value(before), _json_value(after)]
    return changes


def _is_draft_basket(obj: Any, table: str, session: Session) -> bool:
    """A school's unsubmitted basket is its own working copy: its churn is not audited; the
    submission records the order with its frozen lines."""
    if table == "school_order":
        state = inspect(obj)
        history = state.attrs["status"].history
        was_draft = not history.deleted or history.deleted[0] == OrderStatus.DRAFT
        return obj.status == OrderStatus.DRAFT and was_draft
    if table == "order_line":
        order = session.get(Order, obj.order_id)
        return order is None or order.status == OrderStatus.DRAFT
    return False


def _record_flush(session: Session, _context: Any) -> None:
    if session.info.get(PAUSE_KEY):
        return
    pending: list[tuple[Any, str]] = []
    pending += [(obj, "created") for obj in session.new]
    pending += [(obj, "updated") for obj in session.dirty]
    pending += [(obj, "deleted") for obj in session.deleted]
    rows: list[dict[str, Any]] = []
    actor: Actor | None = None
    for obj, action in pending:
        table = getattr(obj, "__tablename__", None)
        spec = AUDITED.get(table or "")
        if spec is None or _is_draft_basket(obj, table or "", session):
            continue
        changes = _changes(obj, action)
        if action == "updated" and not changes:
            continue
        actor = actor or current_actor()
        try:
            label = spec.label(obj, session)
        except Exception:  # a label must never stop the change being saved
            label = ""
        rows.append(_row(actor, table or "", str(obj.id), label[:300], action, changes))
    if rows:
        session.connection().execute(insert(AUDIT_TABLE), rows)


def _row(
    actor: Actor,
    entity: str,
    entity_id: str,
    label: str,
    action: str,
    changes: dict[str, list[Any]],
    at: datetime | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    return {
        "at": (at or utcnow()),
        "actor_id": actor.user_id,
        "actor_label": actor.label[:300],
        "entity": entity,
        "entity_id": entity_id,
        "entity_label": label[:300],
        "action": action,
        "changes": json.dumps(changes, ensure_ascii=False, default=str),
        "source": (_source.get() if source is None else source)[:120],
    }


@dataclass(frozen=True)
class Entry:
    """One change recorded by a bulk writer (no ORM object to inspect)."""

    entity: str
    entity_id: str
    label: str
    action: str
    changes: dict[str, Any]  # field -> (from, to)
    at: datetime | None = None
    actor: Actor | None = None


def record_many(entries: Iterable[Entry], *, source: str | None = None) -> int:
    """Append entries in one executemany; returns how many. Uses the current actor unless an
    entry names its own (the demo's history)."""
    default_actor = current_actor()
    rows = [
        _row(
            e.actor or default_actor,
            e.entity,
            e.entity_id,
            e.label,
            e.action,
            {k: [_json_value(a), _json_value(b)] for k, (a, b) in e.changes.items()},
            e.at,
            source,
        )
        for e in entries
    ]
    if rows:
        db.session.execute(insert(AUDIT_TABLE), rows)
    return len(rows)


# --- Reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    entity: str = ""
    actor_id: int | None = None
    action: str = ""
    text: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def as_args(self) -> dict[str, Any]:
        """The filters as query arguments (for links that keep them)."""
        args: dict[str, Any] = {
            "entity": self.entity or None,
            "actor": self.actor_id,
            "action": self.action or None,
            "q": self.text or None,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }
        return {k: v for k, v in args.items() if v is not None}


def _london_midnight_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LONDON)


def _filtered(filters: AuditFilters) -> Select[tuple[AuditEvent]]:
    stmt = select(AuditEvent)
    if filters.entity:
        stmt = stmt.where(AuditEvent.entity == filters.entity)
    if filters.actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == filters.actor_id)
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.text:
        needle = filters.text.lower()
        stmt = stmt.where(
            func.lower(AuditEvent.entity_label).contains(needle, autoescape=True)
            | (AuditEvent.entity_id == filters.text)
            | func.lower(AuditEvent.changes).contains(needle, autoescape=True)
        )
    if filters.date_from:
        stmt = stmt.where(AuditEvent.at >= _london_midnight_utc(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(AuditEvent.at < _london_midnight_utc(filters.date_to + timedelta(days=1)))
    return stmt


def search(filters: AuditFilters, per_page: int = 50) -> Page[AuditEvent]:
    """Newest first, a page at a time."""
    stmt = _filtered(filters).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    return paginate(stmt, filters.page, per_page)


def history_of(entity: str, entity_id: int | str) -> list[AuditEvent]:
    return list(
        db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
            .order_by(AuditEvent.at, AuditEvent.id)
        ).scalars()
    )


def actors() -> list[tuple[int, str]]:
    """Everyone who appears in the trail, for the filter."""
    rows = db.session.execute(
        select(User.id, User.name, User.email)
        .where(User.id.in_(select(AuditEvent.actor_id).distinct()))
        .order_by(User.name)
    ).all()
    return [(user_id, f"{name} ({email})") for user_id, name, email in rows]


# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_csv(filters: AuditFilters) -> Iterator[str]:
    """The filtered trail as CSV, one change per row, streamed a batch at a time."""
    out = io.StringIO()
    writer = csv.writer(out)

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow(
        [
            "When (UK time)",
            "Who",
            "Action",
            "Record type",
            "Record",
            "Record id",
            "Field",
            "From",
            "To",
            "Source",
        ]
    )
    yield flush()
    stmt = _filtered(filters).order_by(AuditEvent.at, AuditEvent.id)
    for batch in db.session.execute(stmt.execution_options(yield_per=500)).scalars().partitions():
        for e in batch:
            when = e.at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S")
            items = e.change_items or [("", "", "")]
            for field, before, after in items:
                writer.writerow(
                    [
                        safe_cell(v)
                        for v in (
                            when,
                            e.actor_label,
                            e.action,
                            entity_title(e.entity),
                            e.entity_label,
                            e.entity_id,
                            field,
                            "" if before is None else before,
                            "" if after is None else after,
                            e.source,
                        )
                    ]
                )
        yield flush()
