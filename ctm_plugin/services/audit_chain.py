"""The audit chain's use cases: verifying a mission's chain (the auditor's button, ``ctm audit verify``),
and closing its oldest part with a signed checkpoint before the retention job purges it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.scope import MissionScopeViolation
from ctm_plugin.security import audit
from ctm_plugin.security.audit_chain import (
    CHECKPOINTS,
    EVENTS,
    ChainBroken,
    ChainState,
    audit_key,
    checkpoint_signature,
    lock_head,
    verify,
)
from ctm_plugin.security.permissions import AUDIT_VIEW
from mimosa_host.plugin_api import RequestContext

from .base import require, unit_of_work


def chain_state(session: Session, mission_code: str) -> ChainState:
    """The mission's chain walked from its start (or its latest checkpoint) to its head."""
    return verify(session.connection(), mission_code)


def verify_chain(ctx: RequestContext) -> ChainState:
    """The auditor's "Verify the chain": the whole chain walked now; the check itself is audited."""
    require(ctx, AUDIT_VIEW)
    with unit_of_work(ctx) as session:
        state = chain_state(session, ctx.mission.code)
        audit.record(session, ctx, "audit.verify", None, ["audit"])
        return state


def checkpoint_and_purge(session: Session, mission_code: str, before: datetime, *, dry_run: bool) -> int:
    """Delete the mission's audit events older than ``before``, after a signed checkpoint closes them.

    Only a beginning of the chain is purged (through the last event before the first one at or after
    ``before``), and only once it is verified: a checkpoint never closes a part that was tampered with
    (:class:`ChainBroken`, nothing purged). Returns how many events are purged, or with ``dry_run``
    would be (nothing written). Runs in the caller's transaction, which commits it.
    """
    if before.tzinfo is None:
        raise ValueError("a naive datetime says no moment: give it a time zone")
    scope = session.info.get("mission_code")
    if scope is not None and scope != mission_code:
        raise MissionScopeViolation(f"purging {mission_code}'s audit events in a {scope} session")
    connection = session.connection()
    key = audit_key()
    if not dry_run:  # a purge and an append, or two purges, take their turns
        lock_head(connection, mission_code, key)
    mission = EVENTS.c.mission_code == mission_code
    first_kept = connection.scalar(sa.select(sa.func.min(EVENTS.c.seq)).where(mission, EVENTS.c.at >= before))
    last = (
        first_kept - 1
        if first_kept is not None
        else connection.scalar(sa.select(sa.func.max(EVENTS.c.seq)).where(mission))
    )
    if last is None:
        return 0
    closed = verify(connection, mission_code, upto=last)
    if closed.broken:
        raise ChainBroken(closed.broken)
    if closed.events == 0:
        return 0
    if not dry_run:
        connection.execute(
            CHECKPOINTS.insert().values(
                mission_code=mission_code,
                seq=closed.head,
                hash=closed.head_hash,
                purged=closed.events,
                before=before,
                at=utcnow(),
                signature=checkpoint_signature(key, mission_code, closed.head, closed.head_hash, closed.events, before),
            )
        )
        connection.execute(EVENTS.delete().where(mission, EVENTS.c.seq <= closed.head))
    return closed.events
