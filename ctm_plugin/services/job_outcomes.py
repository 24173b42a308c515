"""How each of a mission's periodic jobs last ended, kept so that the synchronisation page can say
that the mission's exchanges with the host fail (credentials refused, host unreachable ...) even
when no message is waiting: the host runs the jobs, and its log is no place for a person to look.
"""

from __future__ import annotations

import sqlalchemy as sa

from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.sync import JobOutcome
from ctm_plugin.i18n import N_
from ctm_plugin.security.permissions import SYNC_VIEW
from mimosa_host.plugin_api import RequestContext

from .base import require, unit_of_work
from .host import HostProblem

RELAY, MOVEMENT_STATUS, PULL = "relay-outbox", "movement-status", "pull-beneficiaries"
JOBS = {
    RELAY: N_("Sending the outbox to the host"),
    MOVEMENT_STATUS: N_("Reading the movements' statuses"),
    PULL: N_("Refreshing cases from the host's records"),
}
"""The CTM's jobs, by name, and what each does in words."""


def record(ctx: RequestContext, job: str, problem: HostProblem | None) -> bool:
    """Keep how ``job`` just ended in the mission: well (``None``), or with ``problem``.

    True when that changes how it stood (it starts failing, fails otherwise, or works again).
    """
    now = utcnow()
    code = problem.code if problem else None
    for _attempt in range(2):  # two runners recording the first outcome at once: the second updates
        try:
            with unit_of_work(ctx) as session:
                outcome = session.scalar(sa.select(JobOutcome).where(JobOutcome.job == job))
                if outcome is None:
                    outcome = JobOutcome(mission_code=ctx.mission.code, job=job)
                    session.add(outcome)
                changed = outcome.code != code
                if problem is None:
                    outcome.code = outcome.kind = outcome.fields = outcome.failing_since = None
                else:
                    if outcome.failing_since is None:
                        outcome.failing_since = now
                    outcome.code, outcome.kind = problem.code, problem.kind
                    outcome.fields = problem.fields[:200] or None
                outcome.finished_at = now
            return changed
        except sa.exc.IntegrityError:
            continue
    return False


def failing(ctx: RequestContext) -> list[JobOutcome]:
    """The mission's jobs whose last run failed, in the order of :data:`JOBS` (detached rows)."""
    require(ctx, SYNC_VIEW)
    with unit_of_work(ctx) as session:
        rows = session.scalars(sa.select(JobOutcome).where(JobOutcome.code.is_not(None))).all()
        session.expunge_all()
    order = list(JOBS)
    return sorted(rows, key=lambda row: order.index(row.job) if row.job in order else len(order))


def problem(outcome: JobOutcome) -> HostProblem:
    """The failed outcome's problem, to be told in the reader's language."""
    return HostProblem(outcome.code or "", outcome.kind or "REFUSED", outcome.fields or "")
