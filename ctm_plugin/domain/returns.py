"""A voluntary return booked through the host (HTCDS support plan "Return", host ``MovementRequest``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import Base, MissionScoped, UTCDateTime, in_the_case_mission, utcnow
from .sync import OutboxMessage


class ReturnBooking(MissionScoped, Base):
    """The return as the CTM knows it; ``status`` is the host's, as its change feed last said.

    ``status`` is ``None`` until the host has accepted the booking; the outbox row says why.
    """

    __tablename__ = "ctm_return"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("ctm_outbox.id"), unique=True)
    movement_type: Mapped[str] = mapped_column(String(8), default="AVRR")
    project_code: Mapped[str | None] = mapped_column(String(40))
    """The mission's project the return is booked under (the host's ``ProjectCode``); ``None`` only
    for bookings made before project codes existed."""
    origin_country: Mapped[str] = mapped_column(String(3))
    origin_location: Mapped[str] = mapped_column(String(3))
    destination_country: Mapped[str] = mapped_column(String(3))
    destination_location: Mapped[str] = mapped_column(String(3))
    earliest_departure: Mapped[date] = mapped_column(Date)
    escort: Mapped[str] = mapped_column(String(12), default="NONE")
    fit_to_travel: Mapped[bool] = mapped_column(Boolean, default=True)
    movement_id: Mapped[str | None] = mapped_column(String(40), index=True)
    status: Mapped[str | None] = mapped_column(String(12))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    legs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    booked_by: Mapped[str] = mapped_column(String(80))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    outbox: Mapped[OutboxMessage] = relationship()
