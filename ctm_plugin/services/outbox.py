"""The relay: sends each outbox message to the host until the host has it, exactly once.

- A message is claimed (``sending``, with a lease) in its own short transaction; the host
  is called outside any transaction; the outcome is written in another.
- ``UNAVAILABLE`` and a host that cannot be reached are retried with capped exponential
  backoff and full jitter. A reply that may have been lost after the host acted (a read
  timeout, a dropped connection) leaves the message ``unknown``: before sending it again the
  relay asks the host whether it has the reference (``FindMovementByReference``); the host's
  idempotency by ``ClientReference`` answers any repeat with the original result.
- Business faults go to ``failed`` with the host's message; retries run out into ``dead``.
  Nothing is ever deleted: integrators retry or discard what is left, and both are audited.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ctm_plugin.adapters.mimosa.client import HostClient
from ctm_plugin.adapters.mimosa.errors import HostFault, HostProtocolError, HostUnavailable
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.domain.sync import (
    FEEDS,
    OUT_DEAD,
    OUT_DISCARDED,
    OUT_DONE,
    OUT_FAILED,
    OUT_PENDING,
    OUT_SENDING,
    OUT_UNKNOWN,
    FeedPosition,
    OutboxMessage,
)
from ctm_plugin.mappings.engine import Mapping
from ctm_plugin.security import audit
from ctm_plugin.security.permissions import SYNC_MANAGE, SYNC_VIEW
from mimosa_host.plugin_api import RequestContext

from .base import NotFound, require, unit_of_work
from .host import host_client, mappings

BASE_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=10)
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)
"""Longer than one attempt can take (connect + operation timeouts, and a lookup first)."""
BATCH = 100


def new_reference() -> str:
    """The message's ``ClientReference``: made once, before the first send, never made again."""
    return f"ctm-{secrets.token_hex(16)}"


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Full jitter: anywhere between nothing and the capped exponential delay."""
    ceiling = min(MAX_DELAY, BASE_DELAY * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=rng.uniform(0, ceiling.total_seconds()))


@dataclass
class RelayReport:
    done: int = 0
    retrying: int = 0
    failed: int = 0
    dead: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)
    """client reference → the state it was left in."""


# Operation name → how to send it and how to apply the host's answer; filled in by the modules
# that queue those operations (returns, people), so that this one knows no business of its own.
@dataclass(frozen=True)
class Operation:
    send: Callable[[HostClient, OutboxMessage, dict[str, Mapping]], dict]
    """Send the message with the mission's mappings; returns the result to keep (e.g. the movement's id)."""
    apply: Callable[[Session, OutboxMessage], None]
    """Apply a result (``message.result``) or a failure to the records that wait for it."""
    lookup: Callable[[HostClient, OutboxMessage], dict | None] | None = None
    """Ask the host whether it already has the reference; ``None`` when it has not."""


OPERATIONS: dict[str, Operation] = {}


def relay(
    ctx: RequestContext,
    *,
    now: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
    client: HostClient | None = None,
    limit: int = BATCH,
) -> RelayReport:
    """Send the mission's due messages in the order they were queued, each at most once a run.

    One message is claimed at a time, just before it is sent, so that a lease never runs out
    on a message still waiting its turn here.
    """
    rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
    tried: list[int]
    report, tried = RelayReport(), []
    while len(tried) < limit and (claimed := _claim(ctx, now(), 1, skip=tried)):
        message_id, in_doubt = claimed[0]
        tried.append(message_id)
        _deliver(ctx, message_id, in_doubt, now, rng, client, report)
    return report


def _claim(ctx: RequestContext, at: datetime, limit: int, skip: Sequence[int] = ()) -> list[tuple[int, bool]]:
    """Take due messages (and stalled ones, whose relay died) as ``sending`` under a lease.

    Each comes with whether the host may already have it (``unknown``, or stalled mid-send).
    """
    claimed = []
    with mission_session(ctx) as session:
        due = sa.or_(
            sa.and_(OutboxMessage.status.in_((OUT_PENDING, OUT_UNKNOWN)), OutboxMessage.next_attempt_at <= at),
            sa.and_(OutboxMessage.status == OUT_SENDING, OutboxMessage.lease_until < at),
        )
        with session.begin():
            query = sa.select(OutboxMessage.id).where(due, OutboxMessage.id.not_in(skip))
            ids = session.scalars(query.order_by(OutboxMessage.id).limit(limit)).all()
        for message_id in ids:
            try:
                with session.begin():
                    message = session.get(OutboxMessage, message_id, with_for_update={"skip_locked": True})
                    if message is None or not _still_due(message, at):
                        continue
                    in_doubt = message.status != OUT_PENDING
                    message.status, message.lease_until = OUT_SENDING, at + LEASE
                claimed.append((message_id, in_doubt))
            except StaleDataError:  # another relay claimed it first
                session.rollback()
    return claimed


def _still_due(message: OutboxMessage, at: datetime) -> bool:
    if message.status == OUT_SENDING:
        return message.lease_until is not None and _aware(message.lease_until) < at
    return message.status in (OUT_PENDING, OUT_UNKNOWN) and _aware(message.next_attempt_at) <= at


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for what was stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _deliver(
    ctx: RequestContext,
    message_id: int,
    in_doubt: bool,
    now: Callable[[], datetime],
    rng: random.Random,
    client: HostClient | None,
    report: RelayReport,
) -> None:
    with mission_session(ctx) as session:
        message = session.get_one(OutboxMessage, message_id)
        operation = OPERATIONS[message.operation]
        client, in_force = client or host_client(session), mappings(session)
        session.expunge(message)  # nothing is held open while the host is called
    try:
        result = operation.lookup(client, message) if in_doubt and operation.lookup else None
        if result is None:
            result = operation.send(client, message, in_force)
        outcome, code, error = OUT_DONE, None, None
    except HostUnavailable as exc:
        # Still in doubt if it was, or if this attempt may have reached the host.
        outcome, code, error = (OUT_UNKNOWN if exc.ambiguous or in_doubt else OUT_PENDING), exc.code, None
        result = None
    except HostFault as exc:
        retry_state = OUT_UNKNOWN if in_doubt else OUT_PENDING
        outcome, code, error = (retry_state if exc.retryable else OUT_FAILED), exc.code, exc.message
        result = getattr(exc, "details", None)  # e.g. a CONFLICT's two versions, for the case page
    except HostProtocolError:
        outcome, code, error, result = OUT_FAILED, "PROTOCOL", None, None
    _record(ctx, message_id, outcome, code, error, result, now(), rng, report)


def _record(
    ctx: RequestContext,
    message_id: int,
    outcome: str,
    code: str | None,
    error: str | None,
    result: dict | None,
    at: datetime,
    rng: random.Random,
    report: RelayReport,
) -> None:
    with unit_of_work(ctx) as session:
        message = session.get_one(OutboxMessage, message_id)
        message.attempts += 1
        message.lease_until = None
        message.error_code, message.error = code, error
        if outcome in (OUT_PENDING, OUT_UNKNOWN):
            if message.attempts >= MAX_ATTEMPTS:
                outcome = OUT_DEAD
            else:
                message.next_attempt_at = at + backoff(message.attempts, rng)
        message.status = outcome
        if result is not None:
            message.result = result
        if outcome in (OUT_DONE, OUT_FAILED, OUT_DEAD):
            OPERATIONS[message.operation].apply(session, message)
        audit.record(session, ctx, f"outbox.{outcome}", message.case_id, ["sync"])
    report.outcomes[message.client_reference] = outcome
    if outcome == OUT_DONE:
        report.done += 1
    elif outcome == OUT_FAILED:
        report.failed += 1
    elif outcome == OUT_DEAD:
        report.dead += 1
    else:
        report.retrying += 1


# -- what integrators see and do -------------------------------------------------------------


def messages(ctx: RequestContext, statuses: tuple[str, ...] | None = None, limit: int = 200) -> list[OutboxMessage]:
    """The mission's latest outbox messages, newest first (detached rows, without their payloads)."""
    require(ctx, SYNC_VIEW)
    with unit_of_work(ctx) as session:
        # The payload stays in the database: a page or a listing has no business with it.
        query = (
            sa.select(OutboxMessage)
            .options(sa.orm.defer(OutboxMessage.payload, raiseload=True))
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
        if statuses:
            query = query.where(OutboxMessage.status.in_(statuses))
        rows = session.scalars(query).all()
        audit.record(session, ctx, "outbox.view", None, ["sync"])
        session.flush()
        session.expunge_all()
        return list(rows)


RETRYABLE_BY_HAND = (OUT_FAILED, OUT_DEAD)
DISCARDABLE = (OUT_FAILED, OUT_DEAD, OUT_UNKNOWN, OUT_PENDING)


def retry(ctx: RequestContext, message_id: int) -> None:
    """Send a failed or dead message again, with the same reference (so the host cannot double it).

    A dead message may have reached the host before its retries ran out: it is asked about first.
    """
    with _manageable(ctx, message_id, "outbox.retry", RETRYABLE_BY_HAND) as message:
        message.status = OUT_PENDING if message.status == OUT_FAILED else OUT_UNKNOWN
        message.attempts, message.next_attempt_at = 0, utcnow()


def discard(ctx: RequestContext, message_id: int) -> None:
    """Give up on a message that will not be sent; it stays in the outbox, marked discarded."""
    with _manageable(ctx, message_id, "outbox.discard", DISCARDABLE) as message:
        message.status = OUT_DISCARDED


@contextmanager
def _manageable(ctx: RequestContext, message_id: int, action: str, allowed: tuple[str, ...]) -> Iterator[OutboxMessage]:
    require(ctx, SYNC_MANAGE)
    with unit_of_work(ctx) as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            raise NotFound
        if message.status not in allowed:
            raise Refused(message.status)
        yield message
        message.error_code = message.error = None
        OPERATIONS[message.operation].apply(session, message)
        audit.record(session, ctx, action, message.case_id, ["sync"])


class Refused(Exception):
    """The message is not in a state the action applies to (e.g. retrying one already done)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def counts(ctx: RequestContext) -> dict[str, int]:
    """How many of the mission's messages are in each state."""
    require(ctx, SYNC_VIEW)
    with unit_of_work(ctx) as session:
        rows = session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all()
        return {status: count for status, count in rows}


def feed_positions(ctx: RequestContext) -> dict[str, str | None]:
    """Where the mission's reading of each host feed stands."""
    require(ctx, SYNC_VIEW)
    with unit_of_work(ctx) as session:
        read = dict(session.execute(sa.select(FeedPosition.feed, FeedPosition.position)).all())
    return {feed: read.get(feed) for feed in FEEDS}
