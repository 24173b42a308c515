"""The relay: sends each outbox message to the host until the host has it, exactly once.

- Messages are claimed (``sending``, with a lease) a batch at a time in one short transaction
  (on PostgreSQL ``FOR UPDATE SKIP LOCKED``: relays in several processes share one queue), at
  most one of each case (a case's messages go in the order queued, one after the other's
  outcome); the host is called outside any transaction, a few messages at once over the
  process's keep-alive connections; the outcomes that came back are written together in one
  more transaction, each with its audit events, which claims the next messages too, while the
  workers send the last ones (never more claimed than they can send within the lease).
- A transaction that queues a message rings the relay job as it commits (``CHANNEL``: a
  ``NOTIFY`` on PostgreSQL, heard by every process's job runner; in-process otherwise).
- ``UNAVAILABLE`` and a host that cannot be reached before the request left are retried with
  capped exponential backoff and full jitter; these retries run out into ``dead`` (the host
  never had the request).
- Whenever the host may hold the request (a read timeout, a dropped connection, an answer
  that cannot be read or is about something else, a lookup that cannot be read or is refused)
  the message is ``unknown``, *in doubt*: before sending it again the relay asks the host
  whether it has the reference (``FindMovementByReference``); the host's idempotency by
  ``ClientReference`` answers any repeat with the original result. A message in doubt is
  reconciled with backoff for as long as it takes: it never runs out into ``dead`` or
  ``failed`` on its own, and its case accepts no other booking meanwhile.
- An operation may hold a message back before it is sent (a cancellation waits for its
  booking's ``MovementId``): held, it is not an attempt and waits ``pending``; one that can
  never be sent (the booking never reached the host) fails.
- Only the host's explicit refusal of the request (a business fault) ends in ``failed``.
  The relay deletes nothing: integrators retry or discard what is left, one message or a
  filtered selection, and every action is audited. Discarding a message the host may hold
  asks the host first; if it holds it, the message is adopted (``done``) instead. (Retention,
  services/retention.py, erases a final message's payload after the mission's days, and
  deletes messages with their purged case.)
"""

from __future__ import annotations

import contextvars
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from ctm_plugin.adapters.mimosa.client import HostClient
from ctm_plugin.adapters.mimosa.errors import HostError, HostFault, HostProtocolError, HostUnavailable
from ctm_plugin.domain.case import Case
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
    OUTBOX_STATUSES,
    FeedPosition,
    OutboxMessage,
)
from ctm_plugin.mappings.engine import Mapping
from ctm_plugin.security import audit
from ctm_plugin.security.permissions import SYNC_MANAGE, SYNC_VIEW
from mimosa_host.plugin_api import RequestContext, wake_jobs

from .base import Conflict, NotFound, require, unit_of_work
from .host import NotConnected, host_client, mappings
from .operations import OPERATIONS, Operation

BASE_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=10)
MAX_ATTEMPTS = 8
"""Attempts of a message the host surely never had, before it is ``dead``; one in doubt has no limit."""
LEASE = timedelta(minutes=2)
"""Longer than one round can take: ``PER_WORKER`` attempts each way of sharing them out among the workers
(an attempt at most twice the connect + operation timeouts, a lookup first; 26 s with the defaults)."""
BATCH = 100
"""The most messages one run takes."""
PER_WORKER = 3
"""A round claims at most this many messages per worker, so that the round ends within the lease however
the host answers: (3 + 1) attempts of 26 s < 2 min."""
WORKERS = 4
"""Messages of different cases sent at once, over the process's keep-alive connections to the host
(``CTM_RELAY_WORKERS`` in the environment sets it for the process, from 1 to ``MAX_WORKERS``)."""
MAX_WORKERS = 10
"""The connections the transport's pool keeps to one host."""


def workers_setting() -> int:
    """The relay's workers in this process: ``CTM_RELAY_WORKERS``, else :data:`WORKERS`."""
    text = os.environ.get("CTM_RELAY_WORKERS", "").strip()
    return min(max(int(text), 1), MAX_WORKERS) if text.isdigit() else WORKERS


CHANNEL = "ctm_outbox"
"""The relay job's wake-up (``Job.wake_on``): a transaction that queues a message rings it as it commits."""
_QUEUED = "ctm_outbox_queued"
_NOTIFIED = "ctm_outbox_notified"
"""The transaction has said so already: one ``NOTIFY`` a transaction, however many flushes follow."""


