"""Multi-academy trusts: the companies that run several academies (School.trust_id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from traded_app.domain.trusts import InvoiceTo
from traded_app.models.base import Base, UTCDateTime, utcnow
from traded_app.models.types import enum_column


class Trust(Base):
    __tablename__ = "trust"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # As Companies House prints it (domain.trusts); empty until the service manager enters it
    # (GIAS's establishment extract names a trust but not its company number).
    companies_house_number: Mapped[str | None] = mapped_column(String(8), unique=True)
    # GIAS's group UID ("Trusts (code)"): how an import recognises the trust again.
    gias_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    billing_address: Mapped[str] = mapped_column(Text, default="")
    finance_email: Mapped[str] = mapped_column(String(254), default="")
    invoice_to: Mapped[InvoiceTo] = mapped_column(
        enum_column(InvoiceTo, "trust_invoice_to"), default=InvoiceTo.ACADEMY
    )
    # The trust's word, recorded by the service manager: its finance staff may order for its
    # open academies (each order is the academy's, approved by the academy's limit).
    staff_may_order: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Trust {self.name}>"
