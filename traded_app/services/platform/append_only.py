"""Append-only tables: the ORM's half of "issued means issued" (the database's half is the
triggers of migrations 0005, 0007 and 0008).

Issued documents and their lines, recorded payments and exports, and the audit trail are kept
for good: a mistake is corrected by a new row (a credit note, a reversal), never by changing or
deleting one. `install()`, called once by `create_app`, adds one `before_flush` listener to every
session that refuses an update or delete of a row of a table in `RULES`, before any SQL is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from traded_app.models.audit import IMMUTABLE_AUDIT_TABLES
from traded_app.models.consolidated import IMMUTABLE_CONSOLIDATED_TABLES
from traded_app.models.invoices import IMMUTABLE_TABLES
from traded_app.models.payments import IMMUTABLE_PAYMENT_TABLES, UNDELETABLE_TABLES
from traded_app.models.quotes import IMMUTABLE_QUOTE_TABLES
from traded_app.services.platform.errors import DomainError


class AppendOnlyError(DomainError, RuntimeError):
    """Something tried to change or delete a row that is kept for good (a bug, not a user's
    mistake: no page offers it)."""


class ImmutableDocumentError(AppendOnlyError):
    """Something tried to change or delete an issued document."""


class ImmutablePaymentError(AppendOnlyError):
    """Something tried to change or delete a recorded payment or export."""


class AuditTrailError(AppendOnlyError):
    """An attempt to change or delete the audit trail."""


@dataclass(frozen=True)
class Rule:
    error: type[AppendOnlyError]
    message: str  # formatted with the refused object as `row`
    may_update: bool = False  # True: the row may change (a status), but never be deleted


_DOCUMENT = Rule(
    ImmutableDocumentError,
    "{row!r} is part of an issued document and cannot be changed or deleted; "
    "raise a credit note instead",
)
_PAYMENT = Rule(
    ImmutablePaymentError,
    "{row!r} is recorded and cannot be changed or deleted; reverse it instead",
)

RULES: dict[str, Rule] = {
    **dict.fromkeys(IMMUTABLE_TABLES, _DOCUMENT),
    **dict.fromkeys(IMMUTABLE_CONSOLIDATED_TABLES, _DOCUMENT),
    **dict.fromkeys(IMMUTABLE_PAYMENT_TABLES, _PAYMENT),
    **dict.fromkeys(UNDELETABLE_TABLES, Rule(_PAYMENT.error, _PAYMENT.message, may_update=True)),
    **dict.fromkeys(
        IMMUTABLE_QUOTE_TABLES,
        Rule(AppendOnlyError, "{row!r} is kept as it was issued: make a new one instead"),
    ),
    **dict.fromkeys(
        IMMUTABLE_AUDIT_TABLES,
        Rule(AuditTrailError, "The audit trail is append-only: its rows cannot change"),
    ),
}


def install() -> None:
    """Guard every session of the process (once, however many apps are created)."""
    if not event.contains(Session, "before_flush", refuse_changes):
        event.listen(Session, "before_flush", refuse_changes)


def refuse_changes(session: Session, _context: Any, _instances: Any) -> None:
    for row in [*session.dirty, *session.deleted]:
        rule = RULES.get(getattr(row, "__tablename__", ""))
        if rule is None:
            continue
        if row in session.deleted or (
            not rule.may_update and session.is_modified(row, include_collections=False)
        ):
            raise rule.error(rule.message.format(row=row))