@event.listens_for(Session, "after_flush")
def _announce(session: Session, _flush_context: object) -> None:
    """A message queued (or put back in the queue): on PostgreSQL ``NOTIFY`` in the same transaction, so the
    relays of every process hear of it when, and only if, it commits; in this process once it has committed."""
    if session.info.get(_NOTIFIED) or not (
        session.info.get(_QUEUED) or any(isinstance(obj, OutboxMessage) for obj in session.new)
    ):
        return
    mission = session.info.get("mission_code")
    session.info[_QUEUED], session.info[_NOTIFIED] = mission or True, True
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_notify(CHANNEL, mission or "")))


@event.listens_for(Session, "after_commit")
def _ring(session: Session) -> None:
    session.info.pop(_NOTIFIED, None)
    if (mission := session.info.pop(_QUEUED, None)) is not None:
        wake_jobs(CHANNEL, mission if isinstance(mission, str) else None)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_QUEUED, None)
    session.info.pop(_NOTIFIED, None)


def requeued(message: OutboxMessage) -> None:
    """``message`` is due again (retried by hand): the relay is rung as for a new one."""
    if (session := object_session(message)) is not None:
        session.info[_QUEUED] = session.info.get("mission_code") or True


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Full jitter: anywhere between nothing and the capped exponential delay."""
    ceiling = min(MAX_DELAY, BASE_DELAY * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=rng.uniform(0, ceiling.total_seconds()))


@dataclass
class RelayReport:
    done: int = 0
    retrying: int = 0
    """Left ``pending`` or ``unknown`` (these also counted in ``in_doubt``)."""
    in_doubt: int = 0
    failed: int = 0
    dead: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)
    """client reference → the state it was left in."""


def relay(
    ctx: RequestContext,
    *,
    now: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
    client: HostClient | None = None,
    limit: int = BATCH,
    workers: int | None = None,
) -> RelayReport:
    """Send the mission's due messages in the order they were queued, each at most once a run.

    The relay keeps its ``workers`` (:func:`workers_setting` by default) busy over the process's
    keep-alive connections: it claims a batch in one transaction (at most one message of each
    case, and none of a case whose message is still under way here: a case's next message waits
    for its outcome, so a cancellation never overtakes its booking); once all but one message a
    worker have come back, it records their outcomes and claims as many again in one more
    transaction, while the workers send the rest (few, large transactions: each costs the same
    few statements, the audit chain's among them, however many outcomes it holds). No more than
    :data:`PER_WORKER` messages per worker are ever claimed and unfinished, so a lease never runs
    out on a message still waiting its turn here.
    """
    rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
    report, tried = RelayReport(), list[int]()
    workers = workers or workers_setting()
    most = workers * PER_WORKER
    top_up = max(most - workers, 1)  # outcomes recorded together, and room claimed again, at a time
    under_way: dict[Future[Outcome], Claimed] = {}
    crashed: BaseException | None = None
    emptied = False  # the last claim found nothing: claim again only once nothing is under way
    with _senders(workers) as pool:

        def wanted() -> Wanted | None:
            """What to claim now: room for a worker's worth or more, or for anything once nothing is under way."""
            room = min(most - len(under_way), limit - len(tried))
            if crashed is not None or room <= 0 or (under_way and (emptied or room < top_up)):
                return None
            busy = frozenset(claimed.message.case_id for claimed in under_way.values())
            return Wanted(room, tuple(tried), busy, client)

        def take(batch: Batch) -> None:
            nonlocal emptied
            emptied = not batch.claimed
            tried.extend(claimed.message.id for claimed in batch.claimed)
            for claimed in batch.claimed:
                # Each worker runs in a copy of this context (the mission's, bound by the host).
                under_way[pool.submit(contextvars.copy_context().run, _outcome, batch, claimed)] = claimed

        if (first := wanted()) is not None:
            take(_claim_as(ctx, now(), first))
        while under_way:
            _wait_for(under_way, top_up)
            outcomes = []
            for future in [future for future in under_way if future.done()]:  # in the order claimed
                claimed = under_way.pop(future)
                if (error := future.exception()) is not None:
                    crashed = crashed or error  # its message stays claimed: once its lease is over it is in doubt
                else:
                    outcomes.append((claimed.message.id, future.result()))
            more = wanted()
            if outcomes:  # recorded, and more claimed, in one transaction
                batch = _record(ctx, outcomes, now(), rng, report, more)
            else:
                batch = _claim_as(ctx, now(), more) if more is not None else Batch()
            if more is not None:
                take(batch)
    if crashed is not None:
        raise crashed  # after every other outcome was recorded
    return report


def _wait_for(futures: dict[Future[Outcome], Claimed], count: int) -> None:
    """Until ``count`` of ``futures`` are done (all of them, if fewer): outcomes recorded together, in one
    transaction, rather than each as it comes."""
    for done, _future in enumerate(as_completed(futures), start=1):
        if done >= count:
            return


@contextmanager
def _senders(workers: int) -> Iterator[Executor]:
    """``workers`` threads to send on, or (one worker) the relay's own thread."""
    if workers < 2:
        yield _InThisThread()
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ctm-relay") as pool:
        yield pool


class _InThisThread(Executor):
    """Runs what is submitted at once, in the caller's thread."""

    def submit(self, fn: Callable[..., Outcome], /, *args: object, **kwargs: object) -> Future[Outcome]:  # type: ignore[override]
        future: Future[Outcome] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed over as a worker's would be
            future.set_exception(error)
        return future


@dataclass
class Claimed:
    message: OutboxMessage
    """Detached, its payload opened."""
    in_doubt: bool
    """The host may already have it (``unknown``, or stalled mid-send)."""
    operation: Operation
    outcome: Outcome | None = None
    """Known without sending: held back (or never sendable)."""


@dataclass
class Batch:
    claimed: list[Claimed] = field(default_factory=list)
    client: HostClient | None = None
    in_force: dict[str, Mapping] = field(default_factory=dict)


def stalled(at: datetime) -> sa.ColumnElement[bool]:
    """A message claimed by a relay that died (or hung) mid-send: its lease ran out before ``at``."""
    return sa.and_(OutboxMessage.status == OUT_SENDING, OutboxMessage.lease_until < at)


CLAIM_TRIES = 3
"""SQLite has no row locks: a claim that raced another relay's (the version moved on) is taken again."""


@dataclass(frozen=True)
class Wanted:
    """A claim's terms: at most ``room`` messages, none of ``skip`` (tried this run), none of the ``busy`` cases
    (whose message is under way)."""

    room: int
    skip: tuple[int, ...] = ()
    busy: frozenset[int] = frozenset()
    client: HostClient | None = None


def _claim(
    ctx: RequestContext,
    at: datetime,
    limit: int,
    skip: Sequence[int] = (),
    client: HostClient | None = None,
    busy: frozenset[int] = frozenset(),
) -> Batch:
    """Up to ``limit`` due messages claimed on their own (:func:`_claim_as`)."""
    return _claim_as(ctx, at, Wanted(limit, tuple(skip), busy, client))


def _claim_as(ctx: RequestContext, at: datetime, wanted: Wanted) -> Batch:
    """Take due messages (and stalled ones, whose relay died) as ``sending`` under a lease, in one transaction.

    On PostgreSQL the rows are locked as they are read and rows another relay holds are skipped
    (``FOR UPDATE SKIP LOCKED``): relays on several machines share one queue and never take the
    same message at once. On SQLite writers take turns; a message another relay claimed between
    our read and our write fails the version check, and the claim is taken again.
    """
    for _attempt in range(CLAIM_TRIES):
        try:
            with mission_session(ctx) as session, session.begin():
                return _claim_in(session, at, wanted)
        except StaleDataError:
            continue
    return Batch()


def _claim_in(session: Session, at: datetime, wanted: Wanted) -> Batch:
    """The claim, in ``session``'s transaction: the oldest due message of each case (none of the busy ones), each
    prepared (a cancellation completed with its movement, or held back), detached once marked ``sending``."""
    batch = Batch()
    due = sa.or_(
        sa.and_(OutboxMessage.status.in_((OUT_PENDING, OUT_UNKNOWN)), OutboxMessage.next_attempt_at <= at),
        stalled(at),
    )
    query = sa.select(OutboxMessage).where(due).order_by(OutboxMessage.id).limit(wanted.room)
    if wanted.skip:
        query = query.where(OutboxMessage.id.not_in(wanted.skip))
    if wanted.busy:
        query = query.where(OutboxMessage.case_id.not_in(wanted.busy))
    rows = session.scalars(query.with_for_update(skip_locked=True)).all()
    cases: set[int] = set()
    for message in rows:
        if message.case_id in cases:
            continue  # the case's next message goes after this one's outcome, next round
        cases.add(message.case_id)
        operation = OPERATIONS[message.operation]
        claimed = Claimed(message, message.status != OUT_PENDING, operation)
        hold = operation.prepare(session, message) if operation.prepare is not None else None
        if hold is not None:
            claimed.outcome = (
                Outcome(OUT_FAILED, hold.code)
                if hold.until is None
                else Outcome(OUT_PENDING, waits_until=hold.until)  # held back: it never left
            )
        message.status, message.lease_until = OUT_SENDING, at + LEASE
        message.payload  # noqa: B018 - opened here, in the caller's context, for the thread that sends it
        batch.claimed.append(claimed)
    to_send = [claimed for claimed in batch.claimed if claimed.outcome is None]
    if to_send:
        batch.client = wanted.client or host_client(session)
        if any(claimed.operation.mapped_at_send for claimed in to_send):
            batch.in_force = mappings(session)
    session.flush()
    for claimed in batch.claimed:
        session.expunge(claimed.message)  # nothing is held open while the host is called
    return batch


def _outcome(batch: Batch, claimed: Claimed) -> Outcome:
    """What became of a claimed message: known at its claim (held back), or sent."""
    if claimed.outcome is not None:
        return claimed.outcome
    assert batch.client is not None  # resolved whenever a message is to be sent
    return _attempt(claimed.operation, batch.client, claimed.message, batch.in_force, claimed.in_doubt)


@dataclass(frozen=True)
class Outcome:
    status: str
    code: str | None = None
    error: str | None = None
    """The host's own message, shown to integrators (never logged)."""
    result: dict | None = None
    mapping_version: str | None = None
    """Stamped on the message when its payload was mapped at send."""
    waits_until: datetime | None = None
    """Held back, not sent (not an attempt): when to look at it again."""


def _attempt(
    operation: Operation, client: HostClient, message: OutboxMessage, in_force: dict[str, Mapping], in_doubt: bool
) -> Outcome:
    """One try: ask first if the host may already have it, then send; what became of it."""
    if in_doubt and operation.lookup is not None:
        try:
            found = operation.lookup(client, message)
        except HostError as exc:  # the lookup could not tell (or was refused): still in doubt
            return Outcome(OUT_UNKNOWN, exc.code, getattr(exc, "message", None))
        if found is not None:
            return Outcome(OUT_DONE, result=found)
    try:
        sent = operation.send(client, message, in_force)
    except HostFault as exc:
        if exc.retryable:
            return Outcome(OUT_UNKNOWN if in_doubt else OUT_PENDING, exc.code)
        # The host read the request and refused it: the only way a message fails by itself.
        return Outcome(OUT_FAILED, exc.code, exc.message, getattr(exc, "details", None))
    except HostUnavailable as exc:
        # Still in doubt if it was, or if this attempt may have reached the host.
        return Outcome(OUT_UNKNOWN if exc.ambiguous or in_doubt else OUT_PENDING, exc.code)
    except HostProtocolError as exc:
        return Outcome(OUT_UNKNOWN, exc.code)  # an answer we cannot read may still mean it is booked
    return Outcome(OUT_DONE, result=sent.result, mapping_version=sent.mapping_version)


def _record(
    ctx: RequestContext,
    outcomes: list[tuple[int, Outcome]],
    at: datetime,
    rng: random.Random,
    report: RelayReport,
    more: Wanted | None = None,
) -> Batch:
    """Every outcome of a batch in one transaction, each message with its audit events, in the order claimed;
    and, ``more`` wanted, the next messages claimed in the same transaction (what it claimed).

    Should a message have moved on meanwhile (its version checked), the outcomes are written without the
    claim, each in a transaction of its own, and that one's is left; the claim is taken on its own after them.
    """
    batch = Batch()
    try:
        with unit_of_work(ctx) as session:
            ids = [message_id for message_id, _outcome in outcomes]
            found = {m.id: m for m in session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids)))}
            kept = [(message_id, outcome) for message_id, outcome in outcomes if message_id in found]  # not purged
            with session.no_autoflush:  # one flush for the batch (its statements grouped), as it commits
                statuses = [_apply(found[message_id], outcome, at, rng) for message_id, outcome in kept]
                _settle_all(session, ctx, [found[message_id] for message_id, _outcome in kept])
            references = [found[message_id].client_reference for message_id, _outcome in kept]
            if more is not None:
                batch = _claim_in(session, at, more)
    except Conflict:
        if more is not None:
            _record(ctx, outcomes, at, rng, report)
            return _claim_as(ctx, at, more)
        if len(outcomes) == 1:
            raise
        for one in outcomes:
            try:
                _record(ctx, [one], at, rng, report)
            except Conflict:
                continue
        return batch
    for reference, status in zip(references, statuses, strict=True):
        _count(report, reference, status)
    return batch


