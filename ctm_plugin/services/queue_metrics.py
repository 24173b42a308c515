"""What the CTM tells the host's ``/metrics`` of a mission (``hooks/metrics.py``): how its outbox and its
reading of the host's movement feed stand. Counts and ages in seconds, by status: nothing of a case.

- ``ctm_outbox_messages{status}``: the mission's outbox messages in each state (every state, 0 included).
- ``ctm_outbox_oldest_unknown_age_seconds``: how long ago the oldest message in doubt (``unknown``: sent, its
  reply lost, to be asked about before any re-send) was queued; 0 when none is.
- ``ctm_outbox_oldest_due_pending_age_seconds``: how long ago the oldest ``pending`` message that is due
  (its next attempt's time has come) was queued; 0 when none is.
- ``ctm_relay_lag_seconds``: how long the oldest message due and not yet sent has been waiting past its due
  time (``pending`` and due, or ``sending`` under a lease run out: its relay died); 0 when none waits. A relay
  keeping up keeps it near its tick.
- ``ctm_movement_feed_lag_seconds``: how long ago the movement feed was last read to its end; absent before
  the first read.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.sync import (
    MOVEMENT_FEED,
    OUT_PENDING,
    OUT_SENDING,
    OUT_UNKNOWN,
    OUTBOX_STATUSES,
    FeedPosition,
    OutboxMessage,
)
from mimosa_host.plugin_api import Metric, RequestContext

from .base import unit_of_work
from .outbox import stalled


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


def of_mission(ctx: RequestContext, now: datetime | None = None) -> list[Metric]:
    """The mission's figures, read in one short transaction of its scope (no write)."""
    now = now or utcnow()
    due_pending = sa.and_(OutboxMessage.status == OUT_PENDING, OutboxMessage.next_attempt_at <= now)
    with unit_of_work(ctx) as session:
        counts = dict(
            session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all()
        )
        oldest_unknown = session.scalar(
            sa.select(sa.func.min(OutboxMessage.created_at)).where(OutboxMessage.status == OUT_UNKNOWN)
        )
        oldest_due = session.scalar(sa.select(sa.func.min(OutboxMessage.created_at)).where(due_pending))
        waiting_since = session.scalar(
            sa.select(
                sa.func.min(
                    sa.case(
                        (OutboxMessage.status == OUT_SENDING, OutboxMessage.lease_until),
                        else_=OutboxMessage.next_attempt_at,
                    )
                )
            ).where(sa.or_(due_pending, stalled(now)))
        )
        feed_read = session.scalar(sa.select(FeedPosition.updated_at).where(FeedPosition.feed == MOVEMENT_FEED))
    statuses = (*OUTBOX_STATUSES, *sorted(set(counts) - set(OUTBOX_STATUSES)))
    metrics = [
        Metric(
            "ctm_outbox_messages",
            "The mission's outbox messages in each state.",
            "gauge",
            tuple(({"status": status}, float(counts.get(status, 0))) for status in statuses),
        ),
        Metric(
            "ctm_outbox_oldest_unknown_age_seconds",
            "Seconds since the oldest message in doubt (unknown) was queued; 0 when none is.",
            "gauge",
            (({}, _age(now, oldest_unknown)),),
        ),
        Metric(
            "ctm_outbox_oldest_due_pending_age_seconds",
            "Seconds since the oldest due pending message was queued; 0 when none is.",
            "gauge",
            (({}, _age(now, oldest_due)),),
        ),
        Metric(
            "ctm_relay_lag_seconds",
            "Seconds the oldest due message not yet sent has waited past its due time; 0 when none waits.",
            "gauge",
            (({}, _age(now, waiting_since)),),
        ),
    ]
    if feed_read is not None:
        metrics.append(
            Metric(
                "ctm_movement_feed_lag_seconds",
                "Seconds since the host's movement feed was last read to its end.",
                "gauge",
                (({}, _age(now, feed_read)),),
            )
        )
    return metrics
