"""The SOAP services' own tables: API users and their missions, the WS-Security nonce cache,
the idempotency record of accepted requests, and the movement change feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .. import sealing
from ..models import Base, utcnow


class ApiUser(Base):
    """A machine account that calls the SOAP services.

    The password cannot be hashed: a UsernameToken ``PasswordDigest`` is
    SHA-1(nonce + created + password), which the host can only check by recomputing it
    from the password itself. It is sealed at rest instead (:mod:`mimosa_host.sealing`: AES-256-GCM
    under the host's key, kept outside the database, bound to this row), so a copy of the
    database alone does not hold it. A production host would rather authenticate callers with
    TLS client certificates.
    """

    __tablename__ = "api_user"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    sealed_password: Mapped[str] = mapped_column("password", Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def password(self) -> str | None:
        """The password, or ``None`` when its sealed value does not open (its key is gone): no password."""
        return sealing.opened(self.sealed_password, self.__tablename__, "password", self.username)

    @password.setter
    def password(self, password: str) -> None:
        assert self.username, "the username is part of the sealed password's place"
        self.sealed_password = sealing.seal(
            password, sealing.associated_data(self.__tablename__, "password", self.username)
        )


class ApiUserMission(Base):
    """One mission whose records an API user may read and write."""

    __tablename__ = "api_user_mission"

    username: Mapped[str] = mapped_column(ForeignKey("api_user.username", ondelete="CASCADE"), primary_key=True)
    mission_code: Mapped[str] = mapped_column(ForeignKey("mission.code"), primary_key=True)


class ApiNonce(Base):
    """A UsernameToken nonce already accepted: the unique constraint refuses its replay."""

    __tablename__ = "api_nonce"
    __table_args__ = (UniqueConstraint("username", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    nonce: Mapped[str] = mapped_column(String(100))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ClientRequest(Base):
    """A request accepted under a caller's ``ClientReference``, with the answer it got.

    Written in the same transaction as the request's effect, so that a repeat finds either
    nothing (the effect did not happen) or the stored answer (it did).
    """

    __tablename__ = "client_request"
    __table_args__ = (UniqueConstraint("api_username", "client_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_username: Mapped[str] = mapped_column(String(80))
    client_reference: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(40))
    payload_hash: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(20), index=True)
    """The beneficiary or movement the request created or changed."""
    response_xml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MovementChange(Base):
    """One status transition of a movement, in the order the feed hands them out (``seq``)."""

    __tablename__ = "movement_change"
    # No reuse of a deleted highest seq on SQLite: a token handed out stays meaningful.
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    movement_id: Mapped[str] = mapped_column(ForeignKey("movement.movement_id", ondelete="CASCADE"), index=True)
    mission_code: Mapped[str] = mapped_column(String(8))
    api_username: Mapped[str | None] = mapped_column(String(80))
    """The API user who booked the movement; only that user sees ``client_reference``."""
    client_reference: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(24))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    legs: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """The legs set by this transition, if it set any."""