def _apply(message: OutboxMessage, outcome: Outcome, at: datetime, rng: random.Random) -> str:
    """The message's new state after ``outcome``."""
    status = outcome.status
    message.lease_until = None
    message.error_code, message.error = outcome.code, outcome.error
    if outcome.waits_until is not None:
        message.next_attempt_at = max(outcome.waits_until, at + BASE_DELAY)
    else:
        message.attempts += 1
        if status == OUT_PENDING and message.attempts >= MAX_ATTEMPTS:
            status = OUT_DEAD
        elif status in (OUT_PENDING, OUT_UNKNOWN):
            message.next_attempt_at = at + backoff(message.attempts, rng)
    message.status = status
    if outcome.result is not None:
        message.result = outcome.result
    if outcome.mapping_version is not None:
        message.mapping_version = outcome.mapping_version
    return status


def _settle_all(session: Session, ctx: RequestContext, messages: Sequence[OutboxMessage]) -> None:
    """Each final message's state applied to the records waiting for it (one ``apply`` per operation for
    them all), then every message's audit events, in order: the operation's, if settled, then the outbox's."""
    settled = [message for message in messages if message.status in (OUT_DONE, OUT_FAILED, OUT_DEAD)]
    for name in dict.fromkeys(message.operation for message in settled):
        OPERATIONS[name].apply(session, [message for message in settled if message.operation == name])
    for message in messages:
        if message in settled:
            _audit_settled(session, ctx, message)
        audit.record(session, ctx, f"outbox.{message.status}", message.case_id, ["sync"])


