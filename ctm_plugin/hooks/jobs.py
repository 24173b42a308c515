"""The CTM's periodic jobs, run by the host once per mission where the CTM is enabled.

Each run's outcome is kept per mission and job (``services.job_outcomes``) for the synchronisation
page. A mission whose settings name no host is not an error of the job: it ends quietly, its
outcome saying so. Any other failure with the host is kept and raised again, for the host's log.
"""

from collections.abc import Callable, Sequence
from datetime import timedelta

from ctm_plugin.services import feed, job_outcomes, outbox, people
from ctm_plugin.services.host import PROBLEM_TYPES, NotConnected, problem_of
from mimosa_host.plugin_api import Job, RequestContext, hookimpl


def _recorded(name: str, run: Callable[[RequestContext], object]) -> Callable[[RequestContext], None]:
    def job(ctx: RequestContext) -> None:
        try:
            run(ctx)
        except PROBLEM_TYPES as error:
            job_outcomes.record(ctx, name, problem_of(error))
            if isinstance(error, NotConnected):
                return
            raise
        job_outcomes.record(ctx, name, None)

    return job


@hookimpl
def mimosa_jobs() -> Sequence[Job]:
    return (
        Job(job_outcomes.RELAY, timedelta(seconds=10), _recorded(job_outcomes.RELAY, outbox.relay)),
        Job(
            job_outcomes.MOVEMENT_STATUS,
            timedelta(seconds=15),
            _recorded(job_outcomes.MOVEMENT_STATUS, feed.apply_movement_changes),
        ),
        Job(job_outcomes.PULL, timedelta(minutes=15), _recorded(job_outcomes.PULL, people.pull)),
    )
