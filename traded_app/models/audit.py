"""The audit trail: who changed what, when, from what to what. Append-only.

Rows are written by `traded_app.services.platform.audit` from SQLAlchemy's flush events, so every change
made through the ORM to an audited table is recorded without the service that made it knowing.
The ORM refuses to update or delete a row (the guard in the audit service) and so does the
database (triggers in migration 0007).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from traded_app.models.base import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_entity_ref", "entity", "entity_id"),
        Index("ix_audit_event_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The person who made the change (None for the system: commands, background jobs).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # Who it was as shown at the time ("Sam Patel <sam@…>"), kept even if the account changes.
    actor_label: Mapped[str] = mapped_column(String(300))
    entity: Mapped[str] = mapped_column(String(40))  # the table, e.g. "school_order"
    entity_id: Mapped[str] = mapped_column(String(40))
    entity_label: Mapped[str] = mapped_column(String(300), default="")
    action: Mapped[str] = mapped_column(String(16))  # created, updated, deleted
    # {"field": [from, to], ...} as JSON; secrets are recorded as changed, never their values.
    changes: Mapped[str] = mapped_column(Text, default="{}")
    # Where the change came from, when not a person's request: "GIAS import 3", "seed-demo".
    source: Mapped[str] = mapped_column(String(120), default="")

    @property
    def change_items(self) -> list[tuple[str, Any, Any]]:
        try:
            data = json.loads(self.changes or "{}")
        except ValueError:
            return []
        return [(field, pair[0], pair[1]) for field, pair in data.items()]

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.entity} {self.entity_id}>"


IMMUTABLE_AUDIT_TABLES = ("audit_event",)