def _count(report: RelayReport, reference: str, status: str) -> None:
    report.outcomes[reference] = status
    if status == OUT_DONE:
        report.done += 1
    elif status == OUT_FAILED:
        report.failed += 1
    elif status == OUT_DEAD:
        report.dead += 1
    else:
        report.retrying += 1
        report.in_doubt += status == OUT_UNKNOWN


# -- what integrators see and do -------------------------------------------------------------


def messages(
    ctx: RequestContext,
    statuses: tuple[str, ...] | None = None,
    limit: int = 200,
    ids: Sequence[int] | None = None,
) -> list[OutboxMessage]:
    """The mission's latest outbox messages (of ``statuses``, or these ``ids``), newest first
    (detached rows, without their payloads)."""
    require(ctx, SYNC_VIEW)
    with unit_of_work(ctx) as session:
        # The payload stays in the database: a page or a listing has no business with it.
        query = (
            sa.select(OutboxMessage)
            .options(sa.orm.defer(OutboxMessage.payload_sealed, raiseload=True))
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
        if statuses:
            query = query.where(OutboxMessage.status.in_(statuses))
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(ids))
        rows = session.scalars(query).all()
        audit.record(session, ctx, "outbox.view", None, ["sync"])
        session.flush()
        session.expunge_all()
        return list(rows)


