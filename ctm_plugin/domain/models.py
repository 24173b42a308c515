"""The CTM's declarative base: its own ``MetaData``, every table prefixed ``ctm_``, never a host table."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, String, Text
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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class MissionScoped:
    """A row that belongs to one mission; a mission session sees and writes only its own."""

    mission_code: Mapped[str] = mapped_column(String(8), index=True)


class MissionActivation(Base):
    """The CTM's own record of a mission it serves: when it was enabled and disabled, by whom.

    A disabled mission keeps its row and all its data; re-enabling picks them up again.
    """

    __tablename__ = "ctm_mission"

    mission_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    enabled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enabled_by: Mapped[str] = mapped_column(String(80))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    case_number_prefix: Mapped[str] = mapped_column(String(12), default="CT", server_default="CT")
    """From the mission's settings, kept here so case numbering needs nothing from the host."""
    soap_base_url: Mapped[str | None] = mapped_column(String(400))
    soap_username: Mapped[str | None] = mapped_column(String(80))
    soap_password: Mapped[str | None] = mapped_column(String(200))
    """The API user's password, as the mission's settings hold it (WS-Security's digest needs it)."""
    mapping_overrides: Mapped[str | None] = mapped_column(Text)
    """The mission's TOML overrides of the default mappings, validated when the settings were saved."""
