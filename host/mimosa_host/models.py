"""The host's own records: missions, users and their role grants, beneficiaries,
movements, and which plugin is enabled in which mission."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Mission(Base):
    __tablename__ = "mission"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(3))


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_hq_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    """Raised at logout: every session issued before it stops being valid."""
    totp_secret: Mapped[str | None] = mapped_column(Text)
    """Sealed (sealing.py): the base32 secret the authenticator app shares."""
    second_factor_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the user confirmed their TOTP secret; ``None`` while not enrolled (a secret may wait to be confirmed)."""
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    """The time step of the last code accepted: a code is never accepted twice, even within its 30 seconds."""

    grants: Mapped[list[RoleGrant]] = relationship(back_populates="user", cascade="all, delete-orphan")


class RecoveryCode(Base):
    """One single-use recovery code of a user's second factor, Argon2-hashed; deleted once used."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))


class SignInThrottle(Base):
    """Failed sign-in attempts from one client address: for one account and step, or (``account`` and
    ``step`` empty) for every account. Forgotten once the last failure is old (see :mod:`throttle`)."""

    __tablename__ = "sign_in_throttle"
    __table_args__ = (UniqueConstraint("address", "account", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    account: Mapped[str] = mapped_column(String(80))
    step: Mapped[str] = mapped_column(String(8))
    failures: Mapped[int] = mapped_column(Integer)
    last_failure: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AdminAction(Base):
    """What an administrator did to another user's account (e.g. reset their second factor), and when."""

    __tablename__ = "admin_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(80))


class RoleGrant(Base):
    """One role held by one user in one mission."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "mission_code", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    mission_code: Mapped[str] = mapped_column(ForeignKey("mission.code"))
    role: Mapped[str] = mapped_column(String(80))

    user: Mapped[User] = relationship(back_populates="grants")


class Beneficiary(Base):
    __tablename__ = "beneficiary"

    beneficiary_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    mission_code: Mapped[str] = mapped_column(ForeignKey("mission.code"), index=True)
    family_name: Mapped[str] = mapped_column(String(120))
    given_name: Mapped[str] = mapped_column(String(120))
    middle_name: Mapped[str | None] = mapped_column(String(120))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_date_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    nationality: Mapped[str | None] = mapped_column(String(3))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    vulnerabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    project_code: Mapped[str | None] = mapped_column(String(40))
    record_version: Mapped[int] = mapped_column(Integer, default=1)
    last_modified: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    documents: Mapped[list[Document]] = relationship(
        back_populates="beneficiary", cascade="all, delete-orphan", order_by="Document.id"
    )

    __mapper_args__ = {"version_id_col": record_version}
    __table_args__ = (
        # FindBeneficiaries' pages: one mission's records in the answer's order, walked in the index.
        Index("ix_beneficiary_mission_page", "mission_code", "last_modified", "beneficiary_id"),
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.middle_name, self.family_name) if p)


class Document(Base):
    __tablename__ = "beneficiary_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[str] = mapped_column(
        ForeignKey("beneficiary.beneficiary_id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(40), index=True)
    issuing_country: Mapped[str] = mapped_column(String(3))
    expires: Mapped[date | None] = mapped_column(Date)

    beneficiary: Mapped[Beneficiary] = relationship(back_populates="documents")


movement_beneficiary = Table(
    "movement_beneficiary",
    Base.metadata,
    Column("movement_id", ForeignKey("movement.movement_id", ondelete="CASCADE"), primary_key=True),
    Column("beneficiary_id", ForeignKey("beneficiary.beneficiary_id"), primary_key=True),
)


class Movement(Base):
    __tablename__ = "movement"

    movement_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    mission_code: Mapped[str] = mapped_column(ForeignKey("mission.code"), index=True)
    project_code: Mapped[str | None] = mapped_column(String(40))
    movement_type: Mapped[str] = mapped_column(String(8))
    origin_country: Mapped[str] = mapped_column(String(3))
    origin_location: Mapped[str] = mapped_column(String(3))
    destination_country: Mapped[str] = mapped_column(String(3))
    destination_location: Mapped[str] = mapped_column(String(3))
    earliest_departure: Mapped[date] = mapped_column(Date)
    escort_type: Mapped[str] = mapped_column(String(12), default="NONE")
    fit_to_travel: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(12), default="REQUESTED")
    remarks: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    beneficiaries: Mapped[list[Beneficiary]] = relationship(secondary=movement_beneficiary)
    legs: Mapped[list[Leg]] = relationship(
        back_populates="movement", cascade="all, delete-orphan", order_by="Leg.sequence"
    )


class Leg(Base):
    __tablename__ = "movement_leg"
    __table_args__ = (UniqueConstraint("movement_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    movement_id: Mapped[str] = mapped_column(ForeignKey("movement.movement_id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(Integer)
    carrier: Mapped[str] = mapped_column(String(40))
    flight_number: Mapped[str] = mapped_column(String(12))
    from_location: Mapped[str] = mapped_column(String(3))
    to_location: Mapped[str] = mapped_column(String(3))
    departure: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    arrival: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    movement: Mapped[Movement] = relationship(back_populates="legs")


class PluginEnablement(Base):
    """A plugin's state in one mission; kept when disabled, so its history and settings survive."""

    __tablename__ = "plugin_enablement"
    __table_args__ = (UniqueConstraint("mission_code", "plugin_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mission_code: Mapped[str] = mapped_column(ForeignKey("mission.code"))
    plugin_name: Mapped[str] = mapped_column(String(80))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[str] = mapped_column(String(80))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The settings the plugin's schema does not mark secret."""
    secrets: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """The secret ones, each sealed (:mod:`mimosa_host.sealing`), by name; see ``enablement.stored_settings``."""


# The SOAP services' tables share this metadata; importing them here keeps Base.metadata (and so
# the migrations' autogenerate and the models-versus-migrations test) complete.
from .soap import models as _soap_models  # noqa: E402, F401
