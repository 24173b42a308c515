"""The audit chain: each mission's events linked one to the previous, so that an edited, deleted,
reordered or truncated event shows.

An event's ``hash`` is an HMAC-SHA256, under HQ's audit key (``keys.hq_key("audit")``), of a
canonical encoding of its content (mission, seq, time, user, action, case, field groups) and of the
previous event's ``hash``. Keyed, so that someone with the database alone cannot rebuild a chain after
changing it. The chain's head row and the purge checkpoints are signed under the same key.

Events are chained as their transaction commits, whatever session added them (listeners on every
``Session``): the head row is taken then, for writing (an insert that, if it is there, updates it to itself
and returns it), so a mission's transactions chain their events one after the other, in the order
they commit, in the page's own transaction; other missions' do not wait. Until then an event has no
place (``seq`` is NULL); a committed event without one was written past the chain and breaks it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from ctm_plugin.domain.audit import AuditChainHead, AuditCheckpoint, AuditEvent
from ctm_plugin.i18n import N_

from .keys import hq_key

GENESIS = "0" * 64
"""The ``prev_hash`` of a mission's first event."""
BATCH = 1000
"""Events read per round trip while a chain is walked."""

EVENTS = cast(sa.Table, AuditEvent.__table__)
HEADS = cast(sa.Table, AuditChainHead.__table__)
CHECKPOINTS = cast(sa.Table, AuditCheckpoint.__table__)


class EventContent(Protocol):
    """What is hashed of an event: a row read with its columns, and its place in the chain."""

    id: int
    mission_code: str
    seq: int
    at: datetime
    username: str
    action: str
    case_id: int | None
    field_groups: list[str]
    prev_hash: str


def audit_key() -> bytes:
    return hq_key("audit")


def _mac(key: bytes, *parts: object) -> str:
    encoded = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(key, encoded, hashlib.sha256).hexdigest()


