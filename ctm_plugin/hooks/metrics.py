"""The CTM's figures for the host's ``/metrics``: its outbox and its reading of the movement feed, per mission."""

from collections.abc import Sequence

from ctm_plugin.services import queue_metrics
from mimosa_host.plugin_api import Metric, RequestContext, hookimpl


@hookimpl
def mimosa_metrics(ctx: RequestContext) -> Sequence[Metric]:
    return queue_metrics.of_mission(ctx)