RETRYABLE_BY_HAND = (OUT_FAILED, OUT_DEAD, OUT_UNKNOWN, OUT_PENDING)
DISCARDABLE = (OUT_FAILED, OUT_DEAD, OUT_UNKNOWN, OUT_PENDING)
ASKED_BEFORE_DISCARD = (OUT_UNKNOWN, OUT_DEAD)
"""States in which the host may hold the message (a dead one may predate the in-doubt rule)."""
BULK_LIMIT = 500
"""The most messages one bulk action takes (the rest wait for the next)."""


def retry(ctx: RequestContext, message_id: int) -> None:
    """Send a message again now, with the same reference (so the host cannot double it).

    A failed one is queued again; one in doubt, or dead (it may have reached the host before
    the in-doubt rule kept such messages open), is asked about first; a pending one is tried
    at once instead of after its backoff.
    """
    with _manageable(ctx, message_id, "outbox.retry", RETRYABLE_BY_HAND) as message:
        if message.status == OUT_FAILED:
            message.status = OUT_PENDING
        elif message.status == OUT_DEAD:
            message.status = OUT_UNKNOWN
        message.attempts, message.next_attempt_at = 0, utcnow()
        requeued(message)


def discard(ctx: RequestContext, message_id: int, client: HostClient | None = None) -> str:
    """Give up on a message: it stays in the outbox, marked discarded, and is never sent.

    One the host may hold is asked about first (its lookup): if the host has it, the message is
    adopted as delivered instead, and that is what this returns (``done``, else ``discarded``).
    A host that cannot be asked raises its ``HostError`` (or ``NotConnected``) and nothing changes.
    """
    require(ctx, SYNC_MANAGE)
    with unit_of_work(ctx) as session:
        message = _message(session, message_id, DISCARDABLE)
        lookup = OPERATIONS[message.operation].lookup
        if lookup is None or message.status not in ASKED_BEFORE_DISCARD:
            lookup = None  # nothing to ask the host
        else:
            client = client or host_client(session)
            session.expunge(message)
    found = lookup(client, message) if lookup is not None and client is not None else None
    action = "outbox.adopt" if found is not None else "outbox.discard"
    with _manageable(ctx, message_id, action, DISCARDABLE) as message:
        if found is not None:
            message.status, message.result = OUT_DONE, found
        else:
            message.status = OUT_DISCARDED
        return message.status