def _moment(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(key: bytes, e: EventContent) -> str:
    return _mac(
        key,
        "ctm-audit-event-1",
        e.id,
        e.mission_code,
        e.seq,
        _moment(e.at),
        e.username,
        e.action,
        e.case_id,
        list(e.field_groups or ()),
        e.prev_hash,
    )


def head_signature(key: bytes, mission: str, seq: int, last_hash: str) -> str:
    return _mac(key, "ctm-audit-head-1", mission, seq, last_hash)


def checkpoint_signature(key: bytes, mission: str, seq: int, last_hash: str, purged: int, before: datetime) -> str:
    return _mac(key, "ctm-audit-checkpoint-1", mission, seq, last_hash, purged, _moment(before))


# -- appending ---------------------------------------------------------------------------------------


def lock_head(connection: sa.Connection, mission: str, key: bytes) -> tuple[int, str]:
    """The mission's chain head (last seq, its hash), locked for writing until the transaction ends.

    One statement, which writes: an insert of the genesis head that, when the head is there, updates it to
    itself and returns it. The update takes the row's lock on PostgreSQL (as ``FOR UPDATE`` would); on SQLite
    the write takes the database's write lock before the head is read, so no other writer can move the head
    in between.
    """
    insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(HEADS)
    seq, last = connection.execute(
        insert.values(mission_code=mission, seq=0, hash=GENESIS, signature=head_signature(key, mission, 0, GENESIS))
        .on_conflict_do_update(index_elements=["mission_code"], set_={"seq": HEADS.c.seq})
        .returning(HEADS.c.seq, HEADS.c.hash)
    ).one()
    return seq, last


def move_head(connection: sa.Connection, mission: str, key: bytes, seq: int, last_hash: str) -> None:
    connection.execute(
        HEADS.update()
        .where(HEADS.c.mission_code == mission)
        .values(seq=seq, hash=last_hash, signature=head_signature(key, mission, seq, last_hash))
    )


UNCHAINED = "ctm_audit_unchained"
"""``Session.info`` key: the missions whose events this session flushed and has not chained yet."""


def chain(session: Session, mission: str) -> None:
    """Give ``mission``'s events written in this transaction their places at the end of its chain.

    They are the mission's rows without a place yet (a savepoint rolled back takes its own with it), in
    the order they were written; the session's copies are updated too, without being marked changed.
    """
    connection = session.connection()
    key = audit_key()
    seq, last = lock_head(connection, mission, key)
    unchained = connection.execute(
        sa.select(EVENTS).where(EVENTS.c.mission_code == mission, EVENTS.c.seq.is_(None)).order_by(EVENTS.c.id)
    ).all()
    if not unchained:
        return
    links = []
    for row in unchained:
        seq += 1
        link = {"seq": seq, "prev_hash": last}
        last = event_hash(key, SimpleNamespace(**(row._asdict() | link)))
        links.append({"row_id": row.id, **link, "hash": last})
        if (loaded := session.identity_map.get(identity_key(AuditEvent, row.id))) is not None:
            for name in ("seq", "prev_hash", "hash"):
                set_committed_value(loaded, name, links[-1][name])
    connection.execute(
        EVENTS.update()
        .where(EVENTS.c.id == sa.bindparam("row_id"))
        .values(seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev_hash"), hash=sa.bindparam("hash")),
        links,
    )
    move_head(connection, mission, key, seq, last)


@event.listens_for(Session, "after_flush")
def _note_new_events(session: Session, _flush_context: object) -> None:
    missions = {obj.mission_code for obj in session.new if isinstance(obj, AuditEvent) and obj.seq is None}
    if missions:
        session.info.setdefault(UNCHAINED, set()).update(missions)


@event.listens_for(Session, "before_commit")
def _chain_at_commit(session: Session) -> None:
    """Chain the transaction's events as it commits: the mission's head is locked only from here to the
    commit, not while the page that wrote an event renders."""
    session.flush()  # what is still pending, before the commit's own flush
    for mission in sorted(session.info.pop(UNCHAINED, ())):  # always in one order: no two wait on each other
        chain(session, mission)


# -- verifying ---------------------------------------------------------------------------------------

BREAKS = {
    "changed": N_("Event #%(seq)s was changed after it was recorded."),
    "missing": N_("Events #%(seq)s to #%(last)s are missing."),
    "out_of_order": N_("Event #%(seq)s is out of order."),
    "truncated": N_("Events #%(seq)s to #%(last)s, the last ones, are missing: the chain was cut short."),
    "head": N_("The chain's end (its head) was altered or removed."),
    "checkpoint": N_("A checkpoint at event #%(seq)s is not signed with HQ's audit key."),
    "unchained": N_("An event (row %(row)s) was written outside the chain."),
}
"""What is wrong, by kind, in words (English msgids; the page shows them translated)."""


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain."""

    kind: str
    """One of :data:`BREAKS`."""
    seq: int
    """The event's place in the chain (the first missing one for ``missing`` and ``truncated``)."""
    last: int | None = None
    """The last missing event, for ``missing`` and ``truncated``."""
    event_id: int | None = None
    """The row where it shows, when there is one."""

    def text(self, translate: Any = lambda msgid: msgid) -> str:
        return translate(BREAKS[self.kind]) % {"seq": self.seq, "last": self.last, "row": self.event_id}


@dataclass(frozen=True)
class ChainState:
    mission: str
    events: int
    """How many events were checked."""
    start: int
    """The seq the chain starts after: the latest checkpoint's, 0 without one."""
    head: int
    """The head's seq: the last event's."""
    head_hash: str
    broken: Break | None


class ChainBroken(Exception):
    def __init__(self, broken: Break) -> None:
        super().__init__(broken.text())
        self.broken = broken


def _start(connection: sa.Connection, mission: str, key: bytes) -> tuple[int, str] | Break:
    """Where the chain starts: after the latest checkpoint (each one's signature checked), or at its beginning."""
    start: tuple[int, str] = (0, GENESIS)
    query = sa.select(CHECKPOINTS).where(CHECKPOINTS.c.mission_code == mission).order_by(CHECKPOINTS.c.seq)
    for cp in connection.execute(query):
        expected = checkpoint_signature(key, mission, cp.seq, cp.hash, cp.purged, cp.before)
        if not hmac.compare_digest(cp.signature, expected):
            return Break("checkpoint", cp.seq)
        start = (cp.seq, cp.hash)
    return start


def _walk(
    connection: sa.Connection, mission: str, key: bytes, start: tuple[int, str], upto: int | None
) -> tuple[int, int, str, Break | None]:
    """Every event in chain order, from ``start`` (through ``upto``): how many, the last seq and hash,
    and the first broken link."""
    expected, last, count = start[0] + 1, start[1], 0
    where = [
        EVENTS.c.mission_code == mission,
        *([EVENTS.c.seq <= upto] if upto is not None else [EVENTS.c.seq.is_not(None)]),
    ]
    after: int | None = None
    while True:
        query = sa.select(EVENTS).where(*where, *([EVENTS.c.seq > after] if after is not None else []))
        rows = connection.execute(query.order_by(EVENTS.c.seq, EVENTS.c.id).limit(BATCH)).all()
        for row in rows:
            if not hmac.compare_digest(row.hash, event_hash(key, row)):
                return count, expected - 1, last, Break("changed", row.seq, event_id=row.id)
            if row.seq > expected:
                return count, expected - 1, last, Break("missing", expected, row.seq - 1, row.id)
            if row.seq < expected or row.prev_hash != last:
                return count, expected - 1, last, Break("out_of_order", row.seq, event_id=row.id)
            expected, last, count = expected + 1, row.hash, count + 1
        if len(rows) < BATCH:
            return count, expected - 1, last, None
        after = rows[-1].seq


def verify(connection: sa.Connection, mission: str, upto: int | None = None) -> ChainState:
    """Walk ``mission``'s chain and say where it first breaks, if it does.

    With ``upto``, only the events through that seq are walked (what a purge is about to close) and
    the head is not compared."""
    key = audit_key()
    start = _start(connection, mission, key)
    if isinstance(start, Break):
        return ChainState(mission, 0, 0, 0, GENESIS, start)
    outside = connection.scalar(
        sa.select(sa.func.min(EVENTS.c.id)).where(EVENTS.c.mission_code == mission, EVENTS.c.seq.is_(None))
    )
    if outside is not None and upto is None:
        return ChainState(mission, 0, start[0], start[0], start[1], Break("unchained", 0, event_id=outside))
    count, seq, last, broken = _walk(connection, mission, key, start, upto)
    state = ChainState(mission, count, start[0], seq, last, broken)
    if broken or upto is not None:
        return state
    head = connection.execute(sa.select(HEADS).where(HEADS.c.mission_code == mission)).one_or_none()
    if head is None:
        return state if (seq, last) == (0, GENESIS) else _broken(state, Break("head", seq))
    if not hmac.compare_digest(head.signature, head_signature(key, mission, head.seq, head.hash)):
        return _broken(state, Break("head", seq))
    if head.seq > seq:
        return _broken(state, Break("truncated", seq + 1, head.seq))
    if head.seq < seq or head.hash != last:
        return _broken(state, Break("head", seq))
    return state


def _broken(state: ChainState, broken: Break) -> ChainState:
    return ChainState(state.mission, state.events, state.start, state.head, state.head_hash, broken)
