"""What the CTM keeps about its exchanges with the host: links, the outbox, the inbox, feed positions.

Every row belongs to one mission, so a mission whose CTM is disabled keeps its queue untouched
(paused, never dropped) and another mission's relay never sees it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, MissionScoped, UTCDateTime, in_the_case_mission, utcnow
from .sealed import SealedText, sealed_type

# A linked person's sync status, shown on the case.
SYNC_PENDING, SYNC_SENT, SYNC_SYNCED, SYNC_FAILED, SYNC_CONFLICT = "pending", "sent", "synced", "failed", "conflict"
SYNC_STATUSES = (SYNC_PENDING, SYNC_SENT, SYNC_SYNCED, SYNC_FAILED, SYNC_CONFLICT)

# An outbox message's life: pending → sending → done; a lost reply makes it "unknown" (asked
# about before any re-send); business faults end in "failed", exhausted retries in "dead".
OUT_PENDING, OUT_SENDING, OUT_UNKNOWN = "pending", "sending", "unknown"
OUT_DONE, OUT_FAILED, OUT_DEAD, OUT_DISCARDED = "done", "failed", "dead", "discarded"
OUTBOX_STATUSES = (OUT_PENDING, OUT_SENDING, OUT_UNKNOWN, OUT_DONE, OUT_FAILED, OUT_DEAD, OUT_DISCARDED)
OUTBOX_OPEN = (OUT_PENDING, OUT_SENDING, OUT_UNKNOWN)
"""States the relay still works on."""
OUTBOX_GIVEN_UP = (OUT_FAILED, OUT_DEAD, OUT_DISCARDED)
"""States in which this side has given a message up: what it asked for will not happen through it."""


PAYLOAD_XML, PAYLOAD_JSON = "xml", "json"
PAYLOAD_KINDS = (PAYLOAD_XML, PAYLOAD_JSON)
"""An outbox payload is the request element as the mapping built it when queued (``xml``), or
the CTM's values, mapped when sent against the host's record as it then is (``json``)."""


def new_reference() -> str:
    """A message's ``ClientReference``: made once, before the first send, never made again."""
    return f"ctm-{secrets.token_hex(16)}"


@dataclass(frozen=True)
class Sent:
    """What the relay keeps of a message the host accepted."""

    result: dict[str, Any]
    """What to keep of the host's answer (e.g. the movement's id)."""
    mapping_version: str | None = None
    """The version of the mapping that mapped the payload, when it was mapped at send."""


@dataclass(frozen=True)
class Hold:
    """Why the relay does not send a message on this attempt: it waits (until ``until``; not counted as
    an attempt), or, without ``until``, it can never be sent and fails with ``code``."""

    code: str
    until: datetime | None = None


BENEFICIARY_FEED = "beneficiaries"
"""Host records changed since the last pull (``FindBeneficiaries`` with ``ModifiedSince``)."""
MOVEMENT_FEED = "movement_changes"
"""The host's movement change feed (``GetMovementChanges`` from a token)."""
FEEDS = (BENEFICIARY_FEED, MOVEMENT_FEED)


class HostLink(MissionScoped, Base):
    """How a case's person is tied to the host's ``Beneficiary``, and how the last exchange went."""

    __tablename__ = "ctm_host_link"
    __table_args__ = (in_the_case_mission(),)

    case_id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[str | None] = mapped_column(String(40))
    """``None`` while a person registered in the CTM first waits to be created in the host."""
    host_version: Mapped[int | None] = mapped_column(Integer)
    """The host's ``RecordVersion`` this side last saw: an update must carry it."""
    mapping_id: Mapped[str] = mapped_column(String(40))
    mapping_version: Mapped[str] = mapped_column(String(40))
    sync_status: Mapped[str] = mapped_column(String(12), default=SYNC_PENDING)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    """The host's message for the last failure, as the host wrote it."""
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """What the last refresh changed: ``{"field", "before", "after"}`` each."""
    conflict: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """On a ``CONFLICT``: ``{"ours": {...}, "host": {...}, "host_version": n}``; nothing was overwritten."""


class OutboxMessage(MissionScoped, Base):
    """One request to the host, committed with the change that needs it and sent by the relay job.

    ``client_reference`` is made once, before the first send, and never again: the host
    recognises a repeat and answers with the original result.
    """

    __tablename__ = "ctm_outbox"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    operation: Mapped[str] = mapped_column(String(32))
    client_reference: Mapped[str] = mapped_column(String(64), unique=True)
    payload_sealed: Mapped[str] = mapped_column("payload", sealed_type())
    payload = SealedText()
    """What the host needs, nothing more: see ``payload_kind``. Sealed: it may name the person; the relay opens it
    to send, and retention erases it to an empty text once the message is final."""
    payload_kind: Mapped[str] = mapped_column(String(8), default=PAYLOAD_XML, server_default=PAYLOAD_XML)
    """``xml``: the request element as the mapping built it; ``json``: values mapped when sent."""
    mapping_id: Mapped[str] = mapped_column(String(40))
    mapping_version: Mapped[str] = mapped_column(String(40))
    """The version of the mapping that built what was (or will be) sent: stamped when the payload is mapped."""
    status: Mapped[str] = mapped_column(String(12), default=OUT_PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """While ``sending``: after this, a crashed relay's message is taken up again (and asked about first)."""
    error_code: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Two relays claiming the same message: the second one's UPDATE finds the version moved on."""

    __mapper_args__ = {"version_id_col": version}


class AppliedChange(MissionScoped, Base):
    """The inbox: one row per change from the host already applied, so a repeat applies nothing."""

    __tablename__ = "ctm_inbox"
    __table_args__ = (UniqueConstraint("mission_code", "feed", "change_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed: Mapped[str] = mapped_column(String(40))
    change_key: Mapped[str] = mapped_column(String(160))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedPosition(MissionScoped, Base):
    """Where a mission's reading of a host feed stands (a change token, or a ``ModifiedSince`` time)."""

    __tablename__ = "ctm_feed_position"
    __table_args__ = (UniqueConstraint("mission_code", "feed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed: Mapped[str] = mapped_column(String(40))
    position: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    """When the feed was last read to its end (the position changed or not): /metrics' feed lag."""


class JobOutcome(MissionScoped, Base):
    """How a mission's periodic job last ended, for the synchronisation page.

    Only codes are kept (a host's fault code, ``CONNECT_FAILED``, ``MAPPING`` ...; see
    ``services.host.problem_of``) and the CTM fields a mapping could not read: never a secret,
    a host's message or a value from a record.
    """

    __tablename__ = "ctm_job_outcome"
    __table_args__ = (UniqueConstraint("mission_code", "job"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    code: Mapped[str | None] = mapped_column(String(40))
    """``None`` when the last run succeeded."""
    kind: Mapped[str | None] = mapped_column(String(40))
    """Which message tells the problem (a key of ``services.host.PROBLEMS``)."""
    fields: Mapped[str | None] = mapped_column(String(200))
    """For a mapping problem: the CTM fields that could not be read."""
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the runs started failing, for as long as they do."""
