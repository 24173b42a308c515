"""The CTM's periodic jobs, run by the host once per mission where the CTM is enabled (re-trafficking matching
once for the CTM, across its missions: a plugin-wide job).

Each run's outcome is kept per mission and job (``services.job_outcomes``) for the synchronisation
page. A failed exchange with the host (refused credentials, a host that cannot be reached, a record
the mapping cannot read ...) is the mission's state, not a fault of the code: it is kept there, logged
in one line of codes when it starts (not again on every run), and the job ends. Anything else is
raised to the host, which logs it.
"""

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from ctm_plugin.services import feed, handover, job_outcomes, outbox, people, retention, retrafficking, trends
from ctm_plugin.services.host import PROBLEM_TYPES, problem_of
from mimosa_host.plugin_api import Job, RequestContext, hookimpl

log = logging.getLogger(__name__)


def _recorded(name: str, run: Callable[[RequestContext], object]) -> Callable[[RequestContext], None]:
    def job(ctx: RequestContext) -> None:
        try:
            run(ctx)
        except PROBLEM_TYPES as error:
            problem = problem_of(error)
            if job_outcomes.record(ctx, name, problem):
                # Codes and field names only: never a password, a host's message or a record's value.
                log.warning("job %s in mission %s: %s", name, ctx.mission.code, problem.message)
            return
        if job_outcomes.record(ctx, name, None):
            log.info("job %s in mission %s works again", name, ctx.mission.code)

    return job


@hookimpl
def mimosa_jobs() -> Sequence[Job]:
    return (
        # Rung as soon as a message is queued (outbox.CHANNEL); the interval is the fallback.
        Job(
            job_outcomes.RELAY,
            timedelta(seconds=10),
            _recorded(job_outcomes.RELAY, outbox.relay),
            wake_on=outbox.CHANNEL,
        ),
        # Asked often while a booking awaits the travel desk's BOOKED, at the usual interval otherwise.
        Job(
            job_outcomes.MOVEMENT_STATUS,
            FEED_IN_FLIGHT,
            _when_due(FEED_EVERY, feed.in_flight, _recorded(job_outcomes.MOVEMENT_STATUS, feed.apply_movement_changes)),
        ),
        Job(job_outcomes.PULL, timedelta(minutes=15), _recorded(job_outcomes.PULL, people.pull)),
        # No host in it: the mission's own reception tasks for people handed over to it who arrived.
        Job(RECEPTION, timedelta(seconds=30), _open_reception_tasks),
        # No host in it either: what the mission's retention settings say is due goes (services/retention.py).
        Job(RETENTION, timedelta(days=1), _purge),
        # No host either: the mission's trend counts made again, and a closed year released once for the page.
        Job(TRENDS, timedelta(hours=1), _count_trends),
        MATCHING,
    )


FEED_EVERY = timedelta(seconds=15)
FEED_IN_FLIGHT = timedelta(seconds=3)


def _when_due(
    interval: timedelta, busy: Callable[[RequestContext], bool], run: Callable[[RequestContext], None]
) -> Callable[[RequestContext], None]:
    """``run`` at each turn while ``busy`` says the mission has work in flight, else once an ``interval``
    has passed since it last ran in this process (the job's own interval being the short one)."""
    last: dict[str, float] = {}

    def job(ctx: RequestContext) -> None:
        ran = last.get(ctx.mission.code)
        if ran is not None and time.monotonic() - ran < interval.total_seconds() and not busy(ctx):
            return
        last[ctx.mission.code] = time.monotonic()
        run(ctx)

    return job


RECEPTION = "reception-tasks"
RETENTION = "retention-purge"
TRENDS = "trend-counts"
RETRAFFICKING = "retrafficking-match"


def _match_people(ctx: RequestContext) -> None:
    retrafficking.match(ctx)


MATCHING = Job(
    RETRAFFICKING,
    retrafficking.RUN_EVERY,
    _match_people,
    plugin_wide=True,
    permissions=retrafficking.JOB_PERMISSIONS,
    writes=retrafficking.JOB_WRITES,
    mission_writes=retrafficking.JOB_MISSION_WRITES,
)
"""Once for the CTM, across its missions (host 1.3), with no more than it needs (host 1.4): people identified
again, for HQ's review."""


def _purge(ctx: RequestContext) -> None:
    retention.purge(ctx)


def _count_trends(ctx: RequestContext) -> None:
    trends.refresh(ctx)


def _open_reception_tasks(ctx: RequestContext) -> None:
    handover.open_reception_tasks(ctx)
