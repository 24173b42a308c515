"""The CTM's declarative base: its own ``MetaData``, every table prefixed ``ctm_``, never a host table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Dialect,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Every CTM moment: stored in UTC, read back aware in UTC, on SQLite as on PostgreSQL.

    SQLite keeps no offset, so a value is turned to UTC before it is stored and marked UTC when
    it is read; a naive value is refused, since nothing says which clock it came from.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored: give it a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class MissionScoped:
    """A row that belongs to one mission; a mission session sees and writes only its own."""

    mission_code: Mapped[str] = mapped_column(String(8), index=True)


class BetweenMissions:
    """A row two missions share (a hand-over): a mission session sees and writes it from either side only."""

    from_mission: Mapped[str] = mapped_column(String(8), index=True)
    to_mission: Mapped[str] = mapped_column(String(8), index=True)


def in_the_case_mission() -> ForeignKeyConstraint:
    """A mission's row under a case: ``(case_id, mission_code)`` refers to ``ctm_case(id, mission_code)``, so the
    database itself refuses a row hanging under another mission's case (raw SQL included), on both backends.

    Deleting the case deletes the row. (An audit event is not such a row: it outlives its case, whose link is
    then set to NULL while its mission stays, which a composite key cannot express; see domain/audit.py.)
    """
    return ForeignKeyConstraint(
        ["case_id", "mission_code"], ["ctm_case.id", "ctm_case.mission_code"], ondelete="CASCADE"
    )


class HqScoped:
    """A row of HQ's, of no mission (the emergency fund): no mission session writes it; only an HQ session
    (domain/scope.py ``hq_session``), opened for a user holding the fund's approval, does. A mission session
    reads none of them either (the earlier mission's re-trafficking flags are a view of their own, ctm0031).
    """


class MissionActivation(Base):
    """The CTM's own record of a mission it serves: when it was enabled and disabled, by whom.

    A disabled mission keeps its row and all its data; re-enabling picks them up again.
    """

    __tablename__ = "ctm_mission"

    mission_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    enabled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enabled_by: Mapped[str] = mapped_column(String(80))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_number_prefix: Mapped[str] = mapped_column(String(12), default="CT", server_default="CT")
    """From the mission's settings, kept here so case numbering needs nothing from the host.

    The connection to the host (address, API user, password) is not copied: it is read from the
    host's settings document, which the context carries (``ctx.settings``)."""


class MappingOverride(MissionScoped, Base):
    """One saved version of a mission's mapping overrides; the newest is the one in force.

    Every save adds a row, so the history of what was in force stays; an empty ``document``
    means the mission went back to the default mappings.
    """

    __tablename__ = "ctm_mapping_override"
    __table_args__ = (UniqueConstraint("mission_code", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    """1, 2, ... within the mission."""
    document: Mapped[str] = mapped_column(Text)
    """The TOML override document, validated by the mapping engine before it was saved."""
    saved_by: Mapped[str] = mapped_column(String(80))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
