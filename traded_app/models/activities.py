"""The activities the council delivers through visits: its "non-negotiable" monitoring
activities (seed 003: data analysis, Ofsted readiness, support for new headteachers, schools whose
vulnerable pupils' outcomes cause concern) and the other activities it agrees with schools.

Visit reports say which activities a visit covered; partnership plans plan them. A retired
activity keeps its history but is offered no more."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from traded_app.models.base import Base, UTCDateTime, utcnow


class DeliveryActivity(Base):
    __tablename__ = "delivery_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # One of the council's monitoring activities every partnership plan must include.
    non_negotiable: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def kind_label(self) -> str:
        return "Non-negotiable" if self.non_negotiable else "Agreed with schools"
