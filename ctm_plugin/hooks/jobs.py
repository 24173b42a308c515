"""The CTM's periodic jobs, run by the host once per mission where the CTM is enabled.

A mission whose settings name no host is skipped quietly: there is nothing to send or read.
"""

from collections.abc import Callable, Sequence
from datetime import timedelta

from ctm_plugin.services import feed, outbox, people
from ctm_plugin.services.host import NotConnected
from mimosa_host.plugin_api import Job, RequestContext, hookimpl


def _connected(run: Callable[[RequestContext], object]) -> Callable[[RequestContext], None]:
    def job(ctx: RequestContext) -> None:
        try:
            run(ctx)
        except NotConnected:
            return

    return job


@hookimpl
def mimosa_jobs() -> Sequence[Job]:
    return (
        Job("relay-outbox", timedelta(seconds=10), _connected(outbox.relay)),
        Job("movement-status", timedelta(seconds=15), _connected(feed.apply_movement_changes)),
        Job("pull-beneficiaries", timedelta(minutes=15), _connected(people.pull)),
    )