@contextmanager
def _manageable(ctx: RequestContext, message_id: int, action: str, allowed: tuple[str, ...]) -> Iterator[OutboxMessage]:
    require(ctx, SYNC_MANAGE)
    with unit_of_work(ctx) as session:
        message = _message(session, message_id, allowed)
        yield message
        message.error_code = message.error = None
        _settle(session, ctx, message)
        audit.record(session, ctx, action, message.case_id, ["sync"])


def _settle(session: Session, ctx: RequestContext, message: OutboxMessage) -> None:
    """Apply the message's new state to the records waiting for it, audited as its operation says."""
    OPERATIONS[message.operation].apply(session, [message])
    _audit_settled(session, ctx, message)


def _audit_settled(session: Session, ctx: RequestContext, message: OutboxMessage) -> None:
    operation = OPERATIONS[message.operation]
    if operation.audited_as is not None:
        action, field_group = operation.audited_as
        audit.record(session, ctx, f"{action}.{message.status}", message.case_id, [field_group])


def _message(session: Session, message_id: int, allowed: tuple[str, ...]) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound
    if message.status not in allowed:
        raise Refused(message.status)
    return message


class Refused(Exception):
    """The message is not in a state the action applies to (e.g. retrying one already done)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class Selection:
    """Which messages a bulk action takes: every filter given must match (none: all it applies to)."""

    statuses: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    older_than: timedelta | None = None
    """Queued at least this long ago."""
    case_number: str | None = None


ACTIONS = {"retry": RETRYABLE_BY_HAND, "discard": DISCARDABLE}
"""The bulk actions and the states each applies to."""


def select(
    ctx: RequestContext, action: str | None, selection: Selection, now: Callable[[], datetime] = utcnow
) -> list[int]:
    """The ids of the mission's messages that ``selection`` names and ``action`` (if any) applies to,
    oldest first, at most ``BULK_LIMIT``."""
    require(ctx, SYNC_VIEW)
    allowed = ACTIONS[action] if action else OUTBOX_STATUSES
    statuses = [status for status in selection.statuses if status in allowed] if selection.statuses else allowed
    query = sa.select(OutboxMessage.id).where(OutboxMessage.status.in_(statuses))
    if selection.operations:
        query = query.where(OutboxMessage.operation.in_(selection.operations))
    if selection.older_than is not None:
        query = query.where(OutboxMessage.created_at <= now() - selection.older_than)
    if selection.case_number:
        query = query.join(Case, Case.id == OutboxMessage.case_id).where(Case.case_number == selection.case_number)
    with unit_of_work(ctx) as session:
        return list(session.scalars(query.order_by(OutboxMessage.id).limit(BULK_LIMIT)))


def apply_to(ctx: RequestContext, action: str, ids: Sequence[int], client: HostClient | None = None) -> Counter:
    """Retry or discard each message in turn (each in its own transaction, audited).

    Counts what became of them: ``retried``, ``discarded``, ``adopted`` (the host had it),
    ``kept`` (the host could not be asked), ``skipped`` (no longer in a state the action applies to).
    """
    if action not in ACTIONS:
        raise ValueError(action)
    outcomes: Counter = Counter()
    for message_id in ids:
        try:
            if action == "retry":
                retry(ctx, message_id)
                outcomes["retried"] += 1
            else:
                adopted = discard(ctx, message_id, client) == OUT_DONE
                outcomes["adopted" if adopted else "discarded"] += 1
        except (Refused, NotFound):
            outcomes["skipped"] += 1
        except (HostError, NotConnected):
            outcomes["kept"] += 1
    return outcomes


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
