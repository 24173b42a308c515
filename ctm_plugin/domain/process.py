"""The trafficking process as the person lived it: ordered events and the people behind them.

HTCDS ``hte_`` knows Recruitment, Transit and Exploitation; the CTM adds Exit (how the
person left or was identified). Perpetrators follow HTCDS ``per_``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Column, Date, Float, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import Base, MissionScoped, in_the_case_mission
from .sealed import Sealed, sealed_type

perpetrator_event = Table(
    "ctm_perpetrator_event",
    Base.metadata,
    Column("perpetrator_id", ForeignKey("ctm_perpetrator.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", ForeignKey("ctm_event.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class TraffickingEvent(MissionScoped, Base):
    __tablename__ = "ctm_event"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    """Order in the person's story; events are shown and the route drawn in this order."""
    type: Mapped[str] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(3))
    locality: Mapped[str | None] = mapped_column(String(120))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    start_date: Mapped[date | None] = mapped_column(Date)
    start_precision: Mapped[str] = mapped_column(String(10), default="Unknown")
    end_date: Mapped[date | None] = mapped_column(Date)
    end_precision: Mapped[str] = mapped_column(String(10), default="Unknown")
    transport: Mapped[str | None] = mapped_column(String(20))
    documents: Mapped[str | None] = mapped_column(String(20))
    border_crossing: Mapped[str | None] = mapped_column(String(20))
    exit_mode: Mapped[str | None] = mapped_column(String(20))
    """Only for an Exit event: self-escape, police, NGO, hotline, other."""
    notes_sealed: Mapped[str | None] = mapped_column("notes", sealed_type())
    notes = Sealed()

    perpetrators: Mapped[list[Perpetrator]] = relationship(secondary=perpetrator_event, back_populates="events")


class Perpetrator(MissionScoped, Base):
    __tablename__ = "ctm_perpetrator"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    alias_sealed: Mapped[str | None] = mapped_column("alias", sealed_type(120))
    alias = Sealed()
    """How the person knew them: an identity field, shown only with the identity permission."""
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    sex: Mapped[str | None] = mapped_column(String(40))
    nationality: Mapped[str | None] = mapped_column(String(3))
    relationship_to_victim: Mapped[str | None] = mapped_column(String(20))
    notes_sealed: Mapped[str | None] = mapped_column("notes", sealed_type())
    notes = Sealed()

    events: Mapped[list[TraffickingEvent]] = relationship(secondary=perpetrator_event, back_populates="perpetrators")
